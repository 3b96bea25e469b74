//! Signing and checking access tokens, and minting refresh tokens.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::rngs::OsRng;
use rand::RngCore;
use uuid::Uuid;

use super::model::{encode_refresh_token, AccessClaims, Role, REFRESH_TOKEN_BYTES};
use crate::error::Error;

/// Short enough that a stolen access token is soon useless, long enough to spare refreshes.
pub const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);

/// HS256 wants a key at least as long as its output.
pub const SECRET_BYTES: usize = 32;

/// Tolerated clock difference between the nodes that sign and the nodes that check.
const LEEWAY_SECS: u64 = 30;

/// The HS256 key pair and access-token lifetime, built once at start-up and shared.
pub struct AuthKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

impl AuthKeys {
    pub fn new(secret: &[u8], access_ttl: Duration) -> Self {
        if secret.len() < SECRET_BYTES {
            tracing::warn!(
                len = secret.len(),
                "JWT secret is shorter than {SECRET_BYTES} bytes; tokens are easier to forge"
            );
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// Signs a fresh access token for a user whose tokens were never revoked (token version
    /// 0: a new account, tests, tools). A user whose version was bumped needs
    /// [`AuthKeys::issue_access_at`]; this one's tokens are then refused, never wrongly let in.
    pub fn issue_access(&self, user_id: Uuid, role: Role) -> Result<String, Error> {
        self.issue_access_at(user_id, role, 0)
    }

    /// Signs a fresh access token for the user at their current `token_version`.
    pub fn issue_access_at(
        &self,
        user_id: Uuid,
        role: Role,
        token_version: i32,
    ) -> Result<String, Error> {
        let claims = AccessClaims::new(
            user_id,
            role,
            jsonwebtoken::get_current_timestamp(),
            self.access_ttl,
            Uuid::new_v4(),
        )
        .at_version(token_version);
        self.sign(&claims)
    }

    pub(crate) fn sign(&self, claims: &AccessClaims) -> Result<String, Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|err| Error::Internal(format!("signing an access token: {err}")))
    }

    /// Checks signature, algorithm and expiry. Any failure is the same 401: a client can only
    /// log in again, and the reason would only help someone forging tokens.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, Error> {
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| {
                tracing::debug!(error = %err, "rejected access token");
                Error::Unauthorized
            })
    }
}

/// Never print the key material.
impl fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKeys")
            .field("access_ttl", &self.access_ttl)
            .finish_non_exhaustive()
    }
}

/// A new random secret for signing access tokens.
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// A new opaque refresh token: 256 bits from the OS generator.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; REFRESH_TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    encode_refresh_token(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> AuthKeys {
        AuthKeys::new(&[7; 32], DEFAULT_ACCESS_TTL)
    }

    #[test]
    fn issued_tokens_verify() {
        let keys = keys();
        let id = Uuid::now_v7();
        let claims = keys
            .verify_access(&keys.issue_access(id, Role::Host).unwrap())
            .unwrap();
        assert_eq!((claims.sub, claims.role, claims.ver), (id, Role::Host, 0));
        assert_eq!(claims.exp - claims.iat, 15 * 60);
        let claims = keys
            .verify_access(&keys.issue_access_at(id, Role::Host, 3).unwrap())
            .unwrap();
        assert_eq!(claims.ver, 3);
    }

    #[test]
    fn rejects_other_keys_expired_and_garbage() {
        let keys = keys();
        let other = AuthKeys::new(&[8; 32], DEFAULT_ACCESS_TTL);
        let id = Uuid::now_v7();
        let foreign = other.issue_access(id, Role::Admin).unwrap();
        assert!(matches!(
            keys.verify_access(&foreign),
            Err(Error::Unauthorized)
        ));

        let now = jsonwebtoken::get_current_timestamp();
        let old = AccessClaims::new(id, Role::Driver, now - 3600, DEFAULT_ACCESS_TTL, id);
        let expired = keys.sign(&old).unwrap();
        assert!(keys.verify_access(&expired).is_err());

        assert!(keys.verify_access("not.a.jwt").is_err());
        assert!(keys.verify_access("").is_err());
    }

    #[test]
    fn rejects_unsigned_tokens() {
        // header {"alg":"none","typ":"JWT"}: the classic downgrade must not pass
        let keys = keys();
        let now = jsonwebtoken::get_current_timestamp();
        let claims = AccessClaims::new(
            Uuid::nil(),
            Role::Admin,
            now,
            DEFAULT_ACCESS_TTL,
            Uuid::nil(),
        );
        let signed = keys.sign(&claims).unwrap();
        let payload = signed.split('.').nth(1).unwrap();
        let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(keys.verify_access(&unsigned).is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let text = format!("{:?}", keys());
        assert!(text.contains("access_ttl") && !text.contains("[7"));
    }

    #[test]
    fn refresh_tokens_are_random() {
        assert_ne!(new_refresh_token(), new_refresh_token());
        assert_eq!(generate_secret().len(), SECRET_BYTES);
    }
}

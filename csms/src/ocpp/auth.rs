//! OCPP 2.0.1 security profiles, checked before the WebSocket upgrade:
//! 0 = none (development), 1 = Basic auth (plain ws only where explicitly allowed),
//! 2 = TLS + Basic auth, 3 = TLS with a client certificate whose CN is the stationId.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use dashmap::DashMap;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::server::PeerIdentity;
use crate::store::stations::{self, StationAuth};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refusal {
    #[error("HTTP Basic credentials for this station are required")]
    CredentialsRequired,
    #[error("wrong credentials")]
    BadCredentials,
    #[error("this station must connect over TLS (security profile {0})")]
    TlsRequired(i16),
    #[error("security profile 1 over plain ws is not enabled on this server")]
    PlainBasicDisabled,
    #[error("a client certificate with CN equal to the station id is required")]
    ClientCertRequired,
    #[error("the client certificate was issued to another station")]
    WrongClientCert,
}

/// Hashes of passwords that already passed argon2 for the current stored hash, so that a
/// reconnect storm does not pay argon2 (tens of ms of CPU) once per station.
#[derive(Default)]
pub struct PasswordCache {
    verified: DashMap<String, (String, [u8; 32])>,
}

impl PasswordCache {
    fn hit(&self, station: &str, stored_hash: &str, password: &str) -> bool {
        self.verified.get(station).is_some_and(|entry| {
            entry.0 == stored_hash && entry.1 == <[u8; 32]>::from(Sha256::digest(password))
        })
    }

    fn remember(&self, station: &str, stored_hash: &str, password: &str) {
        self.verified.insert(
            station.to_owned(),
            (stored_hash.to_owned(), Sha256::digest(password).into()),
        );
    }
}

/// Decides whether the station may connect; returns its stored record (None: unknown station,
/// which connects and is judged by its BootNotification).
pub async fn check(
    pool: &PgPool,
    cache: &PasswordCache,
    station_id: &str,
    peer: &PeerIdentity,
    authorization: Option<&str>,
    allow_plain_basic: bool,
) -> Result<Result<Option<StationAuth>, Refusal>, sqlx::Error> {
    if peer
        .client_cert_cn
        .as_deref()
        .is_some_and(|cn| cn != station_id)
    {
        return Ok(Err(Refusal::WrongClientCert));
    }
    let Some(record) = stations::auth_record(pool, station_id).await? else {
        return Ok(Ok(None));
    };
    let verdict = match record.security_profile {
        1 if !peer.tls && !allow_plain_basic => Err(Refusal::PlainBasicDisabled),
        2 if !peer.tls => Err(Refusal::TlsRequired(2)),
        1 | 2 => basic(cache, station_id, &record, authorization).await,
        3 if !peer.tls => Err(Refusal::TlsRequired(3)),
        3 if peer.client_cert_cn.is_none() => Err(Refusal::ClientCertRequired),
        _ => Ok(()),
    };
    Ok(verdict.map(|()| Some(record)))
}

async fn basic(
    cache: &PasswordCache,
    station_id: &str,
    record: &StationAuth,
    authorization: Option<&str>,
) -> Result<(), Refusal> {
    let (user, password) = authorization
        .and_then(parse_basic)
        .ok_or(Refusal::CredentialsRequired)?;
    let stored = record
        .password_hash
        .as_deref()
        .ok_or(Refusal::BadCredentials)?;
    if user != station_id {
        return Err(Refusal::BadCredentials);
    }
    if cache.hit(station_id, stored, &password) {
        return Ok(());
    }
    let hash = stored.to_owned();
    let pw = password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(Refusal::BadCredentials);
    }
    cache.remember(station_id, stored, &password);
    Ok(())
}

fn parse_basic(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// OCPP 2.0.1 BasicAuthPassword: 16 to 40 characters.
pub fn valid_station_password(password: &str) -> bool {
    (16..=40).contains(&password.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_parsing() {
        let h = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("CS-1:pa:ss")
        );
        assert_eq!(parse_basic(&h), Some(("CS-1".into(), "pa:ss".into())));
        assert_eq!(parse_basic("Bearer x"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }

    #[test]
    fn hashes_verify() {
        let h = hash_password("0123456789abcdef");
        assert!(verify_password("0123456789abcdef", &h));
        assert!(!verify_password("0123456789abcdeX", &h));
    }

    #[test]
    fn password_length_rule() {
        assert!(!valid_station_password("short"));
        assert!(valid_station_password(&"x".repeat(16)));
        assert!(!valid_station_password(&"x".repeat(41)));
    }
}

//! The TOTP second factor: set-up, enabling with a first valid code, disabling, and the second
//! step of a login. Enabling and disabling also need the current password ([`Reauth`]), so a
//! stolen access token alone can neither plant an attacker's authenticator nor remove the
//! owner's.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{pair, start_family, throttle, totp_secret};
use crate::accounts::model::{hash_refresh_token, TokenPair, MFA_MAX_ATTEMPTS};
use crate::accounts::secret_box::SecretBox;
use crate::accounts::store::{self, FailedStep, TotpRow};
use crate::accounts::tokens::AuthKeys;
use crate::accounts::totp::{
    generate_recovery_codes, generate_secret, hash_recovery_code, is_totp_code, matching_step,
    otpauth_uri, secret_base32,
};
use crate::error::Error;

/// Longer input is neither a TOTP nor a recovery code; refuse it before hashing.
const CODE_MAX_CHARS: usize = 32;

/// Proof that the signed-in caller is the account's owner, for sensitive changes.
#[derive(Debug, Clone, Copy)]
pub struct Reauth<'a> {
    /// The account's current password; `None` is refused (422 on `current_password`).
    pub current_password: Option<&'a str>,
    /// Who asks, for the failed-login throttle.
    pub client_key: &'a str,
}

/// `{"secret": "<base32>", "otpauth_uri": "otpauth://totp/..."}`: shown once, at set-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// Base32 TOTP secret, to type into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/...` for a QR code.
    pub otpauth_uri: String,
}

/// Starts a set-up with a new secret (replacing an unfinished one). The factor is not active
/// until [`enable_totp`] sees a code made with it.
/// The secret is stored sealed (`secrets`; without a key set-up answers 503).
pub async fn setup_totp(
    pool: &PgPool,
    secrets: Option<&SecretBox>,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<TotpSetup, Error> {
    let secret = generate_secret();
    let sealed = totp_secret::seal(secrets, user_id, &secret)?;
    let mut tx = pool.begin().await?;
    let user = store::user_by_id(&mut tx, user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    if !store::upsert_pending_totp(&mut tx, user_id, &sealed, now).await? {
        return Err(already_enabled());
    }
    tx.commit().await?;
    Ok(TotpSetup {
        secret: secret_base32(&secret),
        otpauth_uri: otpauth_uri(&secret, &user.email),
    })
}

/// Turns the factor on after the current password and a valid code, and answers 10 recovery
/// codes, shown only now.
pub async fn enable_totp(
    pool: &PgPool,
    secrets: Option<&SecretBox>,
    user_id: Uuid,
    reauth: Reauth<'_>,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, Error> {
    let code = checked_code(code)?;
    confirm(pool, user_id, reauth, now).await?;
    let mut tx = pool.begin().await?;
    let factor = store::totp_for_update(&mut tx, user_id)
        .await?
        .ok_or_else(|| Error::Conflict {
            code: "two_factor_not_set_up",
            detail: "start with POST /api/me/2fa/setup".into(),
        })?;
    if factor.enabled_at.is_some() {
        return Err(already_enabled());
    }
    // only a TOTP code proves the app holds the secret; recovery codes do not exist yet
    if !is_totp_code(code) {
        return Err(wrong_code());
    }
    let secret = totp_secret::open(&mut tx, secrets, user_id, &factor).await?;
    if !accept_totp(&mut tx, user_id, &factor, &secret, code, now).await? {
        return Err(wrong_code());
    }
    let codes = generate_recovery_codes();
    let hashes: Vec<[u8; 32]> = codes.iter().map(|c| hash_recovery_code(c)).collect();
    store::replace_recovery_codes(&mut tx, user_id, &hashes, now).await?;
    tx.commit().await?;
    tracing::info!(%user_id, "two-factor authentication enabled");
    Ok(codes)
}

/// Turns the factor off; needs the current password and a TOTP or a recovery code.
pub async fn disable_totp(
    pool: &PgPool,
    secrets: Option<&SecretBox>,
    user_id: Uuid,
    reauth: Reauth<'_>,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let code = checked_code(code)?;
    confirm(pool, user_id, reauth, now).await?;
    let mut tx = pool.begin().await?;
    let factor = store::totp_for_update(&mut tx, user_id)
        .await?
        .filter(|f| f.enabled_at.is_some())
        .ok_or_else(|| Error::Conflict {
            code: "two_factor_not_enabled",
            detail: "two-factor authentication is not on".into(),
        })?;
    if !second_factor_passes(&mut tx, secrets, user_id, &factor, code, now).await? {
        return Err(wrong_code());
    }
    store::delete_totp(&mut tx, user_id).await?;
    tx.commit().await?;
    tracing::info!(%user_id, "two-factor authentication disabled");
    Ok(())
}

/// The second step of a login: the `mfa_token` from the first plus a TOTP or recovery code.
/// Wrong codes count as failed logins of the account and the client too: each `mfa_token`
/// takes 5, but whoever has the password could otherwise fetch new tokens without end.
pub async fn complete_mfa_login(
    pool: &PgPool,
    keys: &AuthKeys,
    secrets: Option<&SecretBox>,
    mfa_token: &str,
    code: &str,
    client_key: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, Error> {
    let code = checked_code(code)?;
    let mut tx = pool.begin().await?;
    let token = store::mfa_token_for_update(&mut tx, &hash_refresh_token(mfa_token))
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(|| Error::BadRequest {
            code: "invalid_mfa_token",
            detail: "the mfa_token is unknown, expired or already used; log in again".into(),
        })?;
    if token.attempts >= MFA_MAX_ATTEMPTS {
        return Err(mfa_locked());
    }
    let user = store::user_by_id(&mut tx, token.user_id)
        .await?
        .ok_or(Error::InvalidCredentials)?;
    throttle::check_login_allowed(&mut tx, &user.email, client_key, now).await?;
    let factor = store::totp_for_update(&mut tx, token.user_id)
        .await?
        .filter(|f| f.enabled_at.is_some());
    let passed = match &factor {
        Some(factor) => {
            second_factor_passes(&mut tx, secrets, token.user_id, factor, code, now).await?
        }
        // turned off since the password step: nothing left to check against, log in again
        None => false,
    };
    if !passed {
        let attempts = store::record_mfa_attempt(&mut tx, token.id).await?;
        let step = FailedStep::SecondFactor;
        store::record_login_failure(&mut tx, &user.email, client_key, step, now).await?;
        tx.commit().await?;
        return Err(if attempts >= MFA_MAX_ATTEMPTS {
            mfa_locked()
        } else {
            wrong_code()
        });
    }
    store::use_mfa_token(&mut tx, token.id, now).await?;
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    store::clear_account_failures(&mut tx, &user.email, now).await?;
    let refresh_token = start_family(&mut tx, user.id).await?;
    tx.commit().await?;
    pair(keys, &user, refresh_token)
}

/// A TOTP code (6 digits) or else a recovery code, which is spent.
async fn second_factor_passes(
    conn: &mut PgConnection,
    secrets: Option<&SecretBox>,
    user_id: Uuid,
    factor: &TotpRow,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    if is_totp_code(code) {
        let secret = totp_secret::open(conn, secrets, user_id, factor).await?;
        return accept_totp(conn, user_id, factor, &secret, code, now).await;
    }
    store::consume_recovery_code(conn, user_id, &hash_recovery_code(code), now).await
}

/// Accepts a TOTP code and remembers its step, so the same code cannot be used again.
async fn accept_totp(
    conn: &mut PgConnection,
    user_id: Uuid,
    factor: &TotpRow,
    secret: &[u8],
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let unix_secs = u64::try_from(now.timestamp()).unwrap_or(0);
    let last_step = factor.last_step.and_then(|s| u64::try_from(s).ok());
    let Some(step) = matching_step(secret, code, unix_secs, last_step) else {
        return Ok(false);
    };
    let step = i64::try_from(step).map_err(|_| Error::Internal("TOTP step overflow".into()))?;
    store::accept_totp_step(conn, user_id, step, now).await?;
    Ok(true)
}

async fn confirm(
    pool: &PgPool,
    user_id: Uuid,
    reauth: Reauth<'_>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Reauth {
        current_password,
        client_key,
    } = reauth;
    throttle::confirm_password(pool, user_id, current_password, client_key, now).await
}

fn checked_code(code: &str) -> Result<&str, Error> {
    let code = code.trim();
    if code.is_empty() {
        Err(Error::invalid("code", "is required"))
    } else if code.chars().count() > CODE_MAX_CHARS {
        Err(Error::invalid("code", "is too long"))
    } else {
        Ok(code)
    }
}

fn already_enabled() -> Error {
    Error::Conflict {
        code: "two_factor_already_enabled",
        detail: "two-factor authentication is already on; disable it first".into(),
    }
}

fn mfa_locked() -> Error {
    Error::Conflict {
        code: "mfa_locked",
        detail: "too many wrong codes for this login; log in again".into(),
    }
}

fn wrong_code() -> Error {
    Error::BadRequest {
        code: "invalid_code",
        detail: "the code is not correct".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::doc::{matching, TOTP_CODE};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn codes_matching_the_pattern_are_accepted(code in matching(TOTP_CODE)) {
            prop_assert!(checked_code(&code).is_ok(), "{:?}", code);
        }
    }
}

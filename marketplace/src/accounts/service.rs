//! Account use cases. Each one is a single transaction: it either happens completely or not.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::model::{
    hash_refresh_token, normalize_email, validate_new_account, validate_sign_up, LoginOutcome,
    MfaRequired, NewAccount, Role, TokenPair, User, MFA_TOKEN_TTL_SECS, PASSWORD_MAX_CHARS,
};
use super::store::FailedStep;
use super::tokens::{generate_secret, new_refresh_token, AuthKeys};
use super::{access, password, store};
use crate::error::Error;

mod otp;
mod profile;
mod throttle;
mod totp_secret;
mod two_factor;

pub use otp::{
    request_otp, verify_otp, ChallengeRef, OtpChallenge, OtpRequest, OtpRequested, OtpVerified,
};
pub use profile::{get_profile, update_profile, Profile, ProfileUpdate};
pub use two_factor::{
    complete_mfa_login, disable_totp, enable_totp, setup_totp, Reauth, TotpSetup,
};

/// The `server_secrets` row holding the access-token signing key.
const JWT_SECRET_NAME: &str = "jwt_hs256";

/// Self-service sign-up input, as it came over the wire.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
    /// `None` means driver. Only driver and host may be chosen here.
    pub role: Option<Role>,
}

#[derive(Debug, Clone)]
pub struct Registered {
    pub user: User,
    pub tokens: TokenPair,
}

/// Self-service sign-up: creates a driver or host account and logs it in.
pub async fn register(
    pool: &PgPool,
    keys: &AuthKeys,
    input: Registration,
) -> Result<Registered, Error> {
    let account = validate_sign_up(
        &input.email,
        &input.password,
        input.role,
        input.display_name.as_deref(),
    )
    .map_err(Error::Validation)?;
    let password_hash = password::hash(account.password.clone()).await?;

    let mut tx = pool.begin().await?;
    let user = insert_account(&mut tx, &account, &password_hash).await?;
    let refresh_token = start_family(&mut tx, user.id).await?;
    tx.commit().await?;

    let tokens = pair(keys, &user, refresh_token)?;
    Ok(Registered { user, tokens })
}

/// Creates an account of any role, without logging it in (the CLI and admins use this).
/// A taken email is a `Conflict` with code `email_taken`.
pub async fn create_user(
    pool: &PgPool,
    email: &str,
    password: &str,
    role: Role,
    display_name: Option<&str>,
) -> Result<User, Error> {
    let account =
        validate_new_account(email, password, role, display_name).map_err(Error::Validation)?;
    let password_hash = password::hash(account.password.clone()).await?;
    let mut conn = pool.acquire().await?;
    insert_account(&mut conn, &account, &password_hash).await
}

/// Exchanges email and password for a new token pair, starting a new refresh-token family;
/// or, when the account has TOTP on, for an `mfa_token` to finish with the second factor.
///
/// `client_key` is who asks ([`crate::accounts::ClientKey`]): failures are counted per
/// account and per client, and past either limit the answer is 429 without hashing anything.
pub async fn login(
    pool: &PgPool,
    keys: &AuthKeys,
    email: &str,
    password: &str,
    client_key: &str,
) -> Result<LoginOutcome, Error> {
    let email = normalize_email(email);
    let now = Utc::now();
    throttle::check_login_allowed(&mut *pool.acquire().await?, &email, client_key, now).await?;
    let failed = || throttle::record_failure(pool, &email, client_key, FailedStep::Password, now);
    // Over-long input can never match (the policy caps length) and is not worth hashing.
    if password.chars().count() > PASSWORD_MAX_CHARS {
        failed().await?;
        return Err(Error::InvalidCredentials);
    }
    // Read without a transaction: holding a pooled connection through the slow hash would
    // let a burst of logins starve the pool.
    let found = store::credentials_by_email(&mut *pool.acquire().await?, &email).await?;
    let Some((user, hash)) = found else {
        password::verify_dummy(password.to_owned()).await?;
        failed().await?;
        return Err(Error::InvalidCredentials);
    };
    if !password::verify(password.to_owned(), hash).await? {
        failed().await?;
        return Err(Error::InvalidCredentials);
    }
    // Disabled is checked (in `finish_login`) after the password so that probing cannot tell
    // which accounts are disabled.
    let mut tx = pool.begin().await?;
    let outcome = finish_login(&mut tx, keys, &user, now).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// The end of every first factor (password, one-time code): tokens, or the second step when
/// the account has TOTP on. Only a login that ends in tokens clears the account's failed
/// attempts: passing the password alone must not reset the count of second-factor guesses.
pub(super) async fn finish_login(
    conn: &mut PgConnection,
    keys: &AuthKeys,
    user: &User,
    now: DateTime<Utc>,
) -> Result<LoginOutcome, Error> {
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    if store::totp_enabled(conn, user.id).await? {
        // same shape and entropy as a refresh token; only its digest is stored
        let mfa_token = new_refresh_token();
        let expires_at = now + Duration::seconds(MFA_TOKEN_TTL_SECS);
        store::insert_mfa_token(
            conn,
            user.id,
            &hash_refresh_token(&mfa_token),
            now,
            expires_at,
        )
        .await?;
        return Ok(LoginOutcome::MfaRequired(MfaRequired::new(mfa_token)));
    }
    store::clear_account_failures(conn, &user.email, now).await?;
    let refresh_token = start_family(conn, user.id).await?;
    Ok(LoginOutcome::Tokens(pair(keys, user, refresh_token)?))
}

/// Rotates a refresh token: the presented one is spent and a new pair issued in the same
/// family. Presenting a spent token again means it was copied, so the whole family (the
/// thief's copy and the owner's current token alike) is revoked. A family older than
/// `REFRESH_FAMILY_MAX_DAYS` is over, however recently it was rotated.
pub async fn refresh(
    pool: &PgPool,
    keys: &AuthKeys,
    refresh_token: &str,
) -> Result<TokenPair, Error> {
    let mut tx = pool.begin().await?;
    let found =
        store::refresh_token_for_update(&mut tx, &hash_refresh_token(refresh_token)).await?;
    let Some(token) = found else {
        return Err(Error::InvalidRefreshToken);
    };
    if token.used && !token.revoked {
        let revoked = store::revoke_family(&mut tx, token.family_id).await?;
        // Commit the revocation even though the request fails: that is the point of it.
        tx.commit().await?;
        tracing::warn!(
            user_id = %token.user_id,
            family_id = %token.family_id,
            revoked,
            "refresh token reuse detected; revoked the family"
        );
        return Err(Error::InvalidRefreshToken);
    }
    if token.used || token.revoked || token.expired {
        return Err(Error::InvalidRefreshToken);
    }
    let user = store::user_by_id(&mut tx, token.user_id)
        .await?
        .ok_or(Error::InvalidRefreshToken)?;
    if user.disabled {
        store::revoke_family(&mut tx, token.family_id).await?;
        tx.commit().await?;
        return Err(Error::AccountDisabled);
    }
    store::mark_refresh_token_used(&mut tx, token.id).await?;
    let next = new_refresh_token();
    store::insert_refresh_token(
        &mut tx,
        token.family_id,
        user.id,
        &hash_refresh_token(&next),
        Some(token.family_started_at),
    )
    .await?;
    tx.commit().await?;
    pair(keys, &user, next)
}

/// Ends the login the token belongs to. Like OAuth token revocation (RFC 7009) it succeeds
/// for unknown or already revoked tokens too: the client's goal, being logged out, holds.
pub async fn logout(pool: &PgPool, refresh_token: &str) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let found =
        store::refresh_token_for_update(&mut tx, &hash_refresh_token(refresh_token)).await?;
    if let Some(token) = found {
        store::revoke_family(&mut tx, token.family_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get_user(pool: &PgPool, id: Uuid) -> Result<User, Error> {
    let mut conn = pool.acquire().await?;
    store::user_by_id(&mut conn, id)
        .await?
        .ok_or(Error::NotFound("user"))
}

/// Disables or re-enables an account. Disabling revokes every refresh token and bumps the
/// token version, so the user's access tokens are refused on their next request (at once on
/// this node, within `access::STATE_TTL` on the others).
pub async fn set_disabled(pool: &PgPool, id: Uuid, disabled: bool) -> Result<User, Error> {
    let mut tx = pool.begin().await?;
    let user = store::set_disabled(&mut tx, id, disabled)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if disabled {
        store::revoke_user_tokens(&mut tx, id).await?;
    }
    tx.commit().await?;
    access::evict(id);
    Ok(user)
}

/// The access-token signing secret for when none is configured: generated once and kept in
/// `server_secrets`, so restarts keep sessions valid and every node signs with the same key.
pub async fn load_or_create_secret(pool: &PgPool) -> Result<Vec<u8>, Error> {
    let mut conn = pool.acquire().await?;
    store::insert_secret_if_absent(&mut conn, JWT_SECRET_NAME, &generate_secret()).await
}

async fn insert_account(
    conn: &mut PgConnection,
    account: &NewAccount,
    password_hash: &str,
) -> Result<User, Error> {
    store::insert_user(
        conn,
        &account.email,
        password_hash,
        account.role,
        account.display_name.as_deref(),
    )
    .await
}

/// Starts a refresh-token family (one per login) and returns its first token.
pub(super) async fn start_family(conn: &mut PgConnection, user_id: Uuid) -> Result<String, Error> {
    let token = new_refresh_token();
    let hash = hash_refresh_token(&token);
    store::insert_refresh_token(conn, Uuid::now_v7(), user_id, &hash, None).await?;
    Ok(token)
}

pub(super) fn pair(
    keys: &AuthKeys,
    user: &User,
    refresh_token: String,
) -> Result<TokenPair, Error> {
    let access_token = keys.issue_access_at(user.id, user.role, user.token_version)?;
    Ok(TokenPair::bearer(
        access_token,
        refresh_token,
        keys.access_ttl(),
    ))
}

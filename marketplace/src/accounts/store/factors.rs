//! SQL for second factors: the TOTP secret, recovery codes, and the tokens that carry a
//! half-finished login from the password to the second factor.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;

/// Exactly one of `secret` (stored before sealing existed) and `secret_sealed` is set.
#[derive(Debug, sqlx::FromRow)]
pub(in crate::accounts) struct TotpRow {
    pub secret: Option<Vec<u8>>,
    pub secret_sealed: Option<Vec<u8>>,
    pub enabled_at: Option<DateTime<Utc>>,
    pub last_step: Option<i64>,
}

/// The user's TOTP factor (pending or enabled), locked so two codes racing for the same step
/// are judged one after the other.
pub(in crate::accounts) async fn totp_for_update(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<TotpRow>, Error> {
    Ok(sqlx::query_as(
        "SELECT secret, secret_sealed, enabled_at, last_step FROM totp_factors \
         WHERE user_id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?)
}

pub(in crate::accounts) async fn totp_enabled(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<bool, Error> {
    let (enabled,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM totp_factors \
                        WHERE user_id = $1 AND enabled_at IS NOT NULL)",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?;
    Ok(enabled)
}

/// Starts (or restarts) a set-up with a new sealed secret. Never touches an enabled factor.
pub(in crate::accounts) async fn upsert_pending_totp(
    conn: &mut PgConnection,
    user_id: Uuid,
    sealed: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO totp_factors (user_id, secret_sealed, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE \
             SET secret = NULL, secret_sealed = EXCLUDED.secret_sealed, \
                 created_at = EXCLUDED.created_at, last_step = NULL \
             WHERE totp_factors.enabled_at IS NULL",
    )
    .bind(user_id)
    .bind(sealed)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a plaintext secret (from before sealing) with its sealed form.
pub(in crate::accounts) async fn seal_totp_secret(
    conn: &mut PgConnection,
    user_id: Uuid,
    sealed: &[u8],
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE totp_factors SET secret = NULL, secret_sealed = $2 \
         WHERE user_id = $1 AND secret IS NOT NULL",
    )
    .bind(user_id)
    .bind(sealed)
    .execute(conn)
    .await?;
    Ok(())
}

/// Remembers the step of an accepted code, enabling the factor if it was pending.
pub(in crate::accounts) async fn accept_totp_step(
    conn: &mut PgConnection,
    user_id: Uuid,
    step: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE totp_factors SET last_step = $2, enabled_at = coalesce(enabled_at, $3) \
         WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(step)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the factor and its recovery codes.
pub(in crate::accounts) async fn delete_totp(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(), Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM totp_factors WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces every recovery code of the user with the given digests.
pub(in crate::accounts) async fn replace_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
    hashes: &[[u8; 32]],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (id, user_id, code_hash, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(Uuid::now_v7())
        .bind(user_id)
        .bind(&hash[..])
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Spends a recovery code; `false` if it is unknown or already spent. One statement, so two
/// concurrent uses of the same code cannot both succeed.
pub(in crate::accounts) async fn consume_recovery_code(
    conn: &mut PgConnection,
    user_id: Uuid,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 \
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(in crate::accounts) async fn insert_mfa_token(
    conn: &mut PgConnection,
    user_id: Uuid,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO mfa_login_tokens (id, user_id, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub(in crate::accounts) struct MfaTokenRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

pub(in crate::accounts) async fn mfa_token_for_update(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<MfaTokenRow>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, attempts, expires_at, used_at FROM mfa_login_tokens \
         WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

/// Counts a wrong second factor; returns the attempts made so far.
pub(in crate::accounts) async fn record_mfa_attempt(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<i32, Error> {
    let (attempts,): (i32,) = sqlx::query_as(
        "UPDATE mfa_login_tokens SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(attempts)
}

pub(in crate::accounts) async fn use_mfa_token(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query("UPDATE mfa_login_tokens SET used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

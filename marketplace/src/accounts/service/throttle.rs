//! Failed-login throttling, and re-authentication with the current password.
//!
//! The limit is checked before any password is hashed, so a locked-out attacker costs one
//! indexed count, not an argon2 run. Checking and recording are not one atomic step (the hash
//! between them must not hold a connection), so a burst of parallel guesses can pass the
//! limit by the few that were in flight; the fail-fast hashing slots bound that burst.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::accounts::limits::{Limit, RateLimited};
use crate::accounts::model::PASSWORD_MAX_CHARS;
use crate::accounts::password;
use crate::accounts::store::{self, FailedStep};
use crate::error::Error;

/// 429 when the account (an e-mail, known or not) or the client address had too many
/// failures in the window.
pub(super) async fn check_login_allowed(
    conn: &mut PgConnection,
    account: &str,
    client_key: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let counts = store::count_login_failures(
        conn,
        account,
        Limit::LOGIN_PER_ACCOUNT.since(now),
        client_key,
        Limit::LOGIN_PER_CLIENT.since(now),
    )
    .await?;
    let by_account =
        Limit::LOGIN_PER_ACCOUNT.retry_after(counts.account, counts.account_oldest, now);
    let by_client = Limit::LOGIN_PER_CLIENT.retry_after(counts.client, counts.client_oldest, now);
    match by_account.max(by_client) {
        Some(retry_after_secs) => {
            tracing::warn!(client_key, "login throttled");
            Err(RateLimited { retry_after_secs }.into())
        }
        None => Ok(()),
    }
}

/// Logs a failure outside any transaction: it must count although the request fails.
pub(super) async fn record_failure(
    pool: &PgPool,
    account: &str,
    client_key: &str,
    step: FailedStep,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut conn = pool.acquire().await?;
    store::record_login_failure(&mut conn, account, client_key, step, now).await
}

/// Re-authentication before a sensitive change: the caller's current password, throttled
/// like a login (a stolen access token must not become a password oracle). Missing or wrong
/// is a 422 on `current_password`; nothing has been changed yet when this fails.
pub(super) async fn confirm_password(
    pool: &PgPool,
    user_id: Uuid,
    current_password: Option<&str>,
    client_key: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(given) = current_password.filter(|p| !p.is_empty()) else {
        return Err(Error::invalid(
            "current_password",
            "is required for this change: send your current password",
        ));
    };
    let (user, hash) = {
        let mut conn = pool.acquire().await?;
        let found = store::credentials_by_id(&mut conn, user_id)
            .await?
            .ok_or(Error::Unauthorized)?;
        check_login_allowed(&mut conn, &found.0.email, client_key, now).await?;
        found
    };
    let right = given.chars().count() <= PASSWORD_MAX_CHARS
        && password::verify(given.to_owned(), hash).await?;
    if !right {
        record_failure(
            pool,
            &user.email,
            client_key,
            FailedStep::CurrentPassword,
            now,
        )
        .await?;
        return Err(Error::invalid(
            "current_password",
            "is not your current password",
        ));
    }
    Ok(())
}

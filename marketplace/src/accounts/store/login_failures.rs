//! SQL for failed logins: the log the login throttle counts.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::error::Error;

/// Which step of a login failed; stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::accounts) enum FailedStep {
    Password,
    SecondFactor,
    CurrentPassword,
}

impl FailedStep {
    fn as_str(self) -> &'static str {
        match self {
            FailedStep::Password => "password",
            FailedStep::SecondFactor => "second_factor",
            FailedStep::CurrentPassword => "current_password",
        }
    }
}

/// Failures counted against an account and a client since their windows' starts, each with
/// its oldest (for `Retry-After`).
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub(in crate::accounts) struct FailureCounts {
    pub account: i64,
    pub account_oldest: Option<DateTime<Utc>>,
    pub client: i64,
    pub client_oldest: Option<DateTime<Utc>>,
}

/// An account's cleared failures (it logged in since) no longer count for it, but still do
/// for the client address they came from.
pub(in crate::accounts) async fn count_login_failures(
    conn: &mut PgConnection,
    account: &str,
    account_since: DateTime<Utc>,
    client_key: &str,
    client_since: DateTime<Utc>,
) -> Result<FailureCounts, Error> {
    Ok(sqlx::query_as(
        "SELECT a.n AS account, a.oldest AS account_oldest, \
                c.n AS client, c.oldest AS client_oldest \
         FROM (SELECT count(*) AS n, min(created_at) AS oldest FROM login_failures \
               WHERE account = $1::citext AND created_at > $2 AND cleared_at IS NULL) AS a, \
              (SELECT count(*) AS n, min(created_at) AS oldest FROM login_failures \
               WHERE client_key = $3 AND created_at > $4) AS c",
    )
    .bind(account)
    .bind(account_since)
    .bind(client_key)
    .bind(client_since)
    .fetch_one(conn)
    .await?)
}

pub(in crate::accounts) async fn record_login_failure(
    conn: &mut PgConnection,
    account: &str,
    client_key: &str,
    step: FailedStep,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO login_failures (account, client_key, step, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(account)
    .bind(client_key)
    .bind(step.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// After a successful login: the account starts afresh (the client's count stays).
pub(in crate::accounts) async fn clear_account_failures(
    conn: &mut PgConnection,
    account: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE login_failures SET cleared_at = $2 \
         WHERE account = $1::citext AND cleared_at IS NULL",
    )
    .bind(account)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

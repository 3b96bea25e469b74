//! SQL for one-time-code challenges and the rate-limit windows counted over them.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::accounts::otp::{Channel, Purpose};
use crate::error::Error;

pub(in crate::accounts) struct NewChallenge<'a> {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub purpose: Purpose,
    pub channel: Channel,
    pub destination: &'a str,
    pub client_key: &'a str,
    pub code_salt: &'a [u8],
    pub code_hash: &'a [u8],
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A challenge as verification needs it.
#[derive(Debug, sqlx::FromRow)]
pub(in crate::accounts) struct ChallengeRow {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub purpose: String,
    pub channel: String,
    pub destination: String,
    pub code_salt: Vec<u8>,
    pub code_hash: Vec<u8>,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
}

const CHALLENGE_COLUMNS: &str = "id, user_id, purpose, channel, destination, code_salt, \
                                 code_hash, attempts, expires_at, consumed_at, superseded_at";

/// Serialises every request for one key (a destination, a client address) across nodes until
/// the transaction ends, so two concurrent requests cannot both see "2 of 3 used".
pub(in crate::accounts) async fn lock_key(conn: &mut PgConnection, key: &str) -> Result<(), Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many codes went to this destination since `since`, and the oldest of them.
pub(in crate::accounts) async fn count_for_destination(
    conn: &mut PgConnection,
    channel: Channel,
    destination: &str,
    since: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), Error> {
    let row = sqlx::query_as(
        "SELECT count(*), min(created_at) FROM otp_challenges \
         WHERE channel = $1 AND destination = $2 AND created_at > $3",
    )
    .bind(channel.as_str())
    .bind(destination)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(row)
}

/// How many codes this client asked for since `since`, and the oldest of them.
pub(in crate::accounts) async fn count_for_client(
    conn: &mut PgConnection,
    client_key: &str,
    since: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), Error> {
    let row = sqlx::query_as(
        "SELECT count(*), min(created_at) FROM otp_challenges \
         WHERE client_key = $1 AND created_at > $2",
    )
    .bind(client_key)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(row)
}

/// One account's one-time-code use in a window: codes requested and wrong codes entered,
/// each with its oldest challenge (for `Retry-After`). Wrong codes are dated by their
/// challenge, which is at most 5 minutes older.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub(in crate::accounts) struct OtpUse {
    pub requested: i64,
    pub requested_oldest: Option<DateTime<Utc>>,
    pub wrong: i64,
    pub wrong_oldest: Option<DateTime<Utc>>,
}

pub(in crate::accounts) async fn otp_use_of_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<OtpUse, Error> {
    Ok(sqlx::query_as(
        "SELECT count(*) AS requested, min(created_at) AS requested_oldest, \
                coalesce(sum(attempts), 0)::bigint AS wrong, \
                min(created_at) FILTER (WHERE attempts > 0) AS wrong_oldest \
         FROM otp_challenges WHERE user_id = $1 AND created_at > $2",
    )
    .bind(user_id)
    .bind(since)
    .fetch_one(conn)
    .await?)
}

/// Closes every open challenge for the destination: only the newest code works.
pub(in crate::accounts) async fn supersede_open_challenges(
    conn: &mut PgConnection,
    channel: Channel,
    destination: &str,
    now: DateTime<Utc>,
) -> Result<u64, Error> {
    let done = sqlx::query(
        "UPDATE otp_challenges SET superseded_at = $3 \
         WHERE channel = $1 AND destination = $2 \
           AND consumed_at IS NULL AND superseded_at IS NULL",
    )
    .bind(channel.as_str())
    .bind(destination)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub(in crate::accounts) async fn insert_challenge(
    conn: &mut PgConnection,
    new: &NewChallenge<'_>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO otp_challenges (id, user_id, purpose, channel, destination, client_key, \
                                     code_salt, code_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new.id)
    .bind(new.user_id)
    .bind(new.purpose.as_str())
    .bind(new.channel.as_str())
    .bind(new.destination)
    .bind(new.client_key)
    .bind(new.code_salt)
    .bind(new.code_hash)
    .bind(new.created_at)
    .bind(new.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The challenge, locked until the transaction ends so concurrent guesses count one by one.
pub(in crate::accounts) async fn challenge_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ChallengeRow>, Error> {
    let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM otp_challenges WHERE id = $1 FOR UPDATE");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// The newest challenge for a destination (the only one that can still be open), locked.
pub(in crate::accounts) async fn latest_challenge_for_update(
    conn: &mut PgConnection,
    channel: Channel,
    destination: &str,
) -> Result<Option<ChallengeRow>, Error> {
    let sql = format!(
        "SELECT {CHALLENGE_COLUMNS} FROM otp_challenges \
         WHERE channel = $1 AND destination = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE"
    );
    Ok(sqlx::query_as(&sql)
        .bind(channel.as_str())
        .bind(destination)
        .fetch_optional(conn)
        .await?)
}

/// Counts a wrong code; returns the attempts made so far.
pub(in crate::accounts) async fn record_wrong_attempt(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<i32, Error> {
    let (attempts,): (i32,) = sqlx::query_as(
        "UPDATE otp_challenges SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(attempts)
}

pub(in crate::accounts) async fn consume_challenge(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query("UPDATE otp_challenges SET consumed_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

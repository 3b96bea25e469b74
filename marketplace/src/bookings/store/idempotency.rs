//! `Idempotency-Key` rows: claimed at the start of a request's transaction, answered before
//! it commits. A concurrent retry with the same key blocks on the claim (the unique index)
//! until the first request commits or rolls back, so it never runs the use case twice.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The key is ours: run the request, then [`save_response`] in the same transaction.
    New,
    /// An earlier request with the same body already answered this.
    Replay { status: u16, body: Value },
    /// The key was used with a different request body.
    Mismatch,
}

pub async fn claim_key(
    conn: &mut PgConnection,
    user_id: Uuid,
    scope: &str,
    key: &str,
    request_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<Claim, Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, scope, key, request_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(scope)
    .bind(key)
    .bind(&request_hash[..])
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let (hash, status, body): (Vec<u8>, Option<i16>, Option<Value>) = sqlx::query_as(
        "SELECT request_hash, status_code, response FROM idempotency_keys \
         WHERE user_id = $1 AND scope = $2 AND key = $3",
    )
    .bind(user_id)
    .bind(scope)
    .bind(key)
    .fetch_one(conn)
    .await?;
    if hash != request_hash[..] {
        return Ok(Claim::Mismatch);
    }
    match (status.and_then(|s| u16::try_from(s).ok()), body) {
        (Some(status), Some(body)) => Ok(Claim::Replay { status, body }),
        // a committed claim always has its answer (saved in the same transaction)
        _ => Err(Error::Internal(format!(
            "idempotency key of user {user_id} has no answer"
        ))),
    }
}

pub async fn save_response(
    conn: &mut PgConnection,
    user_id: Uuid,
    scope: &str,
    key: &str,
    status: u16,
    body: &Value,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET status_code = $4, response = $5 \
         WHERE user_id = $1 AND scope = $2 AND key = $3",
    )
    .bind(user_id)
    .bind(scope)
    .bind(key)
    .bind(i16::try_from(status).unwrap_or(i16::MAX))
    .bind(body)
    .execute(conn)
    .await?;
    Ok(())
}

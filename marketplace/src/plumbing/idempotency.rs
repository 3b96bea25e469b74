//! `Idempotency-Key`: the one rule for every retried POST (bookings, top-ups, payments,
//! subscriptions), the headers that carry it, and the `idempotency_keys` rows where bookings
//! and subscriptions remember a request's answer ([`claim_key`], [`save_response`], forgotten
//! after [`TTL`] by [`purge`]). Payments and the ledger deduplicate by key in their own tables.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, FieldError};

/// The request header.
pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer replayed for a retried key.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// 1 to 255 visible ASCII characters (Stripe's limit too).
pub const KEY_MAX: usize = 255;

pub fn is_valid(key: &str) -> bool {
    (1..=KEY_MAX).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What is wrong with a key that is not [`is_valid`], for a list of field errors.
pub fn key_field_error() -> FieldError {
    FieldError::new(
        "Idempotency-Key",
        format!("must be 1 to {KEY_MAX} visible ASCII characters"),
    )
}

/// The key, if any, when it is valid; else a 422 on the header.
pub fn checked(key: Option<&str>) -> Result<Option<&str>, Error> {
    match key {
        Some(k) if !is_valid(k) => Err(Error::Validation(vec![key_field_error()])),
        other => Ok(other),
    }
}

/// SHA-256 of a request's JSON: a retry with the same key must send the same request.
pub fn request_hash(request: &impl Serialize) -> Result<[u8; 32], Error> {
    let bytes = serde_json::to_vec(request).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Sha256::digest(bytes).into())
}

/// The 422 for a key used before with another request.
pub fn reused() -> Error {
    Error::invalid(
        "Idempotency-Key",
        "was already used with a different request",
    )
}

/// The key a request carries, if any; a header that is not text is a 422 on the header.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    headers
        .get(HEADER)
        .map(|v| {
            v.to_str()
                .map_err(|_| Error::invalid("Idempotency-Key", "must be visible ASCII characters"))
        })
        .transpose()
}

/// Marks `response` as the replay of an earlier answer when it is one.
pub fn mark_replayed(mut response: Response, replayed: bool) -> Response {
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    response
}

/// How long an `Idempotency-Key` answer is replayed.
pub const TTL: chrono::Duration = chrono::Duration::hours(24);

// The rows: claimed at the start of a request's transaction, answered before it commits. A
// concurrent retry with the same key blocks on the claim (the unique index) until the first
// request commits or rolls back, so it never runs the use case twice.

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

/// Forgets idempotency keys older than `before`: a retry after that is a new request.
pub async fn purge(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<u64, Error> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(is_valid("trip-42"));
        assert!(!is_valid(""));
        assert!(!is_valid("a b"));
        assert!(is_valid(&"k".repeat(255)));
        assert!(!is_valid(&"k".repeat(256)));
    }
}

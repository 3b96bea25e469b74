//! `Idempotency-Key` on the money-moving POSTs: the key is claimed at the start of the use
//! case's transaction and its answer saved before it commits (the floor's `idempotency_keys`
//! rows, as bookings use them).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

use crate::accounts::AuthUser;
use crate::error::Error;
use crate::plumbing::idempotency::{self, claim_key, save_response, Claim};
use crate::subscriptions::view::SubscriptionView;

/// What a money-moving use case answers.
#[derive(Debug)]
pub enum Answer {
    New(Box<SubscriptionView>),
    /// A retry with the same key and body: the first answer, as it was.
    Replayed {
        status: u16,
        body: Value,
    },
}

/// Claims the key; `Some` is the answer to give instead of running the use case.
pub async fn claim(
    conn: &mut PgConnection,
    caller: &AuthUser,
    scope: &str,
    key: Option<&str>,
    request: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<Option<Answer>, Error> {
    let Some(key) = key else { return Ok(None) };
    let hash = idempotency::request_hash(request)?;
    match claim_key(conn, caller.id, scope, key, &hash, now).await? {
        Claim::New => Ok(None),
        Claim::Replay { status, body } => Ok(Some(Answer::Replayed { status, body })),
        Claim::Mismatch => Err(idempotency::reused()),
    }
}

/// Saves the answer of a claimed key, in the use case's transaction.
pub async fn save(
    conn: &mut PgConnection,
    caller: &AuthUser,
    scope: &str,
    key: Option<&str>,
    status: u16,
    view: &SubscriptionView,
) -> Result<(), Error> {
    let Some(key) = key else { return Ok(()) };
    let body = serde_json::to_value(view).map_err(|e| Error::Internal(e.to_string()))?;
    save_response(conn, caller.id, scope, key, status, &body).await
}

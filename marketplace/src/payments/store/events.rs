//! The provider's webhook events (`provider_events`), each recorded once by its id.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::error::Error;

/// Records an event once: `false` when it was already recorded (a redelivery).
pub async fn insert_event(
    conn: &mut PgConnection,
    provider: &str,
    event_id: &str,
    event_type: &str,
    created_at: DateTime<Utc>,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let inserted = sqlx::query(
        "INSERT INTO provider_events (provider, event_id, event_type, created_at, received_at, \
         outcome, payload) VALUES ($1, $2, $3, $4, $5, 'received', $6) ON CONFLICT DO NOTHING",
    )
    .bind(provider)
    .bind(event_id)
    .bind(event_type)
    .bind(created_at)
    .bind(now)
    .bind(payload)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn set_event_outcome(
    conn: &mut PgConnection,
    provider: &str,
    event_id: &str,
    outcome: &str,
) -> Result<(), Error> {
    sqlx::query("UPDATE provider_events SET outcome = $3 WHERE provider = $1 AND event_id = $2")
        .bind(provider)
        .bind(event_id)
        .bind(outcome)
        .execute(conn)
        .await?;
    Ok(())
}

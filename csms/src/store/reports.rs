use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

/// Things stations report that operators read later (security events, device events,
/// firmware and log upload progress, vendor data): kept whole, as sent.
pub async fn insert(
    pool: &PgPool,
    station_id: &str,
    kind: &str,
    reported_at: DateTime<Utc>,
    payload: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO station_reports (station_id, kind, reported_at, payload) VALUES ($1, $2, $3, $4)",
    )
    .bind(station_id)
    .bind(kind)
    .bind(reported_at)
    .bind(payload)
    .execute(pool)
    .await?;
    Ok(())
}

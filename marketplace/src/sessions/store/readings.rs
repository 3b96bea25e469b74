//! A session's register readings (per measurand and instant, the larger value kept) and the
//! driver's pauses.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::decimal;
use crate::error::Error;
use crate::sessions::energy::{Pause, Reading};

/// A reading to keep: `energy_wh`, `power_w` or `soc_percent`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub measurand: &'static str,
    pub at: DateTime<Utc>,
    pub value: Decimal,
}

/// Keeps readings; an instant seen before keeps the larger value (order-independent).
pub async fn add_samples(
    conn: &mut PgConnection,
    session_id: Uuid,
    samples: &[Sample],
) -> Result<(), Error> {
    if samples.is_empty() {
        return Ok(());
    }
    let measurands: Vec<&str> = samples.iter().map(|s| s.measurand).collect();
    let times: Vec<DateTime<Utc>> = samples.iter().map(|s| s.at).collect();
    let values: Vec<String> = samples
        .iter()
        .map(|s| s.value.round_dp(3).to_string())
        .collect();
    sqlx::query(
        "INSERT INTO session_readings (session_id, measurand, sampled_at, value) \
         SELECT $1, m, t, v::numeric FROM unnest($2::text[], $3::timestamptz[], $4::text[]) \
           AS x(m, t, v) \
         ON CONFLICT (session_id, measurand, sampled_at) \
         DO UPDATE SET value = GREATEST(session_readings.value, EXCLUDED.value)",
    )
    .bind(session_id)
    .bind(&measurands)
    .bind(&times)
    .bind(&values)
    .execute(conn)
    .await?;
    Ok(())
}

/// The energy register readings of a session, in time order.
pub async fn energy_readings(
    conn: &mut PgConnection,
    session_id: Uuid,
) -> Result<Vec<Reading>, Error> {
    let rows: Vec<(DateTime<Utc>, String)> = sqlx::query_as(
        "SELECT sampled_at, value::text FROM session_readings \
         WHERE session_id = $1 AND measurand = 'energy_wh' ORDER BY sampled_at",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(at, v)| {
            Ok(Reading {
                at,
                wh: decimal(&v)?,
            })
        })
        .collect()
}

/// The latest reading of a measurand: (when, value).
pub async fn latest(
    conn: &mut PgConnection,
    session_id: Uuid,
    measurand: &str,
) -> Result<Option<(DateTime<Utc>, Decimal)>, Error> {
    let row: Option<(DateTime<Utc>, String)> = sqlx::query_as(
        "SELECT sampled_at, value::text FROM session_readings \
         WHERE session_id = $1 AND measurand = $2 ORDER BY sampled_at DESC LIMIT 1",
    )
    .bind(session_id)
    .bind(measurand)
    .fetch_optional(conn)
    .await?;
    row.map(|(at, v)| Ok((at, decimal(&v)?))).transpose()
}

pub async fn pauses(conn: &mut PgConnection, session_id: Uuid) -> Result<Vec<Pause>, Error> {
    let rows: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT paused_at, resumed_at FROM session_pauses WHERE session_id = $1 \
         ORDER BY paused_at",
    )
    .bind(session_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(from, to)| Pause { from, to })
        .collect())
}

pub async fn open_pause(
    conn: &mut PgConnection,
    session_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO session_pauses (session_id, paused_at) VALUES ($1, $2) \
         ON CONFLICT DO NOTHING",
    )
    .bind(session_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends the open pause (if any) at `at`, never before it began.
pub async fn close_pause(
    conn: &mut PgConnection,
    session_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE session_pauses SET resumed_at = GREATEST($2, paused_at) \
         WHERE session_id = $1 AND resumed_at IS NULL",
    )
    .bind(session_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

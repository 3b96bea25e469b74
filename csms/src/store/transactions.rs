use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, PgExecutor, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

/// One TransactionEvent, reduced to what the transaction row needs.
pub struct EventFacts<'a> {
    pub station_id: &'a str,
    pub transaction_id: &'a str,
    pub seq_no: i32,
    pub event_type: &'a str,
    pub trigger_reason: &'a str,
    pub timestamp: DateTime<Utc>,
    pub offline: bool,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub id_token: Option<(&'a str, &'a str)>,
    pub charging_state: Option<&'a str>,
    pub stopped_reason: Option<&'a str>,
    pub remote_start_id: Option<i32>,
    pub reservation_id: Option<i32>,
    /// Earliest and latest energy register readings in this event (time, Wh).
    pub energy_first: Option<(DateTime<Utc>, f64)>,
    pub energy_last: Option<(DateTime<Utc>, f64)>,
    pub payload: &'a Value,
}

/// Stores the event and folds it into the transaction. Returns false when this
/// (station, transaction, seqNo) was already stored: a retry, changed nothing.
///
/// Events may arrive out of order (offline queues): every field is merged so that the
/// result does not depend on arrival order. It is one statement, so no BEGIN/COMMIT round
/// trips: the upsert runs only when the event row was new, and both happen atomically.
pub async fn record_event<'e>(
    db: impl PgExecutor<'e>,
    e: &EventFacts<'_>,
) -> Result<bool, sqlx::Error> {
    let ended = e.event_type == "Ended";
    let fresh: Option<i32> = sqlx::query_scalar(
        "WITH ev AS (
            INSERT INTO transaction_events (station_id, transaction_id, seq_no, event_type,
                                            trigger_reason, event_at, offline, payload)
            VALUES ($2, $3, $18, $19, $20, $11, $21, $22) ON CONFLICT DO NOTHING
            RETURNING 1
         )
         INSERT INTO transactions AS t (id, station_id, transaction_id, evse_id, connector_id,
            id_token, id_token_type, charging_state, remote_start_id, reservation_id,
            started_at, ended_at, stopped_reason, meter_start_wh, meter_start_at,
            meter_last_wh, meter_last_at, last_seq_no)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18
         WHERE EXISTS (SELECT 1 FROM ev)
         ON CONFLICT (station_id, transaction_id) DO UPDATE SET
            evse_id = COALESCE(t.evse_id, EXCLUDED.evse_id),
            connector_id = COALESCE(t.connector_id, EXCLUDED.connector_id),
            id_token = CASE WHEN EXCLUDED.id_token IS NOT NULL AND EXCLUDED.last_seq_no >= t.last_seq_no
                            THEN EXCLUDED.id_token ELSE COALESCE(t.id_token, EXCLUDED.id_token) END,
            id_token_type = CASE WHEN EXCLUDED.id_token IS NOT NULL AND EXCLUDED.last_seq_no >= t.last_seq_no
                            THEN EXCLUDED.id_token_type ELSE COALESCE(t.id_token_type, EXCLUDED.id_token_type) END,
            charging_state = CASE WHEN EXCLUDED.last_seq_no >= t.last_seq_no
                            THEN COALESCE(EXCLUDED.charging_state, t.charging_state) ELSE t.charging_state END,
            remote_start_id = COALESCE(t.remote_start_id, EXCLUDED.remote_start_id),
            reservation_id = COALESCE(t.reservation_id, EXCLUDED.reservation_id),
            started_at = LEAST(t.started_at, EXCLUDED.started_at),
            ended_at = COALESCE(EXCLUDED.ended_at, t.ended_at),
            stopped_reason = COALESCE(EXCLUDED.stopped_reason, t.stopped_reason),
            meter_start_wh = CASE WHEN t.meter_start_at IS NULL OR EXCLUDED.meter_start_at < t.meter_start_at
                            THEN COALESCE(EXCLUDED.meter_start_wh, t.meter_start_wh) ELSE t.meter_start_wh END,
            meter_start_at = LEAST(t.meter_start_at, EXCLUDED.meter_start_at),
            meter_last_wh = CASE WHEN t.meter_last_at IS NULL OR EXCLUDED.meter_last_at >= t.meter_last_at
                            THEN COALESCE(EXCLUDED.meter_last_wh, t.meter_last_wh) ELSE t.meter_last_wh END,
            meter_last_at = GREATEST(t.meter_last_at, EXCLUDED.meter_last_at),
            last_seq_no = GREATEST(t.last_seq_no, EXCLUDED.last_seq_no),
            updated_at = now()
         RETURNING 1",
    )
    .bind(Uuid::now_v7())
    .bind(e.station_id)
    .bind(e.transaction_id)
    .bind(e.evse_id)
    .bind(e.connector_id)
    .bind(e.id_token.map(|t| t.0))
    .bind(e.id_token.map(|t| t.1))
    .bind(e.charging_state)
    .bind(e.remote_start_id)
    .bind(e.reservation_id)
    .bind(e.timestamp)
    .bind(ended.then_some(e.timestamp))
    .bind(e.stopped_reason)
    .bind(e.energy_first.map(|x| x.1))
    .bind(e.energy_first.map(|x| x.0))
    .bind(e.energy_last.map(|x| x.1))
    .bind(e.energy_last.map(|x| x.0))
    .bind(e.seq_no)
    .bind(e.event_type)
    .bind(e.trigger_reason)
    .bind(e.offline)
    .bind(e.payload)
    .fetch_optional(db)
    .await?;
    Ok(fresh.is_some())
}

#[derive(Debug, Clone, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct TransactionRow {
    pub id: Uuid,
    pub station_id: String,
    pub transaction_id: String,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub id_token: Option<String>,
    pub charging_state: Option<String>,
    pub remote_start_id: Option<i32>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub stopped_reason: Option<String>,
    pub energy_wh: Option<f64>,
    pub last_seq_no: i32,
}

#[derive(Debug, Default)]
pub struct TransactionFilter {
    pub station_id: Option<String>,
    pub id_token: Option<String>,
    pub active: Option<bool>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(
    pool: &PgPool,
    f: &TransactionFilter,
) -> Result<Vec<TransactionRow>, sqlx::Error> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT id, station_id, transaction_id, evse_id, connector_id, id_token, charging_state,
                remote_start_id, started_at, ended_at, stopped_reason,
                meter_last_wh - meter_start_wh AS energy_wh, last_seq_no
         FROM transactions WHERE true",
    );
    if let Some(s) = &f.station_id {
        q.push(" AND station_id = ").push_bind(s.clone());
    }
    if let Some(t) = &f.id_token {
        q.push(" AND id_token = ").push_bind(t.clone());
    }
    match f.active {
        Some(true) => {
            q.push(" AND ended_at IS NULL");
        }
        Some(false) => {
            q.push(" AND ended_at IS NOT NULL");
        }
        None => {}
    }
    if let Some(from) = f.from {
        q.push(" AND started_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND started_at < ").push_bind(to);
    }
    q.push(" ORDER BY started_at DESC NULLS LAST, id DESC LIMIT ")
        .push_bind(f.limit)
        .push(" OFFSET ")
        .push_bind(f.offset);
    q.build_query_as().fetch_all(pool).await
}

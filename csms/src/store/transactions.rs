use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

/// An OCPP transaction as folded from the station's TransactionEvents.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OcppTransaction)]
pub struct TransactionRow {
    pub id: Uuid,
    pub station_id: String,
    /// The station's transactionId.
    pub transaction_id: String,
    #[schema(required)]
    pub evse_id: Option<i32>,
    #[schema(required)]
    pub connector_id: Option<i32>,
    #[schema(required)]
    pub id_token: Option<String>,
    /// OCPP ChargingStateEnumType, e.g. `Charging`, `SuspendedEV`.
    #[schema(required)]
    pub charging_state: Option<String>,
    #[schema(required)]
    pub remote_start_id: Option<i32>,
    #[schema(required)]
    pub started_at: Option<DateTime<Utc>>,
    /// `null` while the transaction is active.
    #[schema(required)]
    pub ended_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub stopped_reason: Option<String>,
    /// The last meter reading less the first, in Wh.
    #[schema(required)]
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

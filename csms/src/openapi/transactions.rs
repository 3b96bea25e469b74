//! Operator view of OCPP transactions, folded from TransactionEvents.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::common::{limit, offset};
use super::route::{boolean, date_time, string, Route, OPERATOR};

const TAG: &str = "transactions";

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Transaction {
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
    #[schema(required)]
    pub energy_wh: Option<f64>,
    pub last_seq_no: i32,
}

#[derive(ToSchema)]
pub struct TransactionPage {
    pub items: Vec<Transaction>,
    pub limit: i64,
    pub offset: i64,
}

pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/transactions", TAG, "Search transactions")
        .describe("Newest first. `from`/`to` bound the start time; `to` must be after `from`.")
        .access(OPERATOR)
        .query("stationId", "Only this station", string())
        .query("idToken", "Only this id token value", string())
        .query(
            "active",
            "Only open (true) or ended (false) ones",
            boolean(),
        )
        .query("from", "Started at or after", date_time())
        .query("to", "Started before", date_time())
        .query("limit", "Page size", limit())
        .query("offset", "Rows to skip", offset())
        .ok::<TransactionPage>(200, "A page of transactions")
        .problem(
            422,
            "`to` not after `from`, `limit` (1 to 500) or `offset` out of range, or a \
             parameter of the wrong type (`query`)",
        )]
}

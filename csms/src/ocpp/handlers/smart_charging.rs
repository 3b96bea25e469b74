//! Functional block K: smart charging. NotifyEVChargingSchedule is parsed with our own types
//! because rust-ocpp's SalesTariff types disagree with the schema (integer `startValue`).

use ocpp_schemas::types::NotifyEVChargingScheduleRequest;
use serde_json::json;

use super::HandlerResult;

pub async fn notify_ev_charging_schedule(req: NotifyEVChargingScheduleRequest) -> HandlerResult {
    tracing::info!(evse = req.evse_id, "EV charging schedule received");
    Ok(json!({ "status": "Accepted" }))
}

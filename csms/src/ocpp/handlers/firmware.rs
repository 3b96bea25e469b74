//! Functional block L: firmware management (FirmwareStatusNotification).

use serde_json::{json, Value};

use super::{HandlerResult, StationSession};
use crate::ocpp::OcppContext;
use crate::store::reports;

pub async fn firmware_status(
    ctx: &OcppContext,
    session: &StationSession,
    payload: Value,
) -> HandlerResult {
    tracing::info!(status = %payload["status"], "firmware status");
    reports::insert(
        &ctx.pool,
        &session.station_id,
        "FirmwareStatus",
        chrono::Utc::now(),
        &payload,
    )
    .await?;
    Ok(json!({}))
}

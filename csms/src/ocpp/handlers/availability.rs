//! Functional block G: availability (StatusNotification).

use rust_ocpp::v2_0_1::messages::status_notification::StatusNotificationRequest;
use serde_json::json;

use super::{wire, HandlerResult, StationSession};
use crate::ocpp::OcppContext;
use crate::store::writer::StatusReport;

pub async fn status_notification(
    ctx: &OcppContext,
    session: &StationSession,
    req: StatusNotificationRequest,
) -> HandlerResult {
    ctx.writers
        .statuses
        .push(StatusReport {
            station_id: session.station_id.clone(),
            evse_id: req.evse_id,
            connector_id: req.connector_id,
            status: wire(&req.connector_status),
            reported_at: req.timestamp,
        })
        .await;
    Ok(json!({}))
}

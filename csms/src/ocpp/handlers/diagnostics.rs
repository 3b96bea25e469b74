//! Functional blocks N and O: diagnostics and monitoring (NotifyEvent, LogStatusNotification).

use serde_json::{json, Value};

use super::{HandlerResult, StationSession};
use crate::ocpp::OcppContext;
use crate::store::reports;

pub async fn notify_event(
    ctx: &OcppContext,
    session: &StationSession,
    payload: Value,
) -> HandlerResult {
    let at = super::timestamp_field(&payload, "generatedAt");
    reports::insert(&ctx.pool, &session.station_id, "Event", at, &payload).await?;
    Ok(json!({}))
}

pub async fn log_status(
    ctx: &OcppContext,
    session: &StationSession,
    payload: Value,
) -> HandlerResult {
    reports::insert(
        &ctx.pool,
        &session.station_id,
        "LogStatus",
        chrono::Utc::now(),
        &payload,
    )
    .await?;
    Ok(json!({}))
}

//! Functional block A: security (SecurityEventNotification).

use serde_json::{json, Value};

use super::{timestamp_field, HandlerResult, StationSession};
use crate::ocpp::OcppContext;
use crate::store::reports;

pub async fn security_event(
    ctx: &OcppContext,
    session: &StationSession,
    payload: Value,
) -> HandlerResult {
    let at = timestamp_field(&payload, "timestamp");
    tracing::warn!(kind = %payload["type"], "security event reported");
    reports::insert(
        &ctx.pool,
        &session.station_id,
        "SecurityEvent",
        at,
        &payload,
    )
    .await?;
    Ok(json!({}))
}

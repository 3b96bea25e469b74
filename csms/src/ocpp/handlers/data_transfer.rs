//! Functional block P: DataTransfer. Vendor extensions register here by vendorId; any
//! other vendor gets UnknownVendorId, as the specification asks.

use serde_json::{json, Value};

use super::{HandlerResult, StationSession};
use crate::ocpp::OcppContext;
use crate::store::reports;

/// Our own vendor id: a connectivity check that echoes `data` back.
pub const PLATFORM_VENDOR_ID: &str = "org.evplatform";

pub async fn data_transfer(
    ctx: &OcppContext,
    session: &StationSession,
    payload: Value,
) -> HandlerResult {
    reports::insert(
        &ctx.pool,
        &session.station_id,
        "DataTransfer",
        chrono::Utc::now(),
        &payload,
    )
    .await?;
    let vendor = payload["vendorId"].as_str().unwrap_or_default();
    let message = payload["messageId"].as_str();
    Ok(match (vendor, message) {
        (PLATFORM_VENDOR_ID, Some("Echo")) => {
            let mut answer = json!({ "status": "Accepted" });
            if let Some(data) = payload.get("data") {
                answer["data"] = data.clone();
            }
            answer
        }
        (PLATFORM_VENDOR_ID, _) => json!({ "status": "UnknownMessageId" }),
        _ => json!({ "status": "UnknownVendorId" }),
    })
}

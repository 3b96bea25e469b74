//! Functional block B: provisioning (BootNotification, Heartbeat, NotifyReport).

use chrono::Utc;
use rust_ocpp::v2_0_1::messages::boot_notification::BootNotificationRequest;
use serde_json::{json, Value};

use super::{wire, HandlerResult, StationSession};
use crate::ocpp::gateway::StationGateway;
use crate::ocpp::{OcppContext, UnknownStations};
use crate::store::group_commit::BootRecord;
use crate::store::{reports, writer::Heartbeat};

/// How long a Pending or Rejected station waits before booting again.
const RETRY_INTERVAL_SECS: u32 = 60;

pub async fn boot_notification(
    ctx: &OcppContext,
    session: &mut StationSession,
    req: BootNotificationRequest,
) -> HandlerResult {
    let cs = &req.charging_station;
    let modem = cs.modem.as_ref();
    let unknown = match ctx.config.unknown_stations {
        UnknownStations::Accept => "Accepted",
        UnknownStations::Pending => "Pending",
        UnknownStations::Reject => "Rejected",
    };
    // committed with other stations' boots: a reconnect storm shares its commits
    let status = ctx
        .group_commit
        .record_boot(BootRecord {
            station_id: session.station_id.clone(),
            vendor_name: cs.vendor_name.clone(),
            model: cs.model.clone(),
            serial_number: cs.serial_number.clone(),
            firmware_version: cs.firmware_version.clone(),
            iccid: modem.and_then(|m| m.iccid.clone()),
            imsi: modem.and_then(|m| m.imsi.clone()),
            reason: wire(&req.reason),
            unknown_status: unknown,
            unknown_profile: session.new_profile,
        })
        .await?;
    tracing::info!(status, vendor = %cs.vendor_name, model = %cs.model, "boot");
    let interval = if status == "Accepted" {
        ctx.config.heartbeat_interval
    } else {
        RETRY_INTERVAL_SECS.min(ctx.config.heartbeat_interval)
    };
    session.registration = Some(status.clone());
    if status == "Accepted" {
        ask_for_statuses(ctx, &session.station_id);
    }
    Ok(json!({
        "currentTime": now(),
        "interval": interval,
        "status": status,
    }))
}

/// After a (re)boot the connector statuses we hold may be stale (the station may have been
/// off for a day): ask for all of them (TriggerMessage StatusNotification). Sent from a task of
/// its own, queued behind the BootNotification's answer on the same connection.
fn ask_for_statuses(ctx: &OcppContext, station_id: &str) {
    let gateway = StationGateway::new(ctx.registry.clone(), ctx.config.call_timeout);
    let station = station_id.to_owned();
    tokio::spawn(async move {
        let request = json!({ "requestedMessage": "StatusNotification" });
        match gateway.call(&station, "TriggerMessage", request).await {
            Ok(answer) => tracing::debug!(station, %answer, "asked for connector statuses"),
            Err(e) => tracing::info!(station, error = %e, "could not ask for connector statuses"),
        }
    });
}

pub async fn heartbeat(ctx: &OcppContext, session: &StationSession) -> HandlerResult {
    let at = Utc::now();
    ctx.writers
        .heartbeats
        .push(Heartbeat {
            station_id: session.station_id.clone(),
            at,
        })
        .await;
    Ok(json!({ "currentTime": rfc3339(at) }))
}

pub async fn notify_report(
    ctx: &OcppContext,
    session: &StationSession,
    payload: Value,
) -> HandlerResult {
    let at = super::timestamp_field(&payload, "generatedAt");
    reports::insert(&ctx.pool, &session.station_id, "Report", at, &payload).await?;
    Ok(json!({}))
}

pub(crate) fn now() -> String {
    rfc3339(Utc::now())
}

pub(crate) fn rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

//! Incoming calls, routed by action name to one handler each and grouped by OCPP 2.0.1
//! functional block.

mod authorization;
mod availability;
mod data_transfer;
mod diagnostics;
mod firmware;
mod provisioning;
mod reservation;
mod security;
mod smart_charging;
mod transactions;

use ocpp_schemas::ErrorCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::OcppContext;

/// What this connection knows about its station.
#[derive(Debug, Clone)]
pub struct StationSession {
    pub station_id: String,
    /// The station's registration as stored ("Accepted", "Pending", "Rejected"), or None for a
    /// station the registry does not know yet.
    pub registration: Option<String>,
    /// For an unknown station: the security profile it proved when it connected, which its
    /// BootNotification records (never 0 outside development mode).
    pub new_profile: i16,
}

impl StationSession {
    pub fn known(station_id: String, registration: String) -> Self {
        Self {
            station_id,
            registration: Some(registration),
            new_profile: 0,
        }
    }

    pub fn unknown(station_id: String, profile: i16) -> Self {
        Self {
            station_id,
            registration: None,
            new_profile: profile,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HandlerError {
    pub code: ErrorCode,
    pub description: String,
}

impl HandlerError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error in OCPP handler");
        HandlerError::new(
            ErrorCode::InternalError,
            "the CSMS could not store the message",
        )
    }
}

pub type HandlerResult = Result<Value, HandlerError>;

pub async fn dispatch(
    ctx: &OcppContext,
    session: &mut StationSession,
    action: &str,
    payload: Value,
) -> HandlerResult {
    if action != "BootNotification" && session.registration.as_deref() != Some("Accepted") {
        // B02/B03: until the CSMS accepts it, a station may only send BootNotification.
        return Err(HandlerError::new(
            ErrorCode::SecurityError,
            "the station is not accepted: send BootNotification first",
        ));
    }
    match action {
        "BootNotification" => provisioning::boot_notification(ctx, session, parse(payload)?).await,
        "Heartbeat" => provisioning::heartbeat(ctx, session).await,
        "NotifyReport" => provisioning::notify_report(ctx, session, payload).await,
        "StatusNotification" => {
            availability::status_notification(ctx, session, parse(payload)?).await
        }
        "Authorize" => authorization::authorize(ctx, session, parse(payload)?).await,
        "TransactionEvent" => {
            transactions::bounds::check_raw(&payload)?;
            let req = parse_ref(&payload)?;
            transactions::transaction_event(ctx, session, req, payload).await
        }
        "MeterValues" => {
            transactions::bounds::check_raw(&payload)?;
            transactions::meter_values(ctx, session, parse(payload)?).await
        }
        "SecurityEventNotification" => security::security_event(ctx, session, payload).await,
        "NotifyEvent" => diagnostics::notify_event(ctx, session, payload).await,
        "LogStatusNotification" => diagnostics::log_status(ctx, session, payload).await,
        "FirmwareStatusNotification" => firmware::firmware_status(ctx, session, payload).await,
        "DataTransfer" => data_transfer::data_transfer(ctx, session, payload).await,
        "ReservationStatusUpdate" => {
            reservation::reservation_status_update(ctx, session, payload).await
        }
        "NotifyEVChargingSchedule" => {
            smart_charging::notify_ev_charging_schedule(parse(payload)?).await
        }
        other if ocpp_schemas::is_known_action(other) => Err(HandlerError::new(
            ErrorCode::NotSupported,
            format!("{other} is not supported by this CSMS"),
        )),
        other => Err(HandlerError::new(
            ErrorCode::NotImplemented,
            format!("unknown action {other}"),
        )),
    }
}

/// The schema already passed, so a failure here means our typed model is narrower than the
/// schema: that is our defect, not the station's.
fn parse<T: DeserializeOwned>(payload: Value) -> Result<T, HandlerError> {
    serde_json::from_value(payload).map_err(not_understood)
}

/// [`parse`], leaving the payload to be stored as received (no copy of it).
fn parse_ref<T: DeserializeOwned>(payload: &Value) -> Result<T, HandlerError> {
    T::deserialize(payload).map_err(not_understood)
}

fn not_understood(e: serde_json::Error) -> HandlerError {
    tracing::error!(error = %e, "schema-valid payload rejected by the typed model");
    HandlerError::new(
        ErrorCode::InternalError,
        format!("payload not understood: {e}"),
    )
}

/// OCPP enums as their wire strings, for storage.
pub(crate) fn wire<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A timestamp field of a payload the schema already checked, or now when absent.
pub(crate) fn timestamp_field(payload: &Value, field: &str) -> chrono::DateTime<chrono::Utc> {
    payload[field]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(chrono::Utc::now)
}

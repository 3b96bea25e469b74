//! Answers to the calls a CSMS makes, one handler per action, grouped by OCPP 2.0.1
//! functional block. A handler changes the [`StationState`] (which queues any follow-up
//! messages behind the answer) and returns the response payload; what needs the connection
//! itself (re-boot, heartbeat, reset) comes back as an [`After`] for the connection loop.

use std::time::Duration;

use ocpp_schemas::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::device_model::Lookup;
use crate::messages::IdToken;
use crate::smart_charging::{ChargingProfileIn, Profile};
use crate::state::StationState;

/// Work for the connection loop once the answer is on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    Nothing,
    /// TriggerMessage(BootNotification).
    Boot,
    /// TriggerMessage(Heartbeat).
    Heartbeat,
    /// Reset: close the socket and boot again once the queued messages are out; with
    /// `when_idle`, first wait for the running transactions to end.
    Reset {
        when_idle: bool,
    },
}

/// A CALLERROR to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: ErrorCode,
    pub description: String,
}

pub(crate) struct Handled {
    pub result: Result<Value, Refusal>,
    pub after: After,
}

impl Handled {
    fn ok(payload: Value) -> Self {
        Handled {
            result: Ok(payload),
            after: After::Nothing,
        }
    }

    fn then(mut self, after: After) -> Self {
        self.after = after;
        self
    }

    fn refuse(code: ErrorCode, description: impl Into<String>) -> Self {
        Handled {
            result: Err(Refusal {
                code,
                description: description.into(),
            }),
            after: After::Nothing,
        }
    }
}

/// Routes one CSMS call to its handler.
pub(crate) fn handle(
    state: &mut StationState,
    action: &str,
    payload: &Value,
    now: Instant,
) -> Handled {
    let outcome = match action {
        // Provisioning
        "Reset" => parse(payload).map(|r| reset(state, r, now)),
        "GetVariables" => parse(payload).map(|r| get_variables(state, r)),
        "SetVariables" => parse(payload).map(|r| set_variables(state, r)),
        "TriggerMessage" => parse(payload).map(|r| trigger_message(state, r, now)),
        // Transactions
        "RequestStartTransaction" => parse(payload).map(|r| request_start(state, r, now)),
        "RequestStopTransaction" => parse(payload).map(|r| request_stop(state, r, now)),
        // Availability
        "ChangeAvailability" => parse(payload).map(|r| change_availability(state, r)),
        "UnlockConnector" => parse(payload).map(|r| unlock_connector(state, r)),
        // Reservation
        "ReserveNow" => parse(payload).map(|r| reserve_now(state, r, now)),
        "CancelReservation" => parse(payload).map(|r| cancel_reservation(state, r)),
        // Smart charging
        "SetChargingProfile" => parse(payload).map(|r| set_charging_profile(state, r, now)),
        "ClearChargingProfile" => parse(payload).map(|r| clear_charging_profile(state, r, now)),
        // Tariff and cost
        "CostUpdated" => parse(payload).map(|r| cost_updated(state, r)),
        // Data transfer: no vendor extensions here.
        "DataTransfer" => Ok(Handled::ok(json!({"status": "UnknownVendorId"}))),
        other => Ok(Handled::refuse(
            ErrorCode::NotImplemented,
            format!("{other} is not supported by this simulator"),
        )),
    };
    outcome.unwrap_or_else(|e| e)
}

/// Reads the request fields a handler needs; extra fields (customData, ...) are ignored.
fn parse<T: DeserializeOwned>(payload: &Value) -> Result<T, Handled> {
    T::deserialize(payload).map_err(|e| Handled::refuse(ErrorCode::FormatViolation, e.to_string()))
}

fn status(status: &str) -> Value {
    json!({ "status": status })
}

fn status_with_reason(status: &str, reason: &str) -> Value {
    json!({ "status": status, "statusInfo": {"reasonCode": reason} })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EvseRef {
    id: u32,
}

// ---- Provisioning ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResetRequest {
    #[serde(rename = "type")]
    kind: String,
    evse_id: Option<u32>,
}

fn reset(state: &mut StationState, req: ResetRequest, now: Instant) -> Handled {
    if let Some(evse) = req.evse_id {
        // Resetting one EVSE only ends its transaction; the station stays connected.
        if state.evse(evse).is_none() {
            return Handled::ok(status_with_reason("Rejected", "UnknownEvse"));
        }
        // No transaction there is fine: the reset has nothing to end.
        let _ = state.end_on_evse(evse, "ResetCommand", "ImmediateReset", now);
        return Handled::ok(status("Accepted"));
    }
    match req.kind.as_str() {
        "Immediate" => {
            state.end_all("ResetCommand", "ImmediateReset", now);
            Handled::ok(status("Accepted")).then(After::Reset { when_idle: false })
        }
        _ if state.has_transactions() => {
            Handled::ok(status("Scheduled")).then(After::Reset { when_idle: true })
        }
        _ => Handled::ok(status("Accepted")).then(After::Reset { when_idle: false }),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetVariablesRequest {
    get_variable_data: Vec<VariableData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VariableData {
    attribute_type: Option<String>,
    attribute_value: Option<String>,
    /// Kept as received so the answer echoes it exactly.
    component: Value,
    variable: Value,
}

impl VariableData {
    fn names(&self) -> (&str, &str) {
        (
            self.component["name"].as_str().unwrap_or_default(),
            self.variable["name"].as_str().unwrap_or_default(),
        )
    }

    fn result(&self, status: &str) -> serde_json::Map<String, Value> {
        let mut r = serde_json::Map::new();
        r.insert("attributeStatus".into(), json!(status));
        r.insert("component".into(), self.component.clone());
        r.insert("variable".into(), self.variable.clone());
        if let Some(t) = &self.attribute_type {
            r.insert("attributeType".into(), json!(t));
        }
        r
    }

    /// Only the Actual attribute is modelled.
    fn is_actual(&self) -> bool {
        self.attribute_type.as_deref().is_none_or(|t| t == "Actual")
    }
}

fn get_variables(state: &mut StationState, req: GetVariablesRequest) -> Handled {
    let results: Vec<Value> = req
        .get_variable_data
        .iter()
        .map(|item| {
            let (component, variable) = item.names();
            let mut r;
            match state.device_model.get(component, variable) {
                Lookup::Found(_) if !item.is_actual() => {
                    r = item.result("NotSupportedAttributeType");
                }
                Lookup::Found(value) => {
                    r = item.result("Accepted");
                    r.insert("attributeValue".into(), json!(value));
                }
                Lookup::UnknownVariable => r = item.result("UnknownVariable"),
                Lookup::UnknownComponent => r = item.result("UnknownComponent"),
            }
            Value::Object(r)
        })
        .collect();
    Handled::ok(json!({ "getVariableResult": results }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetVariablesRequest {
    set_variable_data: Vec<VariableData>,
}

fn set_variables(state: &mut StationState, req: SetVariablesRequest) -> Handled {
    let results: Vec<Value> = req
        .set_variable_data
        .iter()
        .map(|item| {
            let (component, variable) = item.names();
            let value = item.attribute_value.as_deref().unwrap_or_default();
            let outcome = if !state.device_model.has_component(component) {
                "UnknownComponent"
            } else if !item.is_actual() {
                "NotSupportedAttributeType"
            } else {
                apply_variable(state, component, variable, value)
            };
            Value::Object(item.result(outcome))
        })
        .collect();
    Handled::ok(json!({ "setVariableResult": results }))
}

/// Stores a variable; the two intervals also change the station's behaviour at once.
fn apply_variable(
    state: &mut StationState,
    component: &str,
    variable: &str,
    value: &str,
) -> &'static str {
    let seconds = || value.parse::<u64>().ok().filter(|s| *s > 0);
    match (component, variable) {
        ("OCPPCommCtrlr", "HeartbeatInterval") => match seconds() {
            Some(s) => state.heartbeat_interval = Duration::from_secs(s),
            None => return "Rejected",
        },
        ("SampledDataCtrlr", "TxUpdatedInterval") => match seconds() {
            Some(s) => state.meter_interval = Duration::from_secs(s),
            None => return "Rejected",
        },
        _ => {}
    }
    state.device_model.set(component, variable, value);
    "Accepted"
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TriggerMessageRequest {
    requested_message: String,
    evse: Option<EvseRef>,
}

fn trigger_message(state: &mut StationState, req: TriggerMessageRequest, now: Instant) -> Handled {
    let evse = req.evse.map(|e| e.id).filter(|id| *id > 0);
    if evse.is_some_and(|id| state.evse(id).is_none()) {
        return Handled::ok(status_with_reason("Rejected", "UnknownEvse"));
    }
    let all = 1..=state.evse_count();
    match req.requested_message.as_str() {
        "BootNotification" => Handled::ok(status("Accepted")).then(After::Boot),
        "Heartbeat" => Handled::ok(status("Accepted")).then(After::Heartbeat),
        "StatusNotification" => {
            for id in evse.map_or(all, |id| id..=id) {
                let _ = state.report_status(id);
            }
            Handled::ok(status("Accepted"))
        }
        "MeterValues" => {
            for id in evse.map_or(all, |id| id..=id) {
                let _ = state.report_meter_values(id, now);
            }
            Handled::ok(status("Accepted"))
        }
        "TransactionEvent" => {
            state.report_transactions(now);
            Handled::ok(status("Accepted"))
        }
        _ => Handled::ok(status("NotImplemented")),
    }
}

// ---- Transactions ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestStartTransactionRequest {
    evse_id: Option<u32>,
    id_token: IdToken,
    remote_start_id: i64,
}

fn request_start(
    state: &mut StationState,
    req: RequestStartTransactionRequest,
    now: Instant,
) -> Handled {
    let evse = req.evse_id.filter(|id| *id > 0);
    match state.remote_start(evse, req.id_token, req.remote_start_id, now) {
        Ok(_) => Handled::ok(status("Accepted")),
        Err(reason) => Handled::ok(status_with_reason("Rejected", reason)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestStopTransactionRequest {
    transaction_id: String,
}

fn request_stop(
    state: &mut StationState,
    req: RequestStopTransactionRequest,
    now: Instant,
) -> Handled {
    if state.remote_stop(&req.transaction_id, now) {
        Handled::ok(status("Accepted"))
    } else {
        Handled::ok(status_with_reason("Rejected", "UnknownTransaction"))
    }
}

// ---- Availability ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeAvailabilityRequest {
    evse: Option<EvseRef>,
    operational_status: String,
}

fn change_availability(state: &mut StationState, req: ChangeAvailabilityRequest) -> Handled {
    let operative = match req.operational_status.as_str() {
        "Operative" => true,
        "Inoperative" => false,
        other => {
            return Handled::refuse(
                ErrorCode::PropertyConstraintViolation,
                format!("operationalStatus {other:?} is not Operative or Inoperative"),
            )
        }
    };
    // EVSE id 0 addresses the whole station.
    let evse = req.evse.map(|e| e.id).filter(|id| *id > 0);
    Handled::ok(status(state.change_availability(evse, operative)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnlockConnectorRequest {
    evse_id: u32,
    connector_id: u32,
}

fn unlock_connector(state: &mut StationState, req: UnlockConnectorRequest) -> Handled {
    let answer = match state.evse(req.evse_id) {
        Some(_) if req.connector_id != 1 => "UnknownConnector",
        None => "UnknownConnector",
        Some(e) if e.tx.is_some() => "OngoingAuthorizedTransaction",
        Some(_) => "Unlocked",
    };
    Handled::ok(status(answer))
}

// ---- Reservation ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReserveNowRequest {
    id: i64,
    expiry_date_time: String,
    id_token: IdToken,
    evse_id: Option<u32>,
}

fn reserve_now(state: &mut StationState, req: ReserveNowRequest, now: Instant) -> Handled {
    let expiry = match chrono::DateTime::parse_from_rfc3339(&req.expiry_date_time) {
        Ok(t) => t.with_timezone(&chrono::Utc),
        Err(e) => {
            return Handled::refuse(ErrorCode::FormatViolation, format!("expiryDateTime: {e}"))
        }
    };
    let Ok(left) = (expiry - chrono::Utc::now()).to_std() else {
        return Handled::ok(status_with_reason("Rejected", "ExpiryInPast"));
    };
    let evse = req.evse_id.filter(|id| *id > 0);
    Handled::ok(status(state.reserve(
        evse,
        req.id,
        req.id_token,
        now + left,
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelReservationRequest {
    reservation_id: i64,
}

fn cancel_reservation(state: &mut StationState, req: CancelReservationRequest) -> Handled {
    Handled::ok(status(if state.cancel_reservation(req.reservation_id) {
        "Accepted"
    } else {
        "Rejected"
    }))
}

// ---- Smart charging ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetChargingProfileRequest {
    evse_id: u32,
    charging_profile: ChargingProfileIn,
}

fn set_charging_profile(
    state: &mut StationState,
    req: SetChargingProfileRequest,
    now: Instant,
) -> Handled {
    let received = chrono::Utc::now();
    let outcome = Profile::from_request(req.evse_id, req.charging_profile, received)
        .and_then(|profile| state.set_charging_profile(req.evse_id, profile, now));
    match outcome {
        Ok(()) => Handled::ok(status("Accepted")),
        Err(reason) => Handled::ok(status_with_reason("Rejected", reason)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClearChargingProfileRequest {
    charging_profile_id: Option<i64>,
    charging_profile_criteria: Option<ClearCriteria>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ClearCriteria {
    evse_id: Option<u32>,
    charging_profile_purpose: Option<String>,
    stack_level: Option<i64>,
}

fn clear_charging_profile(
    state: &mut StationState,
    req: ClearChargingProfileRequest,
    now: Instant,
) -> Handled {
    let c = req.charging_profile_criteria.unwrap_or_default();
    let cleared = state.clear_charging_profiles(
        req.charging_profile_id,
        c.evse_id,
        c.charging_profile_purpose.as_deref(),
        c.stack_level,
        now,
    );
    Handled::ok(status(if cleared { "Accepted" } else { "Unknown" }))
}

// ---- Tariff and cost ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CostUpdatedRequest {
    total_cost: f64,
    transaction_id: String,
}

/// The response has no status: a cost for a transaction that already ended is shown nowhere
/// but still acknowledged.
fn cost_updated(state: &mut StationState, req: CostUpdatedRequest) -> Handled {
    state.cost_updated(&req.transaction_id, req.total_cost);
    Handled::ok(json!({}))
}

#[cfg(test)]
mod tests;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device_model::DeviceModel;
    use crate::state::Outbox;

    fn station() -> StationState {
        let (out, rx) = Outbox::new();
        // Keep the receiver alive so queued messages are accepted.
        std::mem::forget(rx);
        let (events, _) = tokio::sync::broadcast::channel(4);
        let dm = DeviceModel::standard("CS1", &Default::default(), 2, 1, 10);
        StationState::new(2, Duration::from_secs(10), 11_000.0, dm, out, events)
    }

    fn answer(st: &mut StationState, action: &str, payload: Value) -> Value {
        handle(st, action, &payload, Instant::now()).result.unwrap()
    }

    #[test]
    fn unknown_actions_are_not_implemented() {
        let mut st = station();
        let h = handle(&mut st, "GetLog", &json!({}), Instant::now());
        assert_eq!(h.result.unwrap_err().code, ErrorCode::NotImplemented);
    }

    #[test]
    fn malformed_requests_are_format_violations() {
        let mut st = station();
        let h = handle(
            &mut st,
            "RequestStartTransaction",
            &json!({"remoteStartId": "x"}),
            Instant::now(),
        );
        assert_eq!(h.result.unwrap_err().code, ErrorCode::FormatViolation);
    }

    #[test]
    fn start_twice_on_one_evse_is_rejected() {
        let mut st = station();
        let req = json!({"evseId": 1, "remoteStartId": 5, "idToken": {"idToken": "A", "type": "Central"}});
        assert_eq!(
            answer(&mut st, "RequestStartTransaction", req.clone())["status"],
            "Accepted"
        );
        assert_eq!(
            answer(&mut st, "RequestStartTransaction", req)["status"],
            "Rejected"
        );
        let tx = st.transaction(1).unwrap();
        assert_eq!(tx.remote_start_id, Some(5));
        let stop = json!({"transactionId": tx.transaction_id});
        assert_eq!(
            answer(&mut st, "RequestStopTransaction", stop.clone())["status"],
            "Accepted"
        );
        assert_eq!(
            answer(&mut st, "RequestStopTransaction", stop)["status"],
            "Rejected"
        );
    }

    #[test]
    fn variables_round_trip() {
        let mut st = station();
        let set = json!({"setVariableData": [
            {"attributeValue": "15", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            {"attributeValue": "x", "component": {"name": "Nope"}, "variable": {"name": "X"}},
        ]});
        let r = answer(&mut st, "SetVariables", set);
        assert_eq!(r["setVariableResult"][0]["attributeStatus"], "Accepted");
        assert_eq!(
            r["setVariableResult"][1]["attributeStatus"],
            "UnknownComponent"
        );
        assert_eq!(st.heartbeat_interval, Duration::from_secs(15));
        let get = json!({"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "Nope"}},
            {"component": {"name": "Nope"}, "variable": {"name": "Nope"}},
        ]});
        let r = answer(&mut st, "GetVariables", get);
        let results = r["getVariableResult"].as_array().unwrap();
        assert_eq!(results[0]["attributeValue"], "15");
        assert_eq!(results[1]["attributeStatus"], "UnknownVariable");
        assert_eq!(results[2]["attributeStatus"], "UnknownComponent");
    }

    #[test]
    fn immediate_reset_asks_for_a_reboot() {
        let mut st = station();
        let h = handle(
            &mut st,
            "Reset",
            &json!({"type": "Immediate"}),
            Instant::now(),
        );
        assert_eq!(h.after, After::Reset { when_idle: false });
        assert_eq!(h.result.unwrap()["status"], "Accepted");
    }

    #[test]
    fn reservations_and_unlock() {
        let mut st = station();
        let expiry = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
        let req = json!({"id": 1, "expiryDateTime": expiry, "evseId": 2, "idToken": {"idToken": "A", "type": "ISO14443"}});
        assert_eq!(answer(&mut st, "ReserveNow", req)["status"], "Accepted");
        assert_eq!(
            answer(&mut st, "CancelReservation", json!({"reservationId": 1}))["status"],
            "Accepted"
        );
        assert_eq!(
            answer(&mut st, "CancelReservation", json!({"reservationId": 1}))["status"],
            "Rejected"
        );
        assert_eq!(
            answer(
                &mut st,
                "UnlockConnector",
                json!({"evseId": 1, "connectorId": 1})
            )["status"],
            "Unlocked"
        );
        assert_eq!(
            answer(
                &mut st,
                "UnlockConnector",
                json!({"evseId": 9, "connectorId": 1})
            )["status"],
            "UnknownConnector"
        );
        assert_eq!(
            answer(&mut st, "DataTransfer", json!({"vendorId": "x"}))["status"],
            "UnknownVendorId"
        );
    }
}

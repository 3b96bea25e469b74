//! Payloads the station sends, built as JSON in the exact OCPP 2.0.1 shapes (camelCase,
//! enums spelled as in the schemas). Pure functions: the station and the load fleet share them,
//! and the tests validate each against the official schemas.

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// RFC 3339 UTC with milliseconds, e.g. `2025-01-31T12:00:00.123Z`.
pub fn timestamp() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `ConnectorStatusEnumType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectorStatus {
    Available,
    Occupied,
    Reserved,
    Unavailable,
    Faulted,
}

impl ConnectorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorStatus::Available => "Available",
            ConnectorStatus::Occupied => "Occupied",
            ConnectorStatus::Reserved => "Reserved",
            ConnectorStatus::Unavailable => "Unavailable",
            ConnectorStatus::Faulted => "Faulted",
        }
    }
}

impl std::str::FromStr for ConnectorStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        serde_json::from_value(Value::String(s.to_owned())).map_err(|_| {
            format!("unknown connector status {s:?} (Available, Occupied, Reserved, Unavailable, Faulted)")
        })
    }
}

/// `ChargingStateEnumType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargingState {
    Charging,
    EvConnected,
    SuspendedEv,
    SuspendedEvse,
    Idle,
}

impl ChargingState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargingState::Charging => "Charging",
            ChargingState::EvConnected => "EVConnected",
            ChargingState::SuspendedEv => "SuspendedEV",
            ChargingState::SuspendedEvse => "SuspendedEVSE",
            ChargingState::Idle => "Idle",
        }
    }
}

/// `IdTokenType` (without additional info, which we never send).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdToken {
    #[serde(rename = "idToken")]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl IdToken {
    /// An RFID card, the usual token presented at a station.
    pub fn rfid(id: impl Into<String>) -> Self {
        IdToken {
            id: id.into(),
            kind: "ISO14443".into(),
        }
    }
}

/// What the station says about itself in BootNotification.
#[derive(Debug, Clone)]
pub struct StationInfo {
    pub vendor: String,
    pub model: String,
    pub serial_number: String,
    pub firmware_version: String,
}

impl Default for StationInfo {
    fn default() -> Self {
        StationInfo {
            vendor: "EVSim".into(),
            model: "SIM-2x11".into(),
            serial_number: "SIM-0001".into(),
            firmware_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Truncates to the schema's maxLength so a long CLI value never makes the payload invalid.
fn clip(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// BootNotificationRequest. `reason` is a `BootReasonEnumType` (PowerUp, RemoteReset, ...).
pub fn boot_notification(reason: &str, info: &StationInfo) -> Value {
    json!({
        "reason": reason,
        "chargingStation": {
            "model": clip(&info.model, 20),
            "vendorName": clip(&info.vendor, 50),
            "serialNumber": clip(&info.serial_number, 25),
            "firmwareVersion": clip(&info.firmware_version, 50),
        }
    })
}

/// HeartbeatRequest (empty).
pub fn heartbeat() -> Value {
    Value::Object(Map::new())
}

/// StatusNotificationRequest for connector `connector` of EVSE `evse`.
pub fn status_notification(evse: u32, connector: u32, status: ConnectorStatus) -> Value {
    json!({
        "timestamp": timestamp(),
        "connectorStatus": status.as_str(),
        "evseId": evse,
        "connectorId": connector,
    })
}

/// AuthorizeRequest.
pub fn authorize(token: &IdToken) -> Value {
    json!({ "idToken": token })
}

/// A `MeterValueType`: the energy register (Wh) and, unless `None`, the active power (W).
/// `context` is a `ReadingContextEnumType` (Sample.Periodic, Transaction.Begin, ...).
pub fn meter_value(energy_wh: f64, power_w: Option<f64>, context: &str) -> Value {
    let mut sampled = vec![json!({
        "value": round1(energy_wh),
        "context": context,
        "measurand": "Energy.Active.Import.Register",
        "unitOfMeasure": {"unit": "Wh"},
    })];
    if let Some(power) = power_w {
        sampled.push(json!({
            "value": round1(power),
            "context": context,
            "measurand": "Power.Active.Import",
            "unitOfMeasure": {"unit": "W"},
        }));
    }
    json!({ "timestamp": timestamp(), "sampledValue": sampled })
}

/// MeterValuesRequest for one EVSE (outside of transactions, or when triggered).
pub fn meter_values(evse: u32, meter_value: Value) -> Value {
    json!({ "evseId": evse, "meterValue": [meter_value] })
}

/// The fields of one TransactionEventRequest.
#[derive(Debug, Clone)]
pub struct TxEvent<'a> {
    /// `Started`, `Updated` or `Ended`.
    pub event_type: &'static str,
    /// A `TriggerReasonEnumType`.
    pub trigger_reason: &'static str,
    pub seq_no: u32,
    pub transaction_id: &'a str,
    pub charging_state: Option<ChargingState>,
    /// A `ReasonEnumType`, only on `Ended`.
    pub stopped_reason: Option<&'static str>,
    pub remote_start_id: Option<i64>,
    pub time_spent_charging: Option<u64>,
    pub id_token: Option<&'a IdToken>,
    /// EVSE id; connector 1 is implied.
    pub evse: Option<u32>,
    pub reservation_id: Option<i64>,
    pub meter_value: Option<Value>,
}

impl<'a> TxEvent<'a> {
    pub fn new(
        event_type: &'static str,
        trigger_reason: &'static str,
        seq_no: u32,
        transaction_id: &'a str,
    ) -> Self {
        TxEvent {
            event_type,
            trigger_reason,
            seq_no,
            transaction_id,
            charging_state: None,
            stopped_reason: None,
            remote_start_id: None,
            time_spent_charging: None,
            id_token: None,
            evse: None,
            reservation_id: None,
            meter_value: None,
        }
    }
}

/// TransactionEventRequest.
pub fn transaction_event(ev: &TxEvent<'_>) -> Value {
    let mut info = Map::new();
    info.insert("transactionId".into(), json!(ev.transaction_id));
    if let Some(state) = ev.charging_state {
        info.insert("chargingState".into(), json!(state.as_str()));
    }
    if let Some(secs) = ev.time_spent_charging {
        info.insert("timeSpentCharging".into(), json!(secs));
    }
    if let Some(reason) = ev.stopped_reason {
        info.insert("stoppedReason".into(), json!(reason));
    }
    if let Some(id) = ev.remote_start_id {
        info.insert("remoteStartId".into(), json!(id));
    }
    let mut msg = Map::new();
    msg.insert("eventType".into(), json!(ev.event_type));
    msg.insert("timestamp".into(), json!(timestamp()));
    msg.insert("triggerReason".into(), json!(ev.trigger_reason));
    msg.insert("seqNo".into(), json!(ev.seq_no));
    msg.insert("transactionInfo".into(), Value::Object(info));
    if let Some(token) = ev.id_token {
        msg.insert("idToken".into(), json!(token));
    }
    if let Some(evse) = ev.evse {
        msg.insert("evse".into(), json!({"id": evse, "connectorId": 1}));
    }
    if let Some(id) = ev.reservation_id {
        msg.insert("reservationId".into(), json!(id));
    }
    if let Some(mv) = &ev.meter_value {
        msg.insert("meterValue".into(), json!([mv]));
    }
    Value::Object(msg)
}

/// ReservationStatusUpdateRequest; `status` is `Expired` or `Removed`.
pub fn reservation_status_update(reservation_id: i64, status: &str) -> Value {
    json!({ "reservationId": reservation_id, "reservationUpdateStatus": status })
}

/// Meter registers are reported to 0.1 Wh / 0.1 W: finer digits are noise and bloat frames.
pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_notification_clips_to_schema_lengths() {
        let info = StationInfo {
            model: "a-model-name-much-longer-than-twenty".into(),
            ..StationInfo::default()
        };
        let v = boot_notification("PowerUp", &info);
        assert_eq!(v["chargingStation"]["model"].as_str().unwrap().len(), 20);
        assert_eq!(v["reason"], "PowerUp");
    }

    #[test]
    fn transaction_event_has_required_fields_only_when_set() {
        let token = IdToken::rfid("TOKEN1");
        let mut ev = TxEvent::new("Started", "RemoteStart", 0, "tx-1");
        ev.remote_start_id = Some(42);
        ev.id_token = Some(&token);
        ev.evse = Some(2);
        ev.charging_state = Some(ChargingState::Charging);
        let v = transaction_event(&ev);
        assert_eq!(v["transactionInfo"]["remoteStartId"], 42);
        assert_eq!(v["transactionInfo"]["chargingState"], "Charging");
        assert_eq!(v["idToken"], json!({"idToken":"TOKEN1","type":"ISO14443"}));
        assert_eq!(v["evse"], json!({"id":2,"connectorId":1}));
        assert!(v.get("meterValue").is_none());
        assert!(v["transactionInfo"].get("stoppedReason").is_none());
    }

    #[test]
    fn meter_value_reports_energy_and_power() {
        let mv = meter_value(1234.56, Some(11000.0), "Sample.Periodic");
        assert_eq!(mv["sampledValue"][0]["value"], 1234.6);
        assert_eq!(
            mv["sampledValue"][0]["measurand"],
            "Energy.Active.Import.Register"
        );
        assert_eq!(mv["sampledValue"][1]["unitOfMeasure"]["unit"], "W");
        assert_eq!(
            meter_value(1.0, None, "Trigger")["sampledValue"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn connector_status_parses_schema_names() {
        assert_eq!(
            "Faulted".parse::<ConnectorStatus>().unwrap(),
            ConnectorStatus::Faulted
        );
        assert!("faulted".parse::<ConnectorStatus>().is_err());
    }
}

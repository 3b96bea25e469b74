//! The station's answers to the CSMS's calls, checked against the official schemas.

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
    let req =
        json!({"evseId": 1, "remoteStartId": 5, "idToken": {"idToken": "A", "type": "Central"}});
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

// ---- Smart charging and cost ----

use crate::state::OutItem;
use ocpp_schemas::Direction;
use tokio::sync::mpsc::UnboundedReceiver;

/// A station whose outgoing messages the test reads.
fn station_with_outbox() -> (StationState, UnboundedReceiver<OutItem>) {
    let (out, rx) = Outbox::new();
    let (events, _) = tokio::sync::broadcast::channel(16);
    let dm = DeviceModel::standard("CS1", &Default::default(), 2, 1, 10);
    let st = StationState::new(2, Duration::from_secs(10), 11_000.0, dm, out, events);
    (st, rx)
}

/// Handles a call that must be valid, and checks the answer against the schema too.
fn valid_answer(st: &mut StationState, action: &str, payload: Value, now: Instant) -> Value {
    ocpp_schemas::validate(action, Direction::Request, &payload)
        .unwrap_or_else(|v| panic!("test request {action}: {v}"));
    let answer = handle(st, action, &payload, now).result.unwrap();
    ocpp_schemas::validate(action, Direction::Response, &answer)
        .unwrap_or_else(|v| panic!("answer to {action}: {v} in {answer}"));
    answer
}

/// The queued TransactionEvents, each checked against the schema.
fn sent_tx_events(rx: &mut UnboundedReceiver<OutItem>) -> Vec<Value> {
    let mut v = vec![];
    while let Ok(item) = rx.try_recv() {
        if let OutItem::Call(o) = item {
            ocpp_schemas::validate(o.action, Direction::Request, &o.payload)
                .unwrap_or_else(|e| panic!("{}: {e} in {}", o.action, o.payload));
            if o.action == "TransactionEvent" {
                v.push(o.payload);
            }
        }
    }
    v
}

fn sampled(event: &Value, measurand: &str) -> f64 {
    event["meterValue"][0]["sampledValue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["measurand"] == measurand)
        .and_then(|s| s["value"].as_f64())
        .unwrap_or_else(|| panic!("no {measurand} in {event}"))
}

fn register(event: &Value) -> f64 {
    sampled(event, "Energy.Active.Import.Register")
}

/// The CSMS's pause: a TxProfile of `amps` from the start of the transaction (the
/// shape of csms::sessions_port::pause_profile).
fn tx_profile(id: i64, tx: &str, amps: f64) -> Value {
    json!({"evseId": 1, "chargingProfile": {
        "id": id, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative", "transactionId": tx,
        "chargingSchedule": [{"id": id, "chargingRateUnit": "A",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}]}]}})
}

fn remote_start(
    st: &mut StationState,
    rx: &mut UnboundedReceiver<OutItem>,
    now: Instant,
) -> String {
    let req =
        json!({"evseId": 1, "remoteStartId": 1, "idToken": {"idToken": "A", "type": "Central"}});
    assert_eq!(
        valid_answer(st, "RequestStartTransaction", req, now)["status"],
        "Accepted"
    );
    let started = sent_tx_events(rx);
    assert_eq!(started[0]["transactionInfo"]["chargingState"], "Charging");
    st.transaction(1).unwrap().transaction_id
}

#[test]
fn a_zero_profile_pauses_and_clearing_it_resumes() {
    let (mut st, mut rx) = station_with_outbox();
    let t0 = Instant::now();
    let tx = remote_start(&mut st, &mut rx, t0);
    let at = |s: u64| t0 + Duration::from_secs(s);

    // 60 s at 11 kW, then the CSMS pauses: 0 A.
    let a = valid_answer(
        &mut st,
        "SetChargingProfile",
        tx_profile(42, &tx, 0.0),
        at(60),
    );
    assert_eq!(a, json!({"status": "Accepted"}));
    let paused = sent_tx_events(&mut rx);
    assert_eq!(paused.len(), 1, "{paused:?}");
    let p = &paused[0];
    assert_eq!(p["eventType"], "Updated");
    assert_eq!(p["triggerReason"], "ChargingRateChanged");
    assert_eq!(p["transactionInfo"]["chargingState"], "SuspendedEVSE");
    assert_eq!(sampled(p, "Power.Active.Import"), 0.0);
    let at_pause = register(p);
    assert!(
        (at_pause - (100_000.0 + 11_000.0 / 60.0)).abs() < 0.2,
        "{at_pause}"
    );
    let info = st.transaction(1).unwrap();
    assert!(!info.charging);
    assert_eq!((info.power_w, info.limit_w), (0.0, Some(0.0)));

    // Paused for two minutes: the periodic values go on, the register stands still.
    st.tick(at(120));
    st.tick(at(180));
    let periodic = sent_tx_events(&mut rx);
    assert_eq!(periodic.len(), 2, "{periodic:?}");
    for e in &periodic {
        assert_eq!(e["triggerReason"], "MeterValuePeriodic");
        assert_eq!(register(e), at_pause);
    }
    // The pause does not count as time spent charging.
    assert_eq!(periodic[1]["transactionInfo"]["timeSpentCharging"], 60);

    // An unknown id clears nothing; the pause's id lifts it.
    let a = valid_answer(
        &mut st,
        "ClearChargingProfile",
        json!({"chargingProfileId": 7}),
        at(180),
    );
    assert_eq!(a, json!({"status": "Unknown"}));
    assert!(sent_tx_events(&mut rx).is_empty());
    let a = valid_answer(
        &mut st,
        "ClearChargingProfile",
        json!({"chargingProfileId": 42}),
        at(180),
    );
    assert_eq!(a, json!({"status": "Accepted"}));
    let resumed = sent_tx_events(&mut rx);
    assert_eq!(resumed.len(), 1, "{resumed:?}");
    assert_eq!(resumed[0]["triggerReason"], "ChargingRateChanged");
    assert_eq!(resumed[0]["transactionInfo"]["chargingState"], "Charging");
    assert_eq!(sampled(&resumed[0], "Power.Active.Import"), 11_000.0);
    assert_eq!(register(&resumed[0]), at_pause);
    assert_eq!(st.transaction(1).unwrap().limit_w, None);

    // Charging again: another minute adds another 11/60 kWh.
    st.tick(at(240));
    let later = sent_tx_events(&mut rx);
    assert!(
        (register(&later[0]) - at_pause - 11_000.0 / 60.0).abs() < 0.2,
        "{later:?}"
    );
    assert_eq!(later[0]["transactionInfo"]["timeSpentCharging"], 120);
    // Cleared already: Unknown.
    let a = valid_answer(
        &mut st,
        "ClearChargingProfile",
        json!({"chargingProfileId": 42}),
        at(240),
    );
    assert_eq!(a["status"], "Unknown");
}

#[test]
fn a_positive_limit_caps_the_power() {
    let (mut st, mut rx) = station_with_outbox();
    let t0 = Instant::now();
    let tx = remote_start(&mut st, &mut rx, t0);
    // 10 A on three phases at 230 V: 6.9 kW of the EV's 11 kW.
    let a = valid_answer(&mut st, "SetChargingProfile", tx_profile(5, &tx, 10.0), t0);
    assert_eq!(a["status"], "Accepted");
    let events = sent_tx_events(&mut rx);
    assert_eq!(events[0]["triggerReason"], "ChargingRateChanged");
    assert!(events[0]["transactionInfo"].get("chargingState").is_none());
    assert_eq!(sampled(&events[0], "Power.Active.Import"), 6900.0);
    let info = st.transaction(1).unwrap();
    assert!(info.charging);
    assert_eq!((info.power_w, info.limit_w), (6900.0, Some(6900.0)));
    // A profile in watts replaces it (same id); above the EV's demand it changes nothing
    // but the cap itself.
    let mut w = tx_profile(5, &tx, 20_000.0);
    w["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"] = json!("W");
    assert_eq!(
        valid_answer(&mut st, "SetChargingProfile", w, t0)["status"],
        "Accepted"
    );
    assert_eq!(st.transaction(1).unwrap().power_w, 11_000.0);
    assert_eq!(sent_tx_events(&mut rx).len(), 1);
    // Clearing by criteria.
    let clear =
        json!({"chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxProfile"}});
    assert_eq!(
        valid_answer(&mut st, "ClearChargingProfile", clear.clone(), t0)["status"],
        "Accepted"
    );
    assert_eq!(
        valid_answer(&mut st, "ClearChargingProfile", clear, t0)["status"],
        "Unknown"
    );
    assert_eq!(st.transaction(1).unwrap().limit_w, None);
}

#[test]
fn tx_profiles_need_their_transaction() {
    let (mut st, mut rx) = station_with_outbox();
    let t0 = Instant::now();
    // No transaction on EVSE 1 yet (K01).
    let a = valid_answer(
        &mut st,
        "SetChargingProfile",
        tx_profile(1, "TX-X", 0.0),
        t0,
    );
    assert_eq!(
        a,
        json!({"status": "Rejected", "statusInfo": {"reasonCode": "NoTransaction"}})
    );
    let tx = remote_start(&mut st, &mut rx, t0);
    let a = valid_answer(
        &mut st,
        "SetChargingProfile",
        tx_profile(1, "TX-X", 0.0),
        t0,
    );
    assert_eq!(a["statusInfo"]["reasonCode"], "TxNotFound");
    let mut evse0 = tx_profile(1, &tx, 0.0);
    evse0["evseId"] = json!(0);
    let a = valid_answer(&mut st, "SetChargingProfile", evse0, t0);
    assert_eq!(a["statusInfo"]["reasonCode"], "InvalidEvse");
    let mut evse9 = tx_profile(1, &tx, 0.0);
    evse9["evseId"] = json!(9);
    let a = valid_answer(&mut st, "SetChargingProfile", evse9, t0);
    assert_eq!(a["statusInfo"]["reasonCode"], "UnknownEvse");
    // Another profile at the same stack level would tie.
    assert_eq!(
        valid_answer(&mut st, "SetChargingProfile", tx_profile(1, &tx, 0.0), t0)["status"],
        "Accepted"
    );
    let a = valid_answer(&mut st, "SetChargingProfile", tx_profile(2, &tx, 0.0), t0);
    assert_eq!(a["statusInfo"]["reasonCode"], "DuplicateProfile");
    // The TxProfile ends with its transaction.
    let stop = json!({"transactionId": tx});
    assert_eq!(
        valid_answer(&mut st, "RequestStopTransaction", stop, t0)["status"],
        "Accepted"
    );
    let ended = sent_tx_events(&mut rx);
    assert_eq!(ended.last().unwrap()["eventType"], "Ended");
    let a = valid_answer(
        &mut st,
        "ClearChargingProfile",
        json!({"chargingProfileId": 1}),
        t0,
    );
    assert_eq!(a["status"], "Unknown");
}

#[test]
fn a_zero_default_profile_holds_new_transactions_back() {
    let (mut st, mut rx) = station_with_outbox();
    let t0 = Instant::now();
    let default = json!({"evseId": 0, "chargingProfile": {
        "id": 9, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0}]}]}});
    assert_eq!(
        valid_answer(&mut st, "SetChargingProfile", default, t0)["status"],
        "Accepted"
    );
    let req =
        json!({"evseId": 2, "remoteStartId": 3, "idToken": {"idToken": "A", "type": "Central"}});
    assert_eq!(
        valid_answer(&mut st, "RequestStartTransaction", req, t0)["status"],
        "Accepted"
    );
    let started = sent_tx_events(&mut rx);
    assert_eq!(
        started[0]["transactionInfo"]["chargingState"],
        "SuspendedEVSE"
    );
    assert_eq!(st.transaction(2).unwrap().power_w, 0.0);
    // Clearing every TxDefaultProfile lets it charge.
    let clear = json!({"chargingProfileCriteria": {"chargingProfilePurpose": "TxDefaultProfile"}});
    assert_eq!(
        valid_answer(&mut st, "ClearChargingProfile", clear, t0)["status"],
        "Accepted"
    );
    let resumed = sent_tx_events(&mut rx);
    assert_eq!(resumed[0]["transactionInfo"]["chargingState"], "Charging");
    assert_eq!(st.transaction(2).unwrap().power_w, 11_000.0);
    // External constraints are the station's own business.
    let external = json!({"chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationExternalConstraints"}});
    assert_eq!(
        valid_answer(&mut st, "ClearChargingProfile", external, t0)["status"],
        "Unknown"
    );
}

#[test]
fn a_profile_moved_to_another_evse_stops_limiting_the_first() {
    let (mut st, mut rx) = station_with_outbox();
    let t0 = Instant::now();
    remote_start(&mut st, &mut rx, t0);
    let default = |evse: u32| {
        json!({"evseId": evse, "chargingProfile": {
            "id": 9, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                                  "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0}]}]}})
    };
    assert_eq!(
        valid_answer(&mut st, "SetChargingProfile", default(1), t0)["status"],
        "Accepted"
    );
    assert_eq!(st.transaction(1).unwrap().power_w, 0.0);
    assert_eq!(
        valid_answer(&mut st, "SetChargingProfile", default(2), t0)["status"],
        "Accepted"
    );
    assert_eq!(st.transaction(1).unwrap().power_w, 11_000.0);
    let events = sent_tx_events(&mut rx);
    let states: Vec<&Value> = events
        .iter()
        .map(|e| &e["transactionInfo"]["chargingState"])
        .collect();
    assert_eq!(states, [&json!("SuspendedEVSE"), &json!("Charging")]);
}

#[test]
fn a_schedule_moves_on_by_itself() {
    let (mut st, mut rx) = station_with_outbox();
    let t0 = Instant::now();
    let tx = remote_start(&mut st, &mut rx, t0);
    // Paused for the first 30 s of the transaction, then 16 A.
    let mut p = tx_profile(3, &tx, 0.0);
    p["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"] =
        json!([{"startPeriod": 0, "limit": 0}, {"startPeriod": 30, "limit": 16}]);
    assert_eq!(
        valid_answer(&mut st, "SetChargingProfile", p, t0)["status"],
        "Accepted"
    );
    let events = sent_tx_events(&mut rx);
    assert_eq!(
        events[0]["transactionInfo"]["chargingState"],
        "SuspendedEVSE"
    );
    let wake = st.next_wake().unwrap();
    assert!(
        wake <= t0 + Duration::from_secs(10),
        "the periodic value first"
    );
    st.tick(t0 + Duration::from_secs(31));
    let events = sent_tx_events(&mut rx);
    assert_eq!(events[0]["triggerReason"], "ChargingRateChanged");
    assert_eq!(events[0]["transactionInfo"]["chargingState"], "Charging");
    assert_eq!(st.transaction(1).unwrap().power_w, 11_000.0);
}

#[test]
fn cost_updates_reach_the_display() {
    let (mut st, mut rx) = station_with_outbox();
    let t0 = Instant::now();
    let tx = remote_start(&mut st, &mut rx, t0);
    let a = valid_answer(
        &mut st,
        "CostUpdated",
        json!({"totalCost": 2.32, "transactionId": tx}),
        t0,
    );
    assert_eq!(a, json!({}));
    assert_eq!(st.transaction(1).unwrap().total_cost, Some(2.32));
    // A transaction that already ended (or never ran here) is acknowledged all the same.
    let a = valid_answer(
        &mut st,
        "CostUpdated",
        json!({"totalCost": 1, "transactionId": "nope"}),
        t0,
    );
    assert_eq!(a, json!({}));
    let h = handle(&mut st, "CostUpdated", &json!({"transactionId": tx}), t0);
    assert_eq!(h.result.unwrap_err().code, ErrorCode::FormatViolation);
}

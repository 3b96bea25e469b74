//! One simulated station against the fake CSMS: boot, status, remote and local transactions,
//! the CSMS calls it answers, reset and reconnect. Every payload the station sends is checked
//! against the official OCPP 2.0.1 schemas by the fake.

mod common;

use std::time::Duration;

use base64::Engine;
use common::{FakeCsms, Received};
use serde_json::{json, Value};
use simulators::scenario;
use simulators::station::{Registration, Station, StationConfig, StationEvent};

fn config(csms: &FakeCsms, id: &str) -> StationConfig {
    let mut cfg = StationConfig::new(csms.url(id)).unwrap();
    cfg.meter_interval = Duration::from_secs(1);
    cfg.call_timeout = Duration::from_secs(5);
    cfg
}

fn is_tx(r: &Received, event_type: &str) -> bool {
    r.action == "TransactionEvent" && r.payload["eventType"] == event_type
}

fn is_status(r: &Received, evse: u64, status: &str) -> bool {
    r.action == "StatusNotification"
        && r.payload["evseId"] == evse
        && r.payload["connectorStatus"] == status
}

/// The transaction's events in order, checking they share one id and count seqNo from 0.
fn transaction_events(csms: &FakeCsms, station: &str, tx_id: &str) -> Vec<Value> {
    let events: Vec<Value> = csms
        .received()
        .into_iter()
        .filter(|r| {
            r.station == station
                && r.action == "TransactionEvent"
                && r.payload["transactionInfo"]["transactionId"] == tx_id
        })
        .map(|r| r.payload)
        .collect();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seqNo"], i as u64, "seqNo of event {i}: {e}");
    }
    events
}

fn energy_wh(event: &Value) -> f64 {
    event["meterValue"][0]["sampledValue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["measurand"] == "Energy.Active.Import.Register")
        .and_then(|s| s["value"].as_f64())
        .unwrap()
}

#[tokio::test]
async fn boots_reports_status_and_runs_a_remote_start() {
    let csms = FakeCsms::start().await;
    let mut cfg = config(&csms, "SIM-T1");
    cfg.connect.password = Some("s3cret".into());
    let station = Station::connect(cfg).await.unwrap();
    assert_eq!(station.registration(), Registration::Accepted);

    let boot = csms
        .wait_for("SIM-T1", "BootNotification", |r| {
            r.action == "BootNotification"
        })
        .await;
    assert_eq!(boot.payload["reason"], "PowerUp");
    assert_eq!(boot.payload["chargingStation"]["vendorName"], "EVSim");
    let expected = base64::engine::general_purpose::STANDARD.encode("SIM-T1:s3cret");
    assert_eq!(
        csms.authorization("SIM-T1").as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    for evse in 1..=2 {
        csms.wait_for("SIM-T1", "Available", |r| is_status(r, evse, "Available"))
            .await;
    }

    let mut events = station.subscribe();
    let answer = csms
        .call(
            "SIM-T1",
            "RequestStartTransaction",
            json!({"idToken": {"idToken": "REMOTE-1", "type": "Central"}, "remoteStartId": 4242, "evseId": 1}),
        )
        .await
        .unwrap();
    assert_eq!(answer["status"], "Accepted");
    loop {
        match events.recv().await.unwrap() {
            StationEvent::TransactionStarted {
                evse,
                remote_start_id,
                ..
            } => {
                assert_eq!((evse, remote_start_id), (1, Some(4242)));
                break;
            }
            _ => continue,
        }
    }
    let started_frame = csms
        .wait_for("SIM-T1", "Started", |r| is_tx(r, "Started"))
        .await;
    let started = started_frame.payload.clone();
    assert_eq!(started["triggerReason"], "RemoteStart");
    assert_eq!(started["transactionInfo"]["remoteStartId"], 4242);
    assert_eq!(started["idToken"]["idToken"], "REMOTE-1");
    assert_eq!(started["evse"]["id"], 1);
    assert_eq!(started["seqNo"], 0);
    let tx_id = started["transactionInfo"]["transactionId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&tx_id).is_ok(), "{tx_id} is a UUID");
    assert_eq!(station.transaction(1).unwrap().remote_start_id, Some(4242));
    csms.wait_for("SIM-T1", "Occupied", |r| is_status(r, 1, "Occupied"))
        .await;

    // The EVSE is busy now.
    let again = csms
        .call(
            "SIM-T1",
            "RequestStartTransaction",
            json!({"idToken": {"idToken": "REMOTE-2", "type": "Central"}, "remoteStartId": 4243, "evseId": 1}),
        )
        .await
        .unwrap();
    assert_eq!(again["status"], "Rejected");

    let periodic = csms
        .wait_for("SIM-T1", "periodic meter values", |r| {
            is_tx(r, "Updated") && r.payload["triggerReason"] == "MeterValuePeriodic"
        })
        .await
        .payload;
    assert!(energy_wh(&periodic) > energy_wh(&started));

    let stop = csms
        .call(
            "SIM-T1",
            "RequestStopTransaction",
            json!({"transactionId": tx_id}),
        )
        .await
        .unwrap();
    assert_eq!(stop["status"], "Accepted");
    let ended_frame = csms
        .wait_for("SIM-T1", "Ended", |r| is_tx(r, "Ended"))
        .await;
    let ended = &ended_frame.payload;
    assert_eq!(ended["transactionInfo"]["stoppedReason"], "Remote");
    assert_eq!(ended["triggerReason"], "RemoteStop");
    let events = transaction_events(&csms, "SIM-T1", &tx_id);
    assert!(events.len() >= 3);
    csms.wait_for("SIM-T1", "Available again", |r| {
        is_status(r, 1, "Available") && r.seq > ended_frame.seq
    })
    .await;
    assert!(started_frame.seq < ended_frame.seq);
    let unknown = csms
        .call(
            "SIM-T1",
            "RequestStopTransaction",
            json!({"transactionId": tx_id}),
        )
        .await
        .unwrap();
    assert_eq!(unknown["status"], "Rejected");

    station.shutdown().await;
    assert_eq!(csms.clean_closes("SIM-T1"), 1, "close frame sent");
    assert_eq!(csms.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn local_sessions_authorized_and_rejected() {
    let csms = FakeCsms::start().await;
    let station = Station::connect(config(&csms, "SIM-T2")).await.unwrap();

    station.plug(2).await.unwrap();
    assert_eq!(station.authorize(2, "TOKEN1").await.unwrap(), "Accepted");
    station
        .charge(2, Duration::from_millis(1500), Some(22.0))
        .await
        .unwrap();
    station.stop(2).await.unwrap();
    station.unplug(2).await.unwrap();

    let started = csms
        .wait_for("SIM-T2", "Started", |r| is_tx(r, "Started"))
        .await
        .payload;
    assert_eq!(started["triggerReason"], "CablePluggedIn");
    assert_eq!(started["transactionInfo"]["chargingState"], "EVConnected");
    let tx_id = started["transactionInfo"]["transactionId"]
        .as_str()
        .unwrap();
    let events = transaction_events(&csms, "SIM-T2", tx_id);
    let triggers: Vec<&str> = events
        .iter()
        .map(|e| e["triggerReason"].as_str().unwrap())
        .collect();
    assert_eq!(
        triggers[..3],
        ["CablePluggedIn", "Authorized", "ChargingStateChanged"]
    );
    assert_eq!(events[1]["idToken"]["idToken"], "TOKEN1");
    assert_eq!(events[1]["idToken"]["type"], "ISO14443");
    assert_eq!(events[2]["transactionInfo"]["chargingState"], "Charging");
    let ended = events.last().unwrap();
    assert_eq!(ended["eventType"], "Ended");
    let ended_seq = csms
        .wait_for("SIM-T2", "Ended", |r| is_tx(r, "Ended"))
        .await
        .seq;
    assert_eq!(ended["transactionInfo"]["stoppedReason"], "Local");
    // 22 kW for 1.5 s is 9.2 Wh.
    let energy = energy_wh(ended) - energy_wh(&started);
    assert!((8.0..11.0).contains(&energy), "{energy} Wh");
    let authorize = csms
        .wait_for("SIM-T2", "Authorize", |r| r.action == "Authorize")
        .await;
    assert_eq!(authorize.payload["idToken"]["idToken"], "TOKEN1");
    csms.wait_for("SIM-T2", "Available after unplug", |r| {
        is_status(r, 2, "Available") && r.seq > ended_seq
    })
    .await;

    // A token the CSMS does not know ends the transaction as DeAuthorized.
    station.plug(1).await.unwrap();
    assert_eq!(station.authorize(1, "BADTOKEN").await.unwrap(), "Invalid");
    let deauthorized = csms
        .wait_for("SIM-T2", "DeAuthorized", |r| {
            is_tx(r, "Ended") && r.payload["transactionInfo"]["stoppedReason"] == "DeAuthorized"
        })
        .await;
    assert_eq!(deauthorized.payload["evse"]["id"], 1);
    station.unplug(1).await.unwrap();
    assert!(station.transaction(1).is_none());

    station.shutdown().await;
    assert_eq!(csms.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn answers_the_csms_calls_it_supports() {
    let csms = FakeCsms::start().await;
    let station = Station::connect(config(&csms, "SIM-T3")).await.unwrap();
    let call = |action: &'static str, payload: Value| {
        let csms = csms.clone();
        async move { csms.call("SIM-T3", action, payload).await }
    };

    let got = call(
        "GetVariables",
        json!({"getVariableData": [
            {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "Identity"}},
            {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "Nope"}},
            {"component": {"name": "Nope"}, "variable": {"name": "Nope"}}
        ]}),
    )
    .await
    .unwrap();
    let results = got["getVariableResult"].as_array().unwrap();
    assert_eq!(results[0]["attributeValue"], "SIM-T3");
    assert_eq!(results[1]["attributeStatus"], "UnknownVariable");
    assert_eq!(results[2]["attributeStatus"], "UnknownComponent");

    let set = call(
        "SetVariables",
        json!({"setVariableData": [{"attributeValue": "2", "component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}}]}),
    )
    .await
    .unwrap();
    assert_eq!(set["setVariableResult"][0]["attributeStatus"], "Accepted");

    let trigger = call("TriggerMessage", json!({"requestedMessage": "Heartbeat"}))
        .await
        .unwrap();
    assert_eq!(trigger["status"], "Accepted");
    csms.wait_for("SIM-T3", "Heartbeat", |r| r.action == "Heartbeat")
        .await;
    let trigger = call(
        "TriggerMessage",
        json!({"requestedMessage": "MeterValues", "evse": {"id": 2}}),
    )
    .await
    .unwrap();
    assert_eq!(trigger["status"], "Accepted");
    csms.wait_for("SIM-T3", "MeterValues", |r| {
        r.action == "MeterValues" && r.payload["evseId"] == 2
    })
    .await;

    let avail = call(
        "ChangeAvailability",
        json!({"operationalStatus": "Inoperative", "evse": {"id": 2}}),
    )
    .await
    .unwrap();
    assert_eq!(avail["status"], "Accepted");
    csms.wait_for("SIM-T3", "Unavailable", |r| is_status(r, 2, "Unavailable"))
        .await;

    let expiry = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    let reserve = call(
        "ReserveNow",
        json!({"id": 7, "expiryDateTime": expiry, "evseId": 1, "idToken": {"idToken": "R1", "type": "ISO14443"}}),
    )
    .await
    .unwrap();
    assert_eq!(reserve["status"], "Accepted");
    csms.wait_for("SIM-T3", "Reserved", |r| is_status(r, 1, "Reserved"))
        .await;
    let reserve_unavailable = call(
        "ReserveNow",
        json!({"id": 8, "expiryDateTime": expiry, "evseId": 2, "idToken": {"idToken": "R1", "type": "ISO14443"}}),
    )
    .await
    .unwrap();
    assert_eq!(reserve_unavailable["status"], "Unavailable");
    assert_eq!(
        call("CancelReservation", json!({"reservationId": 7}))
            .await
            .unwrap()["status"],
        "Accepted"
    );
    assert_eq!(
        call("CancelReservation", json!({"reservationId": 7}))
            .await
            .unwrap()["status"],
        "Rejected"
    );
    assert_eq!(
        call("UnlockConnector", json!({"evseId": 1, "connectorId": 1}))
            .await
            .unwrap()["status"],
        "Unlocked"
    );
    assert_eq!(
        call("DataTransfer", json!({"vendorId": "com.example"}))
            .await
            .unwrap()["status"],
        "UnknownVendorId"
    );
    // Not supported, and not valid: both answered with the right CALLERROR.
    assert_eq!(
        call("GetLog", json!({"log": {"remoteLocation": "ftp://x"}, "logType": "DiagnosticsLog", "requestId": 1}))
            .await
            .unwrap_err(),
        "NotImplemented"
    );
    assert_eq!(
        call(
            "RequestStartTransaction",
            json!({"idToken": {"idToken": "A", "type": "Central"}})
        )
        .await
        .unwrap_err(),
        "OccurrenceConstraintViolation"
    );

    station.shutdown().await;
    assert_eq!(csms.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn pauses_on_a_zero_profile_resumes_on_clear_and_shows_the_cost() {
    let csms = FakeCsms::start().await;
    let station = Station::connect(config(&csms, "SIM-T7")).await.unwrap();
    let answer = csms
        .call(
            "SIM-T7",
            "RequestStartTransaction",
            json!({"idToken": {"idToken": "REMOTE-7", "type": "Central"}, "remoteStartId": 7, "evseId": 1}),
        )
        .await
        .unwrap();
    assert_eq!(answer["status"], "Accepted");
    let started = csms
        .wait_for("SIM-T7", "Started", |r| is_tx(r, "Started"))
        .await;
    let tx_id = started.payload["transactionInfo"]["transactionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let rate_changed = |state: &'static str| {
        move |r: &Received| {
            is_tx(r, "Updated")
                && r.payload["triggerReason"] == "ChargingRateChanged"
                && r.payload["transactionInfo"]["chargingState"] == state
        }
    };

    // The CSMS's pause (csms::sessions_port::pause_profile): a TxProfile of 0 A.
    let pause = json!({"evseId": 1, "chargingProfile": {
        "id": 70, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative", "transactionId": tx_id,
        "chargingSchedule": [{"id": 70, "chargingRateUnit": "A",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0}]}]}});
    let answer = csms
        .call("SIM-T7", "SetChargingProfile", pause.clone())
        .await
        .unwrap();
    assert_eq!(answer, json!({"status": "Accepted"}));
    let paused = csms
        .wait_for("SIM-T7", "SuspendedEVSE", rate_changed("SuspendedEVSE"))
        .await;
    let at_pause = energy_wh(&paused.payload);
    assert!(!station.transaction(1).unwrap().charging);
    // While paused the periodic values keep the register where it was.
    let still = csms
        .wait_for("SIM-T7", "a periodic value while paused", |r| {
            is_tx(r, "Updated")
                && r.payload["triggerReason"] == "MeterValuePeriodic"
                && r.seq > paused.seq
        })
        .await;
    assert_eq!(energy_wh(&still.payload), at_pause);

    let cost = csms
        .call(
            "SIM-T7",
            "CostUpdated",
            json!({"totalCost": 3.21, "transactionId": tx_id}),
        )
        .await
        .unwrap();
    assert_eq!(cost, json!({}));
    assert_eq!(station.transaction(1).unwrap().total_cost, Some(3.21));

    let answer = csms
        .call(
            "SIM-T7",
            "ClearChargingProfile",
            json!({"chargingProfileId": 70}),
        )
        .await
        .unwrap();
    assert_eq!(answer, json!({"status": "Accepted"}));
    let resumed = csms
        .wait_for("SIM-T7", "Charging again", rate_changed("Charging"))
        .await;
    assert_eq!(energy_wh(&resumed.payload), at_pause);
    let growing = csms
        .wait_for("SIM-T7", "a periodic value after resuming", |r| {
            is_tx(r, "Updated")
                && r.payload["triggerReason"] == "MeterValuePeriodic"
                && r.seq > resumed.seq
        })
        .await;
    assert!(energy_wh(&growing.payload) > at_pause);
    let again = csms
        .call(
            "SIM-T7",
            "ClearChargingProfile",
            json!({"chargingProfileId": 70}),
        )
        .await
        .unwrap();
    assert_eq!(again, json!({"status": "Unknown"}));

    // Without a transaction a TxProfile is refused (K01).
    let mut on_idle_evse = pause;
    on_idle_evse["evseId"] = json!(2);
    on_idle_evse["chargingProfile"]["transactionId"] = json!("not-running");
    let refused = csms
        .call("SIM-T7", "SetChargingProfile", on_idle_evse)
        .await
        .unwrap();
    assert_eq!(refused["status"], "Rejected");

    station.shutdown().await;
    assert_eq!(csms.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn reset_reboots_and_a_dropped_connection_reconnects() {
    let csms = FakeCsms::start().await;
    let station = Station::connect(config(&csms, "SIM-T4")).await.unwrap();
    csms.wait_for("SIM-T4", "status", |r| is_status(r, 2, "Available"))
        .await;

    let reset = csms
        .call("SIM-T4", "Reset", json!({"type": "Immediate"}))
        .await
        .unwrap();
    assert_eq!(reset["status"], "Accepted");
    let reboot = csms
        .wait_for("SIM-T4", "reboot", |r| {
            r.action == "BootNotification" && r.payload["reason"] == "RemoteReset"
        })
        .await;
    assert_eq!(reboot.payload["chargingStation"]["model"], "SIM-2x11");
    assert_eq!(csms.connections("SIM-T4"), 2);
    assert_eq!(csms.clean_closes("SIM-T4"), 1);

    // The CSMS drops the socket: the station comes back by itself (backoff 1 s) and, being
    // registered already, reports its connectors without booting again.
    let statuses = |csms: &FakeCsms| {
        csms.received()
            .iter()
            .filter(|r| r.station == "SIM-T4" && r.action == "StatusNotification")
            .count()
    };
    station.wait_accepted(Duration::from_secs(5)).await.unwrap();
    let before = statuses(&csms);
    csms.disconnect("SIM-T4");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while csms.connections("SIM-T4") < 3 || statuses(&csms) < before + 2 {
        assert!(tokio::time::Instant::now() < deadline, "no reconnect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(station.registration(), Registration::Accepted);
    let boots = csms
        .received()
        .iter()
        .filter(|r| r.station == "SIM-T4" && r.action == "BootNotification")
        .count();
    assert_eq!(boots, 2, "no BootNotification after a mere reconnect");

    station.shutdown().await;
    assert_eq!(csms.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn plays_a_scenario() {
    let csms = FakeCsms::start().await;
    let station = Station::connect(config(&csms, "SIM-T5")).await.unwrap();
    let steps = scenario::parse(
        r#"[{"wait":"100ms"},{"plug":1},{"authorize":"TOKEN1","evse":1},
            {"charge":{"evse":1,"seconds":1,"power_kw":11}},{"unplug":1},
            {"status":{"evse":2,"status":"Faulted"}},{"heartbeat":{}},{"meter_values":2}]"#,
    )
    .unwrap();
    station.run_scenario(&steps).await.unwrap();

    let ended = csms
        .wait_for("SIM-T5", "Ended", |r| is_tx(r, "Ended"))
        .await;
    assert_eq!(
        ended.payload["transactionInfo"]["stoppedReason"],
        "EVDisconnected"
    );
    assert_eq!(ended.payload["triggerReason"], "EVCommunicationLost");
    csms.wait_for("SIM-T5", "Faulted", |r| is_status(r, 2, "Faulted"))
        .await;
    csms.wait_for("SIM-T5", "Heartbeat", |r| r.action == "Heartbeat")
        .await;
    csms.wait_for("SIM-T5", "MeterValues", |r| r.action == "MeterValues")
        .await;

    station.shutdown().await;
    assert_eq!(csms.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn pending_boot_is_retried_and_calls_are_answered_meanwhile() {
    let csms = FakeCsms::start().await;
    csms.set_pending_boots(2);
    let station = Station::spawn(config(&csms, "SIM-T6"));
    csms.wait_for("SIM-T6", "first boot", |r| r.action == "BootNotification")
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while station.registration() != Registration::Pending {
        assert!(tokio::time::Instant::now() < deadline, "never Pending");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While Pending the CSMS may provision the station.
    let got = csms
        .call(
            "SIM-T6",
            "GetVariables",
            json!({"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}),
        )
        .await
        .unwrap();
    assert_eq!(got["getVariableResult"][0]["attributeStatus"], "Accepted");
    station
        .wait_accepted(Duration::from_secs(10))
        .await
        .unwrap();
    csms.wait_for("SIM-T6", "status", |r| r.action == "StatusNotification")
        .await;
    let boots = csms
        .received()
        .iter()
        .filter(|r| r.station == "SIM-T6" && r.action == "BootNotification")
        .count();
    assert_eq!(boots, 3);
    // Nothing but BootNotification before the acceptance.
    let first_other = csms
        .received()
        .iter()
        .position(|r| r.station == "SIM-T6" && r.action != "BootNotification")
        .unwrap();
    let last_boot = csms
        .received()
        .iter()
        .rposition(|r| r.station == "SIM-T6" && r.action == "BootNotification")
        .unwrap();
    assert!(first_other > last_boot);
    station.shutdown().await;
    assert_eq!(csms.violations(), Vec::<String>::new());
}

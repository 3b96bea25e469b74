//! OCPP-J RPC behaviour over a real socket against the real csms binary.

use e2e_tests::ocpp_client::ConnectOptions;
use e2e_tests::{OcppClient, Received, Server, ServerOptions};
use serde_json::{json, Value};

fn error_code(answer: &Value) -> &str {
    assert_eq!(answer[0], json!(4), "expected CALLERROR, got {answer}");
    answer[2].as_str().unwrap_or_default()
}

#[tokio::test]
async fn handshake_without_the_ocpp201_subprotocol_is_refused() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    for offered in ["", "ocpp1.6"] {
        let status = OcppClient::refusal(
            &server.ocpp_url("CS-1"),
            ConnectOptions {
                subprotocols: Some(offered),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(status.map(|s| s.as_u16()), Some(400), "offered {offered:?}");
    }
    let ok = OcppClient::connect_with(
        &server.ocpp_url("CS-1"),
        ConnectOptions {
            subprotocols: Some("ocpp1.6, ocpp2.0.1"),
            ..Default::default()
        },
    )
    .await;
    assert!(ok.is_ok());
}

/// After an accepted (re)boot the CSMS asks for every connector's status, so none it holds
/// stays stale from before the station went down.
#[tokio::test]
async fn an_accepted_boot_is_followed_by_a_request_for_connector_statuses() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-TRIG"))
        .await
        .unwrap();
    cs.boot().await.unwrap();
    let Received::Frame(call) = cs.recv_raw().await.unwrap() else {
        panic!("the connection closed");
    };
    assert_eq!(call[0], 2, "{call}");
    assert_eq!(call[2], "TriggerMessage");
    assert_eq!(call[3], json!({"requestedMessage": "StatusNotification"}));
    cs.answer(call[1].as_str().unwrap(), json!({"status": "Accepted"}))
        .await
        .unwrap();
    let st = cs
        .call("StatusNotification", json!({"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Faulted", "evseId": 1, "connectorId": 1}))
        .await
        .unwrap();
    assert_eq!(st, json!({}));

    // A pending station is not asked.
    let server = Server::start(ServerOptions {
        unknown_stations: "pending",
        ..Default::default()
    })
    .await
    .unwrap();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-PEND"))
        .await
        .unwrap();
    cs.boot().await.unwrap();
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(500), cs.recv_raw()).await;
    assert!(
        quiet.is_err(),
        "nothing may be sent to a pending station: {quiet:?}"
    );
}

#[tokio::test]
async fn boot_heartbeat_status_and_registration_policy() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-BOOT"))
        .await
        .unwrap();
    let boot = cs.boot().await.unwrap();
    assert_eq!(boot["status"], "Accepted");
    assert_eq!(boot["interval"], 300);
    let hb = cs.call("Heartbeat", json!({})).await.unwrap();
    assert!(hb["currentTime"].as_str().unwrap().ends_with('Z'));
    let st = cs
        .call("StatusNotification", json!({"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 1, "connectorId": 1}))
        .await
        .unwrap();
    assert_eq!(st, json!({}));

    for (policy, expected) in [("pending", "Pending"), ("reject", "Rejected")] {
        let server = Server::start(ServerOptions {
            unknown_stations: policy,
            ..Default::default()
        })
        .await
        .unwrap();
        let mut cs = OcppClient::connect(&server.ocpp_url("CS-NEW"))
            .await
            .unwrap();
        let boot = cs.boot().await.unwrap();
        assert_eq!(boot["status"], expected);
        // Until accepted, anything but BootNotification is refused.
        let hb = cs.call_raw("Heartbeat", json!({})).await.unwrap();
        assert_eq!(error_code(&hb), "SecurityError");
    }
}

#[tokio::test]
async fn bad_frames_get_the_right_callerror_and_the_connection_survives() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-BAD"))
        .await
        .unwrap();
    cs.boot().await.unwrap();

    let cases: Vec<(&str, &str, &str)> = vec![
        ("{not json", "-1", "FormatViolation"),
        (r#"{"an":"object"}"#, "-1", "RpcFrameworkError"),
        (r#"[2, 42, "Heartbeat", {}]"#, "-1", "RpcFrameworkError"),
        (r#"[7, "m1", {}]"#, "m1", "MessageTypeNotSupported"),
        (r#"[2, "m2", "Heartbeat"]"#, "m2", "ProtocolError"),
        (r#"[2, "m3", "NoSuchAction", {}]"#, "m3", "NotImplemented"),
        (
            r#"[2, "m4", "BootNotification", {"reason": 5, "chargingStation": {"model": "m", "vendorName": "v"}}]"#,
            "m4",
            "TypeConstraintViolation",
        ),
        (
            r#"[2, "m5", "BootNotification", {"reason": "PowerUp"}]"#,
            "m5",
            "OccurrenceConstraintViolation",
        ),
        (
            r#"[2, "m6", "BootNotification", {"reason": "Sunrise", "chargingStation": {"model": "m", "vendorName": "v"}}]"#,
            "m6",
            "PropertyConstraintViolation",
        ),
        (
            r#"[2, "m7", "Heartbeat", {"unexpected": true}]"#,
            "m7",
            "FormatViolation",
        ),
        (
            r#"[2, "m8", "Reset", {"type": "Immediate"}]"#,
            "m8",
            "NotSupported",
        ),
    ];
    for (text, id, code) in cases {
        cs.send_text(text).await.unwrap();
        let answer = cs.recv_frame().await.unwrap();
        assert_eq!(answer[1], json!(id), "{text} -> {answer}");
        assert_eq!(error_code(&answer), code, "{text} -> {answer}");
        assert!(answer[4].is_object());
    }
    // A CALLRESULT for nothing outstanding is ignored, not answered.
    cs.send_text(r#"[3, "nobody-asked", {}]"#).await.unwrap();
    // And the connection still works.
    let hb = cs.call("Heartbeat", json!({})).await.unwrap();
    assert!(hb["currentTime"].is_string());
}

#[tokio::test]
async fn a_second_connection_replaces_the_first() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut first = OcppClient::connect(&server.ocpp_url("CS-DUP"))
        .await
        .unwrap();
    first.boot().await.unwrap();
    let mut second = OcppClient::connect(&server.ocpp_url("CS-DUP"))
        .await
        .unwrap();
    assert_eq!(first.recv().await.unwrap(), Received::Closed(Some(4000)));
    // The newer connection is the station now: it works without booting again.
    second.call("Heartbeat", json!({})).await.unwrap();
}

fn tx_event(event_type: &str, seq: i32, ts: &str, wh: f64, extra: Value) -> Value {
    let mut e = json!({
        "eventType": event_type,
        "timestamp": ts,
        "triggerReason": if event_type == "Started" { "CablePluggedIn" } else if event_type == "Ended" { "EVCommunicationLost" } else { "MeterValuePeriodic" },
        "seqNo": seq,
        "transactionInfo": { "transactionId": "TX-1" },
        "evse": { "id": 1, "connectorId": 1 },
        "meterValue": [{ "timestamp": ts, "sampledValue": [{ "value": wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"} }] }]
    });
    if let (Some(e), Some(x)) = (e.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            e.insert(k.clone(), v.clone());
        }
    }
    e
}

#[tokio::test]
async fn transaction_events_are_idempotent_and_order_independent() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-TX"))
        .await
        .unwrap();
    cs.boot().await.unwrap();
    let token = server.token_for("operator").await.unwrap();
    // A known badge answers Accepted with the transaction; an unknown one, Unknown.
    let http = reqwest::Client::new();
    let created = http
        .post(server.url("/api/id-tokens"))
        .bearer_auth(&token)
        .json(&json!({"idToken": "BADGE-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Offline replay: Ended and Updated arrive before Started.
    let ended = tx_event(
        "Ended",
        2,
        "2026-01-01T11:00:00Z",
        15000.0,
        json!({"offline": true, "transactionInfo": {"transactionId": "TX-1", "stoppedReason": "EVDisconnected"}}),
    );
    let updated = tx_event(
        "Updated",
        1,
        "2026-01-01T10:30:00Z",
        12000.0,
        json!({"offline": true}),
    );
    let started = tx_event(
        "Started",
        0,
        "2026-01-01T10:00:00Z",
        10000.0,
        json!({"offline": true, "idToken": {"idToken": "BADGE-1", "type": "ISO14443"}}),
    );
    assert_eq!(
        cs.call("TransactionEvent", ended.clone()).await.unwrap(),
        json!({})
    );
    cs.call("TransactionEvent", updated).await.unwrap();
    let answer = cs.call("TransactionEvent", started.clone()).await.unwrap();
    assert_eq!(answer["idTokenInfo"]["status"], "Accepted");
    // Retries of the same seqNo change nothing and get the same answer.
    assert_eq!(
        cs.call("TransactionEvent", started).await.unwrap()["idTokenInfo"]["status"],
        "Accepted"
    );
    cs.call("TransactionEvent", ended).await.unwrap();

    let list: Value = http
        .get(server.url("/api/transactions?stationId=CS-TX"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let tx = &items[0];
    assert_eq!(tx["transactionId"], "TX-1");
    assert_eq!(tx["idToken"], "BADGE-1");
    assert_eq!(tx["startedAt"], "2026-01-01T10:00:00Z");
    assert_eq!(tx["endedAt"], "2026-01-01T11:00:00Z");
    assert_eq!(tx["stoppedReason"], "EVDisconnected");
    assert_eq!(tx["energyWh"], 5000.0);
    assert_eq!(tx["lastSeqNo"], 2);

    let unknown = cs
        .call(
            "Authorize",
            json!({"idToken": {"idToken": "NOPE", "type": "ISO14443"}}),
        )
        .await
        .unwrap();
    assert_eq!(unknown["idTokenInfo"]["status"], "Unknown");
}

#[tokio::test]
async fn authorize_answers_from_stored_tokens() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let token = server.token_for("admin").await.unwrap();
    let http = reqwest::Client::new();
    for body in [
        json!({"idToken": "OK-1"}),
        json!({"idToken": "BLOCKED-1", "status": "Blocked"}),
        json!({"idToken": "OLD-1", "expiresAt": "2020-01-01T00:00:00Z"}),
        json!({"idToken": "GROUP-1", "groupId": "FLEET-A"}),
    ] {
        let r = http
            .post(server.url("/api/id-tokens"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-AUTH"))
        .await
        .unwrap();
    cs.boot().await.unwrap();
    for (badge, status) in [
        ("OK-1", "Accepted"),
        ("BLOCKED-1", "Blocked"),
        ("OLD-1", "Expired"),
        ("NEVER-SEEN", "Unknown"),
    ] {
        let a = cs
            .call(
                "Authorize",
                json!({"idToken": {"idToken": badge, "type": "ISO14443"}}),
            )
            .await
            .unwrap();
        assert_eq!(a["idTokenInfo"]["status"], status, "{badge}");
    }
    // Same value, other type: a different token.
    let a = cs
        .call(
            "Authorize",
            json!({"idToken": {"idToken": "OK-1", "type": "KeyCode"}}),
        )
        .await
        .unwrap();
    assert_eq!(a["idTokenInfo"]["status"], "Unknown");
    let g = cs
        .call(
            "Authorize",
            json!({"idToken": {"idToken": "GROUP-1", "type": "ISO14443"}}),
        )
        .await
        .unwrap();
    assert_eq!(g["idTokenInfo"]["groupIdToken"]["idToken"], "FLEET-A");
}

#[tokio::test]
async fn reports_and_vendor_data() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-REP"))
        .await
        .unwrap();
    cs.boot().await.unwrap();
    let ts = "2026-01-01T00:00:00Z";
    assert_eq!(
        cs.call(
            "SecurityEventNotification",
            json!({"type": "TamperDetectionActivated", "timestamp": ts})
        )
        .await
        .unwrap(),
        json!({})
    );
    assert_eq!(
        cs.call("FirmwareStatusNotification", json!({"status": "Installed"}))
            .await
            .unwrap(),
        json!({})
    );
    let ev = json!({"generatedAt": ts, "seqNo": 0, "eventData": [{"eventId": 1, "timestamp": ts, "trigger": "Alerting", "actualValue": "1", "eventNotificationType": "HardWiredNotification", "component": {"name": "Door"}, "variable": {"name": "Open"}}]});
    assert_eq!(cs.call("NotifyEvent", ev).await.unwrap(), json!({}));
    assert_eq!(
        cs.call("DataTransfer", json!({"vendorId": "com.example"}))
            .await
            .unwrap()["status"],
        "UnknownVendorId"
    );
    let echo = cs
        .call(
            "DataTransfer",
            json!({"vendorId": "org.evplatform", "messageId": "Echo", "data": {"x": 1}}),
        )
        .await
        .unwrap();
    assert_eq!(echo, json!({"status": "Accepted", "data": {"x": 1}}));
    let mv =
        json!({"evseId": 1, "meterValue": [{"timestamp": ts, "sampledValue": [{"value": 1.5}]}]});
    assert_eq!(cs.call("MeterValues", mv).await.unwrap(), json!({}));

    let db = sqlx::PgPool::connect(&server.database_url).await.unwrap();
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM station_reports WHERE station_id = 'CS-REP' ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        kinds,
        [
            "SecurityEvent",
            "FirmwareStatus",
            "Event",
            "DataTransfer",
            "DataTransfer"
        ]
    );
}

/// rust-ocpp types `ConsumptionCostType.startValue` as an integer; the schema says number.
/// The schema wins: a SalesTariff with startValue 12.5 is accepted.
#[tokio::test]
async fn schema_wins_over_rust_ocpp_for_sales_tariff_start_value() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-ISO"))
        .await
        .unwrap();
    cs.boot().await.unwrap();
    let payload = json!({
        "timeBase": "2026-01-01T00:00:00Z",
        "evseId": 1,
        "chargingSchedule": {
            "id": 1, "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
            "salesTariff": {"id": 1, "salesTariffEntry": [{
                "relativeTimeInterval": {"start": 0},
                "consumptionCost": [{"startValue": 12.5, "cost": [{"costKind": "RelativePricePercentage", "amount": 10}]}]
            }]}
        }
    });
    let answer = cs.call("NotifyEVChargingSchedule", payload).await.unwrap();
    assert_eq!(answer["status"], "Accepted");
}

//! A full charging session over real sockets: the real server, a station played by the test
//! (so it sees RequestStartTransaction, SetChargingProfile, ClearChargingProfile,
//! RequestStopTransaction and CostUpdated exactly), a host's listing bound to it with a
//! tariff, and a driver starting, watching, pausing, resuming and stopping from the app; the
//! TransactionEvents it sends end in an itemized bill whose total is the tariff's arithmetic.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use e2e_tests::{OcppClient, Server, ServerOptions};
use serde_json::{json, Value};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The station's side of the socket: CALLs from the CSMS are answered as the test says,
/// except CostUpdated, which is acknowledged and recorded whenever it comes.
struct Station {
    ws: OcppClient,
    next_id: u64,
    costs: Vec<(String, f64)>,
}

impl Station {
    fn cost_updated(&mut self, frame: &Value) -> bool {
        if frame[0] == 2 && frame[2] == "CostUpdated" {
            let p = &frame[3];
            self.costs.push((
                p["transactionId"].as_str().unwrap_or_default().to_owned(),
                p["totalCost"].as_f64().unwrap_or(f64::NAN),
            ));
            return true;
        }
        false
    }

    async fn frame(&mut self) -> Value {
        let frame = tokio::time::timeout(StdDuration::from_secs(15), self.ws.recv_frame())
            .await
            .expect("a frame in time")
            .unwrap();
        if self.cost_updated(&frame) {
            let id = frame[1].as_str().unwrap().to_owned();
            self.ws.answer(&id, json!({})).await.unwrap();
        }
        frame
    }

    /// Sends a CALL and answers its CALLRESULT payload.
    async fn call(&mut self, action: &str, payload: Value) -> Value {
        self.next_id += 1;
        let id = format!("st-{}", self.next_id);
        self.ws
            .send_json(&json!([2, id, action, payload]))
            .await
            .unwrap();
        loop {
            let frame = self.frame().await;
            match frame[0].as_i64() {
                Some(2) if frame[2] == "CostUpdated" => continue,
                Some(3) if frame[1] == json!(id) => return frame[2].clone(),
                _ => panic!("{action}: unexpected frame {frame}"),
            }
        }
    }

    /// The next CALL from the CSMS other than CostUpdated.
    async fn next_call(&mut self) -> (String, String, Value) {
        loop {
            let frame = self.frame().await;
            if frame[0] == 2 && frame[2] != "CostUpdated" {
                return (
                    frame[1].as_str().unwrap().to_owned(),
                    frame[2].as_str().unwrap().to_owned(),
                    frame[3].clone(),
                );
            }
            assert!(frame[0] == 2, "unexpected frame {frame}");
        }
    }

    /// Waits until a CostUpdated with this total arrived.
    async fn wait_cost(&mut self, total: f64) {
        while !self.costs.iter().any(|c| (c.1 - total).abs() < 1e-9) {
            let frame = self.frame().await;
            assert!(frame[0] == 2, "unexpected frame {frame}");
        }
    }

    /// Answers the next CALL, which must be `action`; returns its payload.
    async fn expect(&mut self, action: &str, answer: Value) -> Value {
        let (id, got, payload) = self.next_call().await;
        assert_eq!(got, action, "{payload}");
        self.ws.answer(&id, answer).await.unwrap();
        payload
    }
}

async fn post(server: &Server, token: &str, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn energy(t: DateTime<Utc>, wh: i64, context: &str) -> Value {
    json!([{"timestamp": rfc3339(t), "sampledValue": [
        {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}}
    ]}])
}

/// A listed charger bound to `station`'s EVSE 1, priced 0.30/kWh (no time fee, no peak or
/// night multiplier: the bill is energy and the insurance fee, whatever the hour).
async fn station_charger(server: &Server, station: &str) -> (String, String) {
    let host = server.token_for("host").await.unwrap();
    e2e_tests::charging::provisioned_station_of(server, &host, station).await;
    let admin = server.token_for("admin").await.unwrap();
    let charger = server
        .post_json(
            &host,
            "/api/chargers",
            &json!({
                "title": "Fast charger at the depot", "address": "Depotweg 1, Amsterdam",
                "latitude": 52.37, "longitude": 4.89, "time_zone": "Europe/Amsterdam",
                "currency": "EUR", "device_kind": "ocpp", "device_id": station,
            }),
        )
        .await
        .unwrap();
    let id = charger["id"].as_str().expect("charger id").to_owned();
    let port = server
        .post_json(
            &host,
            &format!("/api/chargers/{id}/ports"),
            &json!({"connector_type": "CCS2", "power_kw": 50, "current_type": "DC",
                    "evse_id": 1, "connector_id": 1}),
        )
        .await
        .unwrap();
    let (status, pricing) = post(
        server,
        &host,
        &format!("/api/chargers/{id}/pricing"),
        json!({"simple": {"price_per_kwh": "0.30", "peak_multiplier": "1",
                          "night_multiplier": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{pricing}");
    server
        .post_json(&host, &format!("/api/chargers/{id}/submit"), &json!({}))
        .await
        .unwrap();
    server
        .post_json(
            &admin,
            &format!("/api/admin/chargers/{id}/approve"),
            &json!({}),
        )
        .await
        .unwrap();
    (id, port["id"].as_str().expect("port id").to_owned())
}

#[tokio::test]
async fn a_full_session_from_the_app_to_the_bill() {
    let server = Server::start(ServerOptions {
        extra_args: vec![
            "--job-tick-ms".into(),
            "100".into(),
            "--session-cost-updates-secs".into(),
            "1".into(),
        ],
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let mut ws = OcppClient::connect(&server.ocpp_url("SES-1"))
        .await
        .unwrap();
    ws.boot().await.unwrap();
    let mut station = Station {
        ws,
        next_id: 0,
        costs: Vec::new(),
    };
    let (charger, port) = station_charger(&server, "SES-1").await;
    let driver = server.token_for("driver").await.unwrap();
    e2e_tests::charging::top_up(&server, &driver, 10_000).await;

    // the app starts; the station is asked and accepts
    let ((status, session), start) = tokio::join!(
        post(
            &server,
            &driver,
            "/api/sessions/start",
            json!({"charger_id": charger, "port_id": port})
        ),
        station.expect("RequestStartTransaction", json!({"status": "Accepted"})),
    );
    assert_eq!(status, 202, "{session}");
    assert_eq!(session["status"], "start");
    let id = session["id"].as_str().unwrap().to_owned();
    let number = session["number"].as_i64().unwrap();
    assert_eq!(start["remoteStartId"], number);
    assert_eq!(start["evseId"], 1);
    // the driver has no card: a central token the CSMS vouches for
    let token = json!({"idToken": format!("SESSION-{number}"), "type": "Central"});
    assert_eq!(start["idToken"], token);

    let tx = "TX-SES-1";
    let t0 = Utc::now();
    let answer = station
        .call(
            "TransactionEvent",
            json!({
                "eventType": "Started", "timestamp": rfc3339(t0), "triggerReason": "RemoteStart",
                "seqNo": 0, "evse": {"id": 1, "connectorId": 1}, "idToken": token,
                "transactionInfo": {"transactionId": tx, "remoteStartId": number,
                                    "chargingState": "Charging"},
                "meterValue": energy(t0, 0, "Transaction.Begin"),
            }),
        )
        .await;
    assert_eq!(answer["idTokenInfo"]["status"], "Accepted", "{answer}");
    assert!(answer.get("totalCost").is_none(), "{answer}");

    let t1 = Utc::now();
    let mut meter = energy(t1, 5000, "Sample.Periodic");
    meter[0]["sampledValue"].as_array_mut().unwrap().extend([
        json!({"value": 11, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW"}}),
        json!({"value": 40, "measurand": "SoC", "unitOfMeasure": {"unit": "Percent"}}),
    ]);
    let answer = station
        .call(
            "TransactionEvent",
            json!({
                "eventType": "Updated", "timestamp": rfc3339(t1), "triggerReason": "MeterValuePeriodic",
                "seqNo": 1, "transactionInfo": {"transactionId": tx}, "meterValue": meter,
            }),
        )
        .await;
    assert!(answer.get("totalCost").is_none(), "{answer}");

    let path = format!("/api/sessions/{id}");
    let (pause_path, resume_path, stop_path) = (
        format!("{path}/pause"),
        format!("{path}/resume"),
        format!("{path}/stop"),
    );
    let live = server.get_json(&driver, &path).await.unwrap();
    assert_eq!(live["status"], "active", "{live}");
    assert_eq!(live["transaction_id"], tx);
    assert_eq!(live["energy_kwh"], "5");
    assert_eq!(live["power_kw"], "11");
    assert_eq!(live["state_of_charge"], "40");
    // 5 kWh × 0.30 = 1.50, with 21 % VAT 1.82 (1.815 half-up), + the 0.50 insurance fee
    assert_eq!(live["cost"]["total"], "2.32", "{live}");
    assert_eq!(live["cost"]["final"], false);
    // the running cost reaches the station too
    station.wait_cost(2.32).await;
    assert!(station.costs.iter().all(|c| c.0 == tx));

    let ((status, paused), profile) = tokio::join!(
        post(&server, &driver, &pause_path, json!({})),
        station.expect("SetChargingProfile", json!({"status": "Accepted"})),
    );
    assert_eq!(
        (status, paused["status"].as_str()),
        (200, Some("paused")),
        "{paused}"
    );
    assert_eq!(profile["evseId"], 1);
    let p = &profile["chargingProfile"];
    assert_eq!(p["chargingProfilePurpose"], "TxProfile");
    assert_eq!(p["transactionId"], tx);
    assert_eq!(p["id"], number);
    let schedule = &p["chargingSchedule"][0];
    assert_eq!(schedule["chargingRateUnit"], "A");
    assert_eq!(schedule["chargingSchedulePeriod"][0]["limit"], 0.0);

    tokio::time::sleep(StdDuration::from_millis(1100)).await;
    let ((status, resumed), clear) = tokio::join!(
        post(&server, &driver, &resume_path, json!({})),
        station.expect("ClearChargingProfile", json!({"status": "Accepted"})),
    );
    assert_eq!(
        (status, resumed["status"].as_str()),
        (200, Some("active")),
        "{resumed}"
    );
    assert_eq!(clear, json!({"chargingProfileId": number}));
    assert!(
        resumed["paused_seconds"].as_i64().unwrap() >= 1,
        "{resumed}"
    );

    let t2 = Utc::now();
    station
        .call(
            "TransactionEvent",
            json!({
                "eventType": "Updated", "timestamp": rfc3339(t2), "triggerReason": "MeterValuePeriodic",
                "seqNo": 2, "transactionInfo": {"transactionId": tx},
                "meterValue": energy(t2, 9000, "Sample.Periodic"),
            }),
        )
        .await;

    let ((status, stopping), stop) = tokio::join!(
        post(&server, &driver, &stop_path, json!({})),
        station.expect("RequestStopTransaction", json!({"status": "Accepted"})),
    );
    assert_eq!(status, 202, "{stopping}");
    assert_eq!(stop, json!({"transactionId": tx}));
    assert!(stopping["stop_requested_at"].is_string(), "{stopping}");

    let t3 = Utc::now();
    let answer = station
        .call(
            "TransactionEvent",
            json!({
                "eventType": "Ended", "timestamp": rfc3339(t3), "triggerReason": "RemoteStop",
                "seqNo": 3, "transactionInfo": {"transactionId": tx, "stoppedReason": "Remote",
                                                "chargingState": "Idle"},
                "meterValue": energy(t3, 12_500, "Transaction.End"),
            }),
        )
        .await;
    // the final cost, as OCPP wants it: 12.5 kWh × 0.30 = 3.75 → 4.54 with VAT, + 0.50
    assert_eq!(answer["totalCost"], json!(5.04), "{answer}");

    let bill = server
        .get_json(&driver, &format!("{path}/billing"))
        .await
        .unwrap();
    assert_eq!(bill["total"], "5.04", "{bill}");
    assert_eq!(bill["currency"], "EUR");
    assert_eq!(bill["revision"], 1);
    let lines: Vec<(&str, &str)> = bill["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [("energy", "4.54"), ("fee", "0.50")]);
    assert_eq!(bill["lines"][0]["quantity"], "12.5");
    assert_eq!(bill["energy_kwh"], "12.5");
    assert_eq!(bill["tax"]["tax_amount"], "0.79"); // 4.54 × 21/121
    let split = &bill["split"];
    assert_eq!(split["platform_commission"], "0.75"); // 20 % of 3.75, rounded down
    assert_eq!(split["host_share"], "3.00");

    let done = server.get_json(&driver, &path).await.unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["end_reason"], "Remote");
    assert_eq!(done["cost"]["final"], true);
    assert_eq!(done["cost"]["total"], "5.04");

    // the live stream of a finished session is one `end` event
    let text = reqwest::Client::new()
        .get(server.url(&format!("{path}/live")))
        .bearer_auth(&driver)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("event: end\n"), "{text}");

    let history = server.get_json(&driver, "/api/sessions").await.unwrap();
    assert_eq!(history["total"], 1, "{history}");
    assert_eq!(history["items"][0]["total"], "5.04");
    let stats = server
        .get_json(&driver, "/api/sessions/stats")
        .await
        .unwrap();
    assert_eq!(stats["billed"][0]["amount"], "5.04", "{stats}");
}

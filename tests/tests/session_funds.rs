//! Money secured before charging, over the real interfaces: the app's walk-up start needs a
//! hold on the wallet (409 `payment_required`), an evsim station is stopped by the CSMS when
//! the session's money runs out (`stop_reason` `funds_exhausted`, RequestStopTransaction),
//! and a driver's own card at a station is answered `NoCredit` without money.

use std::time::Duration as StdDuration;

use chrono::Utc;
use e2e_tests::charging::{
    evsim_station, listed_station_charger, listed_station_charger_of, post, top_up,
};
use e2e_tests::{OcppClient, Server, ServerOptions};
use serde_json::{json, Value};

/// A test server that checks sessions' money every 200 ms and holds at least 0.50.
async fn server() -> Server {
    Server::start(ServerOptions {
        extra_args: ["--job-tick-ms", "100", "--session-funds-check-ms", "200"]
            .into_iter()
            .chain(["--session-hold-min-minor", "50"])
            .map(str::to_owned)
            .collect(),
        ..ServerOptions::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_charge_stops_when_its_money_runs_out() {
    let server = server().await;
    let _sim = evsim_station(&server, "FUNDS-1");
    let host = server.token_for("host").await.unwrap();
    let (charger, port) = listed_station_charger_of(&server, "FUNDS-1", &host).await;
    // the dearest simple price: 1.00 buys well under a kWh (150 kW: seconds)
    let (status, pricing) = post(
        &server,
        &host,
        &format!("/api/chargers/{charger}/pricing"),
        json!({"simple": {"price_per_kwh": "1.00", "peak_multiplier": "1",
                          "night_multiplier": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{pricing}");

    let driver = server.token_for("driver").await.unwrap();
    let start = json!({"charger_id": charger, "port_id": port});
    // an empty wallet secures nothing: nothing is started
    let (status, refused) = post(&server, &driver, "/api/sessions/start", start.clone()).await;
    assert_eq!(
        (status, &refused["code"]),
        (409, &json!("payment_required")),
        "{refused}"
    );
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains("top up the wallet"), "{refused}");
    assert!(
        !detail.contains("confirm"),
        "a session is not a booking: {refused}"
    );

    top_up(&server, &driver, 100).await;
    let (status, session) = post(&server, &driver, "/api/sessions/start", start.clone()).await;
    assert_eq!(status, 202, "{session}");
    let wallet: Value = server.get_json(&driver, "/api/wallet").await.unwrap();
    let eur = &wallet["wallets"][0];
    assert_eq!(
        eur["held_cents"], 100,
        "the wallet's 1.00 is held: {wallet}"
    );
    assert_eq!(eur["holds"][0]["session_id"], session["id"], "{wallet}");

    // the CSMS stops the station itself once the cost reaches the 1.00 held
    let path = format!("/api/sessions/{}", session["id"].as_str().unwrap());
    let done = server
        .eventually(&driver, &path, |s| s["cost"]["final"] == true)
        .await;
    assert_eq!(done["stop_reason"], "funds_exhausted", "{done}");
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["end_reason"], "Remote",
        "ended by RequestStopTransaction: {done}"
    );
    let total: f64 = done["cost"]["total"].as_str().unwrap().parse().unwrap();
    assert!(total >= 1.0, "charged until the money ran out: {done}");
    // what the station delivered after the stop is owed: a driver in debt starts nothing
    let owes = server
        .eventually(&driver, "/api/wallet", |w| {
            w["wallets"][0]["held_cents"] == 0
        })
        .await;
    assert_eq!(owes["wallets"][0]["balance_cents"], 0, "{owes}");
    let (status, again) = post(&server, &driver, "/api/sessions/start", start).await;
    assert_eq!(status, 409, "{again}");
    assert!(
        ["outstanding_debt", "payment_required"].contains(&again["code"].as_str().unwrap()),
        "{again}"
    );
}

#[tokio::test]
async fn a_drivers_card_without_money_is_no_credit_at_the_station() {
    let server = server().await;
    let mut station = OcppClient::connect(&server.ocpp_url("FUNDS-2"))
        .await
        .unwrap();
    station.boot().await.unwrap();
    listed_station_charger(&server, "FUNDS-2").await;
    let operator = server.token_for("operator").await.unwrap();
    let driver = server.token_for("driver").await.unwrap();
    let me: Value = server.get_json(&driver, "/api/me").await.unwrap();
    let (status, card) = post(
        &server,
        &operator,
        "/api/id-tokens",
        json!({"idToken": "CARD-FUNDS-2", "userId": me["id"]}),
    )
    .await;
    assert_eq!(status, 201, "{card}");
    let token = json!({"idToken": "CARD-FUNDS-2", "type": "ISO14443"});
    let started = |tx: &str, seq: i32| {
        json!({"eventType": "Started", "timestamp": Utc::now().to_rfc3339(),
               "triggerReason": "Authorized", "seqNo": seq,
               "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
               "evse": {"id": 1, "connectorId": 1}, "idToken": token,
               "meterValue": [{"timestamp": Utc::now().to_rfc3339(),
                               "sampledValue": [{"value": 0}]}]})
    };

    // no money on the wallet: the card is NoCredit, asked first or not
    let answer = station
        .call("Authorize", json!({"idToken": token}))
        .await
        .unwrap();
    assert_eq!(answer["idTokenInfo"]["status"], "NoCredit", "{answer}");
    let answer = station
        .call("TransactionEvent", started("TX-NOCREDIT", 0))
        .await
        .unwrap();
    assert_eq!(answer["idTokenInfo"]["status"], "NoCredit", "{answer}");
    let sessions: Value = server.get_json(&driver, "/api/sessions").await.unwrap();
    assert_eq!(sessions["total"], 0, "no session: {sessions}");

    // with money: Accepted, and the session holds its estimate on the wallet
    top_up(&server, &driver, 5_000).await;
    let answer = station
        .call("Authorize", json!({"idToken": token}))
        .await
        .unwrap();
    assert_eq!(answer["idTokenInfo"]["status"], "Accepted", "{answer}");
    let answer = station
        .call("TransactionEvent", started("TX-CREDIT", 0))
        .await
        .unwrap();
    assert_eq!(answer["idTokenInfo"]["status"], "Accepted", "{answer}");
    let held = |w: &Value| w["wallets"][0]["held_cents"].as_i64();
    let wallet = server
        .eventually(&driver, "/api/wallet", |w| held(w) > Some(0))
        .await;
    assert!(held(&wallet) > Some(0), "{wallet}");
    tokio::time::sleep(StdDuration::from_millis(10)).await;
    station.close().await;
}

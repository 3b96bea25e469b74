//! Operator REST over HTTP, with stations answering over real sockets.

use e2e_tests::server::bin;
use e2e_tests::{OcppClient, Server, ServerOptions};
use serde_json::{json, Value};

#[tokio::test]
async fn rbac_drivers_cannot_call_operator_routes() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    let driver = server.token_for("driver").await.unwrap();
    let operator = server.token_for("operator").await.unwrap();
    for path in ["/api/stations", "/api/id-tokens", "/api/transactions"] {
        let none = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(none.status(), 401, "{path}");
        assert_eq!(none.headers()["content-type"], "application/problem+json");
        let d = http
            .get(server.url(path))
            .bearer_auth(&driver)
            .send()
            .await
            .unwrap();
        assert_eq!(d.status(), 403, "{path}");
        let o = http
            .get(server.url(path))
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap();
        assert_eq!(o.status(), 200, "{path}");
    }
    let r = http
        .post(server.url("/api/stations/X/remote-start"))
        .bearer_auth(&driver)
        .json(&json!({"idToken": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn remote_start_is_answered_by_a_simulated_station() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let token = server.token_for("operator").await.unwrap();
    let mut sim = tokio::process::Command::new(bin("evsim"))
        .args([
            "station",
            "--url",
            &server.ocpp_url("SIM-E2E"),
            "--evses",
            "2",
            "--meter-interval",
            "1s",
        ])
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Wait until the simulator has connected and booted.
    let station = server
        .eventually(&token, "/api/stations/SIM-E2E", |s| {
            s["connected"] == true && s["evses"].as_array().is_some_and(|e| e.len() == 2)
        })
        .await;
    assert_eq!(station["connected"], true, "{station}");
    assert_eq!(station["registrationStatus"], "Accepted");
    assert_eq!(
        station["evses"][0]["connectors"][0]["status"], "Available",
        "{station}"
    );

    let started = server
        .post_json(
            &token,
            "/api/stations/SIM-E2E/remote-start",
            &json!({"evseId": 1, "idToken": "REMOTE-1"}),
        )
        .await
        .unwrap();
    assert_eq!(started["status"], "Accepted", "{started}");
    let remote_start_id = started["remoteStartId"].as_i64().unwrap();

    // The station starts a transaction carrying our remoteStartId.
    let has_items = |l: &Value| l["items"].as_array().is_some_and(|i| !i.is_empty());
    let active = server
        .eventually(
            &token,
            "/api/transactions?stationId=SIM-E2E&active=true",
            has_items,
        )
        .await;
    let tx = &active["items"][0];
    assert_eq!(
        tx["remoteStartId"].as_i64(),
        Some(remote_start_id),
        "{active}"
    );
    assert_eq!(tx["evseId"], 1);

    let stop = server
        .post_json(
            &token,
            "/api/stations/SIM-E2E/remote-stop",
            &json!({"transactionId": tx["transactionId"]}),
        )
        .await
        .unwrap();
    assert_eq!(stop["status"], "Accepted");
    let ended = server
        .eventually(
            &token,
            "/api/transactions?stationId=SIM-E2E&active=false",
            has_items,
        )
        .await;
    assert!(has_items(&ended), "the transaction never ended: {ended}");
    let _ = sim.start_kill();
}

#[tokio::test]
async fn raw_calls_are_validated_and_timeouts_answer_504() {
    let server = Server::start(ServerOptions {
        call_timeout_secs: 1,
        ..Default::default()
    })
    .await
    .unwrap();
    let token = server.token_for("operator").await.unwrap();
    let http = reqwest::Client::new();

    let not_connected = http
        .post(server.url("/api/stations/GHOST/calls/Reset"))
        .bearer_auth(&token)
        .json(&json!({"type": "Immediate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_connected.status(), 404);

    let mut cs = OcppClient::connect(&server.ocpp_url("CS-CALLS"))
        .await
        .unwrap();
    cs.boot().await.unwrap();

    let bad = http
        .post(server.url("/api/stations/CS-CALLS/calls/Reset"))
        .bearer_auth(&token)
        .json(&json!({"type": "Sometimes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "type", "{problem}");

    let unknown = http
        .post(server.url("/api/stations/CS-CALLS/calls/Dance"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // The station answers the first call, ignores the second.
    let call = {
        let http = http.clone();
        let url = server.url("/api/stations/CS-CALLS/calls/GetVariables");
        let token = token.clone();
        tokio::spawn(async move {
            http.post(url).bearer_auth(token).json(&json!({"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})).send().await.unwrap()
        })
    };
    let (id, action, payload) = cs.expect_call().await.unwrap();
    assert_eq!(action, "GetVariables");
    assert_eq!(
        payload["getVariableData"][0]["variable"]["name"],
        "HeartbeatInterval"
    );
    let result = json!({"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "300", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]});
    cs.answer(&id, result.clone()).await.unwrap();
    let answered = call.await.unwrap();
    assert_eq!(answered.status(), 200);
    assert_eq!(answered.json::<Value>().await.unwrap(), result);

    let silent = {
        let http = http.clone();
        let url = server.url("/api/stations/CS-CALLS/calls/TriggerMessage");
        let token = token.clone();
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"requestedMessage": "Heartbeat"}))
                .send()
                .await
                .unwrap()
        })
    };
    let (_id, action, _) = cs.expect_call().await.unwrap();
    assert_eq!(action, "TriggerMessage");
    let timed_out = silent.await.unwrap();
    assert_eq!(timed_out.status(), 504);
    assert_eq!(
        timed_out.json::<Value>().await.unwrap()["code"],
        "gateway_timeout"
    );
}

#[tokio::test]
async fn id_token_crud_with_field_errors() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let token = server.token_for("operator").await.unwrap();
    let http = reqwest::Client::new();
    let bad = http
        .post(server.url("/api/id-tokens"))
        .bearer_auth(&token)
        .json(&json!({"idToken": "", "type": "Magic"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let problem: Value = bad.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["idToken", "type"]);

    let created: Value = http
        .post(server.url("/api/id-tokens"))
        .bearer_auth(&token)
        .json(&json!({"idToken": "CARD-9"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let dup = http
        .post(server.url("/api/id-tokens"))
        .bearer_auth(&token)
        .json(&json!({"idToken": "CARD-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 409);
    let updated: Value = http
        .put(server.url(&format!("/api/id-tokens/{id}")))
        .bearer_auth(&token)
        .json(&json!({"idToken": "CARD-9", "status": "Blocked"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(updated["status"], "Blocked");
    let del = http
        .delete(server.url(&format!("/api/id-tokens/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let gone = http
        .get(server.url(&format!("/api/id-tokens/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let garbage = http
        .get(server.url("/api/id-tokens/not-a-uuid"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 404);
    assert_eq!(
        garbage.headers()["content-type"],
        "application/problem+json"
    );
}

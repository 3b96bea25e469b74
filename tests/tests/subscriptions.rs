//! Subscriptions through the real server: a driver tops up and subscribes over REST (a
//! retried POST with the same Idempotency-Key charges once), the renewal is charged when its
//! time comes (`csms subscriptions renew-due --at`, what the server's job runs every tick),
//! once however often it runs, and `csms ledger reconcile` proves the ledger whole.

use chrono::{DateTime, Duration, Utc};
use e2e_tests::{Server, ServerOptions};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn post(
    server: &Server,
    token: &str,
    path: &str,
    body: &Value,
    key: &str,
) -> (StatusCode, Value) {
    let res = Client::new()
        .post(server.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn balance(server: &Server, token: &str) -> i64 {
    let wallet = server.get_json(token, "/api/wallet").await.unwrap();
    wallet["wallets"][0]["balance_cents"].as_i64().unwrap()
}

#[tokio::test]
async fn subscribe_over_rest_and_the_renewal_job_charges_when_due() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let driver = server.token_for("driver").await.unwrap();
    let (status, topup) = post(
        &server,
        &driver,
        "/api/wallet/topup",
        &json!({"amount_cents": 3000, "currency": "EUR", "payment_method": "local_test"}),
        "topup-1",
    )
    .await;
    assert_eq!(status, 201, "{topup}");

    let body = json!({"product": "premium", "currency": "EUR"});
    let (status, sub) = post(&server, &driver, "/api/subscriptions", &body, "plan-1").await;
    assert_eq!(status, 201, "{sub}");
    let (status, again) = post(&server, &driver, "/api/subscriptions", &body, "plan-1").await;
    assert_eq!(status, 201);
    assert_eq!(again["id"], sub["id"]);
    assert_eq!(balance(&server, &driver).await, 3000 - 999);
    let ent = server
        .get_json(&driver, "/api/me/entitlements")
        .await
        .unwrap();
    assert_eq!(ent["plan"], "premium");

    // nothing is due before the period ends
    let out = server.cli(&["subscriptions", "renew-due"]).await.unwrap();
    assert!(out.contains("\"renewed\":0"), "{out}");
    let end: DateTime<Utc> = sub["current_period_end"].as_str().unwrap().parse().unwrap();
    let due = (end + Duration::seconds(1)).to_rfc3339();
    for _ in 0..2 {
        server
            .cli(&["subscriptions", "renew-due", "--at", &due])
            .await
            .unwrap();
    }
    assert_eq!(balance(&server, &driver).await, 3000 - 2 * 999);
    let list = server
        .get_json(&driver, "/api/subscriptions")
        .await
        .unwrap();
    let s = &list["items"][0];
    assert_eq!(s["status"], "active");
    let kinds: Vec<&str> = s["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["initial", "renewal"]);
    assert_eq!(s["current_period_start"], sub["current_period_end"]);
    let history = server
        .get_json(&driver, "/api/wallet/transactions?kind=subscription")
        .await
        .unwrap();
    assert_eq!(history["total"], 2, "{history}");

    let out = server.cli(&["ledger", "reconcile"]).await.unwrap();
    assert!(out.contains("the ledger reconciles"), "{out}");
}

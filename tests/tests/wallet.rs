//! The wallet through the real server: a driver tops up (retrying with the same
//! Idempotency-Key posts once), sees the balance and the history; a booking confirmed with
//! that money holds its price, the driver's early cancellation gives it all back; the admin
//! reads the driver's account; and `csms ledger reconcile` proves the ledger whole.

use chrono::{Duration, Utc};
use e2e_tests::{Server, ServerOptions};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn send(
    server: &Server,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> (StatusCode, bool, Value) {
    let mut req = Client::new()
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let replayed = res.headers().contains_key("idempotent-replayed");
    (status, replayed, res.json().await.unwrap_or(Value::Null))
}

async fn post(server: &Server, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let (status, _, body) =
        send(server, reqwest::Method::POST, token, path, Some(body), None).await;
    (status, body)
}

/// A listed charger with one port at 2.50 an hour; answers (charger id, port id).
async fn listed_charger(server: &Server) -> (String, String) {
    let host = server.token_for("host").await.unwrap();
    let admin = server.token_for("admin").await.unwrap();
    let (status, charger) = post(
        server,
        &host,
        "/api/chargers",
        &json!({
            "title": "Wallbox at the canal", "address": "Prinsengracht 1, Amsterdam",
            "latitude": 52.37, "longitude": 4.89, "time_zone": "Europe/Amsterdam",
            "currency": "EUR", "price_per_hour": "2.50",
        }),
    )
    .await;
    assert_eq!(status, 201, "{charger}");
    let id = charger["id"].as_str().unwrap().to_owned();
    let (status, port) = post(
        server,
        &host,
        &format!("/api/chargers/{id}/ports"),
        &json!({"connector_type": "Type2", "power_kw": 11, "current_type": "AC"}),
    )
    .await;
    assert_eq!(status, 201, "{port}");
    let (status, _) = post(
        server,
        &host,
        &format!("/api/chargers/{id}/submit"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let path = format!("/api/admin/chargers/{id}/approve");
    let (status, listed) = post(server, &admin, &path, &json!({})).await;
    assert_eq!(status, 200, "{listed}");
    (id, port["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn topup_balance_transactions_hold_refund_and_reconcile() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let driver = server.token_for("driver").await.unwrap();
    let get = |path: &'static str| {
        let (server, driver) = (&server, driver.clone());
        async move { server.get_json(&driver, path).await.unwrap() }
    };
    assert_eq!(get("/api/wallet").await["wallets"], json!([]));

    let topup = json!({"amount_cents": 2000, "currency": "EUR", "payment_method": "local_test"});
    let mut first = Value::Null;
    for attempt in 0..2 {
        let (status, replayed, body) = send(
            &server,
            reqwest::Method::POST,
            &driver,
            "/api/wallet/topup",
            Some(&topup),
            Some("top-up-1"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(replayed, attempt == 1);
        if attempt == 0 {
            first = body;
        } else {
            assert_eq!(body["transaction"]["id"], first["transaction"]["id"]);
        }
    }
    let wallet = get("/api/wallet").await;
    assert_eq!(wallet["wallets"][0]["balance_cents"], 2000, "{wallet}");
    let page = get("/api/wallet/transactions").await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["kind"], "topup");
    assert_eq!(page["items"][0]["amount_cents"], 2000);

    // a booking tomorrow at noon, an hour at 2.50: confirming holds 2.50
    let (charger, port) = listed_charger(&server).await;
    let start = (Utc::now() + Duration::days(1))
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let body = json!({
        "charger_id": charger, "port_id": port,
        "start_time": start.to_rfc3339(), "end_time": (start + Duration::hours(1)).to_rfc3339(),
    });
    let (status, booking) = post(&server, &driver, "/api/bookings", &body).await;
    assert_eq!(status, 201, "{booking}");
    let id = booking["id"].as_str().unwrap();
    let (status, _) = post(
        &server,
        &driver,
        &format!("/api/bookings/{id}/confirm"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let wallet = get("/api/wallet").await;
    let eur = &wallet["wallets"][0];
    assert_eq!(
        (&eur["balance_cents"], &eur["held_cents"]),
        (&json!(1750), &json!(250))
    );
    assert_eq!(eur["holds"][0]["booking_id"], json!(id));

    // cancelled a day ahead: everything back, in the same request
    let (status, cancelled) = post(
        &server,
        &driver,
        &format!("/api/bookings/{id}/cancel"),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["refund"]["percent"], 100);
    let wallet = get("/api/wallet").await;
    let eur = &wallet["wallets"][0];
    assert_eq!(
        (&eur["balance_cents"], &eur["held_cents"]),
        (&json!(2000), &json!(0))
    );
    let page = get("/api/wallet/transactions?kind=hold,refund").await;
    let kinds: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["refund", "hold"]);

    // the admin sees the driver's wallet account
    let admin = server.token_for("admin").await.unwrap();
    let accounts = server
        .get_json(&admin, "/api/admin/ledger/accounts?kind=driver_wallet")
        .await
        .unwrap();
    assert_eq!(accounts["items"][0]["balance_cents"], 2000, "{accounts}");

    let out = server.cli(&["ledger", "post-due"]).await.unwrap();
    assert!(out.contains("\"failures\":0"), "{out}");
    let out = server.cli(&["ledger", "reconcile"]).await.unwrap();
    assert!(out.contains("the ledger reconciles"), "{out}");
    assert!(out.contains("EUR: 3 postings"), "{out}");
}

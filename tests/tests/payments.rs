//! Payments through the real server (local provider, a Stripe webhook secret configured): a
//! driver saves a test card, tops up by card with an Idempotency-Key (a retry is the same
//! payment), sees it and the wallet; a 3-D Secure payment is completed by a Stripe-signed
//! webhook that is delivered twice and applied once; a forged delivery is refused.

use e2e_tests::{Server, ServerOptions};
use hmac::{Hmac, Mac};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "whsec_e2e_payments";

fn sign(body: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

async fn send(
    http: &Client,
    server: &Server,
    token: &str,
    path: &str,
    body: &Value,
    key: Option<&str>,
) -> (StatusCode, bool, Value) {
    let mut req = http.post(server.url(path)).bearer_auth(token).json(body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let replayed = res.headers().get("idempotent-replayed").is_some();
    (status, replayed, res.json().await.unwrap_or(Value::Null))
}

async fn deliver(http: &Client, server: &Server, body: &str, header: &str) -> (StatusCode, Value) {
    let res = http
        .post(server.url("/api/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("Stripe-Signature", header)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn balance(wallet: &Value) -> i64 {
    wallet["wallets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["currency"] == "EUR")
        .map_or(0, |w| w["balance_cents"].as_i64().unwrap())
}

#[tokio::test]
async fn card_payments_and_a_webhook_delivered_twice() {
    let options = ServerOptions {
        extra_args: vec!["--stripe-webhook-secret".into(), SECRET.into()],
        ..ServerOptions::default()
    };
    let server = Server::start(options).await.unwrap();
    let http = Client::new();
    let driver = server.token_for("driver").await.unwrap();

    // a test card: brand and last four only
    let card = json!({"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2034, "cvc": "123"});
    let (status, _, saved) =
        send(&http, &server, &driver, "/api/payment-methods", &card, None).await;
    assert_eq!(status, 201, "{saved}");
    assert_eq!(
        (saved["brand"].as_str(), saved["last4"].as_str()),
        (Some("visa"), Some("4242"))
    );
    assert_eq!(saved["is_default"], true);
    assert!(!saved.to_string().contains("4242424242424242"));
    let methods = server
        .get_json(&driver, "/api/payment-methods")
        .await
        .unwrap();
    assert_eq!(methods.as_array().unwrap().len(), 1, "{methods}");

    // a top-up by card, sent twice with the same key
    let topup =
        json!({"purpose": "topup", "amount_cents": 2500, "currency": "EUR", "method": "card"});
    let (status, replayed, paid) = send(
        &http,
        &server,
        &driver,
        "/api/payments",
        &topup,
        Some("e2e-top"),
    )
    .await;
    assert_eq!(status, 201, "{paid}");
    assert!(!replayed);
    assert_eq!(paid["status"], "succeeded");
    let (_, replayed, again) = send(
        &http,
        &server,
        &driver,
        "/api/payments",
        &topup,
        Some("e2e-top"),
    )
    .await;
    assert!(replayed);
    assert_eq!(again["id"], paid["id"]);
    let shown = server
        .get_json(
            &driver,
            &format!("/api/payments/{}", paid["id"].as_str().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(shown["amount_received_cents"], 2500);
    let wallet = server.get_json(&driver, "/api/wallet").await.unwrap();
    assert_eq!(balance(&wallet), 2500, "{wallet}");

    // a 3-D Secure card: the payment waits...
    let secure = json!({"card_number": "4000002500003155", "exp_month": 12, "exp_year": 2034, "make_default": true});
    let (status, _, _) = send(
        &http,
        &server,
        &driver,
        "/api/payment-methods",
        &secure,
        None,
    )
    .await;
    assert_eq!(status, 201);
    let small =
        json!({"purpose": "topup", "amount_cents": 1000, "currency": "EUR", "method": "card"});
    let (status, _, waiting) = send(&http, &server, &driver, "/api/payments", &small, None).await;
    assert_eq!(status, 201, "{waiting}");
    assert_eq!(waiting["status"], "requires_action");
    assert_eq!(waiting["next_action"]["type"], "three_d_secure");
    let id = waiting["id"].as_str().unwrap().to_owned();
    let pi = waiting["provider_payment_id"].as_str().unwrap().to_owned();

    // ...until Stripe's webhook says it succeeded; delivered twice, applied once
    let t = chrono::Utc::now().timestamp();
    let body = json!({
        "id": "evt_e2e_1", "object": "event", "type": "payment_intent.succeeded", "created": t,
        "livemode": false, "api_version": "2025-09-30.clover",
        "data": {"object": {
            "id": pi, "object": "payment_intent", "amount": 1000, "amount_capturable": 0,
            "amount_received": 1000, "currency": "eur", "status": "succeeded",
            "capture_method": "automatic", "metadata": {"payment_id": id}
        }}
    })
    .to_string();
    let (status, first) = deliver(&http, &server, &body, &sign(&body, t)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (first["duplicate"].as_bool(), first["outcome"].as_str()),
        (Some(false), Some("applied"))
    );
    let (status, second) = deliver(&http, &server, &body, &sign(&body, t)).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["duplicate"], true);
    let shown = server
        .get_json(&driver, &format!("/api/payments/{id}"))
        .await
        .unwrap();
    assert_eq!(shown["status"], "succeeded", "{shown}");
    let wallet = server.get_json(&driver, "/api/wallet").await.unwrap();
    assert_eq!(balance(&wallet), 3500, "credited once: {wallet}");

    // a forged delivery is refused with a problem naming why
    let forged = body.replace("1000", "100000");
    let (status, problem) = deliver(&http, &server, &forged, &sign(&body, t)).await;
    assert_eq!(status, 400);
    assert_eq!(problem["code"], "invalid_signature");
    let list = server.get_json(&driver, "/api/payments").await.unwrap();
    assert_eq!(list["total"], 2, "{list}");

    // the wallet's own top-up route takes the default (3-D Secure) card too
    let by_card = json!({"amount_cents": 500, "currency": "EUR", "payment_method": "card"});
    let (status, _, topped) = send(
        &http,
        &server,
        &driver,
        "/api/wallet/topup",
        &by_card,
        Some("e2e-wallet-card"),
    )
    .await;
    assert_eq!(status, 201, "{topped}");
    assert_eq!(topped["payment"]["status"], "requires_action", "{topped}");
    assert_eq!(topped["transaction"], Value::Null);
    let confirm = format!(
        "/api/payments/{}/confirm",
        topped["payment"]["id"].as_str().unwrap()
    );
    let (status, _, done) = send(&http, &server, &driver, &confirm, &json!({}), None).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "succeeded", "{done}");
    let wallet = server.get_json(&driver, "/api/wallet").await.unwrap();
    assert_eq!(balance(&wallet), 4000, "{wallet}");
}

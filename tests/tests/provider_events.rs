//! Money the provider moved on its own, through the real server (local provider, a Stripe
//! webhook secret configured): a refund made in Stripe's dashboard and a dispute, each
//! delivered as Stripe signs it. The refund leaves the wallet; the dispute takes what is
//! left and the rest becomes owed; won, it pays the debt off first; replays change nothing.

use e2e_tests::{Server, ServerOptions};
use hmac::{Hmac, Mac};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "whsec_e2e_provider_events";

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

async fn deliver(http: &Client, server: &Server, id: &str, kind: &str, object: Value) -> Value {
    let t = chrono::Utc::now().timestamp();
    let body = json!({
        "id": id, "object": "event", "type": kind, "created": t, "livemode": false,
        "api_version": "2025-09-30.clover", "data": {"object": object}
    })
    .to_string();
    let res = http
        .post(server.url("/api/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("Stripe-Signature", sign(&body, t))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// (balance, outstanding) of the EUR wallet.
async fn wallet(server: &Server, driver: &str) -> (i64, i64) {
    let w = server.get_json(driver, "/api/wallet").await.unwrap();
    let eur = w["wallets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["currency"] == "EUR")
        .cloned()
        .unwrap_or(Value::Null);
    (
        eur["balance_cents"].as_i64().unwrap_or(0),
        eur["outstanding_cents"].as_i64().unwrap_or(0),
    )
}

fn dispute(pi: &str, status: &str, withdrawn: bool, reinstated: bool) -> Value {
    let mut bts = vec![];
    if withdrawn {
        bts.push(json!({"amount": -2500, "fee": 1500, "currency": "eur"}));
    }
    if reinstated {
        bts.push(json!({"amount": 2500, "fee": 0, "currency": "eur"}));
    }
    json!({"id": "dp_e2e", "object": "dispute", "amount": 2500, "currency": "eur",
           "charge": "ch_e2e", "payment_intent": pi, "status": status,
           "reason": "fraudulent", "balance_transactions": bts})
}

#[tokio::test]
async fn dashboard_refunds_and_disputes_move_the_drivers_money_once() {
    let options = ServerOptions {
        extra_args: vec!["--stripe-webhook-secret".into(), SECRET.into()],
        ..ServerOptions::default()
    };
    let server = Server::start(options).await.unwrap();
    let http = Client::new();
    let driver = server.token_for("driver").await.unwrap();
    let card = json!({"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2034});
    let res = http
        .post(server.url("/api/payment-methods"))
        .bearer_auth(&driver)
        .json(&card)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let topup =
        json!({"purpose": "topup", "amount_cents": 2500, "currency": "EUR", "method": "card"});
    let res = http
        .post(server.url("/api/payments"))
        .bearer_auth(&driver)
        .header("Idempotency-Key", "e2e-provider-events")
        .json(&topup)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let paid: Value = res.json().await.unwrap();
    let pi = paid["provider_payment_id"].as_str().unwrap().to_owned();
    assert_eq!(wallet(&server, &driver).await, (2500, 0));

    // a refund made in Stripe's dashboard: out of the wallet, once
    let refund = json!({"id": "re_e2e", "object": "refund", "amount": 1000, "currency": "eur",
                        "payment_intent": pi, "status": "succeeded", "metadata": {}});
    let ack = deliver(
        &http,
        &server,
        "evt_e2e_r",
        "refund.created",
        refund.clone(),
    )
    .await;
    assert_eq!(ack["outcome"], "applied", "{ack}");
    deliver(&http, &server, "evt_e2e_r2", "refund.updated", refund).await;
    assert_eq!(wallet(&server, &driver).await, (1500, 0));

    // a chargeback of the whole 2500: the 1500 left, and 1000 owed
    let w = dispute(&pi, "needs_response", true, false);
    deliver(
        &http,
        &server,
        "evt_e2e_d1",
        "charge.dispute.funds_withdrawn",
        w.clone(),
    )
    .await;
    let ack = deliver(
        &http,
        &server,
        "evt_e2e_d1",
        "charge.dispute.funds_withdrawn",
        w,
    )
    .await;
    assert_eq!(ack["duplicate"], true, "{ack}");
    assert_eq!(wallet(&server, &driver).await, (0, 1000));

    // won: the debt is paid off first, the rest back in the wallet
    let won = dispute(&pi, "won", true, true);
    deliver(
        &http,
        &server,
        "evt_e2e_d2",
        "charge.dispute.funds_reinstated",
        won.clone(),
    )
    .await;
    deliver(&http, &server, "evt_e2e_d3", "charge.dispute.closed", won).await;
    assert_eq!(wallet(&server, &driver).await, (1500, 0));
}

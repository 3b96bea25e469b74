//! Production is the default: what an attacker could do with a server started without
//! `--dev`, tried over the real interfaces. Nothing from development mode is there: no money
//! from the test provider, no unauthenticated stations, no metrics for strangers, no signing
//! key in the database.

use std::os::unix::fs::PermissionsExt;

use e2e_tests::charging::post;
use e2e_tests::ocpp_client::ConnectOptions;
use e2e_tests::server::{data_dir, fresh_database};
use e2e_tests::{OcppClient, Server, ServerOptions};
use serde_json::{json, Value};
use sqlx::Connection;

fn status(code: Option<reqwest::StatusCode>) -> Option<u16> {
    code.map(|c| c.as_u16())
}

async fn db(server: &Server) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&server.database_url)
        .await
        .unwrap()
}

#[tokio::test]
async fn production_is_the_default_and_says_so() {
    let server = Server::start(ServerOptions::production()).await.unwrap();
    assert_eq!(server.mode, "production");
    let health: Value = reqwest::get(server.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok", "mode": "production"}));

    let dev = Server::start(ServerOptions::default()).await.unwrap();
    assert_eq!(dev.mode, "development");
    let health: Value = reqwest::get(dev.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["mode"], "development");
}

#[tokio::test]
async fn no_money_from_nowhere_without_a_payment_provider() {
    let server = Server::start(ServerOptions::production()).await.unwrap();
    let driver = server.token_for("driver").await.unwrap();
    for method in ["local_test", "card"] {
        let (code, body) = post(
            &server,
            &driver,
            "/api/wallet/topup",
            json!({"amount_cents": 100000, "currency": "EUR", "payment_method": method}),
        )
        .await;
        assert_eq!(code, 503, "{method}: {body}");
        assert_eq!(body["code"], "payments_not_configured", "{body}");
    }
    let (code, body) = post(
        &server,
        &driver,
        "/api/payment-methods",
        json!({"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2034}),
    )
    .await;
    assert_eq!(
        (code, &body["code"]),
        (503, &json!("payments_not_configured"))
    );
    let (code, body) = post(
        &server,
        &driver,
        "/api/payments",
        json!({"purpose": "topup", "amount_cents": 2500, "currency": "EUR", "method": "card"}),
    )
    .await;
    assert_eq!(
        (code, &body["code"]),
        (503, &json!("payments_not_configured"))
    );

    let wallet = server.get_json(&driver, "/api/wallet").await.unwrap();
    assert_eq!(
        wallet["wallets"],
        json!([]),
        "nothing was credited: {wallet}"
    );
    let mut conn = db(&server).await;
    let postings: i64 = sqlx::query_scalar("SELECT count(*) FROM ledger_postings")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let payments: i64 = sqlx::query_scalar("SELECT count(*) FROM payments")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!((postings, payments), (0, 0));
}

#[tokio::test]
async fn the_test_provider_is_gone_even_with_stripe_configured() {
    // The Stripe base points nowhere: refusing `local_test` must not need the provider.
    let server = Server::start(ServerOptions {
        extra_args: vec![
            "--stripe-secret-key".into(),
            "sk_test_not_a_real_key".into(),
            "--stripe-api-base".into(),
            "http://127.0.0.1:9/".into(),
        ],
        ..ServerOptions::production()
    })
    .await
    .unwrap();
    let driver = server.token_for("driver").await.unwrap();
    let (code, body) = post(
        &server,
        &driver,
        "/api/wallet/topup",
        json!({"amount_cents": 100000, "currency": "EUR", "payment_method": "local_test"}),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "payment_method");
    let wallet = server.get_json(&driver, "/api/wallet").await.unwrap();
    assert_eq!(wallet["wallets"], json!([]));
}

#[tokio::test]
async fn stations_must_authenticate_in_production() {
    let server = Server::start(ServerOptions::production()).await.unwrap();
    // An unknown station without credentials is turned away, and nothing is recorded.
    let unknown =
        OcppClient::refusal(&server.ocpp_url("STRANGER"), ConnectOptions::default()).await;
    assert_eq!(status(unknown), Some(403));
    let operator = server.token_for("operator").await.unwrap();
    let res = reqwest::Client::new()
        .get(server.url("/api/stations/STRANGER"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "an unknown station must not be inserted");

    // A station provisioned without authentication cannot connect either.
    server
        .cli(&["station", "add", "--id", "OPEN-1", "--profile", "0"])
        .await
        .unwrap();
    let open = OcppClient::refusal(&server.ocpp_url("OPEN-1"), ConnectOptions::default()).await;
    assert_eq!(status(open), Some(403));

    // Operators cannot provision profile 0; a new station defaults to profile 2.
    let put = |id: &str, body: Value| {
        reqwest::Client::new()
            .put(server.url(&format!("/api/stations/{id}")))
            .bearer_auth(&operator)
            .json(&body)
            .send()
    };
    let res = put("CS-0", json!({"securityProfile": 0})).await.unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "securityProfile");
    let res = put("CS-2", json!({"password": "0123456789abcdef-pw"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let row: Value = res.json().await.unwrap();
    assert_eq!(row["securityProfile"], 2);
    let res = put("CS-3", json!({})).await.unwrap();
    assert_eq!(res.status(), 422, "profile 2 needs a password");
}

#[tokio::test]
async fn metrics_are_for_operators_or_the_private_listener() {
    let server = Server::start(ServerOptions::production()).await.unwrap();
    let client = reqwest::Client::new();
    let anonymous = client.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let driver = server.token_for("driver").await.unwrap();
    let as_driver = client
        .get(server.url("/metrics"))
        .bearer_auth(&driver)
        .send()
        .await
        .unwrap();
    assert_eq!(as_driver.status(), 403);
    let operator = server.token_for("operator").await.unwrap();
    let as_operator = client
        .get(server.url("/metrics"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(as_operator.status(), 200);
    // something to count: a refused station
    OcppClient::refusal(&server.ocpp_url("NOBODY"), ConnectOptions::default()).await;
    let scraped = client.get(&server.metrics).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(text.contains("csms_station_refusals_total"), "{text}");
}

#[tokio::test]
async fn the_signing_key_is_a_private_file_not_a_database_row() {
    let server = Server::start(ServerOptions::production()).await.unwrap();
    server.token_for("driver").await.unwrap();
    let key = data_dir().join("secrets/jwt.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", key.display());
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM server_secrets")
        .fetch_one(&mut db(&server).await)
        .await
        .unwrap();
    assert_eq!(rows, 0);

    // A configured key shorter than HS256 needs is refused at start.
    let refused = Server::start(ServerOptions {
        extra_args: vec!["--jwt-secret".into(), "short".into()],
        ..ServerOptions::production()
    })
    .await;
    assert!(refused.is_err(), "a 5-byte signing key must not start");
}

#[tokio::test]
async fn demo_refuses_a_database_with_real_accounts() {
    let url = fresh_database().await.unwrap();
    let csms = e2e_tests::server::bin("csms");
    let run = |args: &[&str]| {
        std::process::Command::new(&csms)
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let added = run(&[
        "user",
        "add",
        "--email",
        "ceo@company.example",
        "--password",
        "a long real password",
        "--role",
        "admin",
    ]);
    assert!(added.status.success());
    let demo = run(&["demo"]);
    assert!(!demo.status.success(), "demo must refuse a real database");
    let stderr = String::from_utf8_lossy(&demo.stderr);
    assert!(stderr.contains("ceo@company.example"), "{stderr}");
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let demo_users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE email LIKE '%@demo.local'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(demo_users, 0, "no shared-password account may be added");
}

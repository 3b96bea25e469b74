//! The wallet routes as a client sees them: top-up with an Idempotency-Key, the wallet with
//! its holds, the history and its filters, the low-balance setting, and the admins' view of
//! an account; problem+json naming the field for everything refused.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::Duration;
use http_body_util::BodyExt;
use marketplace::accounts::{AuthKeys, Role, DEFAULT_ACCESS_TTL};
use marketplace::plumbing::FixedClock;
use marketplace::{ApiContext, AuthUser};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

use super::support::*;

const SECRET: [u8; 32] = [7; 32];

fn app(pool: PgPool) -> Router {
    let ctx = ApiContext::new(pool, AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL))
        .development()
        .with_clock(Arc::new(FixedClock::new(now())));
    marketplace::app(ctx)
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    who: Option<&AuthUser>,
    body: Option<Value>,
    key: Option<&str>,
) -> (StatusCode, bool, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(u) = who {
        let token = AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL)
            .issue_access(u.id, u.role)
            .unwrap();
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    let response = app.clone().oneshot(request.unwrap()).await.unwrap();
    let status = response.status();
    let replayed = response.headers().contains_key("idempotent-replayed");
    if status.is_client_error() {
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, replayed, body)
}

fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn topup_balance_history_and_settings(pool: PgPool) {
    let app = app(pool.clone());
    let driver = user(&pool, Role::Driver).await;
    let (status, _, body) = send(&app, Method::GET, "/api/wallet", Some(&driver), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"wallets": [], "low_balance_threshold_cents": null})
    );

    let topup = json!({"amount_cents": 2000, "currency": "EUR", "payment_method": "local_test"});
    let (status, replayed, first) = send(
        &app,
        Method::POST,
        "/api/wallet/topup",
        Some(&driver),
        Some(topup.clone()),
        Some("top-1"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(!replayed);
    assert_eq!(first["transaction"]["kind"], "topup");
    assert_eq!(first["transaction"]["amount_cents"], 2000);
    assert_eq!(first["wallet"]["balance_cents"], 2000);
    // the retry answers the same transaction, and posts nothing
    let (status, replayed, again) = send(
        &app,
        Method::POST,
        "/api/wallet/topup",
        Some(&driver),
        Some(topup),
        Some("top-1"),
    )
    .await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true));
    assert_eq!(again["transaction"]["id"], first["transaction"]["id"]);
    assert_eq!(again["wallet"]["balance_cents"], 2000);
    // the same key for another amount
    let other = json!({"amount_cents": 3000, "currency": "EUR", "payment_method": "local_test"});
    let (status, _, body) = send(
        &app,
        Method::POST,
        "/api/wallet/topup",
        Some(&driver),
        Some(other),
        Some("top-1"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["Idempotency-Key"]);

    // a booking holds part of it
    let c = charger(&pool, Spec::default()).await;
    let req = request(&c, 0, utc(2027, 1, 5, 12, 0), utc(2027, 1, 5, 14, 0));
    let b = confirmed(&pool, &driver, req, now() + Duration::minutes(1)).await;
    let (_, _, w) = send(&app, Method::GET, "/api/wallet", Some(&driver), None, None).await;
    let eur = &w["wallets"][0];
    assert_eq!(
        (&eur["currency"], &eur["balance_cents"], &eur["held_cents"]),
        (&json!("EUR"), &json!(1500), &json!(500))
    );
    assert_eq!(eur["holds"][0]["booking_id"], json!(b.id));
    assert_eq!(eur["holds"][0]["remaining_cents"], 500);
    assert_eq!(eur["low_balance"], false);

    let (_, _, page) = send(
        &app,
        Method::GET,
        "/api/wallet/transactions",
        Some(&driver),
        None,
        None,
    )
    .await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"][0]["kind"], "hold", "newest first");
    assert_eq!(page["items"][0]["amount_cents"], -500);
    assert_eq!(page["items"][0]["held_cents"], 500);
    let (_, _, page) = send(
        &app,
        Method::GET,
        "/api/wallet/transactions?kind=topup&currency=EUR&limit=1",
        Some(&driver),
        None,
        None,
    )
    .await;
    assert_eq!(
        (page["total"].as_i64(), page["limit"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(page["items"][0]["kind"], "topup");
    let (_, _, page) = send(
        &app,
        Method::GET,
        "/api/wallet/transactions?from=2027-01-04T08:00:30Z",
        Some(&driver),
        None,
        None,
    )
    .await;
    assert_eq!(page["total"], 1, "only the hold is that late");
    let (status, _, body) = send(
        &app,
        Method::GET,
        "/api/wallet/transactions?kind=gift&limit=0",
        Some(&driver),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["kind", "limit"]);

    // below 20.00 the wallet is low
    let (status, _, body) = send(
        &app,
        Method::PUT,
        "/api/wallet/settings",
        Some(&driver),
        Some(json!({"low_balance_threshold_cents": 2000})),
        None,
    )
    .await;
    assert_eq!(
        (status, &body["low_balance_threshold_cents"]),
        (StatusCode::OK, &json!(2000))
    );
    let (_, _, w) = send(&app, Method::GET, "/api/wallet", Some(&driver), None, None).await;
    assert_eq!(w["wallets"][0]["low_balance"], true);
    let (_, _, s) = send(
        &app,
        Method::GET,
        "/api/wallet/settings",
        Some(&driver),
        None,
        None,
    )
    .await;
    assert_eq!(s["low_balance_threshold_cents"], 2000);
    let (status, _, body) = send(
        &app,
        Method::PUT,
        "/api/wallet/settings",
        Some(&driver),
        Some(json!({"low_balance_threshold_cents": -1})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["low_balance_threshold_cents"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_topups_name_their_fields(pool: PgPool) {
    let app = app(pool.clone());
    let driver = user(&pool, Role::Driver).await;
    let (status, _, _) = send(&app, Method::GET, "/api/wallet", None, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (method, expected) in [
        (
            "paypal",
            &["amount_cents", "currency", "payment_method"][..],
        ),
        // a card top-up is checked the same way before any provider is asked
        ("card", &["amount_cents", "currency"][..]),
    ] {
        let bad = json!({"amount_cents": 5, "currency": "eur", "payment_method": method});
        let (status, _, body) = send(
            &app,
            Method::POST,
            "/api/wallet/topup",
            Some(&driver),
            Some(bad),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&body), expected, "{method}");
    }
    let (status, _, body) = send(
        &app,
        Method::POST,
        "/api/wallet/topup",
        Some(&driver),
        Some(json!({"amount_cents": 500, "currency": "EUR"})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), ["payment_method"]);
    assert_eq!(wallet(&pool, driver.id).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_read_any_account(pool: PgPool) {
    let app = app(pool.clone());
    let driver = user(&pool, Role::Driver).await;
    let admin = user(&pool, Role::Admin).await;
    fund(&pool, driver.id, 700).await;
    let uri = format!(
        "/api/admin/ledger/accounts?owner_id={}&kind=driver_wallet",
        driver.id
    );
    let (status, _, _) = send(&app, Method::GET, &uri, Some(&driver), None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, page) = send(&app, Method::GET, &uri, Some(&admin), None, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 1);
    let id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, a) = send(
        &app,
        Method::GET,
        &format!("/api/admin/ledger/accounts/{id}?limit=5"),
        Some(&admin),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["kind"], "driver_wallet");
    assert_eq!(
        (&a["balance_cents"], &a["cached_balance_cents"]),
        (&json!(700), &json!(700))
    );
    assert_eq!(a["entries"][0]["kind"], "topup");
    assert_eq!(a["entries"][0]["amount_cents"], 700);
    let clearing = "/api/admin/ledger/accounts?kind=provider_clearing";
    let (_, _, page) = send(&app, Method::GET, clearing, Some(&admin), None, None).await;
    assert_eq!(page["items"][0]["balance_cents"], -700);
    for bad in ["not-a-uuid", &uuid::Uuid::now_v7().to_string()] {
        let uri = format!("/api/admin/ledger/accounts/{bad}");
        let (status, _, _) = send(&app, Method::GET, &uri, Some(&admin), None, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

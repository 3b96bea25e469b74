//! The booking routes as a client sees them: status codes, problem+json bodies, the
//! Idempotency-Key, the 409 that names the taken slot.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use marketplace::accounts::{AuthKeys, DEFAULT_ACCESS_TTL};
use marketplace::plumbing::FixedClock;
use marketplace::{ApiContext, AuthUser};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

use super::support::*;

const SECRET: [u8; 32] = [9; 32];

pub(super) fn app(pool: PgPool) -> Router {
    let ctx = ApiContext::new(pool, AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL))
        .development()
        .with_clock(Arc::new(FixedClock::new(now())));
    marketplace::app(ctx)
}

pub(super) fn token(u: &AuthUser) -> String {
    AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL)
        .issue_access(u.id, u.role)
        .unwrap()
}

pub(super) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

pub(super) async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    who: Option<&AuthUser>,
    body: Option<Value>,
    key: Option<&str>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(u) = who {
        request = request.header(header::AUTHORIZATION, format!("Bearer {}", token(u)));
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
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    if status.is_client_error() {
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    }
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Reply {
        status,
        headers,
        body,
    }
}

pub(super) fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn create_with_idempotency_key_confirm_and_cancel(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let app = app(pool.clone());
    let body = json!({
        "charger_id": c.id, "port_id": c.ports[0],
        "start_time": "2027-01-05T11:00:00+01:00", "end_time": "2027-01-05T11:00:00Z",
    });
    let first = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(body.clone()),
        Some("k-1"),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["status"], "pending");
    assert_eq!(first.body["start_time"], "2027-01-05T10:00:00Z");
    assert_eq!(first.body["amount_cents"], 250);
    assert_eq!(first.body["expires_at"], "2027-01-04T08:10:00Z");
    assert_eq!(first.body["reservation_state"], "none", "a plain socket");
    // the retry gets the same answer, and no second booking is made
    let retry = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(body.clone()),
        Some("k-1"),
    )
    .await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(count(&pool, "SELECT count(*) FROM bookings").await, 1);
    // the same key with another body is refused
    let mut other = body.clone();
    other["end_time"] = json!("2027-01-05T11:30:00Z");
    let reuse = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(other),
        Some("k-1"),
    )
    .await;
    assert_eq!(reuse.status, 422);
    assert_eq!(fields(&reuse.body), ["Idempotency-Key"]);

    let id = first.body["id"].as_str().unwrap();
    let confirmed = send(
        &app,
        Method::POST,
        &format!("/api/bookings/{id}/confirm"),
        Some(&driver),
        None,
        None,
    )
    .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.body["status"], "confirmed");
    // more than two hours ahead: everything back; the body may be left out
    let cancelled = send(
        &app,
        Method::POST,
        &format!("/api/bookings/{id}/cancel"),
        Some(&driver),
        None,
        None,
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["refund"]["amount_cents"], 250);
    assert_eq!(cancelled.body["refund"]["percent"], 100);
    assert_eq!(cancelled.body["refund"]["currency"], "EUR");
}

#[sqlx::test(migrations = "../migrations")]
async fn conflicts_and_validation_are_problems(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let (a, b) = (funded_driver(&pool).await, funded_driver(&pool).await);
    let app = app(pool.clone());
    let body = |s: &str, e: &str| json!({"charger_id": c.id, "port_id": c.ports[0], "start_time": s, "end_time": e});
    let ok = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&a),
        Some(body("2027-01-05T10:00:00Z", "2027-01-05T11:00:00Z")),
        None,
    )
    .await;
    assert_eq!(ok.status, 201);
    let taken = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&b),
        Some(body("2027-01-05T10:30:00Z", "2027-01-05T11:30:00Z")),
        None,
    )
    .await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.body["code"], "slot_taken");
    assert_eq!(taken.body["conflicting_slot"]["port_id"], json!(c.ports[0]));
    assert_eq!(
        taken.body["conflicting_slot"]["start_time"],
        "2027-01-05T10:00:00Z"
    );
    assert_eq!(
        taken.body["conflicting_slot"]["end_time"],
        "2027-01-05T11:00:00Z"
    );

    let missing = send(&app, Method::POST, "/api/bookings", Some(&b), Some(json!({"charger_id": c.id, "port_id": c.ports[0], "start_time": "2027-01-05T10:00:00Z"})), None).await;
    assert_eq!(missing.status, 422);
    assert_eq!(fields(&missing.body), ["end_time"]);
    let bad_time = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&b),
        Some(body("tomorrow", "2027-01-05T11:00:00Z")),
        None,
    )
    .await;
    assert_eq!(fields(&bad_time.body), ["start_time"]);
    let past = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&b),
        Some(body("2027-01-03T10:00:00Z", "2027-01-03T11:00:00Z")),
        None,
    )
    .await;
    assert_eq!(fields(&past.body), ["start_time"]);
    let unauth = send(
        &app,
        Method::POST,
        "/api/bookings",
        None,
        Some(body("2027-01-05T12:00:00Z", "2027-01-05T13:00:00Z")),
        None,
    )
    .await;
    assert_eq!(unauth.status, 401);
}

//! Shared by the database tests: the app, tokens, requests, a charger.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use marketplace::accounts::{self, AuthKeys, Role, DEFAULT_ACCESS_TTL};
use marketplace::ApiContext;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

pub const SECRET: [u8; 32] = [7; 32];

pub fn app(pool: PgPool) -> Router {
    let ctx = ApiContext::new(pool, AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL));
    marketplace::app(ctx)
}

pub async fn token(pool: &PgPool, email: &str, role: Role) -> String {
    let u = accounts::create_user(pool, email, "correct horse battery", role, None)
        .await
        .unwrap();
    AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL)
        .issue_access(u.id, role)
        .unwrap()
}

pub async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    let response = app.clone().oneshot(request.unwrap()).await.unwrap();
    let status = response.status();
    let kind = response.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    if status.is_client_error() {
        assert_eq!(kind.unwrap(), "application/problem+json");
    }
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, body)
}

/// A host's charger in Amsterdam (EUR), listed unless `draft`.
pub async fn charger(pool: &PgPool, app: &Router, host: &str, draft: bool) -> String {
    let body = json!({
        "title": "Wallbox on the canal",
        "address": "Prinsengracht 263, Amsterdam",
        "latitude": 52.375,
        "longitude": 4.884,
        "time_zone": "Europe/Amsterdam",
        "currency": "EUR"
    });
    let (status, listing) = send(app, Method::POST, "/api/chargers", Some(host), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{listing}");
    let id = listing["id"].as_str().unwrap().to_owned();
    if !draft {
        sqlx::query("UPDATE listings SET status = 'listed' WHERE id = $1::uuid")
            .bind(&id)
            .execute(pool)
            .await
            .unwrap();
    }
    id
}

pub fn simple() -> Value {
    json!({"simple": {"price_per_kwh": "0.30", "price_per_hour": 2, "minimum_charge": "1.00",
                      "idle_fee_per_hour": "6.00"}})
}

pub fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

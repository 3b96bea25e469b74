//! Helpers for the factor, profile and vehicle tests: an app, a request sender that can play a
//! client address, and a reader for the outbox (where codes "are sent").

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use marketplace::accounts::{AuthKeys, SecretBox, DEFAULT_ACCESS_TTL};
use marketplace::ApiContext;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

pub fn keys() -> AuthKeys {
    AuthKeys::new(&[42; 32], DEFAULT_ACCESS_TTL)
}

/// The key TOTP secrets are sealed with in these tests.
pub const TOTP_KEY: [u8; 32] = [24; 32];

pub fn secrets() -> SecretBox {
    SecretBox::new(TOTP_KEY)
}

pub fn app(pool: PgPool) -> Router {
    marketplace::app(ApiContext::new(pool, keys()).with_totp_key(TOTP_KEY))
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        &self.body
    }

    /// A problem+json answer with this status and machine code.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(self.body["status"], status);
        assert_eq!(self.body["code"], code, "{:#}", self.body);
    }

    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub struct Call<'a> {
    pub method: Method,
    pub uri: &'a str,
    pub token: Option<&'a str>,
    pub body: Option<Value>,
    /// Played as axum's `ConnectInfo`, as the real server inserts for every connection.
    pub client: Option<SocketAddr>,
}

pub async fn call(app: &Router, call: Call<'_>) -> Reply {
    let mut request = Request::builder().method(call.method).uri(call.uri);
    if let Some(token) = call.token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let mut request = match call.body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    if let Some(addr) = call.client {
        request.extensions_mut().insert(ConnectInfo(addr));
    }
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
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

pub async fn post(app: &Router, uri: &str, token: Option<&str>, body: Value) -> Reply {
    call(
        app,
        Call {
            method: Method::POST,
            uri,
            token,
            body: Some(body),
            client: None,
        },
    )
    .await
}

pub async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    call(
        app,
        Call {
            method,
            uri,
            token,
            body,
            client: None,
        },
    )
    .await
}

/// Registers an account and answers its access token.
pub async fn register(app: &Router, email: &str) -> String {
    let reply = post(
        app,
        "/api/auth/register",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    reply.expect(201)["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The newest one-time code queued for `recipient`, read from the outbox as the
/// notifications capability would.
pub async fn last_code(pool: &PgPool, recipient: &str) -> Option<String> {
    let body: Option<(String,)> = sqlx::query_as(
        "SELECT body FROM outbox_messages WHERE recipient = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(recipient)
    .fetch_optional(pool)
    .await
    .unwrap();
    body.map(|(body,)| code_in(&body))
}

pub async fn outbox_count(pool: &PgPool) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM outbox_messages")
        .fetch_one(pool)
        .await
        .unwrap();
    n
}

/// The six digits after "code is ".
pub fn code_in(body: &str) -> String {
    let start = body.find("code is ").expect("a code in the message") + "code is ".len();
    body[start..start + 6].to_owned()
}

/// A code that is certainly not `code`.
pub fn other_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

/// The raw TOTP secret behind the base32 the set-up answers.
pub fn secret_bytes(base32: &str) -> Vec<u8> {
    totp_rs::Secret::Encoded(base32.to_owned())
        .to_bytes()
        .unwrap()
}

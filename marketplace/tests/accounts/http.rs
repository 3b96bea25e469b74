//! The routes as a client sees them: status codes, problem+json bodies, RBAC.

use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use marketplace::accounts::{self, AuthKeys, Role, DEFAULT_ACCESS_TTL};
use marketplace::{ApiContext, AuthUser, RequireAdmin, RequireOperator};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

/// A bigger state, as the csms composition root will have, to prove the routes and extractors
/// work with any state that converts into `ApiContext`.
#[derive(Clone)]
struct AppState {
    api: ApiContext,
    _other: u32,
}

impl FromRef<AppState> for ApiContext {
    fn from_ref(state: &AppState) -> Self {
        state.api.clone()
    }
}

fn app(pool: PgPool) -> Router {
    let state = AppState {
        api: ApiContext::new(pool, AuthKeys::new(&[42; 32], DEFAULT_ACCESS_TTL)),
        _other: 0,
    };
    Router::new()
        .merge(axum::Router::from(marketplace::router()))
        .route(
            "/api/test/operator",
            get(|RequireOperator(u): RequireOperator| async move { u.role.to_string() }),
        )
        .route(
            "/api/test/admin",
            get(|RequireAdmin(u): RequireAdmin| async move { u.role.to_string() }),
        )
        .route(
            "/api/test/optional",
            get(|u: Option<AuthUser>| async move {
                u.map_or("anonymous".into(), |u| u.role.to_string())
            }),
        )
        .with_state(state)
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
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
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Reply {
        status,
        headers,
        body,
    }
}

async fn post(app: &Router, uri: &str, body: Value) -> Reply {
    send(app, Method::POST, uri, None, Some(body)).await
}

fn assert_problem(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{:#}", reply.body);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(reply.body["status"], status);
    assert_eq!(reply.body["code"], code, "{:#}", reply.body);
    assert!(reply.body["type"].is_string() && reply.body["title"].is_string());
}

fn error_fields(reply: &Reply) -> Vec<&str> {
    reply.body["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

async fn register(app: &Router, email: &str) -> Value {
    let reply = post(
        app,
        "/api/auth/register",
        json!({"email": email, "password": "correct horse battery", "display_name": "Ada"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    reply.body
}

async fn token_for(pool: &PgPool, app: &Router, email: &str, role: Role) -> String {
    accounts::create_user(pool, email, "correct horse battery", role, None)
        .await
        .unwrap();
    let reply = post(
        app,
        "/api/auth/login",
        json!({"email": email, "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body["access_token"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn register_login_and_me(pool: PgPool) {
    let app = app(pool);
    let reply = post(
        &app,
        "/api/auth/register",
        json!({"email": "Ada@Example.com", "password": "correct horse battery", "display_name": "Ada"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let body = reply.body;
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["role"], "driver");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].is_string());

    let login = post(
        &app,
        "/api/auth/login",
        json!({"email": "ada@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK);
    let token = login.body["access_token"].as_str().unwrap();

    let me = send(&app, Method::GET, "/api/me", Some(token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], body["user"]["id"]);
    assert_eq!(me.body["display_name"], "Ada");
    assert!(me.body["created_at"].is_string());
    assert!(me.body.get("password_hash").is_none() && me.body.get("disabled").is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_registrations_are_problems(pool: PgPool) {
    let app = app(pool);
    let reply = post(
        &app,
        "/api/auth/register",
        json!({"email": "nope", "password": "short"}),
    )
    .await;
    assert_problem(&reply, 422, "validation_failed");
    assert_eq!(error_fields(&reply), ["email", "password"]);

    let reply = post(
        &app,
        "/api/auth/register",
        json!({"email": "a@b.io", "password": "long enough", "role": "admin"}),
    )
    .await;
    assert_problem(&reply, 422, "validation_failed");
    assert_eq!(error_fields(&reply), ["role"]);

    let reply = post(
        &app,
        "/api/auth/register",
        json!({"email": "a@b.io", "password": "long enough", "role": "root"}),
    )
    .await;
    assert_problem(&reply, 422, "validation_failed");
    assert_eq!(error_fields(&reply), ["role"]);

    let reply = post(&app, "/api/auth/register", json!({"email": "a@b.io"})).await;
    assert_problem(&reply, 422, "validation_failed");
    assert_eq!(error_fields(&reply), ["password"]);
    assert_eq!(reply.body["errors"][0]["message"], "is required");

    let reply = post(
        &app,
        "/api/auth/register",
        json!({"email": "a@b.io", "password": 12345678}),
    )
    .await;
    assert_eq!(error_fields(&reply), ["password"]);

    let reply = post(
        &app,
        "/api/auth/register",
        json!({"email": "a@b.io", "password": "long enough", "displayName": "x"}),
    )
    .await;
    assert_eq!(error_fields(&reply), ["displayName"]);

    register(&app, "ada@example.com").await;
    let reply = post(
        &app,
        "/api/auth/register",
        json!({"email": "ADA@example.com", "password": "long enough"}),
    )
    .await;
    assert_problem(&reply, 409, "email_taken");
}

#[sqlx::test(migrations = "../migrations")]
async fn unparseable_bodies_are_problems(pool: PgPool) {
    let app = app(pool);
    let request = |content_type: Option<&str>, body: &'static str| {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri("/api/auth/login");
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        builder.body(Body::from(body)).unwrap()
    };
    let cases = [
        (
            Some("application/json"),
            "{\"email\": ",
            400,
            "malformed_json",
        ),
        (Some("application/json"), "\"text\"", 400, "invalid_body"),
        (None, "{}", 415, "unsupported_media_type"),
        (Some("text/plain"), "{}", 415, "unsupported_media_type"),
    ];
    for (content_type, body, status, code) in cases {
        let response = app
            .clone()
            .oneshot(request(content_type, body))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{body}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let problem: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(problem["code"], code);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn login_failures_are_indistinguishable(pool: PgPool) {
    let app = app(pool.clone());
    register(&app, "ada@example.com").await;
    let wrong_password = post(
        &app,
        "/api/auth/login",
        json!({"email": "ada@example.com", "password": "incorrect horse"}),
    )
    .await;
    let unknown_email = post(
        &app,
        "/api/auth/login",
        json!({"email": "bob@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_problem(&wrong_password, 401, "invalid_credentials");
    assert_eq!(wrong_password.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(wrong_password.body, unknown_email.body);

    let me = send(&app, Method::GET, "/api/me", None, None).await;
    let user_id = {
        let login = post(
            &app,
            "/api/auth/login",
            json!({"email": "ada@example.com", "password": "correct horse battery"}),
        )
        .await;
        let token = login.body["access_token"].as_str().unwrap().to_owned();
        send(&app, Method::GET, "/api/me", Some(&token), None)
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_problem(&me, 401, "unauthorized");

    accounts::service::set_disabled(&pool, user_id.parse().unwrap(), true)
        .await
        .unwrap();
    let disabled = post(
        &app,
        "/api/auth/login",
        json!({"email": "ada@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_problem(&disabled, 403, "account_disabled");
}

#[sqlx::test(migrations = "../migrations")]
async fn refresh_rotation_reuse_and_logout(pool: PgPool) {
    let app = app(pool);
    let registered = register(&app, "ada@example.com").await;
    let first = registered["refresh_token"].as_str().unwrap();

    let rotated = post(&app, "/api/auth/refresh", json!({"refresh_token": first})).await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_eq!(rotated.headers[header::CACHE_CONTROL], "no-store");
    let second = rotated.body["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);

    let reused = post(&app, "/api/auth/refresh", json!({"refresh_token": first})).await;
    assert_problem(&reused, 401, "invalid_refresh_token");
    let revoked = post(&app, "/api/auth/refresh", json!({"refresh_token": second})).await;
    assert_problem(&revoked, 401, "invalid_refresh_token");

    let login = post(
        &app,
        "/api/auth/login",
        json!({"email": "ada@example.com", "password": "correct horse battery"}),
    )
    .await;
    let token = login.body["refresh_token"].as_str().unwrap();
    let logout = post(&app, "/api/auth/logout", json!({"refresh_token": token})).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(logout.body, Value::Null);
    let after = post(&app, "/api/auth/refresh", json!({"refresh_token": token})).await;
    assert_problem(&after, 401, "invalid_refresh_token");

    let missing = post(&app, "/api/auth/refresh", json!({})).await;
    assert_problem(&missing, 422, "validation_failed");
    assert_eq!(error_fields(&missing), ["refresh_token"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn roles_gate_routes(pool: PgPool) {
    let app = app(pool.clone());
    let driver = token_for(&pool, &app, "driver@example.com", Role::Driver).await;
    let operator = token_for(&pool, &app, "operator@example.com", Role::Operator).await;
    let admin = token_for(&pool, &app, "admin@example.com", Role::Admin).await;

    let status = |reply: Reply| reply.status.as_u16();
    let get = |uri: &'static str, token: Option<String>| {
        let app = app.clone();
        async move { send(&app, Method::GET, uri, token.as_deref(), None).await }
    };

    let forbidden = get("/api/test/operator", Some(driver.clone())).await;
    assert_problem(&forbidden, 403, "forbidden");
    let anonymous = get("/api/test/operator", None).await;
    assert_problem(&anonymous, 401, "unauthorized");
    assert_eq!(anonymous.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(
        status(get("/api/test/operator", Some("garbage".into())).await),
        401
    );

    assert_eq!(
        status(get("/api/test/operator", Some(operator.clone())).await),
        200
    );
    assert_eq!(
        status(get("/api/test/operator", Some(admin.clone())).await),
        200,
        "admin has every role"
    );
    assert_eq!(
        status(get("/api/test/admin", Some(operator.clone())).await),
        403
    );
    assert_eq!(
        status(get("/api/test/admin", Some(admin.clone())).await),
        200
    );

    assert_eq!(get("/api/test/optional", None).await.body, "anonymous");
    assert_eq!(get("/api/test/optional", Some(driver)).await.body, "driver");
    assert_eq!(
        status(get("/api/test/optional", Some("garbage".into())).await),
        401
    );
}

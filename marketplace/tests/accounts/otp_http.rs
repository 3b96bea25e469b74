//! One-time codes over HTTP: status codes, problem bodies, rate limits by client address.

use std::net::SocketAddr;

use axum::http::{header, Method};
use axum::Router;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::support::{app, call, last_code, other_code, outbox_count, post, register, Call, Reply};

fn login_body(destination: &str) -> Value {
    json!({"channel": "email", "destination": destination, "purpose": "login"})
}

async fn request_from(app: &Router, body: Value, client: SocketAddr) -> Reply {
    call(
        app,
        Call {
            method: Method::POST,
            uri: "/api/auth/otp/request",
            token: None,
            body: Some(body),
            client: Some(client),
        },
    )
    .await
}

fn addr(ip: [u8; 4]) -> SocketAddr {
    SocketAddr::from((ip, 40_000))
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_with_an_emailed_code(pool: PgPool) {
    let app = app(pool.clone());
    register(&app, "ada@example.com").await;
    let reply = request_from(&app, login_body("ada@example.com"), addr([192, 0, 2, 1])).await;
    let challenge = reply.expect(202).clone();
    assert_eq!(challenge["expires_in"], 300);
    let code = last_code(&pool, "ada@example.com").await.unwrap();

    let reply = post(
        &app,
        "/api/auth/otp/verify",
        None,
        json!({"challenge_id": challenge["challenge_id"], "code": code}),
    )
    .await;
    let tokens = reply.expect(200);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let token = tokens["access_token"].as_str().unwrap();
    let me = super::support::send(&app, Method::GET, "/api/me", Some(token), None).await;
    assert!(me.expect(200)["email_verified_at"].is_string());
}

#[sqlx::test(migrations = "../migrations")]
async fn expired_codes_are_refused(pool: PgPool) {
    let app = app(pool.clone());
    register(&app, "ada@example.com").await;
    post(
        &app,
        "/api/auth/otp/request",
        None,
        login_body("ada@example.com"),
    )
    .await
    .expect(202);
    let code = last_code(&pool, "ada@example.com").await.unwrap();
    // the handlers use the real clock: age the challenge instead of waiting 5 minutes
    sqlx::query(
        "UPDATE otp_challenges SET created_at = created_at - interval '6 minutes', \
                                   expires_at = expires_at - interval '6 minutes'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let body = json!({"channel": "email", "destination": "ada@example.com", "code": code});
    post(&app, "/api/auth/otp/verify", None, body)
        .await
        .expect_problem(400, "otp_expired");
}

#[sqlx::test(migrations = "../migrations")]
async fn five_wrong_codes_lock_out(pool: PgPool) {
    let app = app(pool.clone());
    register(&app, "ada@example.com").await;
    let reply = post(
        &app,
        "/api/auth/otp/request",
        None,
        login_body("ada@example.com"),
    )
    .await;
    let id = reply.expect(202)["challenge_id"].clone();
    let code = last_code(&pool, "ada@example.com").await.unwrap();
    let wrong = other_code(&code);
    for attempt in 1..=5 {
        let reply = post(
            &app,
            "/api/auth/otp/verify",
            None,
            json!({"challenge_id": id, "code": wrong}),
        )
        .await;
        if attempt < 5 {
            reply.expect_problem(400, "invalid_code");
        } else {
            reply.expect_problem(409, "otp_locked");
        }
    }
    post(
        &app,
        "/api/auth/otp/verify",
        None,
        json!({"challenge_id": id, "code": code}),
    )
    .await
    .expect_problem(409, "otp_locked");
}

#[sqlx::test(migrations = "../migrations")]
async fn per_identity_limit_answers_429_with_retry_after(pool: PgPool) {
    let app = app(pool.clone());
    register(&app, "ada@example.com").await;
    for i in 0..3 {
        request_from(&app, login_body("ada@example.com"), addr([192, 0, 2, i]))
            .await
            .expect(202);
    }
    let reply = request_from(&app, login_body("ada@example.com"), addr([192, 0, 2, 9])).await;
    reply.expect_problem(429, "rate_limited");
    let retry: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((890..=900).contains(&retry), "{retry}");
    assert_eq!(
        outbox_count(&pool).await,
        3,
        "the refused request sent nothing"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn per_ip_limit(pool: PgPool) {
    let app = app(pool.clone());
    let client = addr([198, 51, 100, 7]);
    for i in 0..20 {
        request_from(&app, login_body(&format!("u{i}@example.com")), client)
            .await
            .expect(202);
    }
    let reply = request_from(&app, login_body("u99@example.com"), client).await;
    reply.expect_problem(429, "rate_limited");
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    // another address is not affected
    request_from(&app, login_body("u99@example.com"), addr([198, 51, 100, 8]))
        .await
        .expect(202);
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_destination_looks_the_same(pool: PgPool) {
    let app = app(pool.clone());
    register(&app, "ada@example.com").await;
    let known = post(
        &app,
        "/api/auth/otp/request",
        None,
        login_body("ada@example.com"),
    )
    .await;
    let unknown = post(
        &app,
        "/api/auth/otp/request",
        None,
        login_body("eve@example.com"),
    )
    .await;
    assert_eq!(known.status, unknown.status);
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&known.body), keys(&unknown.body));
    assert_eq!(known.body["expires_in"], unknown.body["expires_in"]);
    assert_eq!(
        outbox_count(&pool).await,
        1,
        "only the real account got a message"
    );
    assert_eq!(last_code(&pool, "eve@example.com").await, None);

    let guess = |id: &Value| json!({"challenge_id": id, "code": "000000"});
    let a = post(
        &app,
        "/api/auth/otp/verify",
        None,
        guess(&known.body["challenge_id"]),
    )
    .await;
    let b = post(
        &app,
        "/api/auth/otp/verify",
        None,
        guess(&unknown.body["challenge_id"]),
    )
    .await;
    // (000000 could be the real code once in a million runs)
    if last_code(&pool, "ada@example.com").await.as_deref() != Some("000000") {
        assert_eq!((a.status, &a.body["code"]), (b.status, &b.body["code"]));
        assert_eq!(a.body["detail"], b.body["detail"]);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_requests_name_fields(pool: PgPool) {
    let app = app(pool);
    let reply = post(
        &app,
        "/api/auth/otp/request",
        None,
        json!({"channel": "pigeon", "destination": "x", "purpose": "login"}),
    )
    .await;
    reply.expect_problem(422, "validation_failed");
    assert_eq!(reply.fields(), ["channel"]);
    let reply = post(
        &app,
        "/api/auth/otp/request",
        None,
        json!({"channel": "sms", "destination": "12345", "purpose": "login"}),
    )
    .await;
    assert_eq!(reply.fields(), ["destination"]);
    let reply = post(
        &app,
        "/api/auth/otp/request",
        None,
        json!({"channel": "email", "destination": "a@b.io", "purpose": "verify"}),
    )
    .await;
    reply.expect_problem(401, "unauthorized");
    let reply = post(
        &app,
        "/api/auth/otp/verify",
        None,
        json!({"code": "123456"}),
    )
    .await;
    assert_eq!(reply.fields(), ["challenge_id", "channel", "destination"]);
}

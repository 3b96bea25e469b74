//! The whole TOTP story over HTTP, as an app would live it.

use axum::http::Method;
use axum::Router;
use chrono::Utc;
use marketplace::accounts::totp::code_at;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::support::{app, last_code, post, register, secret_bytes, send, PASSWORD};

async fn password_login(app: &Router) -> Value {
    let reply = post(
        app,
        "/api/auth/login",
        None,
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    reply.expect(200).clone()
}

async fn second_step(app: &Router, mfa_token: &Value, code: &str) -> super::support::Reply {
    post(
        app,
        "/api/auth/login/2fa",
        None,
        json!({"mfa_token": mfa_token, "code": code}),
    )
    .await
}

/// The code an authenticator shows `offset` seconds from now.
fn code_in(secret: &[u8], offset: i64) -> String {
    code_at(secret, (Utc::now().timestamp() + offset) as u64)
}

#[sqlx::test(migrations = "../migrations")]
async fn setup_enable_login_recover_disable(pool: PgPool) {
    let app = app(pool.clone());
    let token = register(&app, "ada@example.com").await;

    // set-up answers the secret once
    let setup = post(&app, "/api/me/2fa/setup", Some(&token), json!({})).await;
    let setup = setup.expect(200).clone();
    let secret = secret_bytes(setup["secret"].as_str().unwrap());
    assert!(setup["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/EV%20Platform:ada%40example.com?"));
    // not enabled yet: login still answers tokens
    assert!(password_login(&app).await["access_token"].is_string());

    // a wrong code does not enable it
    post(
        &app,
        "/api/me/2fa/enable",
        Some(&token),
        json!({"code": "x", "current_password": PASSWORD}),
    )
    .await
    .expect_problem(400, "invalid_code");
    let enabled = post(
        &app,
        "/api/me/2fa/enable",
        Some(&token),
        json!({"code": code_in(&secret, 0), "current_password": PASSWORD}),
    )
    .await;
    let recovery: Vec<String> = enabled.expect(200)["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let me = send(&app, Method::GET, "/api/me", Some(&token), None).await;
    assert_eq!(me.expect(200)["two_factor_enabled"], true);

    // the password alone no longer gives tokens
    let first = password_login(&app).await;
    assert_eq!(first["mfa_required"], true);
    assert_eq!(first["expires_in"], 300);
    assert!(first.get("access_token").is_none());

    // the next step's TOTP code finishes the login
    let reply = second_step(&app, &first["mfa_token"], &code_in(&secret, 30)).await;
    assert_eq!(reply.expect(200)["token_type"], "Bearer");

    // a recovery code works once
    let second = password_login(&app).await;
    second_step(&app, &second["mfa_token"], &recovery[0])
        .await
        .expect(200);
    let third = password_login(&app).await;
    second_step(&app, &third["mfa_token"], &recovery[0])
        .await
        .expect_problem(400, "invalid_code");
    second_step(&app, &third["mfa_token"], &recovery[1])
        .await
        .expect(200);
    // a spent mfa_token is refused
    second_step(&app, &third["mfa_token"], &recovery[2])
        .await
        .expect_problem(400, "invalid_mfa_token");

    // disabling needs a second factor too
    post(
        &app,
        "/api/me/2fa/disable",
        Some(&token),
        json!({"code": "nope-nope", "current_password": PASSWORD}),
    )
    .await
    .expect_problem(400, "invalid_code");
    let reply = post(
        &app,
        "/api/me/2fa/disable",
        Some(&token),
        json!({"code": recovery[2], "current_password": PASSWORD}),
    )
    .await;
    reply.expect(204);
    assert!(password_login(&app).await["access_token"].is_string());
}

#[sqlx::test(migrations = "../migrations")]
async fn otp_login_also_asks_for_the_second_factor(pool: PgPool) {
    let app = app(pool.clone());
    let token = register(&app, "ada@example.com").await;
    let setup = post(&app, "/api/me/2fa/setup", Some(&token), json!({})).await;
    let secret = secret_bytes(setup.expect(200)["secret"].as_str().unwrap());
    post(
        &app,
        "/api/me/2fa/enable",
        Some(&token),
        json!({"code": code_in(&secret, 0), "current_password": PASSWORD}),
    )
    .await
    .expect(200);

    let body = json!({"channel": "email", "destination": "ada@example.com", "purpose": "login"});
    post(&app, "/api/auth/otp/request", None, body)
        .await
        .expect(202);
    let code = last_code(&pool, "ada@example.com").await.unwrap();
    let body = json!({"channel": "email", "destination": "ada@example.com", "code": code});
    let reply = post(&app, "/api/auth/otp/verify", None, body).await;
    let answer = reply.expect(200);
    assert_eq!(answer["mfa_required"], true);
    second_step(&app, &answer["mfa_token"], &code_in(&secret, 30))
        .await
        .expect(200);
}

#[sqlx::test(migrations = "../migrations")]
async fn factor_routes_need_a_bearer(pool: PgPool) {
    let app = app(pool);
    for uri in [
        "/api/me/2fa/setup",
        "/api/me/2fa/enable",
        "/api/me/2fa/disable",
    ] {
        post(&app, uri, None, json!({"code": "123456"}))
            .await
            .expect_problem(401, "unauthorized");
    }
    second_step(&app, &json!("made-up"), "123456")
        .await
        .expect_problem(400, "invalid_mfa_token");
}

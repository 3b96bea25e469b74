//! Sensitive changes need the current password: an attacker holding only an access token
//! can neither turn the second factor on or off nor move the phone.

use axum::http::Method;
use chrono::Utc;
use marketplace::accounts::limits::LOGIN_PER_ACCOUNT_LIMIT;
use marketplace::accounts::totp::code_at;
use serde_json::json;
use sqlx::PgPool;

use super::support::{app, post, register, secret_bytes, send, PASSWORD};

fn code_now(secret: &[u8], offset: i64) -> String {
    code_at(secret, (Utc::now().timestamp() + offset) as u64)
}

#[sqlx::test(migrations = "../migrations")]
async fn two_factor_changes_need_the_password(pool: PgPool) {
    let app = app(pool);
    let token = register(&app, "ada@example.com").await;
    let setup = post(&app, "/api/me/2fa/setup", Some(&token), json!({})).await;
    let secret = secret_bytes(setup.expect(200)["secret"].as_str().unwrap());

    // missing, then wrong: 422 naming the field, and the factor stays off
    let reply = post(
        &app,
        "/api/me/2fa/enable",
        Some(&token),
        json!({"code": code_now(&secret, 0)}),
    )
    .await;
    reply.expect_problem(422, "validation_failed");
    assert_eq!(reply.fields(), ["current_password"]);
    let body = json!({"code": code_now(&secret, 0), "current_password": "guess"});
    let reply = post(&app, "/api/me/2fa/enable", Some(&token), body).await;
    reply.expect_problem(422, "validation_failed");
    assert_eq!(reply.fields(), ["current_password"]);
    let me = send(&app, Method::GET, "/api/me", Some(&token), None).await;
    assert_eq!(me.expect(200)["two_factor_enabled"], false);

    let body = json!({"code": code_now(&secret, 0), "current_password": PASSWORD});
    post(&app, "/api/me/2fa/enable", Some(&token), body)
        .await
        .expect(200);

    // disabling with a valid code but without the password fails, the factor stays on
    let body = json!({"code": code_now(&secret, 30)});
    let reply = post(&app, "/api/me/2fa/disable", Some(&token), body).await;
    reply.expect_problem(422, "validation_failed");
    assert_eq!(reply.fields(), ["current_password"]);
    let body = json!({"code": code_now(&secret, 30), "current_password": "guess"});
    post(&app, "/api/me/2fa/disable", Some(&token), body)
        .await
        .expect_problem(422, "validation_failed");
    let me = send(&app, Method::GET, "/api/me", Some(&token), None).await;
    assert_eq!(me.expect(200)["two_factor_enabled"], true);
    let body = json!({"code": code_now(&secret, 30), "current_password": PASSWORD});
    post(&app, "/api/me/2fa/disable", Some(&token), body)
        .await
        .expect(204);
}

#[sqlx::test(migrations = "../migrations")]
async fn changing_the_phone_needs_the_password(pool: PgPool) {
    let app = app(pool);
    let token = register(&app, "ada@example.com").await;
    let put = |body| send(&app, Method::PUT, "/api/me", Some(&token), Some(body));

    let reply = put(json!({"phone": "+491701234567"})).await;
    reply.expect_problem(422, "validation_failed");
    assert_eq!(reply.fields(), ["current_password"]);
    let reply = put(json!({"phone": "+491701234567", "current_password": "guess"})).await;
    assert_eq!(reply.fields(), ["current_password"]);
    let me = send(&app, Method::GET, "/api/me", Some(&token), None).await;
    assert!(me.expect(200)["phone"].is_null(), "nothing changed");

    let reply = put(json!({"phone": "+491701234567", "current_password": PASSWORD})).await;
    assert_eq!(reply.expect(200)["phone"], "+491701234567");
    // the display name alone, or the same phone again, needs no password
    let reply = put(json!({"display_name": "Ada", "phone": "+49 170 1234567"})).await;
    assert_eq!(reply.expect(200)["display_name"], "Ada");
    // clearing the phone is a change too
    put(json!({"phone": null}))
        .await
        .expect_problem(422, "validation_failed");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stolen_token_is_no_password_oracle(pool: PgPool) {
    let app = app(pool);
    let token = register(&app, "ada@example.com").await;
    for _ in 0..LOGIN_PER_ACCOUNT_LIMIT {
        let body = json!({"phone": "+491701234567", "current_password": "guess"});
        send(&app, Method::PUT, "/api/me", Some(&token), Some(body))
            .await
            .expect_problem(422, "validation_failed");
    }
    // wrong current passwords are failed logins: the right one is now refused too
    let body = json!({"phone": "+491701234567", "current_password": PASSWORD});
    send(&app, Method::PUT, "/api/me", Some(&token), Some(body))
        .await
        .expect_problem(429, "rate_limited");
    post(
        &app,
        "/api/auth/login",
        None,
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await
    .expect_problem(429, "rate_limited");
}

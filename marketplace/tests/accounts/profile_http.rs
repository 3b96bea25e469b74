//! `PUT /api/me` and phone verification by SMS.

use axum::http::Method;
use serde_json::json;
use sqlx::PgPool;

use super::support::{app, last_code, post, register, send, PASSWORD};

#[sqlx::test(migrations = "../migrations")]
async fn set_verify_and_change_the_phone(pool: PgPool) {
    let app = app(pool.clone());
    let ada = register(&app, "ada@example.com").await;
    let reply = send(
        &app,
        Method::PUT,
        "/api/me",
        Some(&ada),
        Some(json!({
            "phone": "+49 170 1234567",
            "display_name": " Ada ",
            "current_password": PASSWORD,
        })),
    )
    .await;
    let me = reply.expect(200);
    assert_eq!(me["phone"], "+491701234567");
    assert_eq!(me["display_name"], "Ada");
    assert!(me["phone_verified_at"].is_null());

    // verify the phone by SMS
    let body = json!({"channel": "sms", "destination": "+491701234567", "purpose": "verify"});
    let reply = post(&app, "/api/auth/otp/request", Some(&ada), body).await;
    let id = reply.expect(202)["challenge_id"].clone();
    let code = last_code(&pool, "+491701234567").await.unwrap();
    let reply = post(
        &app,
        "/api/auth/otp/verify",
        Some(&ada),
        json!({"challenge_id": id, "code": code}),
    )
    .await;
    assert!(reply.expect(200)["phone_verified_at"].is_string());

    // absent fields stay; a new phone starts unverified
    let reply = send(
        &app,
        Method::PUT,
        "/api/me",
        Some(&ada),
        Some(json!({"display_name": null})),
    )
    .await;
    let me = reply.expect(200);
    assert!(me["display_name"].is_null());
    assert!(me["phone_verified_at"].is_string());
    let reply = send(
        &app,
        Method::PUT,
        "/api/me",
        Some(&ada),
        Some(json!({"phone": "+491709999999", "current_password": PASSWORD})),
    )
    .await;
    assert!(reply.expect(200)["phone_verified_at"].is_null());

    // one phone, one account
    let bob = register(&app, "bob@example.com").await;
    send(
        &app,
        Method::PUT,
        "/api/me",
        Some(&bob),
        Some(json!({"phone": "+491709999999", "current_password": PASSWORD})),
    )
    .await
    .expect_problem(409, "phone_taken");
    let reply = send(
        &app,
        Method::PUT,
        "/api/me",
        Some(&bob),
        Some(json!({"phone": "0170 123", "display_name": "x".repeat(101)})),
    )
    .await;
    reply.expect_problem(422, "validation_failed");
    assert_eq!(reply.fields(), ["display_name", "phone"]);
    // an unverified phone gets no sign-in code: it may be a stranger's number
    let login = json!({"channel": "sms", "destination": "+491709999999", "purpose": "login"});
    post(&app, "/api/auth/otp/request", None, login.clone())
        .await
        .expect(202);
    assert_eq!(last_code(&pool, "+491709999999").await, None);
    // verified by its owner, it does: a phone login finds the account by its phone
    let body = json!({"channel": "sms", "destination": "+491709999999", "purpose": "verify"});
    let reply = post(&app, "/api/auth/otp/request", Some(&ada), body).await;
    let id = reply.expect(202)["challenge_id"].clone();
    let code = last_code(&pool, "+491709999999").await.unwrap();
    let body = json!({"challenge_id": id, "code": code});
    post(&app, "/api/auth/otp/verify", Some(&ada), body)
        .await
        .expect(200);
    // (the per-destination limit allows 3 codes per 15 minutes; this is the third)
    post(&app, "/api/auth/otp/request", None, login)
        .await
        .expect(202);
    let code = last_code(&pool, "+491709999999").await.unwrap();
    let body = json!({"channel": "sms", "destination": "+491709999999", "code": code});
    let reply = post(&app, "/api/auth/otp/verify", None, body).await;
    assert!(reply.expect(200)["access_token"].is_string());
}

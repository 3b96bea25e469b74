//! TOTP secrets at rest: sealed under the configured key, bound to their user, and secrets
//! stored in the clear before sealing existed migrated on first use.

use axum::http::Method;
use chrono::Utc;
use marketplace::accounts::totp::code_at;
use marketplace::ApiContext;
use serde_json::json;
use sqlx::PgPool;

use super::support::{app, keys, post, register, secret_bytes, send, PASSWORD};

fn code_now(secret: &[u8], offset: i64) -> String {
    code_at(secret, (Utc::now().timestamp() + offset) as u64)
}

async fn stored(pool: &PgPool, email: &str) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    sqlx::query_as(
        "SELECT f.secret, f.secret_sealed FROM totp_factors f \
         JOIN users u ON u.id = f.user_id WHERE u.email = $1",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn login_needs_second_step(app: &axum::Router, email: &str) -> serde_json::Value {
    let body = json!({"email": email, "password": PASSWORD});
    let reply = post(app, "/api/auth/login", None, body).await;
    let first = reply.expect(200);
    assert_eq!(first["mfa_required"], true);
    first["mfa_token"].clone()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_database_holds_no_usable_secret(pool: PgPool) {
    let app = app(pool.clone());
    let ada = register(&app, "ada@example.com").await;
    let setup = post(&app, "/api/me/2fa/setup", Some(&ada), json!({})).await;
    let secret = secret_bytes(setup.expect(200)["secret"].as_str().unwrap());
    let body = json!({"code": code_now(&secret, 0), "current_password": PASSWORD});
    post(&app, "/api/me/2fa/enable", Some(&ada), body)
        .await
        .expect(200);

    let (plain, sealed) = stored(&pool, "ada@example.com").await;
    assert_eq!(plain, None);
    let sealed = sealed.unwrap();
    assert!(!sealed.windows(secret.len()).any(|w| w == secret));

    // an attacker with write access copies ada's sealed secret onto their own account, whose
    // authenticator they then know: it does not open there
    let mallory = register(&app, "mallory@example.com").await;
    let setup = post(&app, "/api/me/2fa/setup", Some(&mallory), json!({})).await;
    let own = secret_bytes(setup.expect(200)["secret"].as_str().unwrap());
    let body = json!({"code": code_now(&own, 0), "current_password": PASSWORD});
    post(&app, "/api/me/2fa/enable", Some(&mallory), body)
        .await
        .expect(200);
    sqlx::query(
        "UPDATE totp_factors SET secret_sealed = $1, last_step = NULL \
         WHERE user_id = (SELECT id FROM users WHERE email = 'mallory@example.com')",
    )
    .bind(&sealed)
    .execute(&pool)
    .await
    .unwrap();
    let mfa_token = login_needs_second_step(&app, "mallory@example.com").await;
    let body = json!({"mfa_token": mfa_token, "code": code_now(&secret, 30)});
    let reply = post(&app, "/api/auth/login/2fa", None, body).await;
    assert_eq!(reply.status.as_u16(), 500, "{:#}", reply.body);

    // ada herself still signs in
    let mfa_token = login_needs_second_step(&app, "ada@example.com").await;
    let body = json!({"mfa_token": mfa_token, "code": code_now(&secret, 30)});
    post(&app, "/api/auth/login/2fa", None, body)
        .await
        .expect(200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_plaintext_secret_is_sealed_on_first_use(pool: PgPool) {
    let app = app(pool.clone());
    register(&app, "ada@example.com").await;
    // a factor enabled before sealing existed, as the migration leaves it
    let secret = [5u8; 20];
    sqlx::query(
        "INSERT INTO totp_factors (user_id, secret, created_at, enabled_at) \
         SELECT id, $1, now(), now() FROM users WHERE email = 'ada@example.com'",
    )
    .bind(&secret[..])
    .execute(&pool)
    .await
    .unwrap();
    let mfa_token = login_needs_second_step(&app, "ada@example.com").await;
    let body = json!({"mfa_token": mfa_token, "code": code_now(&secret, 0)});
    post(&app, "/api/auth/login/2fa", None, body)
        .await
        .expect(200);
    let (plain, sealed) = stored(&pool, "ada@example.com").await;
    assert_eq!(plain, None, "the plaintext is gone");
    assert!(sealed.is_some());
    // and still works, now sealed
    let mfa_token = login_needs_second_step(&app, "ada@example.com").await;
    let body = json!({"mfa_token": mfa_token, "code": code_now(&secret, 30)});
    post(&app, "/api/auth/login/2fa", None, body)
        .await
        .expect(200);
}

#[sqlx::test(migrations = "../migrations")]
async fn without_a_key_set_up_is_unavailable(pool: PgPool) {
    let app = marketplace::app(ApiContext::new(pool, keys()));
    let ada = register(&app, "ada@example.com").await;
    post(&app, "/api/me/2fa/setup", Some(&ada), json!({}))
        .await
        .expect_problem(503, "service_unavailable");
    // everything else works
    send(&app, Method::GET, "/api/me", Some(&ada), None)
        .await
        .expect(200);
}

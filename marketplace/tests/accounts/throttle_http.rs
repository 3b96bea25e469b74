//! Failed-login throttling, played by an attacker guessing passwords and second factors.

use std::net::SocketAddr;

use axum::http::{header, Method};
use axum::Router;
use chrono::Utc;
use marketplace::accounts::limits::{LOGIN_PER_ACCOUNT_LIMIT, LOGIN_PER_CLIENT_LIMIT};
use marketplace::accounts::totp::code_at;
use serde_json::json;
use sqlx::PgPool;

use super::support::{app, call, post, register, secret_bytes, Call, Reply, PASSWORD};

fn addr(ip: [u8; 4]) -> SocketAddr {
    SocketAddr::from((ip, 40_000))
}

async fn login_from(app: &Router, email: &str, password: &str, client: SocketAddr) -> Reply {
    call(
        app,
        Call {
            method: Method::POST,
            uri: "/api/auth/login",
            token: None,
            body: Some(json!({"email": email, "password": password})),
            client: Some(client),
        },
    )
    .await
}

#[track_caller]
fn expect_throttled(reply: &Reply) {
    reply.expect_problem(429, "rate_limited");
    let secs: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&secs), "Retry-After {secs}");
}

async fn failures(pool: &PgPool) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM login_failures")
        .fetch_one(pool)
        .await
        .unwrap();
    n
}

#[sqlx::test(migrations = "../migrations")]
async fn eleventh_guess_is_refused_even_with_the_right_password(pool: PgPool) {
    let app = app(pool.clone());
    register(&app, "ada@example.com").await;
    register(&app, "bob@example.com").await;
    let attacker = addr([198, 51, 100, 7]);
    for _ in 0..LOGIN_PER_ACCOUNT_LIMIT {
        login_from(&app, "ada@example.com", "not the password", attacker)
            .await
            .expect_problem(401, "invalid_credentials");
    }
    // the limit is the account's: from anywhere, even with the right password
    expect_throttled(&login_from(&app, "ada@example.com", PASSWORD, attacker).await);
    let elsewhere = addr([203, 0, 113, 9]);
    expect_throttled(&login_from(&app, "ADA@example.com", PASSWORD, elsewhere).await);
    // refused before hashing: nothing more was logged as a failed guess either
    assert_eq!(failures(&pool).await, LOGIN_PER_ACCOUNT_LIMIT);
    // another account from another address is unaffected
    login_from(&app, "bob@example.com", PASSWORD, elsewhere)
        .await
        .expect(200);

    // once the window has passed (the failures aged through SQL), ada may log in again
    sqlx::query("UPDATE login_failures SET created_at = created_at - interval '16 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    login_from(&app, "ada@example.com", PASSWORD, attacker)
        .await
        .expect(200);
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_emails_are_throttled_alike(pool: PgPool) {
    let app = app(pool);
    let client = addr([198, 51, 100, 8]);
    for _ in 0..LOGIN_PER_ACCOUNT_LIMIT {
        login_from(&app, "nobody@example.com", PASSWORD, client)
            .await
            .expect_problem(401, "invalid_credentials");
    }
    expect_throttled(&login_from(&app, "nobody@example.com", PASSWORD, client).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_spraying_address_is_throttled_across_accounts(pool: PgPool) {
    let app = app(pool.clone());
    register(&app, "ada@example.com").await;
    let sprayer = addr([198, 51, 100, 9]);
    // one failure short of the limit, each against a different account (written directly:
    // fifty argon2 runs would only slow the test down)
    sqlx::query(
        "INSERT INTO login_failures (account, client_key, step) \
         SELECT 'victim' || n || '@example.com', '198.51.100.9', 'password' \
         FROM generate_series(1, $1) AS n",
    )
    .bind(LOGIN_PER_CLIENT_LIMIT as i32 - 1)
    .execute(&pool)
    .await
    .unwrap();
    login_from(&app, "ada@example.com", "guess", sprayer)
        .await
        .expect_problem(401, "invalid_credentials");
    expect_throttled(&login_from(&app, "ada@example.com", PASSWORD, sprayer).await);
    // ada herself, from her own address, has 1 failure: fine
    login_from(&app, "ada@example.com", PASSWORD, addr([192, 0, 2, 1]))
        .await
        .expect(200);
    // her success clears her account's count, not the sprayer's address
    expect_throttled(&login_from(&app, "carol@example.com", PASSWORD, sprayer).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn success_resets_the_account_count(pool: PgPool) {
    let app = app(pool);
    register(&app, "ada@example.com").await;
    let client = addr([192, 0, 2, 2]);
    for _ in 0..LOGIN_PER_ACCOUNT_LIMIT - 1 {
        login_from(&app, "ada@example.com", "typo", client)
            .await
            .expect_problem(401, "invalid_credentials");
    }
    login_from(&app, "ada@example.com", PASSWORD, client)
        .await
        .expect(200);
    // a fresh count: one more typo does not lock her out
    login_from(&app, "ada@example.com", "typo", client)
        .await
        .expect_problem(401, "invalid_credentials");
    login_from(&app, "ada@example.com", PASSWORD, client)
        .await
        .expect(200);
}

#[sqlx::test(migrations = "../migrations")]
async fn second_factor_guesses_count_too(pool: PgPool) {
    let app = app(pool.clone());
    let token = register(&app, "ada@example.com").await;
    let setup = post(&app, "/api/me/2fa/setup", Some(&token), json!({})).await;
    let secret = secret_bytes(setup.expect(200)["secret"].as_str().unwrap());
    let now = Utc::now().timestamp();
    let body = json!({"code": code_at(&secret, now as u64), "current_password": PASSWORD});
    post(&app, "/api/me/2fa/enable", Some(&token), body)
        .await
        .expect(200);

    // whoever has the password fetches new mfa_tokens (5 guesses each) without end...
    let attacker = addr([198, 51, 100, 10]);
    let mut guesses = 0;
    while guesses < LOGIN_PER_ACCOUNT_LIMIT {
        let first = login_from(&app, "ada@example.com", PASSWORD, attacker).await;
        let mfa_token = first.expect(200)["mfa_token"].clone();
        for _ in 0..2 {
            let body = json!({"mfa_token": mfa_token, "code": "zzzzz-zzzzz"});
            let reply = call(
                &app,
                Call {
                    method: Method::POST,
                    uri: "/api/auth/login/2fa",
                    token: None,
                    body: Some(body),
                    client: Some(attacker),
                },
            )
            .await;
            reply.expect_problem(400, "invalid_code");
            guesses += 1;
        }
    }
    // ...but the account's failures add up across them, and the password step stops too
    expect_throttled(&login_from(&app, "ada@example.com", PASSWORD, attacker).await);
}

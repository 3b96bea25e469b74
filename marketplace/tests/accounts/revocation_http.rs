//! Ending access: a disabled user's unexpired access token stops working on the next request,
//! and a login's refresh tokens die 30 days after the login however often they are rotated.

use axum::http::Method;
use marketplace::accounts::service;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::support::{app, post, register, send, PASSWORD};

#[sqlx::test(migrations = "../migrations")]
async fn disabling_a_user_revokes_their_access_token_at_once(pool: PgPool) {
    let app = app(pool.clone());
    let token = register(&app, "ada@example.com").await;
    let me = send(&app, Method::GET, "/api/me", Some(&token), None).await;
    let id: Uuid = me.expect(200)["id"].as_str().unwrap().parse().unwrap();
    // the request above cached ada as enabled; the vehicles route reads no account itself
    send(&app, Method::GET, "/api/me/vehicles", Some(&token), None)
        .await
        .expect(200);

    // an admin disables her: the very next request with the same, unexpired token is refused
    service::set_disabled(&pool, id, true).await.unwrap();
    send(&app, Method::GET, "/api/me/vehicles", Some(&token), None)
        .await
        .expect_problem(401, "unauthorized");

    // re-enabled, the old token stays dead (its version is behind); a new login works
    service::set_disabled(&pool, id, false).await.unwrap();
    send(&app, Method::GET, "/api/me/vehicles", Some(&token), None)
        .await
        .expect_problem(401, "unauthorized");
    let login = post(
        &app,
        "/api/auth/login",
        None,
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    let fresh = login.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&app, Method::GET, "/api/me/vehicles", Some(&fresh), None)
        .await
        .expect(200);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_deleted_user_is_refused(pool: PgPool) {
    let app = app(pool.clone());
    let token = register(&app, "ada@example.com").await;
    sqlx::query("DELETE FROM users")
        .execute(&pool)
        .await
        .unwrap();
    send(&app, Method::GET, "/api/me/vehicles", Some(&token), None)
        .await
        .expect_problem(401, "unauthorized");
}

async fn refresh(app: &axum::Router, token: &str) -> super::support::Reply {
    post(
        app,
        "/api/auth/refresh",
        None,
        json!({"refresh_token": token}),
    )
    .await
}

#[sqlx::test(migrations = "../migrations")]
async fn a_login_ends_after_its_absolute_lifetime(pool: PgPool) {
    let app = app(pool.clone());
    let registered = post(
        &app,
        "/api/auth/register",
        None,
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    let first = registered.expect(201)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = refresh(&app, &first).await;
    let second = reply.expect(200)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // rotation keeps the family's start
    let (starts,): (i64,) =
        sqlx::query_as("SELECT count(DISTINCT family_started_at) FROM refresh_tokens")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(starts, 1);

    // 29 days in, the family still rotates; at 30 days it is over, however fresh the token
    sqlx::query("UPDATE refresh_tokens SET family_started_at = now() - interval '29 days'")
        .execute(&pool)
        .await
        .unwrap();
    let reply = refresh(&app, &second).await;
    let third = reply.expect(200)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    sqlx::query(
        "UPDATE refresh_tokens SET family_started_at = now() - interval '30 days 1 second'",
    )
    .execute(&pool)
    .await
    .unwrap();
    refresh(&app, &third)
        .await
        .expect_problem(401, "invalid_refresh_token");
}

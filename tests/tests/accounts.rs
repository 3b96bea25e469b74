//! Sign-up, login, token refresh and logout through the real server.

use e2e_tests::{Server, ServerOptions};
use serde_json::{json, Value};

#[tokio::test]
async fn register_login_refresh_logout() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    let reg = http
        .post(server.url("/api/auth/register"))
        .json(&json!({"email": "Dana@Example.com", "password": "a long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status(), 201);
    let weak = http
        .post(server.url("/api/auth/register"))
        .json(&json!({"email": "x@example.com", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 422);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "password");
    let admin = http
        .post(server.url("/api/auth/register"))
        .json(&json!({"email": "evil@example.com", "password": "a long password", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert!(admin.status().is_client_error());

    let wrong = http
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": "dana@example.com", "password": "nope nope nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let tokens: Value = http
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": "dana@example.com", "password": "a long password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let me: Value = http
        .get(server.url("/api/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "dana@example.com");
    assert_eq!(me["role"], "driver");

    let refreshed: Value = http
        .post(server.url("/api/auth/refresh"))
        .json(&json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(refreshed["access_token"].is_string());
    // The old refresh token is spent; using it again revokes the family.
    let reuse = http
        .post(server.url("/api/auth/refresh"))
        .json(&json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reuse.status(), 401);
    let after = http
        .post(server.url("/api/auth/refresh"))
        .json(&json!({"refresh_token": refreshed["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

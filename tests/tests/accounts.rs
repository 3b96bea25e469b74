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

/// Disabling an account takes effect on the very next request: the user's unexpired access
/// token is refused, not honoured until it expires; only admins may do it.
#[tokio::test]
async fn disabling_a_user_revokes_their_access_token_at_once() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    let driver = server.token_for("driver").await.unwrap();
    let me: Value = server.get_json(&driver, "/api/me").await.unwrap();
    let id = me["id"].as_str().unwrap().to_owned();
    let disable = format!("/api/admin/users/{id}/disable");

    let other = server.token_for("operator").await.unwrap();
    let refused = http
        .post(server.url(&disable))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "only admins disable accounts");

    let admin = server.token_for("admin").await.unwrap();
    let done: Value = http
        .post(server.url(&disable))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["disabled"], true, "{done}");
    let after = http
        .get(server.url("/api/me"))
        .bearer_auth(&driver)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        401,
        "the old access token must be dead at once"
    );

    // Enabled again, the old token stays dead (its version is stale): log in anew.
    http.post(server.url(&format!("/api/admin/users/{id}/enable")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let still = http
        .get(server.url("/api/me"))
        .bearer_auth(&driver)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 401);
}

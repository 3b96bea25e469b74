//! `/api/me/vehicles`: CRUD, field errors, one default, and only the owner sees them.

use axum::http::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::support::{app, register, send};

fn car() -> Value {
    json!({
        "make": "Volkswagen",
        "model": "ID.3",
        "year": 2023,
        "battery_kwh": 58,
        "connector_types": ["CCS2", "Type2"],
        "nickname": "Blue",
        "is_default": true
    })
}

#[sqlx::test(migrations = "../migrations")]
async fn crud_and_default(pool: PgPool) {
    let app = app(pool);
    let ada = register(&app, "ada@example.com").await;
    let reply = send(
        &app,
        Method::POST,
        "/api/me/vehicles",
        Some(&ada),
        Some(car()),
    )
    .await;
    let first = reply.expect(201).clone();
    assert_eq!(first["connector_types"], json!(["CCS2", "Type2"]));
    assert_eq!(first["battery_kwh"], 58.0);
    assert_eq!(first["is_default"], true);

    let mut second = car();
    second["model"] = json!("ID.4");
    second["connector_types"] = json!(["CCS2"]);
    let reply = send(
        &app,
        Method::POST,
        "/api/me/vehicles",
        Some(&ada),
        Some(second),
    )
    .await;
    let second = reply.expect(201).clone();

    let list = send(&app, Method::GET, "/api/me/vehicles", Some(&ada), None).await;
    let list = list.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], second["id"], "the default comes first");
    assert_eq!(list[1]["is_default"], false, "only one default");

    let uri = format!("/api/me/vehicles/{}", first["id"].as_str().unwrap());
    let mut changed = car();
    changed["nickname"] = json!(null);
    changed["battery_kwh"] = json!(77.5);
    let reply = send(&app, Method::PUT, &uri, Some(&ada), Some(changed)).await;
    let updated = reply.expect(200);
    assert_eq!(updated["battery_kwh"], 77.5);
    assert!(updated["nickname"].is_null());
    assert_eq!(updated["is_default"], true);
    let shown = send(&app, Method::GET, &uri, Some(&ada), None).await;
    assert_eq!(shown.expect(200)["battery_kwh"], 77.5);

    send(&app, Method::DELETE, &uri, Some(&ada), None)
        .await
        .expect(204);
    send(&app, Method::GET, &uri, Some(&ada), None)
        .await
        .expect_problem(404, "not_found");
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_owner_sees_them(pool: PgPool) {
    let app = app(pool);
    let ada = register(&app, "ada@example.com").await;
    let eve = register(&app, "eve@example.com").await;
    let reply = send(
        &app,
        Method::POST,
        "/api/me/vehicles",
        Some(&ada),
        Some(car()),
    )
    .await;
    let uri = format!(
        "/api/me/vehicles/{}",
        reply.expect(201)["id"].as_str().unwrap()
    );
    send(&app, Method::GET, &uri, Some(&eve), None)
        .await
        .expect_problem(404, "not_found");
    send(&app, Method::PUT, &uri, Some(&eve), Some(car()))
        .await
        .expect_problem(404, "not_found");
    send(&app, Method::DELETE, &uri, Some(&eve), None)
        .await
        .expect_problem(404, "not_found");
    let list = send(&app, Method::GET, "/api/me/vehicles", Some(&eve), None).await;
    assert_eq!(list.expect(200), &json!({"items": []}));
    send(&app, Method::GET, &uri, None, None)
        .await
        .expect_problem(401, "unauthorized");
    send(
        &app,
        Method::GET,
        "/api/me/vehicles/not-a-uuid",
        Some(&ada),
        None,
    )
    .await
    .expect_problem(404, "not_found");
    // still there for its owner
    send(&app, Method::GET, &uri, Some(&ada), None)
        .await
        .expect(200);
}

#[sqlx::test(migrations = "../migrations")]
async fn field_errors(pool: PgPool) {
    let app = app(pool);
    let ada = register(&app, "ada@example.com").await;
    let bad = json!({
        "make": " ",
        "model": "ID.3",
        "battery_kwh": 300,
        "connector_types": ["CCS2", "J1772"]
    });
    let reply = send(
        &app,
        Method::POST,
        "/api/me/vehicles",
        Some(&ada),
        Some(bad),
    )
    .await;
    reply.expect_problem(422, "validation_failed");
    assert_eq!(
        reply.fields(),
        ["make", "battery_kwh", "connector_types[1]"]
    );
    let empty = json!({"make": "VW", "model": "ID.3", "battery_kwh": 58, "connector_types": []});
    let reply = send(
        &app,
        Method::POST,
        "/api/me/vehicles",
        Some(&ada),
        Some(empty),
    )
    .await;
    assert_eq!(reply.fields(), ["connector_types"]);
    let missing = json!({"make": "VW", "model": "ID.3", "connector_types": ["CCS2"]});
    let reply = send(
        &app,
        Method::POST,
        "/api/me/vehicles",
        Some(&ada),
        Some(missing),
    )
    .await;
    assert_eq!(reply.fields(), ["battery_kwh"]);
}

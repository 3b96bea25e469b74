//! The listing routes as a client sees them: status codes, problem+json bodies, visibility.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use marketplace::accounts::{AuthKeys, Role, DEFAULT_ACCESS_TTL};
use marketplace::ApiContext;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

use super::common::user;

const SECRET: [u8; 32] = [42; 32];

fn app(pool: PgPool) -> Router {
    let ctx = ApiContext::new(pool, AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL));
    marketplace::app(ctx)
}

async fn token(pool: &PgPool, email: &str, role: Role) -> String {
    let u = user(pool, email, role).await;
    AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL)
        .issue_access(u.id, role)
        .unwrap()
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    };
    let response = app.clone().oneshot(request.unwrap()).await.unwrap();
    let status = response.status();
    let problem = response.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    if status.is_client_error() {
        assert_eq!(problem.unwrap(), "application/problem+json");
    }
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, body)
}

fn charger() -> Value {
    json!({
        "title": "Wallbox in the garage",
        "address": "Hauptstr. 1, 10115 Berlin",
        "latitude": 52.52,
        "longitude": 13.405,
        "time_zone": "Europe/Berlin",
        "photos": ["https://cdn.example/garage.jpg"],
        "amenities": ["wifi"],
        "price_per_kwh": "0.35",
        "currency": "EUR"
    })
}

fn port() -> Value {
    json!({"connector_type": "Type2", "power_kw": 11, "current_type": "AC", "label": "left"})
}

fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

/// A draft with one port, created by `host`; returns its id.
async fn draft(app: &Router, host: &str) -> String {
    let (status, body) = send(
        app,
        Method::POST,
        "/api/chargers",
        Some(host),
        Some(charger()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body:#}");
    let id = body["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/chargers/{id}/ports");
    let (status, _) = send(app, Method::POST, &uri, Some(host), Some(port())).await;
    assert_eq!(status, StatusCode::CREATED);
    id
}

#[sqlx::test(migrations = "../migrations")]
async fn review_lifecycle_and_visibility(pool: PgPool) {
    let host = token(&pool, "host@example.com", Role::Host).await;
    let admin = token(&pool, "admin@example.com", Role::Admin).await;
    let driver = token(&pool, "driver@example.com", Role::Driver).await;
    let app = app(pool);
    let id = draft(&app, &host).await;
    let one = format!("/api/chargers/{id}");

    // unapproved: not found for drivers and anonymous callers, and absent from their pages
    for who in [Some(driver.as_str()), None] {
        let (status, body) = send(&app, Method::GET, &one, who, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], "not_found");
        let (_, page) = send(&app, Method::GET, "/api/chargers", who, None).await;
        assert_eq!(page["total"], 0);
    }
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("/api/admin/chargers/{id}/approve"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, body) = send(
        &app,
        Method::POST,
        &format!("{one}/submit"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("submitted"))
    );
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("/api/admin/chargers/{id}/approve"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let reject = format!("/api/admin/chargers/{id}/reject");
    let (status, body) = send(
        &app,
        Method::POST,
        &reject,
        Some(&admin),
        Some(json!({"reason": " "})),
    )
    .await;
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason"])
    );
    let (status, body) = send(
        &app,
        Method::POST,
        &reject,
        Some(&admin),
        Some(json!({"reason": "no photo of the socket"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "rejected");
    assert_eq!(body["rejection_reason"], "no photo of the socket");

    send(
        &app,
        Method::POST,
        &format!("{one}/submit"),
        Some(&host),
        None,
    )
    .await;
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("/api/admin/chargers/{id}/approve"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("listed"))
    );

    // listed: everyone sees it, with its ports and summary
    let (status, body) = send(&app, Method::GET, &one, None, None).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["latitude"], 52.52);
    assert_eq!(body["longitude"], 13.405);
    assert_eq!(body["time_zone"], "Europe/Berlin");
    assert_eq!(body["price_per_kwh"], "0.3500");
    assert_eq!(body["currency"], "EUR");
    assert_eq!(body["ports"][0]["connector_type"], "Type2");
    assert_eq!(body["ports"][0]["live_status"], "Unknown");
    assert_eq!(body["ports_total"], 1);
    // A plain socket reports nothing: its ports count as available until told otherwise.
    assert_eq!(body["ports_available"], 1);
    assert_eq!(body["connector_types"], json!(["Type2"]));
    assert_eq!(body["rating"], json!({"average": 0.0, "count": 0}));
    assert_eq!(body["opening_hours"], json!([]));
    let (_, page) = send(&app, Method::GET, "/api/chargers", Some(&driver), None).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], id.as_str());

    // editing keeps it listed
    let mut edited = charger();
    edited["title"] = json!("Renamed wallbox");
    let (status, body) = send(&app, Method::PUT, &one, Some(&host), Some(edited)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("listed"))
    );

    let (status, body) = send(&app, Method::DELETE, &one, Some(&host), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_listing_transition"))
    );
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("{one}/unlist"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(&app, Method::GET, &one, Some(&driver), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("{one}/relist"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("listed"))
    );
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("{one}/relist"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_listing_transition"))
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn hosts_cannot_edit_each_others_listings(pool: PgPool) {
    let host = token(&pool, "host@example.com", Role::Host).await;
    let other = token(&pool, "other@example.com", Role::Host).await;
    let admin = token(&pool, "admin@example.com", Role::Admin).await;
    let app = app(pool);
    let id = draft(&app, &host).await;
    let one = format!("/api/chargers/{id}");

    // a draft of someone else does not exist for them
    let (status, _) = send(&app, Method::PUT, &one, Some(&other), Some(charger())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        &app,
        Method::GET,
        &format!("{one}/ports"),
        Some(&other),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // admins see and edit every listing
    let (status, _) = send(
        &app,
        Method::PUT,
        &format!("{one}/opening-hours"),
        Some(&admin),
        Some(json!([{"weekday": 1, "opens": "08:00", "closes": "24:00"}])),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    send(
        &app,
        Method::POST,
        &format!("{one}/submit"),
        Some(&host),
        None,
    )
    .await;
    send(
        &app,
        Method::POST,
        &format!("/api/admin/chargers/{id}/approve"),
        Some(&admin),
        None,
    )
    .await;
    // listed: visible to the other host, but not theirs to change
    let (status, body) = send(&app, Method::PUT, &one, Some(&other), Some(charger())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("{one}/ports"),
        Some(&other),
        Some(port()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(
        &app,
        Method::GET,
        &format!("{one}/opening-hours"),
        Some(&other),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // and a driver cannot create listings at all
    let driver = send(&app, Method::POST, "/api/chargers", None, Some(charger())).await;
    assert_eq!(driver.0, StatusCode::UNAUTHORIZED);
    // ids that are not UUIDs name nothing
    let (status, _) = send(&app, Method::GET, "/api/chargers/not-a-uuid", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_names_the_field(pool: PgPool) {
    let host = token(&pool, "host@example.com", Role::Host).await;
    let app = app(pool);

    let mut bad = charger();
    bad["latitude"] = json!(91);
    bad["time_zone"] = json!("Europe/Atlantis");
    let (status, body) = send(&app, Method::POST, "/api/chargers", Some(&host), Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(fields(&body), ["latitude", "time_zone"]);

    let mut bad = charger();
    bad["device_kind"] = json!("zigbee");
    let (status, body) = send(&app, Method::POST, "/api/chargers", Some(&host), Some(bad)).await;
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["device_kind"])
    );

    let id = draft(&app, &host).await;
    let ports = format!("/api/chargers/{id}/ports");
    let mut bad = port();
    bad["connector_type"] = json!("CCS3");
    let (status, body) = send(&app, Method::POST, &ports, Some(&host), Some(bad)).await;
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["connector_type"])
    );
    let mut bad = port();
    bad["power_kw"] = json!(0);
    let (status, body) = send(&app, Method::POST, &ports, Some(&host), Some(bad)).await;
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["power_kw"])
    );

    let hours = format!("/api/chargers/{id}/opening-hours");
    let overlapping = json!([
        {"weekday": 1, "opens": "08:00", "closes": "12:00"},
        {"weekday": 1, "opens": "11:00", "closes": "13:00"}
    ]);
    let (status, body) = send(&app, Method::PUT, &hours, Some(&host), Some(overlapping)).await;
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["opening_hours"])
    );
    let bad_time = json!([{"weekday": 1, "opens": "25:00", "closes": "09:00"}]);
    let (status, body) = send(&app, Method::PUT, &hours, Some(&host), Some(bad_time)).await;
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["[0].opens"])
    );

    let (status, body) = send(
        &app,
        Method::GET,
        "/api/chargers?limit=101&status=nope",
        Some(&host),
        None,
    )
    .await;
    assert_eq!(
        (status, fields(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["limit", "status"])
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn ports_and_calendar_over_http(pool: PgPool) {
    let host = token(&pool, "host@example.com", Role::Host).await;
    let app = app(pool);
    let id = draft(&app, &host).await;
    let one = format!("/api/chargers/{id}");
    let dc = json!({"connector_type": "CCS2", "power_kw": 150, "current_type": "DC"});
    let (status, created) = send(
        &app,
        Method::POST,
        &format!("{one}/ports"),
        Some(&host),
        Some(dc),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body) = send(&app, Method::GET, &one, Some(&host), None).await;
    assert_eq!(body["connector_types"], json!(["CCS2", "Type2"]));
    assert_eq!(
        (body["ports_total"].as_i64(), body["max_power_kw"].as_f64()),
        (Some(2), Some(150.0))
    );

    let port_uri = format!("{one}/ports/{}", created["id"].as_str().unwrap());
    let (status, body) = send(&app, Method::PUT, &port_uri, Some(&host), Some(port())).await;
    assert_eq!(
        (status, body["connector_type"].as_str()),
        (StatusCode::OK, Some("Type2"))
    );
    let (_, body) = send(&app, Method::GET, &one, Some(&host), None).await;
    assert_eq!(body["connector_types"], json!(["Type2"]));
    assert_eq!(body["max_power_kw"], 11.0);
    let (status, _) = send(&app, Method::DELETE, &port_uri, Some(&host), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = send(
        &app,
        Method::GET,
        &format!("{one}/ports"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(body.as_array().unwrap().len(), 1);

    let blackout = json!({"starts_on": "2026-12-24", "ends_on": "2026-12-26", "reason": "Xmas"});
    let (status, _) = send(
        &app,
        Method::POST,
        &format!("{one}/blackouts"),
        Some(&host),
        Some(blackout.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("{one}/blackouts"),
        Some(&host),
        Some(blackout.clone()),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("blackout_exists"))
    );
    let (_, body) = send(
        &app,
        Method::GET,
        &format!("{one}/blackouts"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(body, json!([blackout]));
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("{one}/blackouts/2026-12-24"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("{one}/blackouts/2026-12-24"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let week = json!([{"weekday": 7, "opens": "10:00", "closes": "24:00"}, {"weekday": 1, "opens": "00:00", "closes": "06:30"}]);
    let (status, body) = send(
        &app,
        Method::PUT,
        &format!("{one}/opening-hours"),
        Some(&host),
        Some(week),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body[0],
        json!({"weekday": 1, "opens": "00:00", "closes": "06:30"})
    );
    let (_, body) = send(
        &app,
        Method::GET,
        &format!("{one}/opening-hours"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(body[1]["closes"], "24:00");

    let (status, _) = send(&app, Method::DELETE, &one, Some(&host), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "drafts can be deleted");
}

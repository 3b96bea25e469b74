//! The search routes as a client sees them: public, JSON in and out, problem+json errors.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use marketplace::accounts::{AuthKeys, DEFAULT_ACCESS_TTL};
use marketplace::ApiContext;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

use super::support::{host, listing, port, Spec};

pub fn app(pool: PgPool) -> Router {
    let ctx = ApiContext::new(pool, AuthKeys::new(&[7; 32], DEFAULT_ACCESS_TTL));
    marketplace::app(ctx)
}

pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let response = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, value)
}

#[sqlx::test(migrations = "../migrations")]
async fn nearby_answers_the_documented_shape(pool: PgPool) {
    let h = host(&pool).await;
    let mut s = Spec::at("Rue de Rivoli charger", 48.8606, 2.3376);
    s.rating = (4.5, 12);
    s.price_per_hour = Some(1.5);
    let id = listing(&pool, h, s).await;
    let app = app(pool);
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/search/nearby",
        Some(json!({"latitude": 48.8566, "longitude": 2.3522, "connector_types": ["Type2"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 1);
    assert_eq!(body["next_offset"], Value::Null);
    let r = &body["results"][0];
    assert_eq!(r["id"], id.to_string());
    assert_eq!(
        r["price"],
        json!({"currency": "EUR", "per_kwh": 0.3, "per_hour": 1.5})
    );
    assert_eq!(r["rating"], json!({"average": 4.5, "count": 12}));
    assert_eq!(r["connector_types"], json!(["Type2"]));
    assert_eq!(r["ports_total"], 2);
    assert_eq!(r["open_now"], true);
    let d = r["distance_km"].as_f64().unwrap();
    assert!((1.0..1.3).contains(&d), "{d}");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_names_the_field(pool: PgPool) {
    let app = app(pool);
    let cases = [
        (
            "/api/search/nearby",
            json!({"latitude": 91, "longitude": 0}),
            "latitude",
        ),
        (
            "/api/search/nearby",
            json!({"latitude": 0, "longitude": -181}),
            "longitude",
        ),
        (
            "/api/search/nearby",
            json!({"latitude": 0, "longitude": 0, "radius_km": 0}),
            "radius_km",
        ),
        (
            "/api/search/nearby",
            json!({"latitude": 0, "longitude": 0, "radius_km": 500}),
            "radius_km",
        ),
        (
            "/api/search/nearby",
            json!({"latitude": 0, "longitude": 0, "limit": 0}),
            "limit",
        ),
        (
            "/api/search/nearby",
            json!({"latitude": 0, "longitude": 0, "limit": 101}),
            "limit",
        ),
        (
            "/api/search/nearby",
            json!({"latitude": 0, "longitude": 0, "connector_types": ["Tesla"]}),
            "connector_types[0]",
        ),
        (
            "/api/search/nearby",
            json!({"latitude": 0, "longitude": 0, "min_rating": 4}),
            "min_rating",
        ),
        ("/api/search/nearby", json!({"longitude": 0}), "latitude"),
        (
            "/api/search/recommend",
            json!({"latitude": 0, "longitude": 0, "weights": {"price": -1}}),
            "weights.price",
        ),
        (
            "/api/search/advanced",
            json!({"latitude": 0, "longitude": 0, "sort_by": "cheapest"}),
            "sort_by",
        ),
        (
            "/api/search/area",
            json!({"min_lat": 0, "min_lon": 0, "max_lat": 1, "max_lon": 200}),
            "max_lon",
        ),
        (
            "/api/search/area",
            json!({"min_lat": 5, "min_lon": 0, "max_lat": 1, "max_lon": 1}),
            "min_lat",
        ),
        (
            "/api/search/route",
            json!({"latitude": 0, "longitude": 999, "charger_id": uuid::Uuid::now_v7()}),
            "longitude",
        ),
    ];
    for (uri, body, field) in cases {
        let (status, problem) = call(&app, Method::POST, uri, Some(body.clone())).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{uri} {body}: {problem}"
        );
        assert_eq!(problem["code"], "validation_failed");
        let fields: Vec<_> = problem["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            fields.iter().any(|f| f == field)
                || problem["detail"].as_str().unwrap().contains(field),
            "{uri} {body}: {problem}"
        );
    }
    let (status, problem) = call(&app, Method::GET, "/api/search/location?q=", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "q");
    let (status, problem) = call(
        &app,
        Method::GET,
        "/api/search/location?q=paris&limit=x",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "limit");
}

#[sqlx::test(migrations = "../migrations")]
async fn advanced_combines_everything(pool: PgPool) {
    let h = host(&pool).await;
    let mut a = Spec::at("fast dc with cafe", 48.86, 2.35);
    a.connector_types = vec!["CCS2"];
    a.max_power_kw = 150.0;
    a.amenities = vec!["wifi", "cafe", "toilets"];
    a.rating = (4.6, 40);
    a.price_per_hour = Some(2.0);
    listing(&pool, h, a.clone()).await;
    let mut b = a.clone();
    b.title = "same without cafe";
    b.amenities = vec!["wifi"];
    listing(&pool, h, b).await;
    let mut c = a.clone();
    c.title = "ac only";
    c.connector_types = vec!["Type2"];
    listing(&pool, h, c).await;
    let app = app(pool);
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/search/advanced",
        Some(json!({
            "latitude": 48.8566, "longitude": 2.3522, "radius_km": 5,
            "amenities": ["cafe", "wifi"], "current_type": "DC", "min_rating": 4.5,
            "max_price_per_hour": 2.5, "min_power_kw": 100, "sort_by": "rating",
            "open_at": "2025-06-11T10:00:00Z", "limit": 10
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 1);
    assert_eq!(body["results"][0]["title"], "fast dc with cafe");
    // advanced-only criteria are refused by name on nearby, not ignored
    let (status, problem) = call(
        &app,
        Method::POST,
        "/api/search/nearby",
        Some(json!({"latitude": 48.8566, "longitude": 2.3522, "amenities": ["cafe"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "amenities");
}

#[sqlx::test(migrations = "../migrations")]
async fn recommend_explains_its_score(pool: PgPool) {
    let h = host(&pool).await;
    listing(&pool, h, Spec::at("only one", 48.86, 2.35)).await;
    let app = app(pool);
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/search/recommend",
        Some(json!({"latitude": 48.8566, "longitude": 2.3522, "weights": {"price": 0, "rating": 0, "availability": 0}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["weights"],
        json!({"distance": 1.0, "price": 0.0, "availability": 0.0, "rating": 0.0})
    );
    let top = &body["results"][0];
    assert_eq!(top["title"], "only one");
    assert_eq!(top["factors"]["distance"]["weight"], 1.0);
    let score = top["score"].as_f64().unwrap();
    assert!((score - top["factors"]["distance"]["score"].as_f64().unwrap()).abs() < 1e-9);
}

#[sqlx::test(migrations = "../migrations")]
async fn location_finds_cities_and_chargers_there(pool: PgPool) {
    let h = host(&pool).await;
    listing(&pool, h, Spec::at("lyon centre", 45.76, 4.84)).await;
    let app = app(pool);
    let (status, body) = call(
        &app,
        Method::GET,
        "/api/search/location?q=Lyon%20FR&limit=3&with_chargers=true",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["name"], "Lyon");
    assert_eq!(body["results"][0]["country_code"], "FR");
    assert_eq!(body["results"][0]["match"], "exact");
    assert!(body["note"]
        .as_str()
        .unwrap()
        .contains("street addresses are not resolved"));
    assert_eq!(body["chargers"]["count"], 1);
    assert_eq!(body["chargers"]["results"][0]["title"], "lyon centre");
    let (_, body) = call(
        &app,
        Method::GET,
        "/api/search/location?q=springfield,%20us",
        None,
    )
    .await;
    assert!(body["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["country_code"] == "US"));
    assert!(body.get("chargers").is_none());
    let (status, body) = call(
        &app,
        Method::GET,
        "/api/search/location?q=nowhereville",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn availability_route(pool: PgPool) {
    let h = host(&pool).await;
    let id = listing(&pool, h, Spec::at("garage", 48.85, 2.35)).await;
    port(&pool, id, "left", "Occupied").await;
    port(&pool, id, "right", "Available").await;
    let app = app(pool);
    let (status, body) = call(
        &app,
        Method::GET,
        &format!("/api/search/chargers/{id}/availability"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ports_total"], 2);
    assert_eq!(body["ports_free_now"], 1);
    let left = body["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["label"] == "left")
        .unwrap();
    assert_eq!(left["status_now"], "occupied");
    assert_eq!(left["slots"].as_array().unwrap().len(), 24);
    for uri in [
        format!("/api/search/chargers/{}/availability", uuid::Uuid::now_v7()),
        "/api/search/chargers/not-a-uuid/availability".to_owned(),
    ] {
        let (status, problem) = call(&app, Method::GET, &uri, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(problem["code"], "not_found");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn area_route_markers_then_clusters(pool: PgPool) {
    let h = host(&pool).await;
    for i in 0..3 {
        listing(&pool, h, Spec::at("pin", 10.0 + i as f64, 10.0)).await;
    }
    let app = app(pool);
    let bbox = json!({"min_lat": 0, "min_lon": 0, "max_lat": 20, "max_lon": 20});
    let (status, body) = call(&app, Method::POST, "/api/search/area", Some(bbox.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mode"], "markers");
    assert_eq!(body["results"].as_array().unwrap().len(), 3);
    let mut small = bbox;
    small["limit"] = json!(2);
    let (_, body) = call(&app, Method::POST, "/api/search/area", Some(small)).await;
    assert_eq!(body["mode"], "clusters");
    assert_eq!(body["count"], 3);
    assert!(body["clusters"][0]["latitude"].is_number());
}

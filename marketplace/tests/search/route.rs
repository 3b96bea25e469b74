//! `route`: the documented estimate, and the OSRM adapter against a local HTTP double.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery};
use axum::http::{Method, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use marketplace::accounts::{AuthKeys, DEFAULT_ACCESS_TTL};
use marketplace::search::model::GeoPoint;
use marketplace::search::{OsrmPlanner, RoutePlanner};
use marketplace::ApiContext;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::http::{app, call};
use super::support::{host, listing, Spec};

#[sqlx::test(migrations = "../migrations")]
async fn estimate_by_default(pool: PgPool) {
    let h = host(&pool).await;
    // ~10 km north of the driver
    let id = listing(
        &pool,
        h,
        Spec::at("north", 48.8566 + 10.0 / 111.195, 2.3522),
    )
    .await;
    let app = app(pool);
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/search/route",
        Some(json!({"latitude": 48.8566, "longitude": 2.3522, "charger_id": id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["method"], "great_circle_estimate");
    assert_eq!(body["road_factor"], 1.3);
    assert_eq!(body["average_speed_kmh"], 40.0);
    let d = body["distance_km"].as_f64().unwrap();
    assert!((d - 13.0).abs() < 0.05, "{d}");
    let m = body["duration_minutes"].as_f64().unwrap();
    assert!((m - 19.5).abs() < 0.1, "{m}");
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/search/route",
        Some(json!({"latitude": 0, "longitude": 0, "charger_id": uuid::Uuid::now_v7()})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A stand-in OSRM that records the paths it is asked for and answers `answer`.
async fn osrm_double(answer: Value) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = Router::new().route(
        "/route/v1/driving/{coords}",
        get(move |Path(coords): Path<String>, RawQuery(q): RawQuery| {
            let log = log.clone();
            let answer = answer.clone();
            async move {
                log.lock()
                    .unwrap()
                    .push(format!("{coords}?{}", q.unwrap_or_default()));
                Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn provider() {
    // the binary installs one at start; tests in this process share it
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[tokio::test]
async fn osrm_adapter_asks_lon_lat_and_reads_metres_and_seconds() {
    provider();
    let (base, seen) = osrm_double(json!({
        "code": "Ok",
        "routes": [{"distance": 12345.6, "duration": 900.0, "legs": []}],
        "waypoints": []
    }))
    .await;
    let planner = OsrmPlanner::new(&format!("{base}/")).unwrap();
    let r = planner
        .plan(GeoPoint::new(48.8566, 2.3522), GeoPoint::new(48.9, 2.4))
        .await
        .unwrap();
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        ["2.3522,48.8566;2.4,48.9?overview=false"]
    );
    assert_eq!(r.method, "osrm");
    assert!((r.distance_km - 12.3456).abs() < 1e-9);
    assert!((r.duration_minutes - 15.0).abs() < 1e-9);
}

#[sqlx::test(migrations = "../migrations")]
async fn osrm_through_the_route_and_fallback(pool: PgPool) {
    provider();
    let h = host(&pool).await;
    let id = listing(&pool, h, Spec::at("target", 48.9, 2.4)).await;
    let body = json!({"latitude": 48.8566, "longitude": 2.3522, "charger_id": id});

    let (base, _) =
        osrm_double(json!({"code": "Ok", "routes": [{"distance": 8000.0, "duration": 600.0}]}))
            .await;
    let ctx = ApiContext::new(pool.clone(), AuthKeys::new(&[7; 32], DEFAULT_ACCESS_TTL))
        .with_route_planner(Arc::new(OsrmPlanner::new(&base).unwrap()));
    let app: Router = marketplace::app(ctx);
    let (status, out) = call(&app, Method::POST, "/api/search/route", Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["method"], "osrm");
    assert_eq!(out["distance_km"], 8.0);
    assert_eq!(out["duration_minutes"], 10.0);
    assert!(out.get("road_factor").is_none());

    // a router with no route: the driver still gets the estimate, marked as a fallback
    let (base, _) = osrm_double(json!({"code": "NoRoute", "message": "Impossible route"})).await;
    let ctx = ApiContext::new(pool, AuthKeys::new(&[7; 32], DEFAULT_ACCESS_TTL))
        .with_route_planner(Arc::new(OsrmPlanner::new(&base).unwrap()));
    let app: Router = marketplace::app(ctx);
    let (status, out) = call(&app, Method::POST, "/api/search/route", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["method"], "great_circle_estimate");
    assert!(out["fallback_reason"].as_str().unwrap().contains("NoRoute"));
}

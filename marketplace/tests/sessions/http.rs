//! The session routes through the router (a fixed clock, a fake station): start answers 202,
//! the live view and its server-sent events, pause/resume/stop, the bill, history filters,
//! totals, and host analytics.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use marketplace::accounts::{AuthKeys, Role, DEFAULT_ACCESS_TTL};
use marketplace::plumbing::FixedClock;
use marketplace::sessions::{EventType, IdToken};
use marketplace::{ApiContext, AuthUser};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;

use super::support::*;

const SECRET: [u8; 32] = [9; 32];

fn app(pool: PgPool, stations: Arc<FakeStations>, clock: Arc<FixedClock>) -> Router {
    let ctx = ApiContext::new(pool, AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL))
        .development()
        .with_clock(clock)
        .with_station_control(stations);
    marketplace::app(ctx)
}

fn token(u: &AuthUser) -> String {
    AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL)
        .issue_access(u.id, u.role)
        .unwrap()
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    who: &AuthUser,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", token(who)));
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => {
            req = req.header(header::ACCEPT, "application/json");
            req.body(Body::empty())
        }
    };
    let res = app.clone().oneshot(req.unwrap()).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_session_through_the_routes(pool: PgPool) {
    let c = charger(&pool, "CS-20", 1).await;
    let driver = funded_driver(&pool).await;
    let stations = FakeStations::new();
    let clock = Arc::new(FixedClock::new(t0()));
    let app = app(pool.clone(), stations.clone(), clock.clone());

    let (status, s) = call(
        &app,
        Method::POST,
        "/api/sessions/start",
        &driver,
        Some(json!({"charger_id": c.id, "port_id": c.ports[0]})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{s}");
    assert_eq!(s["status"], "start");
    let id = s["id"].as_str().unwrap().to_owned();
    let number = s["number"].as_i64().unwrap() as i32;

    let mut started = event("CS-20", "TX-20", 0, EventType::Started, 0, Some(0));
    started.remote_start_id = Some(number);
    started.id_token = Some(IdToken::central(format!("SESSION-{number}")));
    send(&pool, &started, 0).await;
    send(
        &pool,
        &event("CS-20", "TX-20", 1, EventType::Updated, 30, Some(10_000)),
        30,
    )
    .await;
    clock.set(at(30));

    let (status, live) = call(
        &app,
        Method::GET,
        &format!("/api/sessions/{id}"),
        &driver,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{live}");
    assert_eq!(live["status"], "active");
    assert_eq!(live["energy_kwh"], "10");
    assert_eq!(live["power_kw"], "20");
    // 10 kWh → 3.00 → 3.63; 30 min → 1.00 → 1.21; fee 0.50
    assert_eq!(live["cost"]["total"], "5.34");
    assert_eq!(live["cost"]["final"], false);
    assert_eq!(live["cost"]["lines"][0]["kind"], "energy");

    let (status, p) = call(
        &app,
        Method::POST,
        &format!("/api/sessions/{id}/pause"),
        &driver,
        None,
    )
    .await;
    assert_eq!(
        (status, p["status"].as_str()),
        (StatusCode::OK, Some("paused")),
        "{p}"
    );
    clock.set(at(40));
    let (status, r) = call(
        &app,
        Method::POST,
        &format!("/api/sessions/{id}/resume"),
        &driver,
        None,
    )
    .await;
    assert_eq!(
        (status, r["paused_seconds"].as_i64()),
        (StatusCode::OK, Some(600)),
        "{r}"
    );
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/api/sessions/{id}/billing"),
        &driver,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, st) = call(
        &app,
        Method::POST,
        &format!("/api/sessions/{id}/stop"),
        &driver,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{st}");
    send(
        &pool,
        &event("CS-20", "TX-20", 2, EventType::Ended, 50, Some(12_000)),
        50,
    )
    .await;
    clock.set(at(55));

    let (status, bill) = call(
        &app,
        Method::GET,
        &format!("/api/sessions/{id}/billing"),
        &driver,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bill}");
    // 12 kWh → 3.60 → 4.36; charging 0–30 and 40–50 = 40 min → 1.33 → 1.61; paused 30–40
    // → 1.00 → 1.21; fee 0.50
    assert_eq!(bill["total"], "7.68");
    let amounts: Vec<&str> = bill["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    assert_eq!(amounts, ["4.36", "1.61", "1.21", "0.50"]);
    assert_eq!(bill["split"]["insurance_reserve"], "0.50");
    assert_eq!(bill["revision"], 1);
    assert_eq!(bill["superseded"], json!([]));
    assert_eq!(bill["paused_seconds"], 600);

    // the live stream of a finished session: one `end` event, then it closes
    let req = Request::builder()
        .uri(format!("/api/sessions/{id}/live"))
        .header(header::AUTHORIZATION, format!("Bearer {}", token(&driver)))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(text.starts_with("event: end\ndata: {"), "{text}");
    assert!(text.contains("\"status\":\"completed\""), "{text}");
    assert_eq!(text.matches("event:").count(), 1, "{text}");

    // someone else's session is not found, on every route
    let stranger = funded_driver(&pool).await;
    for path in ["", "/live", "/billing"] {
        let (status, body) = call(
            &app,
            Method::GET,
            &format!("/api/sessions/{id}{path}"),
            &stranger,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, _) = call(&app, Method::GET, "/api/sessions/not-a-uuid", &driver, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../migrations")]
async fn history_stats_and_host_analytics(pool: PgPool) {
    let c = charger(&pool, "CS-21", 2).await;
    let driver = funded_driver(&pool).await;
    let stations = FakeStations::new();
    let clock = Arc::new(FixedClock::new(at(600)));
    let app = app(pool.clone(), stations, clock);

    // three sessions of the driver's card: 2, 6 and 12 kWh, each charging 30 minutes
    for (i, kwh) in [2i64, 6, 12].into_iter().enumerate() {
        let tx = format!("TX-{i}");
        let start = i as i64 * 120;
        for (seq, kind, min, wh) in [
            (0, EventType::Started, start, 0),
            (1, EventType::Ended, start + 30, kwh * 1000),
        ] {
            let mut ev = event("CS-21", &tx, seq, kind, min, Some(wh));
            ev.evse_id = Some(1);
            ev.token_owner = Some(driver.id);
            send(&pool, &ev, min).await;
        }
    }
    let (status, page) = call(&app, Method::GET, "/api/sessions?limit=2", &driver, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    // newest first; totals: 2 kWh → 0.73 + 1.21 + 0.50 = 2.44; 6 → 2.18 + 1.21 + 0.50 = 3.89;
    // 12 → 4.36 + 1.21 + 0.50 = 6.07
    assert_eq!(page["items"][0]["total"], "6.07");
    let (_, page) = call(
        &app,
        Method::GET,
        "/api/sessions?min_cost=3&max_cost=6.07",
        &driver,
        None,
    )
    .await;
    let totals: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals, ["6.07", "3.89"]);
    let from = (at(100)).to_rfc3339().replace('+', "%2B");
    let (_, page) = call(
        &app,
        Method::GET,
        &format!("/api/sessions?from={from}&status=completed"),
        &driver,
        None,
    )
    .await;
    assert_eq!(page["total"], 2);
    let (status, bad) = call(
        &app,
        Method::GET,
        "/api/sessions?min_cost=cheap&sort=asc",
        &driver,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["errors"].as_array().unwrap().len(), 2);

    let (status, stats) = call(&app, Method::GET, "/api/sessions/stats", &driver, None).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["sessions"], 3);
    assert_eq!(stats["by_status"]["completed"], 3);
    assert_eq!(stats["by_status"]["active"], 0);
    assert_eq!(stats["billed"][0]["currency"], "EUR");
    assert_eq!(stats["billed"][0]["amount"], "12.40");
    assert_eq!(stats["billed"][0]["energy_kwh"], "20");
    assert_eq!(stats["billed"][0]["charging_seconds"], 5400);

    // the host's analytics: sessions at 10:00, 12:00 and 14:00 local (Amsterdam, CEST)
    let from = (t0() - chrono::Duration::hours(2))
        .to_rfc3339()
        .replace('+', "%2B");
    let to = (t0() + chrono::Duration::hours(22))
        .to_rfc3339()
        .replace('+', "%2B");
    let uri = format!("/api/host/analytics?from={from}&to={to}");
    // the analytics dashboard is a host subscription
    let (status, refused) = call(&app, Method::GET, &uri, &c.host, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["code"], "subscription_required");
    subscribe_to_analytics(&pool, &c.host).await;
    let (status, a) = call(&app, Method::GET, &uri, &c.host, None).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    let hours: Vec<i64> = a["revenue_by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hour"].as_i64().unwrap())
        .collect();
    assert_eq!(hours, [10, 12, 14]);
    assert_eq!(a["revenue_by_hour"][0]["charged"], "2.44");
    let ports = a["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 2);
    // port 1: 90 minutes busy over 24 hours
    assert_eq!(ports[0]["sessions"], 3);
    assert_eq!(ports[0]["busy_hours"], 1.5);
    assert_eq!(ports[1]["sessions"], 0);
    assert_eq!(a["popular_slots"][0]["weekday"], "tuesday");
    let s = &a["price_suggestions"][0];
    assert!(s["utilisation"].as_f64().unwrap() < 0.05, "{a}");
    assert_eq!(s["current_price_per_kwh"], "0.3");
    // (1.5 h) / (2 ports × 24 h) ≈ 3 %: quiet, 10 % lower
    assert_eq!(s["suggested_price_per_kwh"], "0.27");
    assert_eq!(s["change_percent"], -10);
    // drivers may not ask; another host sees nothing of this charger
    let (status, _) = call(&app, Method::GET, "/api/host/analytics", &driver, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let other = user(&pool, Role::Host).await;
    subscribe_to_analytics(&pool, &other).await;
    let (_, a) = call(&app, Method::GET, &uri, &other, None).await;
    assert_eq!(a["ports"], json!([]));
}

/// Pays the host's analytics subscription from a funded wallet (before [`at`]`(600)`, the
/// clock of the analytics calls).
async fn subscribe_to_analytics(pool: &PgPool, host: &AuthUser) {
    use marketplace::ledger::service::{record_provider_payment, ProviderPayment};
    use marketplace::subscriptions::service::{subscribe, SubscribeInput};
    let event = uuid::Uuid::now_v7().to_string();
    let mut tx = pool.begin().await.unwrap();
    let payment = ProviderPayment {
        provider: "local_test",
        event_id: &event,
        driver: host.id,
        amount: 4900,
        currency: "EUR",
        actor: Some(host.id),
        memo: "test top-up".into(),
    };
    record_provider_payment(&mut tx, &payment, at(0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let input = SubscribeInput {
        product: "analytics".into(),
        currency: Some("EUR".into()),
        listing_id: None,
    };
    subscribe(pool, host, input, None, at(0)).await.unwrap();
}

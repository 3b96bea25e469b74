//! Sessions start only with money secured and never for a driver who owes money: the 409s
//! of `POST /api/sessions/start` (nothing is sent to the station), and a station-started
//! transaction of a driver in debt that gets no session.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use marketplace::accounts::{AuthKeys, Role, DEFAULT_ACCESS_TTL};
use marketplace::ledger::model::Charge;
use marketplace::ledger::service as ledger;
use marketplace::plumbing::FixedClock;
use marketplace::sessions::EventType;
use marketplace::{ApiContext, AuthUser};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use super::support::*;

const SECRET: [u8; 32] = [9; 32];

async fn start(
    pool: &PgPool,
    stations: Arc<FakeStations>,
    who: &AuthUser,
    body: Value,
) -> (StatusCode, Value) {
    let ctx = ApiContext::new(pool.clone(), AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL))
        .development()
        .with_clock(Arc::new(FixedClock::new(t0())))
        .with_station_control(stations);
    let app = marketplace::app(ctx);
    let token = AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL)
        .issue_access(who.id, who.role)
        .unwrap();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/sessions/start")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Leaves the driver owing `amount` EUR cents: a charge captured from an empty wallet.
async fn owe(pool: &PgPool, driver: Uuid, host: Uuid, amount: i64) {
    let mut tx = pool.begin().await.unwrap();
    ledger::capture(
        &mut tx,
        driver,
        "EUR",
        None,
        &Charge::fee(host, amount),
        format!("test_debt:{driver}"),
        "a bill the wallet could not cover",
        Default::default(),
        t0(),
    )
    .await
    .unwrap()
    .expect("a capture");
    tx.commit().await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_driver_in_debt_starts_nothing(pool: PgPool) {
    let c = charger(&pool, "CS-F1", 1).await;
    let driver = user(&pool, Role::Driver).await;
    owe(&pool, driver.id, c.host.id, 420).await;
    let stations = FakeStations::new();
    let (status, body) = start(
        &pool,
        stations.clone(),
        &driver,
        json!({"charger_id": c.id, "port_id": c.ports[0]}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "outstanding_debt");
    assert!(body["detail"].as_str().unwrap().contains("420"), "{body}");
    assert!(
        stations.calls().is_empty(),
        "nothing is sent to the station"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM charging_sessions").await,
        0
    );

    // the same driver's card at the station: the event is stored, the answer is NoCredit
    // (the station ends the transaction), and no session is made
    let mut ev = event("CS-F1", "TX-DEBT", 0, EventType::Started, 1, Some(0));
    ev.token_owner = Some(driver.id);
    let o = send(&pool, &ev, 1).await;
    assert_eq!((o.session_id, o.token_refused), (None, Some("NoCredit")));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM charging_sessions").await,
        0
    );

    // paid off, but nothing left to hold for a session: still no start
    fund(&pool, driver.id, 420, t0()).await;
    let (status, body) = start(
        &pool,
        stations.clone(),
        &driver,
        json!({"charger_id": c.id, "port_id": c.ports[0]}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "payment_required");
    assert!(stations.calls().is_empty());
    // with money for the session's hold: it starts
    fund(&pool, driver.id, 5_000, t0()).await;
    let (status, body) = start(
        &pool,
        stations.clone(),
        &driver,
        json!({"charger_id": c.id, "port_id": c.ports[0]}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_booking_nothing_secures_does_not_start(pool: PgPool) {
    let c = charger(&pool, "CS-F2", 1).await;
    let driver = user(&pool, Role::Driver).await;
    let b = booking(&pool, &driver, &c, 0, at(0)).await;
    // a booking confirmed before confirming required a hold: its hold is gone
    sqlx::query("UPDATE ledger_holds SET status = 'closed', closed_at = $2 WHERE booking_id = $1")
        .bind(b.id)
        .bind(t0())
        .execute(&pool)
        .await
        .unwrap();
    let stations = FakeStations::new();
    let (status, body) = start(
        &pool,
        stations.clone(),
        &driver,
        json!({"booking_id": b.id}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "payment_required");
    assert!(
        stations.calls().is_empty(),
        "nothing is sent to the station"
    );
}

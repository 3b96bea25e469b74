//! What subscribers get, seen where users see it: the plan discount (and no insurance fee
//! under coverage) on a real session's bill, priced with the plan of the session's start;
//! featured chargers in search, first among equals; host analytics behind its subscription;
//! priority booking for Pro.

use axum::http::StatusCode;
use chrono::Duration;
use marketplace::accounts::Role;
use marketplace::sessions::{service as sessions, EventType};
use marketplace::AuthUser;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::session_support as ss;
use super::support::*;

/// A 30-minute, 2 kWh session of `driver`'s card starting `start` minutes after `ss::t0`;
/// answers its bill's total and line kinds.
async fn charge(pool: &PgPool, driver: &AuthUser, tx: &str, start: i64) -> (Decimal, Vec<String>) {
    for (seq, kind, min, wh) in [
        (0, EventType::Started, start, 0),
        (1, EventType::Ended, start + 30, 2000),
    ] {
        let mut ev = ss::event("CS-S1", tx, seq, kind, min, Some(wh));
        ev.evse_id = Some(1);
        ev.token_owner = Some(driver.id);
        ss::send(pool, &ev, min).await;
    }
    let id: Uuid = sqlx::query_scalar(
        "SELECT id FROM charging_sessions WHERE driver_id = $1 ORDER BY requested_at DESC LIMIT 1",
    )
    .bind(driver.id)
    .fetch_one(pool)
    .await
    .unwrap();
    let billed = sessions::billing(pool, driver, id).await.unwrap();
    let kinds = billed.bill.lines.iter().map(|l| l.kind.clone()).collect();
    (billed.bill.total, kinds)
}

#[sqlx::test(migrations = "../migrations")]
async fn plans_discount_real_session_bills(pool: PgPool) {
    ss::charger(&pool, "CS-S1", 1).await;
    let app = app(&pool, ss::at(-24 * 60));
    let driver = user(&pool, Role::Driver).await;
    let basic = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 5000).await;
    fund(&pool, basic.id, 5000).await;

    // 2 kWh and 30 minutes: 0.73 + 1.21, insurance 0.50 — 2.44 on Basic
    let (total, _) = charge(&pool, &basic, "TX-B", 0).await;
    assert_eq!(total, ss::d("2.44"));

    let s = app.subscribe(&driver, "pro").await;
    // Pro: 20 % off 1.94 (0.39)
    let (total, kinds) = charge(&pool, &driver, "TX-1", 0).await;
    assert_eq!(total, ss::d("2.05"));
    assert!(kinds.contains(&"discount".to_owned()), "{kinds:?}");

    // Premium from minute 60, and insurance coverage: 10 % off (0.19), no 0.50 fee
    app.clock.set(ss::at(60));
    let id = s["id"].as_str().unwrap();
    let down = app
        .post(
            &format!("/api/subscriptions/{id}/change"),
            &driver,
            json!({"product": "premium"}),
        )
        .await;
    assert_eq!(down.status, StatusCode::OK, "{}", down.body);
    app.subscribe(&driver, "insurance").await;
    let (total, kinds) = charge(&pool, &driver, "TX-2", 120).await;
    assert_eq!(total, ss::d("1.75"));
    assert!(!kinds.contains(&"insurance".to_owned()), "{kinds:?}");

    // the first session's bill keeps the plan it started under
    let first: Uuid =
        sqlx::query_scalar("SELECT id FROM charging_sessions WHERE transaction_id = 'TX-1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let billed = sessions::billing(&pool, &driver, first).await.unwrap();
    assert_eq!(billed.bill.total, ss::d("2.05"));

    // the estimate knows the signed-in driver's plan (and an explicit plan still wins)
    let charger: Uuid = sqlx::query_scalar("SELECT id FROM listings LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let body = json!({"charger_id": charger, "start_time": ss::at(200),
        "duration_minutes": 30, "estimated_kwh": 2});
    let mine = app
        .post("/api/pricing/estimate", &driver, body.clone())
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.body["plan"], "premium");
    assert_eq!(mine.body["total"], "1.75");
    let mut what_if = body;
    what_if["plan"] = json!("basic");
    let basic_quote = app.post("/api/pricing/estimate", &driver, what_if).await;
    assert_eq!(basic_quote.body["total"], "1.94");
    ledger_is_whole(&pool).await;
}

async fn search(app: &App, who: &AuthUser, route: &str) -> Vec<(String, bool)> {
    let a = app
        .post(
            route,
            who,
            json!({"latitude": 52.37, "longitude": 4.89, "radius_km": 5}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["id"].as_str().unwrap().to_owned(),
                h["featured"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn featured_chargers_stand_out_in_search(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    // two chargers alike in everything, at the same place
    let a = charger(&pool, Spec::default()).await;
    let b = charger(&pool, Spec::default()).await;
    let plain = a.id.to_string();
    let featured = b.id.to_string();
    let hits = search(&app, &driver, "/api/search/nearby").await;
    assert!(hits.iter().all(|(_, f)| !f));

    fund(&pool, b.host.id, 10_000).await;
    let s = app
        .post(
            "/api/subscriptions",
            &b.host,
            json!({"product": "featured_listing", "listing_id": b.id}),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.body);
    assert_eq!(s.body["currency"], "EUR");
    let hits = search(&app, &driver, "/api/search/nearby").await;
    assert!(hits.contains(&(featured.clone(), true)), "{hits:?}");
    assert!(hits.contains(&(plain.clone(), false)), "{hits:?}");
    let ranked = search(&app, &driver, "/api/search/recommend").await;
    assert_eq!(ranked[0], (featured.clone(), true), "{ranked:?}");
    let ent = app.get("/api/me/entitlements", &b.host).await;
    assert_eq!(ent.body["featured_listings"], json!([b.id]));
    assert_eq!(wallet(&pool, b.host.id).await, 100);
}

#[sqlx::test(migrations = "../migrations")]
async fn host_analytics_needs_its_subscription(pool: PgPool) {
    let app = app(&pool, now());
    let c = charger(&pool, Spec::default()).await;
    let refused = app.get("/api/host/analytics", &c.host).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["code"], "subscription_required");
    let admin = user(&pool, Role::Admin).await;
    assert_eq!(
        app.get("/api/host/analytics", &admin).await.status,
        StatusCode::OK
    );

    fund(&pool, c.host.id, 30_000).await;
    app.subscribe(&c.host, "analytics").await;
    assert_eq!(
        app.get("/api/host/analytics", &c.host).await.status,
        StatusCode::OK
    );
    // the availability API is an entitlement too
    app.subscribe(&c.host, "availability_api").await;
    let ent = app.get("/api/me/entitlements", &c.host).await;
    assert_eq!(ent.body["analytics"], true);
    assert_eq!(ent.body["availability_api"], true);
    assert_eq!(wallet(&pool, c.host.id).await, 30_000 - 4900 - 19_900);
}

#[sqlx::test(migrations = "../migrations")]
async fn pro_drivers_book_further_ahead_and_hold_longer(pool: PgPool) {
    let app = app(&pool, now());
    let c = charger(&pool, Spec::default()).await;
    let pro = user(&pool, Role::Driver).await;
    let plain = user(&pool, Role::Driver).await;
    fund(&pool, pro.id, 5000).await;
    app.subscribe(&pro, "pro").await;

    // 95 days ahead: past the charger's 90, within Pro's 97
    let start = now() + Duration::days(95);
    let req = || request(&c, 0, start, start + Duration::hours(1));
    let refused = try_book(&pool, &plain, req(), now()).await.unwrap_err();
    assert!(matches!(refused, marketplace::Error::Validation(ref e) if e[0].field == "start_time"));
    let booked = try_book(&pool, &pro, req(), now()).await.unwrap();
    assert_eq!(booked.expires_at, Some(now() + Duration::minutes(30)));
    let later = now() + Duration::days(98);
    let too_far = request(&c, 0, later, later + Duration::hours(1));
    assert!(try_book(&pool, &pro, too_far, now()).await.is_err());
    // a plain driver's pending booking holds 10 minutes
    let soon = now() + Duration::days(1);
    let b = try_book(
        &pool,
        &plain,
        request(&c, 0, soon, soon + Duration::hours(1)),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(b.expires_at, Some(now() + Duration::minutes(10)));
}

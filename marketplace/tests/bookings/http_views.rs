//! The read side over HTTP: who sees which booking, pages, the host view, slots and rules.

use axum::http::Method;
use serde_json::json;
use sqlx::PgPool;

use super::http::{app, fields, send};
use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn who_sees_what(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let (a, stranger) = (funded_driver(&pool).await, funded_driver(&pool).await);
    let app = app(pool.clone());
    let b = book(
        &pool,
        &a,
        request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0)),
        now(),
    )
    .await;
    let path = format!("/api/bookings/{}", b.id);
    assert_eq!(
        send(&app, Method::GET, &path, Some(&a), None, None)
            .await
            .status,
        200
    );
    assert_eq!(
        send(&app, Method::GET, &path, Some(&c.host), None, None)
            .await
            .status,
        200
    );
    assert_eq!(
        send(&app, Method::GET, &path, Some(&stranger), None, None)
            .await
            .status,
        404
    );
    assert_eq!(
        send(
            &app,
            Method::GET,
            "/api/bookings/not-a-uuid",
            Some(&a),
            None,
            None
        )
        .await
        .status,
        404
    );

    let mine = send(
        &app,
        Method::GET,
        "/api/bookings?status=pending,confirmed",
        Some(&a),
        None,
        None,
    )
    .await;
    assert_eq!(mine.body["total"], 1);
    assert_eq!(mine.body["items"][0]["id"], json!(b.id));
    let none = send(
        &app,
        Method::GET,
        "/api/bookings",
        Some(&stranger),
        None,
        None,
    )
    .await;
    assert_eq!(none.body["total"], 0);
    let bad = send(
        &app,
        Method::GET,
        "/api/bookings?status=gone&sort=x",
        Some(&a),
        None,
        None,
    )
    .await;
    assert_eq!(fields(&bad.body), ["status", "sort"]);

    let hosted = send(
        &app,
        Method::GET,
        &format!("/api/host/bookings?charger_id={}", c.id),
        Some(&c.host),
        None,
        None,
    )
    .await;
    assert_eq!(hosted.status, 200);
    assert_eq!(hosted.body["total"], 1);
    let forbidden = send(
        &app,
        Method::GET,
        "/api/host/bookings",
        Some(&a),
        None,
        None,
    )
    .await;
    assert_eq!(forbidden.status, 403);

    // the host cancels with a reason: a full refund
    let cancelled = send(
        &app,
        Method::POST,
        &format!("{path}/cancel"),
        Some(&c.host),
        Some(json!({"reason": "broken socket"})),
        None,
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["cancelled_by"], "host");
    assert_eq!(cancelled.body["cancel_reason"], "broken socket");
}

#[sqlx::test(migrations = "../migrations")]
async fn slots_and_rules(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let app = app(pool.clone());
    let slots = send(
        &app,
        Method::GET,
        &format!("/api/chargers/{}/slots?date=2027-01-05", c.id),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(slots.status, 200, "{}", slots.body);
    assert_eq!(slots.body["time_zone"], "Europe/Amsterdam");
    assert_eq!(slots.body["hours_in_day"], 24.0);
    assert_eq!(
        slots.body["ports"][0]["free"][0]["start_time"],
        "2027-01-05T00:00:00+01:00"
    );
    let no_date = send(
        &app,
        Method::GET,
        &format!("/api/chargers/{}/slots", c.id),
        None,
        None,
        None,
    )
    .await;
    assert_eq!(fields(&no_date.body), ["date"]);

    let rules_path = format!("/api/chargers/{}/booking-rules", c.id);
    let rules = send(&app, Method::GET, &rules_path, None, None, None).await;
    assert_eq!(rules.body["custom"], false);
    assert_eq!(
        rules.body["refund_tiers"][0],
        json!({"min_notice_minutes": 120, "refund_percent": 100})
    );
    let new = json!({"min_duration_minutes": 60, "arrival_grace_minutes": 10,
        "refund_tiers": [{"min_notice_minutes": 1440, "refund_percent": 100}]});
    let denied = send(
        &app,
        Method::PUT,
        &rules_path,
        Some(&driver),
        Some(new.clone()),
        None,
    )
    .await;
    assert_eq!(denied.status, 403);
    let set = send(
        &app,
        Method::PUT,
        &rules_path,
        Some(&c.host),
        Some(new),
        None,
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["min_duration_minutes"], 60);
    let bad = send(
        &app,
        Method::PUT,
        &rules_path,
        Some(&c.host),
        Some(json!({"arrival_grace_minutes": 500})),
        None,
    )
    .await;
    assert_eq!(fields(&bad.body), ["arrival_grace_minutes"]);
    // the new minimum applies to new bookings
    let short = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(json!({
        "charger_id": c.id, "port_id": c.ports[0],
        "start_time": "2027-01-05T10:00:00Z", "end_time": "2027-01-05T10:30:00Z"})),
        None,
    )
    .await;
    assert_eq!(fields(&short.body), ["end_time"]);
}

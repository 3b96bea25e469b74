//! Free slots per port on a local day (DST days have 23 and 25 hours), and the search view.

use chrono::{Duration, NaiveDate};
use marketplace::bookings::service;
use marketplace::listings::model::{ClockTime, ConnectorType, OpeningWindow};
use marketplace::search::calendar::SlotStatus;
use sqlx::PgPool;

use super::support::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn dst_days_in_amsterdam(pool: PgPool) {
    let c = charger(
        &pool,
        Spec {
            ports: vec![ConnectorType::Type2, ConnectorType::Type2],
            ..Spec::default()
        },
    )
    .await;
    let driver = funded_driver(&pool).await;
    let before = utc(2026, 3, 1, 0, 0);
    // 29 March 2026: 02:00 → 03:00. Book 01:00–04:00 local, two real hours (00:00–02:00 UTC).
    let b = book(
        &pool,
        &driver,
        request(&c, 0, utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0)),
        before,
    )
    .await;
    assert_eq!(b.ends_at - b.starts_at, Duration::hours(2));
    let day = service::slots(&pool, c.id, date(2026, 3, 29), before)
        .await
        .unwrap();
    assert_eq!(day.hours_in_day, 23.0);
    assert_eq!(day.day_start.to_rfc3339(), "2026-03-29T00:00:00+01:00");
    assert_eq!(day.day_end.to_rfc3339(), "2026-03-30T00:00:00+02:00");
    let p0 = &day.ports[0];
    assert_eq!(p0.booked.len(), 1);
    assert_eq!(
        p0.booked[0].start_time.to_rfc3339(),
        "2026-03-29T01:00:00+01:00"
    );
    assert_eq!(
        p0.booked[0].end_time.to_rfc3339(),
        "2026-03-29T04:00:00+02:00"
    );
    let free: Vec<(String, String)> = p0
        .free
        .iter()
        .map(|s| (s.start_time.to_rfc3339(), s.end_time.to_rfc3339()))
        .collect();
    assert_eq!(
        free,
        [
            (
                "2026-03-29T00:00:00+01:00".into(),
                "2026-03-29T01:00:00+01:00".into()
            ),
            (
                "2026-03-29T04:00:00+02:00".into(),
                "2026-03-30T00:00:00+02:00".into()
            ),
        ]
    );
    // the other port is free all 23 hours
    let p1 = &day.ports[1];
    assert_eq!(p1.free.len(), 1);
    assert_eq!(
        p1.free[0].end_time - p1.free[0].start_time,
        Duration::hours(23)
    );

    // 25 October 2026: 03:00 → 02:00, the day has 25 hours
    let day = service::slots(&pool, c.id, date(2026, 10, 25), before)
        .await
        .unwrap();
    assert_eq!(day.hours_in_day, 25.0);
    assert_eq!(
        day.ports[0].free[0].end_time - day.ports[0].free[0].start_time,
        Duration::hours(25)
    );
    // a booking over the repeated hour: 02:30+02:00 to 02:30+01:00 is one real hour
    let repeated = book(
        &pool,
        &driver,
        request(&c, 1, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
        utc(2026, 10, 1, 0, 0),
    )
    .await;
    assert_eq!(repeated.ends_at - repeated.starts_at, Duration::hours(1));
    let day = service::slots(&pool, c.id, date(2026, 10, 25), before)
        .await
        .unwrap();
    let b = &day.ports[1].booked[0];
    assert_eq!(b.start_time.to_rfc3339(), "2026-10-25T02:30:00+02:00");
    assert_eq!(b.end_time.to_rfc3339(), "2026-10-25T02:30:00+01:00");
}

#[sqlx::test(migrations = "../migrations")]
async fn opening_hours_lead_time_and_now(pool: PgPool) {
    let hm = |h: u16, m: u16| ClockTime::from_minutes(h * 60 + m).unwrap();
    let c = charger(
        &pool,
        Spec {
            time_zone: "UTC",
            opening_hours: (1..=7)
                .map(|d| OpeningWindow {
                    weekday: d,
                    opens: hm(8, 0),
                    closes: hm(20, 0),
                })
                .collect(),
            ..Spec::default()
        },
    )
    .await;
    // at 12:10 on the day itself only the afternoon is left
    let day = service::slots(&pool, c.id, date(2027, 1, 4), utc(2027, 1, 4, 12, 10))
        .await
        .unwrap();
    assert_eq!(day.ports[0].free.len(), 1);
    assert_eq!(
        day.ports[0].free[0].start_time.to_rfc3339(),
        "2027-01-04T12:10:00+00:00"
    );
    assert_eq!(
        day.ports[0].free[0].end_time.to_rfc3339(),
        "2027-01-04T20:00:00+00:00"
    );
    let err = service::slots(&pool, uuid::Uuid::now_v7(), date(2027, 1, 4), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
}

#[sqlx::test(migrations = "../migrations")]
async fn search_availability_shows_bookings(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    // 10:00–11:00 UTC is 11:00–12:00 in Amsterdam; 13:00–14:00 UTC is held pending only
    let req = request(&c, 0, utc(2027, 1, 4, 10, 0), utc(2027, 1, 4, 11, 0));
    confirmed(&pool, &driver, req, now()).await;
    book(
        &pool,
        &driver,
        request(&c, 0, utc(2027, 1, 4, 13, 0), utc(2027, 1, 4, 14, 0)),
        now(),
    )
    .await;
    let availability = |at| marketplace::search::service::availability(&pool, c.id, at);
    let a = availability(now() + Duration::minutes(5)).await.unwrap();
    let slots = &a.ports[0].slots;
    assert_eq!(slots[0].starts_at, "2027-01-04T09:00:00+01:00");
    assert_eq!(slots[0].status, SlotStatus::Free);
    assert_eq!(slots[2].status, SlotStatus::Reserved);
    assert_eq!(slots[3].status, SlotStatus::Free);
    assert_eq!(slots[5].status, SlotStatus::Reserved);
    // once the pending hold lapsed it no longer shows, whether or not the sweep ran
    let a = availability(now() + Duration::minutes(10)).await.unwrap();
    let slots = &a.ports[0].slots;
    assert_eq!(slots[2].status, SlotStatus::Reserved);
    assert_eq!(slots[5].status, SlotStatus::Free);
}

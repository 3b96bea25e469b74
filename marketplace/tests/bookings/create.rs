//! Creating and confirming bookings: the rules, the price, the 409 naming the slot.

use chrono::{Duration, NaiveDate};
use marketplace::accounts::Role;
use marketplace::bookings::service;
use marketplace::bookings::BookingStatus;
use marketplace::listings::model::{Blackout, ClockTime, OpeningWindow};
use marketplace::listings::service as listings;
use marketplace::Error;
use sqlx::PgPool;
use uuid::Uuid;

use super::support::*;

fn fields(err: Error) -> Vec<String> {
    match err {
        Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn create_then_confirm(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let (start, end) = (utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 30));
    let b = book(&pool, &driver, request(&c, 0, start, end), now()).await;
    assert_eq!(b.status, BookingStatus::Pending);
    assert_eq!((b.starts_at, b.ends_at), (start, end));
    assert_eq!(b.expires_at, Some(now() + Duration::minutes(10)));
    // 2.50 an hour for 1.5 hours
    assert_eq!((b.amount_cents, b.currency.as_str()), (375, "EUR"));
    assert_eq!(b.host_id, c.host.id);
    assert_eq!(b.charged_cents(), 0, "nothing is charged before confirming");

    let later = now() + Duration::minutes(9);
    let b = service::confirm(&pool, &driver, b.id, later).await.unwrap();
    assert_eq!(b.status, BookingStatus::Confirmed);
    assert_eq!(b.confirmed_at, Some(later));
    assert_eq!(b.charged_cents(), 375);
    assert_eq!(events(&pool, b.id).await, ["created", "confirmed"]);
    // confirming twice is a state error
    let again = service::confirm(&pool, &driver, b.id, later)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "invalid_booking_transition");
}

#[sqlx::test(migrations = "../migrations")]
async fn confirming_too_late_expires_the_hold(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let req = request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    let b = book(&pool, &driver, req, now()).await;
    let late = now() + Duration::minutes(10);
    let err = service::confirm(&pool, &driver, b.id, late)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "booking_expired");
    let b = service::get(&pool, &driver, b.id).await.unwrap();
    assert_eq!(b.status, BookingStatus::Expired);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_overlap_is_a_409_naming_the_slot(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let (a, b) = (funded_driver(&pool).await, funded_driver(&pool).await);
    let first = book(
        &pool,
        &a,
        request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0)),
        now(),
    )
    .await;
    let err = try_book(
        &pool,
        &b,
        request(&c, 0, utc(2027, 1, 5, 10, 30), utc(2027, 1, 5, 12, 0)),
        now(),
    )
    .await
    .unwrap_err();
    let Error::SlotTaken(slot) = err else {
        panic!("expected slot_taken, got {err:?}")
    };
    assert_eq!(slot.port_id, c.ports[0]);
    assert_eq!(
        (slot.start_time, slot.end_time),
        (first.starts_at, first.ends_at)
    );
    // half-open: a booking may start exactly when the other ends
    book(
        &pool,
        &b,
        request(&c, 0, utc(2027, 1, 5, 11, 0), utc(2027, 1, 5, 12, 0)),
        now(),
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_lapsed_pending_hold_does_not_block(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let (a, b) = (funded_driver(&pool).await, funded_driver(&pool).await);
    let req = || request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    let first = book(&pool, &a, req(), now()).await;
    // no sweep ran; ten minutes later the slot is free all the same
    let second = book(&pool, &b, req(), now() + Duration::minutes(10)).await;
    assert_eq!(second.status, BookingStatus::Pending);
    let first = service::get(&pool, &a, first.id).await.unwrap();
    assert_eq!(first.status, BookingStatus::Expired);
}

#[sqlx::test(migrations = "../migrations")]
async fn rules_name_the_fields(pool: PgPool) {
    let hm = |h: u16, m: u16| ClockTime::from_minutes(h * 60 + m).unwrap();
    let c = charger(
        &pool,
        Spec {
            // 08:00–20:00 local on weekdays only
            opening_hours: (1..=5)
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
    let other = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let try_ = |port: Uuid, s, e| {
        let mut req = request(&c, 0, s, e);
        req.port_id = port;
        try_book(&pool, &driver, req, now())
    };
    let p = c.ports[0];
    // Amsterdam is UTC+1 in January: 08:00 local = 07:00 UTC
    assert!(try_(p, utc(2027, 1, 5, 7, 0), utc(2027, 1, 5, 8, 0))
        .await
        .is_ok());
    let err = try_(p, utc(2027, 1, 5, 6, 0), utc(2027, 1, 5, 7, 30))
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["start_time"]);
    let err = try_(p, utc(2027, 1, 5, 18, 0), utc(2027, 1, 5, 19, 30))
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["end_time"]);
    // Saturday: closed
    let err = try_(p, utc(2027, 1, 9, 10, 0), utc(2027, 1, 9, 11, 0))
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["start_time"]);
    // the past, too short, too long
    let err = try_(p, utc(2027, 1, 4, 7, 0), utc(2027, 1, 4, 9, 0))
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["start_time"]);
    let err = try_(p, utc(2027, 1, 6, 10, 0), utc(2027, 1, 6, 10, 10))
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["end_time"]);
    // a port of another charger
    let err = try_(
        other.ports[0],
        utc(2027, 1, 6, 10, 0),
        utc(2027, 1, 6, 11, 0),
    )
    .await
    .unwrap_err();
    assert_eq!(fields(err), ["port_id"]);
    // a blackout on Wednesday 6 January
    let day = NaiveDate::from_ymd_opt(2027, 1, 6).unwrap();
    let blackout = Blackout {
        starts_on: day,
        ends_on: day,
        reason: "maintenance".into(),
    };
    listings::add_blackout(&pool, &c.host, c.id, blackout)
        .await
        .unwrap();
    let err = try_(p, utc(2027, 1, 6, 10, 0), utc(2027, 1, 6, 11, 0))
        .await
        .unwrap_err();
    assert_eq!(fields(err), ["start_time"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn only_listed_chargers_can_be_booked(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    listings::unlist(&pool, &c.host, c.id).await.unwrap();
    let req = request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    let err = try_book(&pool, &driver, req.clone(), now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("charger")), "{err:?}");
    let mut unknown = req;
    unknown.charger_id = Uuid::now_v7();
    let err = try_book(&pool, &driver, unknown, now()).await.unwrap_err();
    assert!(matches!(err, Error::NotFound("charger")), "{err:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_charger_with_bookings_keeps_them(pool: PgPool) {
    let c = charger(
        &pool,
        Spec {
            ports: vec![marketplace::listings::model::ConnectorType::Type2; 2],
            ..Spec::default()
        },
    )
    .await;
    let driver = funded_driver(&pool).await;
    book(
        &pool,
        &driver,
        request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0)),
        now(),
    )
    .await;
    let err = listings::delete_port(&pool, &c.host, c.id, c.ports[0])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "charger_has_bookings");
    listings::unlist(&pool, &c.host, c.id).await.unwrap();
    let err = listings::delete(&pool, &c.host, c.id).await.unwrap_err();
    assert_eq!(err.code(), "charger_has_bookings");
}

#[sqlx::test(migrations = "../migrations")]
async fn who_sees_a_booking(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let stranger = funded_driver(&pool).await;
    let admin = user(&pool, Role::Admin).await;
    let b = book(
        &pool,
        &driver,
        request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0)),
        now(),
    )
    .await;
    for who in [&driver, &c.host, &admin] {
        assert_eq!(service::get(&pool, who, b.id).await.unwrap().id, b.id);
    }
    let err = service::get(&pool, &stranger, b.id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound("booking")));
    // the host may look and cancel, but not confirm for the driver
    let err = service::confirm(&pool, &c.host, b.id, now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden), "{err:?}");
}

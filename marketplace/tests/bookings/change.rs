//! Reschedule (atomic), extend, and what happens when the new slot is taken.

use chrono::Duration;
use marketplace::bookings::service;
use marketplace::bookings::BookingStatus;
use marketplace::listings::model::ConnectorType;
use marketplace::Error;
use sqlx::PgPool;

use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn reschedule_moves_in_one_step(pool: PgPool) {
    let c = charger(
        &pool,
        Spec {
            ports: vec![ConnectorType::Type2, ConnectorType::Type2],
            ..Spec::default()
        },
    )
    .await;
    let (a, b, x) = (
        funded_driver(&pool).await,
        funded_driver(&pool).await,
        funded_driver(&pool).await,
    );
    let (s1, e1) = (utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    let mine = confirmed(&pool, &a, request(&c, 0, s1, e1), now()).await;
    let theirs = book(
        &pool,
        &b,
        request(&c, 0, utc(2027, 1, 5, 12, 0), utc(2027, 1, 5, 13, 0)),
        now(),
    )
    .await;

    // into a taken slot: 409 naming it, and the booking keeps its own slot
    let err = service::reschedule(
        &pool,
        &a,
        mine.id,
        utc(2027, 1, 5, 12, 30),
        utc(2027, 1, 5, 13, 30),
        None,
        now(),
    )
    .await
    .unwrap_err();
    let Error::SlotTaken(slot) = err else {
        panic!("expected slot_taken, got {err:?}")
    };
    assert_eq!(
        (slot.start_time, slot.end_time),
        (theirs.starts_at, theirs.ends_at)
    );
    let same = service::get(&pool, &a, mine.id).await.unwrap();
    assert_eq!(
        (same.starts_at, same.ends_at, same.port_id),
        (s1, e1, c.ports[0])
    );
    // ... and still holds it
    let err = try_book(&pool, &x, request(&c, 0, s1, e1), now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "slot_taken");

    // overlapping its own old slot is fine: it is one row moving
    let moved = service::reschedule(
        &pool,
        &a,
        mine.id,
        utc(2027, 1, 5, 10, 30),
        utc(2027, 1, 5, 12, 0),
        None,
        now(),
    )
    .await
    .unwrap();
    assert_eq!(moved.status, BookingStatus::Confirmed);
    assert_eq!(moved.amount_cents, 375);
    // the freed half hour is bookable at once
    book(
        &pool,
        &x,
        request(&c, 0, s1, utc(2027, 1, 5, 10, 30)),
        now(),
    )
    .await;
    // another port of the same charger
    let other_port = service::reschedule(&pool, &a, mine.id, s1, e1, Some(c.ports[1]), now())
        .await
        .unwrap();
    assert_eq!(other_port.port_id, c.ports[1]);
    assert_eq!(
        events(&pool, mine.id).await,
        ["created", "confirmed", "rescheduled", "rescheduled"]
    );
    // the rules apply as for a new booking
    let err = service::reschedule(
        &pool,
        &a,
        mine.id,
        utc(2027, 1, 3, 10, 0),
        utc(2027, 1, 3, 11, 0),
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "validation_failed");
    // not once it has started
    let err = service::reschedule(
        &pool,
        &a,
        mine.id,
        utc(2027, 1, 6, 10, 0),
        utc(2027, 1, 6, 11, 0),
        None,
        s1,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "booking_started");
}

#[sqlx::test(migrations = "../migrations")]
async fn extend_if_free(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let (a, b) = (funded_driver(&pool).await, funded_driver(&pool).await);
    let (s, e) = (utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    let mine = confirmed(&pool, &a, request(&c, 0, s, e), now()).await;
    confirmed(
        &pool,
        &b,
        request(&c, 0, utc(2027, 1, 5, 12, 0), utc(2027, 1, 5, 13, 0)),
        now(),
    )
    .await;
    service::check_in(&pool, &a, mine.id, s).await.unwrap();
    let during = s + Duration::minutes(30);
    let longer = service::extend(&pool, &a, mine.id, utc(2027, 1, 5, 12, 0), during)
        .await
        .unwrap();
    assert_eq!(longer.ends_at, utc(2027, 1, 5, 12, 0));
    assert_eq!(longer.status, BookingStatus::CheckedIn);
    assert_eq!(longer.amount_cents, 500);
    let err = service::extend(&pool, &a, mine.id, utc(2027, 1, 5, 12, 30), during)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "slot_taken");
    let err = service::extend(&pool, &a, mine.id, utc(2027, 1, 5, 11, 0), during)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation_failed");
    // the host may not change a driver's booking
    let err = service::extend(&pool, &c.host, mine.id, utc(2027, 1, 5, 12, 0), during)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

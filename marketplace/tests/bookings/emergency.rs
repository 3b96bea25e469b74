//! Emergency instant bookings: they start now and move or preempt what is in the way.

use chrono::Duration;
use marketplace::bookings::model::NewBooking;
use marketplace::bookings::service::{self, Created};
use marketplace::bookings::{Booking, BookingStatus, CancelledBy};
use marketplace::listings::model::ConnectorType;
use marketplace::{AuthUser, Error};
use sqlx::PgPool;

use super::support::*;

fn emergency(c: &Charger, port: usize, minutes: i64) -> NewBooking {
    NewBooking {
        charger_id: c.id,
        port_id: c.ports[port],
        start_time: None,
        end_time: now() + Duration::minutes(minutes),
        emergency: true,
    }
}

async fn rush(pool: &PgPool, who: &AuthUser, req: NewBooking) -> Result<Booking, Error> {
    match service::create(pool, who, req, None, now()).await? {
        Created::New(b) => Ok(*b),
        Created::Replayed { .. } => unreachable!(),
    }
}

/// What the driver was told about their bookings (not the funding top-up's receipt).
async fn outbox(pool: &PgPool, driver: &AuthUser) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT subject, body FROM outbox_messages \
         WHERE recipient = (SELECT email::text FROM users WHERE id = $1) \
           AND subject <> 'Payment received' ORDER BY created_at",
    )
    .bind(driver.id)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn moves_the_booking_in_the_way_to_a_free_port(pool: PgPool) {
    let c = charger(
        &pool,
        Spec {
            ports: vec![
                ConnectorType::Type2,
                ConnectorType::Ccs2,
                ConnectorType::Type2,
            ],
            ..Spec::default()
        },
    )
    .await;
    let driver = funded_driver(&pool).await;
    let earlier = now() - Duration::hours(1);
    // 08:30–09:30 on port 0, and port 2 (the other Type2) is free then
    let req = request(
        &c,
        0,
        now() + Duration::minutes(30),
        now() + Duration::minutes(90),
    );
    let b = confirmed(&pool, &driver, req, earlier).await;
    let rescuer = funded_driver(&pool).await;
    let e = rush(&pool, &rescuer, emergency(&c, 0, 60)).await.unwrap();
    assert!(e.emergency);
    assert_eq!(
        e.status,
        BookingStatus::Confirmed,
        "instant: no pending hold"
    );
    assert_eq!((e.starts_at, e.port_id), (now(), c.ports[0]));

    let moved = service::get(&pool, &driver, b.id).await.unwrap();
    assert_eq!(moved.status, BookingStatus::Confirmed);
    assert_eq!(moved.port_id, c.ports[2], "the CCS2 port is not compatible");
    assert_eq!(moved.moved_from_port, Some(c.ports[0]));
    assert_eq!(moved.preempted_by, Some(e.id));
    assert_eq!((moved.starts_at, moved.ends_at), (b.starts_at, b.ends_at));
    assert!(moved.refund.is_none());
    assert_eq!(events(&pool, b.id).await, ["created", "confirmed", "moved"]);
    let mail = outbox(&pool, &driver).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].0, "Your booking moved to another port");
}

#[sqlx::test(migrations = "../migrations")]
async fn preempts_with_a_full_refund_when_no_port_is_free(pool: PgPool) {
    let c = charger(
        &pool,
        Spec {
            ports: vec![ConnectorType::Type2, ConnectorType::Type2],
            ..Spec::default()
        },
    )
    .await;
    let (a, b) = (funded_driver(&pool).await, funded_driver(&pool).await);
    let earlier = now() - Duration::hours(3);
    let slot = (now() + Duration::minutes(15), now() + Duration::minutes(75));
    let victim = confirmed(&pool, &a, request(&c, 0, slot.0, slot.1), earlier).await;
    // the other Type2 port is busy at the same time
    confirmed(&pool, &b, request(&c, 1, slot.0, slot.1), earlier).await;

    let rescuer = funded_driver(&pool).await;
    let e = rush(&pool, &rescuer, emergency(&c, 0, 45)).await.unwrap();
    let victim = service::get(&pool, &a, victim.id).await.unwrap();
    assert_eq!(victim.status, BookingStatus::Preempted);
    assert_eq!(victim.preempted_by, Some(e.id));
    assert_eq!(victim.cancelled_by, Some(CancelledBy::System));
    assert!(victim.cancel_reason.unwrap().contains("emergency"));
    let refund = victim.refund.unwrap();
    // 2.50/h for an hour, all of it back
    assert_eq!((refund.amount_cents, refund.percent), (250, 100));
    let mail = outbox(&pool, &a).await;
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].1.contains("full refund of 2.50 EUR"),
        "{}",
        mail[0].1
    );
    // the other driver was left alone
    assert!(outbox(&pool, &b).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn emergencies_never_preempt_each_other(pool: PgPool) {
    let c = charger(
        &pool,
        Spec {
            ports: vec![ConnectorType::Type2, ConnectorType::Type2],
            ..Spec::default()
        },
    )
    .await;
    let first = rush(&pool, &funded_driver(&pool).await, emergency(&c, 0, 60))
        .await
        .unwrap();
    let err = rush(&pool, &funded_driver(&pool).await, emergency(&c, 0, 30))
        .await
        .unwrap_err();
    let Error::SlotTaken(slot) = err else {
        panic!("expected slot_taken, got {err:?}")
    };
    assert_eq!(
        (slot.start_time, slot.end_time),
        (first.starts_at, first.ends_at)
    );
    let still = service::get(&pool, &c.host, first.id).await.unwrap();
    assert_eq!(still.status, BookingStatus::Confirmed);
    assert_eq!(still.port_id, c.ports[0]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_driver_already_at_the_port_is_not_displaced(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let req = request(
        &c,
        0,
        now() - Duration::minutes(30),
        now() + Duration::minutes(30),
    );
    let b = confirmed(&pool, &driver, req, now() - Duration::hours(2)).await;
    service::check_in(&pool, &driver, b.id, now() - Duration::minutes(25))
        .await
        .unwrap();
    let err = rush(&pool, &funded_driver(&pool).await, emergency(&c, 0, 30))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "slot_taken");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_emergency_starts_now(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let mut req = emergency(&c, 0, 60);
    req.start_time = Some(now() + Duration::hours(2));
    let err = rush(&pool, &driver, req).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(e) if e[0].field == "start_time"),
        "{err:?}"
    );
    // and lasts at most two hours
    let err = rush(&pool, &driver, emergency(&c, 0, 121))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation(e) if e[0].field == "end_time"),
        "{err:?}"
    );
}

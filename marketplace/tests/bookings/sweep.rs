//! The durable deadlines: expiry (also across a restart), no-shows, the end of a check-in.

use chrono::Duration;
use marketplace::bookings::service;
use marketplace::bookings::{run_due, BookingStatus, SweepReport};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn expiry_survives_a_restart(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let req = request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    let b = book(&pool, &driver, req, now()).await;
    // "restart": every connection of this process closed, a new pool, nothing in memory
    let options = pool.connect_options().as_ref().clone();
    pool.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let early = run_due(&pool, now() + Duration::minutes(9)).await.unwrap();
    assert_eq!(early.expired, 0);
    let due = run_due(&pool, now() + Duration::minutes(10)).await.unwrap();
    assert_eq!(due.expired, 1);
    let b = service::get(&pool, &driver, b.id).await.unwrap();
    assert_eq!(b.status, BookingStatus::Expired);
    assert_eq!(events(&pool, b.id).await, ["created", "expired"]);
    // the slot is free again
    let other = funded_driver(&pool).await;
    let req = request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    book(&pool, &other, req, now() + Duration::minutes(11)).await;
    // nothing left to do
    let again = run_due(&pool, now() + Duration::minutes(12)).await.unwrap();
    assert_eq!(again, SweepReport::default());
}

#[sqlx::test(migrations = "../migrations")]
async fn no_shows_and_finished_check_ins(pool: PgPool) {
    let c = charger(
        &pool,
        Spec {
            ports: vec![marketplace::listings::model::ConnectorType::Type2; 2],
            ..Spec::default()
        },
    )
    .await;
    let (a, b) = (funded_driver(&pool).await, funded_driver(&pool).await);
    let (start, end) = (utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    let absent = confirmed(&pool, &a, request(&c, 0, start, end), now()).await;
    let present = confirmed(&pool, &b, request(&c, 1, start, end), now()).await;

    // check-in opens 15 minutes before the start
    let err = service::check_in(&pool, &b, present.id, start - Duration::minutes(16))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "outside_arrival_window");
    service::check_in(&pool, &b, present.id, start - Duration::minutes(15))
        .await
        .unwrap();

    // the grace period is 15 minutes: not yet a no-show one second before
    let r = run_due(&pool, start + Duration::minutes(15) - Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(r.no_shows, 0);
    let err = service::check_in(&pool, &a, absent.id, start + Duration::minutes(15))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "outside_arrival_window");
    let r = run_due(&pool, start + Duration::minutes(15)).await.unwrap();
    assert_eq!(r.no_shows, 1);
    let absent = service::get(&pool, &a, absent.id).await.unwrap();
    assert_eq!(absent.status, BookingStatus::NoShow);
    assert!(absent.refund.is_none(), "a no-show is not refunded");

    // the checked-in booking completes at its end
    let r = run_due(&pool, end).await.unwrap();
    assert_eq!(r.completed, 1);
    let present = service::get(&pool, &b, present.id).await.unwrap();
    assert_eq!(present.status, BookingStatus::Completed);
}

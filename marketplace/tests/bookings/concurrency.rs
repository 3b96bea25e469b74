//! Many drivers at once: the database alone decides, and it never double-books.

use std::sync::Arc;

use chrono::Duration;
use marketplace::bookings::service;
use marketplace::Error;
use sqlx::PgPool;

use super::support::*;

/// No two live bookings of a port overlap (the invariant, checked from the outside).
async fn overlaps(pool: &PgPool) -> i64 {
    count(
        pool,
        "SELECT count(*) FROM bookings a JOIN bookings b ON a.port_id = b.port_id AND a.id < b.id \
         AND a.period && b.period \
         WHERE a.status IN ('pending', 'confirmed', 'checked_in', 'charging') \
           AND b.status IN ('pending', 'confirmed', 'checked_in', 'charging')",
    )
    .await
}

#[sqlx::test(migrations = "../migrations")]
async fn twenty_drivers_race_for_one_slot_and_one_wins(pool: PgPool) {
    let c = Arc::new(charger(&pool, Spec::default()).await);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let driver = funded_driver(&pool).await;
        let (pool, c) = (pool.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            let req = request(&c, 0, utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
            try_book(&pool, &driver, req, now()).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(Error::SlotTaken(slot)) => {
                assert_eq!(slot.port_id, c.ports[0]);
                assert_eq!(slot.start_time, utc(2027, 1, 5, 10, 0));
            }
            Err(other) => panic!("expected slot_taken, got {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(count(&pool, "SELECT count(*) FROM bookings").await, 1);
    assert_eq!(overlaps(&pool).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn staggered_overlapping_requests_never_double_book(pool: PgPool) {
    let c = Arc::new(charger(&pool, Spec::default()).await);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let driver = funded_driver(&pool).await;
        let (pool, c) = (pool.clone(), c.clone());
        tasks.push(tokio::spawn(async move {
            // 45-minute bookings every 20 minutes: each overlaps its neighbours
            let start = utc(2027, 1, 5, 9, 0) + Duration::minutes(20 * i);
            let req = request(&c, 0, start, start + Duration::minutes(45));
            let b = try_book(&pool, &driver, req, now()).await;
            // winners confirm at once, as an app would
            if let Ok(b) = &b {
                service::confirm(&pool, &driver, b.id, now()).await.unwrap();
            }
            b
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(Error::SlotTaken(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    // winners are at least an hour apart and a gap of more than 100 minutes would have let
    // another in: at least 5 of the 24 fit whatever the order
    assert!(won >= 5, "got {won}");
    assert_eq!(overlaps(&pool).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_reschedules_into_one_slot(pool: PgPool) {
    let c = Arc::new(charger(&pool, Spec::default()).await);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let driver = funded_driver(&pool).await;
        let start = utc(2027, 1, 6, 8, 0) + Duration::hours(i);
        let b = book(
            &pool,
            &driver,
            request(&c, 0, start, start + Duration::hours(1)),
            now(),
        )
        .await;
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let (s, e) = (utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
            service::reschedule(&pool, &driver, b.id, s, e, None, now()).await
        }));
    }
    let results: Vec<_> = futures_join(tasks).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| e.code() == "slot_taken"));
    // the losers kept their own slots: ten live bookings, none overlapping
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM bookings WHERE status = 'pending'"
        )
        .await,
        10
    );
    assert_eq!(overlaps(&pool).await, 0);
}

async fn futures_join<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

//! Spends racing for the last balance: exactly as many win as the wallet covers, the rest get
//! `insufficient_funds`, and the wallet ends at or above zero. Also with the service's lock
//! bypassed, so the database's CHECK alone decides.

use std::sync::Arc;
use std::time::Duration;

use marketplace::accounts::Role;
use marketplace::ledger::model::{AccountKind, AccountRef, Entries, Leg, PostingKind};
use marketplace::ledger::service;
use marketplace::ledger::store::{self, NewPosting};
use sqlx::PgPool;
use tokio::sync::Barrier;

use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn two_payments_race_for_the_last_balance_and_one_wins(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let barrier = Arc::new(Barrier::new(2));
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (pool, barrier) = (pool.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            barrier.wait().await;
            let r = service::hold(&mut tx, driver.id, None, EUR, 800, None, now()).await;
            match r {
                Ok(_) => tx.commit().await.map_err(Into::into),
                Err(e) => Err(e),
            }
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(e) => assert!(is_insufficient(&e), "{e:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        (wallet(&pool, driver.id).await, held(&pool, driver.id).await),
        (200, 800)
    );
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn twenty_spends_of_a_tenth_each_ten_win(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            service::hold(&mut tx, driver.id, None, EUR, 100, None, now()).await?;
            tx.commit().await.map_err(marketplace::Error::from)
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(e) => assert!(is_insufficient(&e), "{e:?}"),
        }
    }
    assert_eq!(won, 10);
    assert_eq!(wallet(&pool, driver.id).await, 0);
    assert_eq!(held(&pool, driver.id).await, 1000);
    assert_reconciles(&pool).await;
}

/// Both transactions plan from the same stale balance, without the service's lock: the
/// second waits on the balance row behind the first, then the CHECK refuses it.
#[sqlx::test(migrations = "../migrations")]
async fn without_the_lock_the_database_check_alone_decides(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let spend = |key: &str| {
        let entries = Entries::balance([
            Leg::new(AccountRef::wallet(driver.id), -800),
            Leg::new(AccountRef::platform(AccountKind::PlatformCommission), 800),
        ])
        .unwrap();
        (
            NewPosting::new(PostingKind::Capture, EUR, key.to_owned(), now()),
            entries,
        )
    };
    let mut first = pool.begin().await.unwrap();
    let (p, e) = spend("first");
    store::post(&mut first, &p, &e).await.unwrap();
    let second = {
        let pool = pool.clone();
        let (p, e) = spend("second");
        tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            store::post(&mut tx, &p, &e).await?;
            tx.commit().await.map_err(marketplace::Error::from)
        })
    };
    // let the second one reach the row lock before the first commits
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    let err = second.await.unwrap().unwrap_err();
    assert!(store::is_insufficient(&err), "{err:?}");
    assert_eq!(wallet(&pool, driver.id).await, 200);
    assert_eq!(cached_wallet(&pool, driver.id).await, Some(200));
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_retries_of_one_topup_post_it_once(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    let input = service::TopupInput {
        amount_cents: 2500,
        currency: EUR.into(),
        payment_method: "local_test".into(),
    };
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (pool, input) = (pool.clone(), input.clone());
        tasks.push(tokio::spawn(async move {
            service::topup(&pool, &driver, input, Some("retry-me"), now()).await
        }));
    }
    let mut replayed = 0;
    let mut ids = Vec::new();
    for t in tasks {
        let done = t.await.unwrap().unwrap();
        replayed += usize::from(done.replayed);
        ids.push(done.view.transaction.id);
    }
    assert_eq!(replayed, 7);
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(wallet(&pool, driver.id).await, 2500);
    // one receipt, however often it was retried
    let receipts: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM outbox_messages WHERE recipient = $1 AND subject = 'Payment received'",
    )
    .bind(format!("{}@example.test", driver.id))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(receipts.len(), 1);
    assert!(
        receipts[0].starts_with("We received 25.00 EUR"),
        "{}",
        receipts[0]
    );
    assert_reconciles(&pool).await;
}

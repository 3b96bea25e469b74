//! Reconciliation: silent on a healthy ledger, and it finds what the database's guards would
//! have refused when they are switched off (`session_replication_role = replica` disables
//! triggers, as a careless restore or maintenance session would).

use marketplace::accounts::Role;
use marketplace::ledger::reconcile;
use sqlx::{Connection, PgPool};

use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn a_healthy_ledger_reconciles_with_its_totals(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1200).await;
    fund(&pool, driver.id, 300).await;
    let report = reconcile(&mut pool.acquire().await.unwrap()).await.unwrap();
    assert!(report.is_clean(), "{:#?}", report.discrepancies);
    assert_eq!((report.postings, report.entries), (2, 4));
    assert_eq!(report.currencies.len(), 1);
    let eur = &report.currencies[0];
    assert_eq!(eur.currency, "EUR");
    assert_eq!(
        (eur.provider_clearing_cents, eur.drivers_cents),
        (1500, 1500)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn tampering_past_the_guards_is_found(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    let topup = fund(&pool, driver.id, 1000).await;
    let mut conn = pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    // the cache inflated, an entry changed (unbalancing its posting and the currency), and
    // a top-up that names no provider payment
    sqlx::query("UPDATE wallet_balances SET balance_minor = 5000")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE ledger_entries SET amount_minor = amount_minor + 1 \
         WHERE posting_id = $1 AND amount_minor > 0",
    )
    .bind(topup)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("UPDATE ledger_postings SET provider_event_id = NULL WHERE id = $1")
        .bind(topup)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let report = reconcile(&mut conn).await.unwrap();
    let mut checks: Vec<&str> = report.discrepancies.iter().map(|d| d.check).collect();
    checks.dedup();
    assert_eq!(
        checks,
        [
            "posting_balanced",
            "currency_balanced",
            "wallet_cache",
            "provider_payment"
        ],
        "{:#?}",
        report.discrepancies
    );
    assert!(report.discrepancies[2].detail.contains("cached 5000"));
}

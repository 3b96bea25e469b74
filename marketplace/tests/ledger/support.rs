//! Fixtures for the ledger's database tests: money in through the development provider,
//! balances read back from the ledger's own tables, and the reconciliation as an oracle.

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use marketplace::ledger::model::{AccountKind, Minor};
use marketplace::ledger::service::{self, ProviderPayment};
use marketplace::ledger::store::Posted;
use sqlx::PgPool;
use uuid::Uuid;

pub use super::booking_support::*;

pub const EUR: &str = "EUR";

/// Credits `amount` to the driver's wallet as a provider payment would.
pub async fn fund(pool: &PgPool, driver: Uuid, amount: Minor) -> Uuid {
    fund_at(pool, driver, amount, now()).await
}

pub async fn fund_at(pool: &PgPool, driver: Uuid, amount: Minor, at: DateTime<Utc>) -> Uuid {
    let event = Uuid::now_v7().to_string();
    let mut tx = pool.begin().await.unwrap();
    let posted = service::record_provider_payment(
        &mut tx,
        &ProviderPayment {
            provider: "local_test",
            event_id: &event,
            driver,
            amount,
            currency: EUR,
            actor: Some(driver),
            memo: "test top-up".into(),
        },
        at,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    match posted {
        Posted::New(id) => id,
        Posted::Existing(_) => panic!("a fresh event was already posted"),
    }
}

/// An account's balance from its entries (0 when it does not exist).
pub async fn balance(pool: &PgPool, kind: AccountKind, owner: Option<Uuid>) -> Minor {
    sqlx::query_scalar(
        "SELECT coalesce(sum(e.amount_minor), 0)::bigint FROM ledger_entries e \
         JOIN ledger_accounts a ON a.id = e.account_id \
         WHERE a.kind = $1 AND a.owner_id IS NOT DISTINCT FROM $2 AND a.currency = 'EUR'",
    )
    .bind(kind.as_str())
    .bind(owner)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn wallet(pool: &PgPool, driver: Uuid) -> Minor {
    balance(pool, AccountKind::DriverWallet, Some(driver)).await
}

pub async fn held(pool: &PgPool, driver: Uuid) -> Minor {
    balance(pool, AccountKind::DriverHold, Some(driver)).await
}

pub async fn owed(pool: &PgPool, driver: Uuid) -> Minor {
    -balance(pool, AccountKind::DriverReceivable, Some(driver)).await
}

pub async fn host_payable(pool: &PgPool, host: Uuid) -> Minor {
    balance(pool, AccountKind::HostPayable, Some(host)).await
}

pub async fn platform(pool: &PgPool, kind: AccountKind) -> Minor {
    balance(pool, kind, None).await
}

/// The cached wallet balance (what the CHECK guards).
pub async fn cached_wallet(pool: &PgPool, driver: Uuid) -> Option<Minor> {
    sqlx::query_scalar(
        "SELECT w.balance_minor FROM wallet_balances w JOIN ledger_accounts a \
           ON a.id = w.account_id WHERE a.kind = 'driver_wallet' AND a.owner_id = $1",
    )
    .bind(driver)
    .fetch_optional(pool)
    .await
    .unwrap()
}

/// The reconciliation must find nothing.
pub async fn assert_reconciles(pool: &PgPool) {
    let report = marketplace::ledger::reconcile(&mut pool.acquire().await.unwrap())
        .await
        .unwrap();
    assert!(report.is_clean(), "{:#?}", report.discrepancies);
}

pub fn is_insufficient(err: &marketplace::Error) -> bool {
    matches!(
        err,
        marketplace::Error::Conflict {
            code: "insufficient_funds",
            ..
        }
    )
}

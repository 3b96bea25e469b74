//! The database's own guards, met head-on with plain SQL, and the service's use cases one
//! by one: holds, releases, captures within and beyond the hold, debts paid off by the next
//! top-up, reversals, idempotent postings.

use marketplace::accounts::Role;
use marketplace::ledger::model::{AccountKind, AccountRef, Cause, Charge};
use marketplace::ledger::service::{self, ProviderPayment};
use marketplace::ledger::store::{self, Posted};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::support::*;

async fn account(conn: &mut PgConnection, a: AccountRef) -> Uuid {
    store::account_id(conn, a, EUR).await.unwrap()
}

async fn raw_posting(conn: &mut PgConnection, key: &str) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO ledger_postings (id, kind, currency, idempotency_key, created_at) \
         VALUES ($1, 'adjustment', 'EUR', $2, now())",
    )
    .bind(id)
    .bind(key)
    .execute(conn)
    .await
    .unwrap();
    id
}

async fn raw_entry(
    conn: &mut PgConnection,
    posting: Uuid,
    account: Uuid,
    currency: &str,
    amount: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ledger_entries (posting_id, account_id, currency, amount_minor) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(posting)
    .bind(account)
    .bind(currency)
    .bind(amount)
    .execute(conn)
    .await
    .map(|_| ())
}

fn constraint(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unbalanced_posting_is_refused_at_commit(pool: PgPool) {
    let clearing = AccountRef::platform(AccountKind::ProviderClearing);
    let commission = AccountRef::platform(AccountKind::PlatformCommission);

    // one entry of +100: nothing refuses it until the commit
    let mut tx = pool.begin().await.unwrap();
    let a = account(&mut tx, clearing).await;
    let p = raw_posting(&mut tx, "unbalanced").await;
    raw_entry(&mut tx, p, a, EUR, 100).await.unwrap();
    let err = tx.commit().await.unwrap_err();
    assert_eq!(constraint(&err), Some("ledger_postings_balanced"), "{err}");

    // a posting without entries neither
    let mut tx = pool.begin().await.unwrap();
    raw_posting(&mut tx, "empty").await;
    let err = tx.commit().await.unwrap_err();
    assert_eq!(constraint(&err), Some("ledger_postings_balanced"), "{err}");

    // balanced: fine
    let mut tx = pool.begin().await.unwrap();
    let (a, b) = (
        account(&mut tx, clearing).await,
        account(&mut tx, commission).await,
    );
    let p = raw_posting(&mut tx, "balanced").await;
    raw_entry(&mut tx, p, a, EUR, -100).await.unwrap();
    raw_entry(&mut tx, p, b, EUR, 100).await.unwrap();
    tx.commit().await.unwrap();

    // and it stays balanced: an entry added later is refused at its commit
    let mut tx = pool.begin().await.unwrap();
    let c = account(&mut tx, AccountRef::platform(AccountKind::TaxPayable)).await;
    raw_entry(&mut tx, p, c, EUR, 5).await.unwrap();
    let err = tx.commit().await.unwrap_err();
    assert_eq!(constraint(&err), Some("ledger_postings_balanced"), "{err}");
    // and no entry is ever zero
    let mut tx = pool.begin().await.unwrap();
    let err = raw_entry(&mut tx, p, b, EUR, 0).await.unwrap_err();
    assert_eq!(constraint(&err), Some("ledger_entries_amount_check"));
    tx.rollback().await.unwrap();
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn entries_stay_in_their_postings_currency(pool: PgPool) {
    let mut tx = pool.begin().await.unwrap();
    let usd = store::account_id(
        &mut tx,
        AccountRef::platform(AccountKind::ProviderClearing),
        "USD",
    )
    .await
    .unwrap();
    let p = raw_posting(&mut tx, "mixed").await;
    // a USD account in a EUR posting, either way round
    let err = raw_entry(&mut tx, p, usd, "USD", 100).await.unwrap_err();
    assert_eq!(constraint(&err), Some("ledger_entries_posting_fkey"));
    tx.rollback().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let p = raw_posting(&mut tx, "mixed").await;
    let err = raw_entry(&mut tx, p, usd, "EUR", 100).await.unwrap_err();
    assert_eq!(constraint(&err), Some("ledger_entries_account_fkey"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_ledger_is_append_only(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    let p = fund(&pool, driver.id, 1000).await;
    for sql in [
        "UPDATE ledger_postings SET memo = 'x'",
        "DELETE FROM ledger_postings",
        "UPDATE ledger_entries SET amount_minor = amount_minor * 2",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_accounts SET currency = 'USD'",
        "DELETE FROM ledger_accounts",
        "TRUNCATE ledger_entries",
        "TRUNCATE ledger_postings CASCADE",
        // the cache moves only with entries
        "UPDATE wallet_balances SET balance_minor = 1000000",
        "DELETE FROM wallet_balances",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        let code = match &err {
            sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
            _ => None,
        };
        assert_eq!(code.as_deref(), Some("23001"), "{sql}: {err}");
    }
    assert_eq!(wallet(&pool, driver.id).await, 1000);
    assert_eq!(cached_wallet(&pool, driver.id).await, Some(1000));
    // the correction is a reversing posting
    let mut tx = pool.begin().await.unwrap();
    let r = service::reverse(&mut tx, p, None, "charged back", now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(wallet(&pool, driver.id).await, 0);
    assert_eq!(platform(&pool, AccountKind::ProviderClearing).await, 0);
    // once
    let mut tx = pool.begin().await.unwrap();
    let again = service::reverse(&mut tx, p, None, "again", now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(again, r);
    assert_eq!(wallet(&pool, driver.id).await, 0);
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_wallet_never_goes_below_zero_in_the_database(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 500).await;
    // straight past the service: 600 out of a 500 wallet
    let mut tx = pool.begin().await.unwrap();
    let w = account(&mut tx, AccountRef::wallet(driver.id)).await;
    let t = account(
        &mut tx,
        AccountRef::platform(AccountKind::PlatformCommission),
    )
    .await;
    let p = raw_posting(&mut tx, "overdraw").await;
    raw_entry(&mut tx, p, t, EUR, 600).await.unwrap();
    let err = raw_entry(&mut tx, p, w, EUR, -600).await.unwrap_err();
    assert_eq!(constraint(&err), Some("wallet_balances_non_negative"));
    tx.rollback().await.unwrap();
    // a reversal of a top-up already spent: the service answers insufficient_funds
    let spent = fund(&pool, driver.id, 300).await;
    let mut tx = pool.begin().await.unwrap();
    service::hold(&mut tx, driver.id, None, EUR, 700, None, now())
        .await
        .unwrap();
    let err = service::reverse(&mut tx, spent, None, "chargeback", now())
        .await
        .unwrap_err();
    assert!(is_insufficient(&err), "{err:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_retried_posting_is_a_no_op(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    let payment = ProviderPayment {
        provider: "local_test",
        event_id: "evt_1",
        driver: driver.id,
        amount: 1500,
        currency: EUR,
        actor: None,
        memo: "webhook".into(),
    };
    let mut seen = Vec::new();
    for _ in 0..3 {
        let mut tx = pool.begin().await.unwrap();
        seen.push(
            service::record_provider_payment(&mut tx, &payment, now())
                .await
                .unwrap(),
        );
        tx.commit().await.unwrap();
    }
    assert!(matches!(seen[0], Posted::New(_)));
    assert_eq!(seen[1], Posted::Existing(seen[0].id()));
    assert_eq!(seen[2], Posted::Existing(seen[0].id()));
    assert_eq!(wallet(&pool, driver.id).await, 1500);
    assert_eq!(platform(&pool, AccountKind::ProviderClearing).await, -1500);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM ledger_postings").await,
        1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn hold_release_and_capture(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    let host = user(&pool, Role::Host).await.id;
    fund(&pool, driver.id, 1000).await;
    let mut tx = pool.begin().await.unwrap();
    service::hold(&mut tx, driver.id, None, EUR, 600, Some(driver.id), now())
        .await
        .unwrap();
    let err = service::hold(&mut tx, driver.id, None, EUR, 401, None, now())
        .await
        .unwrap_err();
    assert!(is_insufficient(&err), "{err:?}");
    tx.rollback().await.unwrap();

    let mut tx = pool.begin().await.unwrap();
    let h2 = service::hold(&mut tx, driver.id, None, EUR, 600, Some(driver.id), now())
        .await
        .unwrap();
    service::release(&mut tx, h2, Some(100), None, now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (wallet(&pool, driver.id).await, held(&pool, driver.id).await),
        (500, 500)
    );

    // a bill of 700 (50 insurance, 30 tax, 620 split 124/496): 500 from the hold, 200 from
    // the wallet; the hold closes
    let charge = Charge {
        host,
        host_share: 496,
        commission: 124,
        insurance: 50,
        tax: 30,
    };
    let mut tx = pool.begin().await.unwrap();
    let c = service::capture(
        &mut tx,
        driver.id,
        EUR,
        Some(h2),
        &charge,
        "test:bill".into(),
        "a bill",
        Cause::default(),
        now(),
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (c.from_hold, c.from_wallet, c.on_account, c.released),
        (500, 200, 0, 0)
    );
    assert_eq!(
        (wallet(&pool, driver.id).await, held(&pool, driver.id).await),
        (300, 0)
    );
    assert_eq!(host_payable(&pool, host).await, 496);
    assert_eq!(platform(&pool, AccountKind::PlatformCommission).await, 124);
    assert_eq!(platform(&pool, AccountKind::InsuranceReserve).await, 50);
    assert_eq!(platform(&pool, AccountKind::TaxPayable).await, 30);
    // the hold is closed: capturing or releasing it again is a conflict
    let mut tx = pool.begin().await.unwrap();
    let err = service::release(&mut tx, h2, None, None, now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "hold_closed");
    tx.rollback().await.unwrap();

    // beyond hold and wallet: the rest is owed, and the next top-up pays it off first
    let big = Charge::fee(host, 1000);
    let mut tx = pool.begin().await.unwrap();
    let c = service::capture(
        &mut tx,
        driver.id,
        EUR,
        None,
        &big,
        "test:big".into(),
        "a big bill",
        Cause::default(),
        now(),
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((c.from_wallet, c.on_account), (300, 700));
    assert_eq!(
        (wallet(&pool, driver.id).await, owed(&pool, driver.id).await),
        (0, 700)
    );
    fund(&pool, driver.id, 500).await;
    assert_eq!(
        (wallet(&pool, driver.id).await, owed(&pool, driver.id).await),
        (0, 200)
    );
    fund(&pool, driver.id, 500).await;
    assert_eq!(
        (wallet(&pool, driver.id).await, owed(&pool, driver.id).await),
        (300, 0)
    );
    assert_eq!(cached_wallet(&pool, driver.id).await, Some(300));
    assert_reconciles(&pool).await;
}

//! Charging sessions' bills (rows as the sessions module writes them): the first revision is
//! captured against the booking's hold and split as the bill says, the rest of the hold is
//! released; a bill beyond hold and wallet goes on account; a corrected revision posts only
//! the difference; the due work posts bills in revision order, once.

use chrono::Duration;
use marketplace::accounts::Role;
use marketplace::ledger::model::AccountKind;
use marketplace::ledger::{run_due, service as ledger};
use sqlx::PgPool;
use uuid::Uuid;

use super::support::*;

/// A completed session on the charger's first port, for `booking` if given.
async fn session(pool: &PgPool, c: &Charger, driver: Uuid, booking: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO charging_sessions (id, driver_id, listing_id, port_id, booking_id, \
           station_id, evse_id, id_token, id_token_type, transaction_id, status, origin, \
           requested_at, started_at, ended_at) \
         VALUES ($1, $2, $3, $4, $5, 'ST-1', 1, 'TOKEN', 'Central', $6, 'completed', 'app', \
           $7, $7, $8)",
    )
    .bind(id)
    .bind(driver)
    .bind(c.id)
    .bind(c.ports[0])
    .bind(booking)
    .bind(id.to_string())
    .bind(now())
    .bind(now() + Duration::hours(1))
    .execute(pool)
    .await
    .unwrap();
    id
}

/// A bill: `base` split 20/80 (rounded down), 50 insurance, `tax` on top.
async fn bill(
    pool: &PgPool,
    session: Uuid,
    revision: i32,
    supersedes: Option<Uuid>,
    base: i64,
    tax: i64,
) -> Uuid {
    let id = Uuid::now_v7();
    let commission = base / 5;
    let total = base + 50 + tax;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO session_bills (id, session_id, revision, supersedes, reason, currency, \
           minor_digits, total_cents, tax_kind, tax_percent, taxable_cents, tax_cents, \
           commission_base_cents, platform_commission_cents, host_share_cents, \
           insurance_cents, session_start, session_end, energy_wh, charging_seconds, \
           idle_seconds, paused_seconds, ocpi_totals, computed_at) \
         VALUES ($1, $2, $3, $4, 'test', 'EUR', 2, $5, 'sales_tax', 10, $6, $7, $6, $8, $9, \
           50, $10, $11, 10000, 3600, 0, 0, '{}', $12)",
    )
    .bind(id)
    .bind(session)
    .bind(revision)
    .bind(supersedes)
    .bind(total)
    .bind(base)
    .bind(tax)
    .bind(commission)
    .bind(base - commission)
    .bind(now())
    .bind(now() + Duration::hours(1))
    .bind(now() + Duration::hours(1) + Duration::minutes(i64::from(revision)))
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO session_bill_lines (bill_id, position, kind, description, amount_cents) \
         VALUES ($1, 1, 'energy', 'Energy', $2), ($1, 2, 'tax', 'Sales tax 10%', $3)",
    )
    .bind(id)
    .bind(total - tax)
    .bind(tax)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn post(pool: &PgPool, bill: Uuid) -> bool {
    let mut tx = pool.begin().await.unwrap();
    let posted = ledger::post_session_bill(&mut tx, bill, now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    posted
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bill_is_captured_from_the_hold_and_the_rest_released(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let req = request(&c, 0, utc(2027, 1, 5, 12, 0), utc(2027, 1, 5, 14, 0));
    let b = confirmed(&pool, &driver, req, now()).await;
    let s = session(&pool, &c, driver.id, Some(b.id)).await;
    // 300 split 60 / 240, 50 insurance, 30 tax: 380 of the 500 held
    let id = bill(&pool, s, 1, None, 300, 30).await;
    assert!(post(&pool, id).await);
    assert!(!post(&pool, id).await, "posted once");
    assert_eq!(
        (wallet(&pool, driver.id).await, held(&pool, driver.id).await),
        (620, 0)
    );
    assert_eq!(host_payable(&pool, c.host.id).await, 240);
    assert_eq!(platform(&pool, AccountKind::PlatformCommission).await, 60);
    assert_eq!(platform(&pool, AccountKind::InsuranceReserve).await, 50);
    assert_eq!(platform(&pool, AccountKind::TaxPayable).await, 30);
    let posted: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT posted_at FROM session_bills WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(posted, Some(now()));
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn beyond_hold_and_wallet_the_rest_is_owed(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 600).await;
    let req = request(&c, 0, utc(2027, 1, 5, 12, 0), utc(2027, 1, 5, 14, 0));
    let b = confirmed(&pool, &driver, req, now()).await;
    let s = session(&pool, &c, driver.id, Some(b.id)).await;
    // 1000 + 50 + 0: 500 held, 100 in the wallet, 450 owed
    let id = bill(&pool, s, 1, None, 1000, 0).await;
    assert!(post(&pool, id).await);
    assert_eq!(
        (wallet(&pool, driver.id).await, owed(&pool, driver.id).await),
        (0, 450)
    );
    // the host is credited only with what was collected: 450 of 1050 is owed, so
    // ceil(800 × 450 / 1050) = 343 of the host's share waits in host pending
    let pending = |pool| balance(pool, AccountKind::HostPending, Some(c.host.id));
    assert_eq!(
        (host_payable(&pool, c.host.id).await, pending(&pool).await),
        (457, 343)
    );
    assert_reconciles(&pool).await;
    // a top-up pays the debt off first: the host's share follows, all of it
    fund(&pool, driver.id, 1000).await;
    assert_eq!(
        (wallet(&pool, driver.id).await, owed(&pool, driver.id).await),
        (550, 0)
    );
    assert_eq!(
        (host_payable(&pool, c.host.id).await, pending(&pool).await),
        (800, 0)
    );
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_corrected_bill_posts_the_difference_and_due_work_keeps_the_order(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    // an ad-hoc session: no booking, no hold
    let s = session(&pool, &c, driver.id, None).await;
    let first = bill(&pool, s, 1, None, 500, 0).await;
    let second = bill(&pool, s, 2, Some(first), 300, 0).await;
    // the correction asked for first: the original is posted before it
    assert!(post(&pool, second).await);
    assert_eq!(wallet(&pool, driver.id).await, 1000 - 350);
    assert_eq!(host_payable(&pool, c.host.id).await, 240);
    assert_eq!(platform(&pool, AccountKind::PlatformCommission).await, 60);
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM ledger_postings WHERE session_id = $1 ORDER BY id")
            .bind(s)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(kinds, ["capture", "adjustment"]);
    // a dearer third revision through the due work
    let third = bill(&pool, s, 3, Some(second), 600, 0).await;
    assert_eq!(run_due(&pool, now()).await.unwrap().bills_posted, 1);
    assert!(!post(&pool, third).await);
    assert_eq!(wallet(&pool, driver.id).await, 1000 - 650);
    assert_eq!(host_payable(&pool, c.host.id).await, 480);
    assert_reconciles(&pool).await;
}

//! Reconciliation: silent on a healthy ledger, and it finds what the database's guards would
//! have refused when they are switched off (`session_replication_role = replica` disables
//! triggers, as a careless restore or maintenance session would). Card payments, refunds and
//! released authorizations are matched against the ledger both ways, each broken invariant
//! reported by its own check.

use marketplace::accounts::Role;
use marketplace::ledger::reconcile;
use marketplace::ledger::service::{self, ProviderPayment};
use marketplace::payments::model::{Method, Purpose};
use marketplace::payments::provider::CaptureMethod;
use marketplace::payments::service::{self as payments, MethodInput, Paid, PayInput, RefundInput};
use marketplace::payments::LocalProvider;
use sqlx::{Connection, PgPool};
use uuid::Uuid;

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

// ---- card payments against the ledger ---------------------------------------------------

/// A healthy set of card money: a driver's 10.00 top-up by card, 3.00 of it refunded to the
/// card by an admin, and a 15.00 authorization released. Answers (top-up, refund).
async fn card_money(pool: &PgPool) -> (Uuid, Uuid) {
    let p = LocalProvider::new();
    let driver = user(pool, Role::Driver).await;
    let admin = user(pool, Role::Admin).await;
    let card = MethodInput {
        card_number: Some("4242424242424242".into()),
        exp_month: Some(12),
        exp_year: Some(2034),
        cvc: Some("123".into()),
        ..MethodInput::default()
    };
    payments::add_method(pool, &p, &driver, card, None, now())
        .await
        .unwrap();
    let topup = |amount, capture| PayInput {
        purpose: Purpose::Topup,
        booking_id: None,
        session_id: None,
        amount_cents: Some(amount),
        currency: Some(EUR.into()),
        method: Method::Card,
        payment_method_id: None,
        capture,
    };
    let paid = match payments::pay(pool, &p, &driver, topup(1000, None), None, now())
        .await
        .unwrap()
    {
        Paid::New(v) => v,
        Paid::Replayed(_) => panic!("replayed"),
    };
    assert_eq!(paid.status, "succeeded");
    let refund = RefundInput {
        payment_id: paid.id,
        amount_cents: Some(300),
        destination: None,
        reason: None,
    };
    let refunded = payments::refund(pool, &p, &admin, refund, None, now())
        .await
        .unwrap();
    let held = topup(1500, Some(CaptureMethod::Manual));
    let Paid::New(held) = payments::pay(pool, &p, &driver, held, None, now())
        .await
        .unwrap()
    else {
        panic!("replayed")
    };
    payments::cancel(pool, &p, &driver, held.id, now())
        .await
        .unwrap();
    (paid.id, refunded.view.id)
}

async fn checks_after(pool: &PgPool, tamper: &[&str], ids: (Uuid, Uuid)) -> Vec<&'static str> {
    let mut conn = pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    for sql in tamper {
        sqlx::query(sql)
            .bind(ids.0)
            .bind(ids.1)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let report = reconcile(&mut conn).await.unwrap();
    let mut checks: Vec<&str> = report.discrepancies.iter().map(|d| d.check).collect();
    checks.dedup();
    checks
}

#[sqlx::test(migrations = "../migrations")]
async fn card_payments_refunds_and_released_authorizations_reconcile(pool: PgPool) {
    let ids = card_money(&pool).await;
    assert_eq!(checks_after(&pool, &[], ids).await, Vec::<&str>::new());
    let report = reconcile(&mut pool.acquire().await.unwrap()).await.unwrap();
    assert_eq!(report.currencies[0].provider_clearing_cents, 700);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_card_payment_the_ledger_took_for_another_amount_is_found(pool: PgPool) {
    let ids = card_money(&pool).await;
    // the provider captured 8.00 (say a webhook was lost), the ledger still has 10.00
    let tamper = ["UPDATE payments SET amount_received = 800 WHERE id = $1 AND $2 IS NOT NULL"];
    assert_eq!(
        checks_after(&pool, &tamper, ids).await,
        ["card_payment_posted"]
    );
    let report = reconcile(&mut pool.acquire().await.unwrap()).await.unwrap();
    assert!(
        report.discrepancies[0].detail.contains("of 1000 EUR"),
        "{:#?}",
        report.discrepancies
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_released_authorization_that_claims_a_posting_is_found(pool: PgPool) {
    let ids = card_money(&pool).await;
    let tamper = [
        "UPDATE payments SET ledger_posting_id = (SELECT ledger_posting_id FROM \
                   payments WHERE id = $1) WHERE status = 'canceled' AND $2 IS NOT NULL",
    ];
    let found = checks_after(&pool, &tamper, ids).await;
    assert_eq!(found, ["card_payment_posted"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_top_up_naming_a_card_payment_nobody_made_is_found(pool: PgPool) {
    let ids = card_money(&pool).await;
    let driver = user(&pool, Role::Driver).await;
    let mut tx = pool.begin().await.unwrap();
    service::record_provider_payment(
        &mut tx,
        &ProviderPayment {
            provider: "local",
            event_id: "pi_local_nobody_made_this",
            driver: driver.id,
            amount: 500,
            currency: EUR,
            actor: None,
            memo: "a top-up without a payment".into(),
        },
        now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        checks_after(&pool, &[], ids).await,
        ["provider_posting_recorded"]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refund_to_the_card_without_its_posting_is_found(pool: PgPool) {
    let ids = card_money(&pool).await;
    let tamper =
        ["UPDATE payment_refunds SET ledger_posting_id = NULL WHERE id = $2 AND $1 IS NOT NULL"];
    // the refund lost its posting, and the posting its refund
    assert_eq!(
        checks_after(&pool, &tamper, ids).await,
        ["provider_posting_recorded", "card_refund_posted"]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failed_refund_whose_posting_stands_is_found(pool: PgPool) {
    let ids = card_money(&pool).await;
    let tamper = ["UPDATE payment_refunds SET status = 'failed' WHERE id = $2 AND $1 IS NOT NULL"];
    assert_eq!(
        checks_after(&pool, &tamper, ids).await,
        ["card_refund_posted"]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_capture_above_the_authorization_is_found(pool: PgPool) {
    let ids = card_money(&pool).await;
    let tamper = [
        "ALTER TABLE payments DROP CONSTRAINT payments_amounts_check",
        "UPDATE payments SET amount_minor = 900 WHERE id = $1 AND $2 IS NOT NULL",
    ];
    assert_eq!(
        checks_after(&pool, &tamper, ids).await,
        ["captured_within_authorized"]
    );
}

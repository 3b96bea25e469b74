//! Refunds made in Stripe's dashboard (no row of ours): signed `refund.*` and
//! `charge.refunded` events record and post them once per provider refund, in either order;
//! the money leaves the wallet, and what the driver already spent becomes owed.

use marketplace::ledger::model::AccountKind;
use marketplace::payments::model::Method;
use marketplace::payments::view::PaymentView;
use marketplace::AuthUser;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::sessions::{billed, session};
use super::support::*;

fn refund(id: &str, pi: &str, amount: i64, status: &str) -> Value {
    json!({
        "id": id, "object": "refund", "amount": amount, "currency": "eur",
        "payment_intent": pi, "charge": "ch_dash", "status": status, "metadata": {},
        "reason": "requested_by_customer"
    })
}

fn charge(pi: &str, captured: i64, refunded: i64) -> Value {
    json!({
        "id": "ch_dash", "object": "charge", "amount": captured, "amount_captured": captured,
        "amount_refunded": refunded, "captured": true, "currency": "eur", "paid": true,
        "payment_intent": pi, "refunded": refunded == captured, "status": "succeeded",
        "metadata": {}
    })
}

async fn owes(pool: &PgPool, driver: uuid::Uuid) -> i64 {
    -balance(pool, AccountKind::DriverReceivable, Some(driver)).await
}

/// A driver who topped up 3000 by card and spent 1050 of it on a session: 1950 left.
async fn spent(pool: &PgPool) -> (AuthUser, PaymentView) {
    let p = provider();
    let d = driver_with(pool, &p, OK_CARD).await;
    let c = charger(pool, Spec::default()).await;
    let paid = pay(pool, &p, &d, topup(3000), None).await;
    let s = billed(pool, &c, d.id).await;
    pay(pool, &p, &d, session(s, Method::Wallet), None).await;
    assert_eq!(wallet(pool, d.id).await, 1950);
    (d, paid)
}

async fn refunds(pool: &PgPool) -> i64 {
    count(pool, "SELECT count(*) FROM payment_refunds").await
}

#[sqlx::test(migrations = "../migrations")]
async fn a_dashboard_refund_beyond_the_wallet_becomes_owed_once(pool: PgPool) {
    let (d, paid) = spent(&pool).await;
    let pi = paid.provider_payment_id.clone().unwrap();
    let t = now().timestamp();
    let created = event(
        "evt_rc",
        "refund.created",
        t,
        refund("re_dash", &pi, 2500, "succeeded"),
    );
    assert_eq!(deliver(&pool, &created).await.unwrap().outcome, "applied");
    assert_eq!(wallet(&pool, d.id).await, 0);
    assert_eq!(owes(&pool, d.id).await, 550, "what was spent is owed");
    assert_eq!(cleared(&pool).await, 3000 - 2500);
    // the same refund again: a redelivery, a newer update, the charge's own event
    assert!(deliver(&pool, &created).await.unwrap().duplicate);
    let updated = event(
        "evt_ru",
        "refund.updated",
        t + 1,
        refund("re_dash", &pi, 2500, "succeeded"),
    );
    deliver(&pool, &updated).await.unwrap();
    let refunded = event("evt_cr", "charge.refunded", t + 2, charge(&pi, 3000, 2500));
    deliver(&pool, &refunded).await.unwrap();
    assert_eq!(refunds(&pool).await, 1);
    assert_eq!(
        (wallet(&pool, d.id).await, owes(&pool, d.id).await),
        (0, 550)
    );
    let shown = marketplace::payments::service::get(&pool, &d, paid.id)
        .await
        .unwrap();
    assert_eq!(shown.amount_refunded_cents, 2500);
    ledger_is_whole(&pool).await;

    // the next top-up pays the debt off first
    let p = provider();
    pay(&pool, &p, &d, topup(1000), None).await;
    assert_eq!(
        (wallet(&pool, d.id).await, owes(&pool, d.id).await),
        (450, 0)
    );
    ledger_is_whole(&pool).await;

    // reconciliation: a dashboard refund without its posting is found
    let found = reconcile_after_tampering(
        &pool,
        "UPDATE payment_refunds SET ledger_posting_id = NULL WHERE provider_refund_id = 're_dash'",
    )
    .await;
    let checks: Vec<_> = found.iter().map(|f| f.0).collect();
    assert!(checks.contains(&"card_refund_posted"), "{found:#?}");
    assert!(checks.contains(&"provider_posting_recorded"), "{found:#?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_charge_event_first_then_the_refunds_own_post_once(pool: PgPool) {
    let (d, paid) = spent(&pool).await;
    let pi = paid.provider_payment_id.clone().unwrap();
    let t = now().timestamp();
    // two dashboard refunds; the charge events (no refund ids) overtake the refund events
    deliver(
        &pool,
        &event("evt_c1", "charge.refunded", t, charge(&pi, 3000, 500)),
    )
    .await
    .unwrap();
    deliver(
        &pool,
        &event("evt_c2", "charge.refunded", t + 1, charge(&pi, 3000, 2000)),
    )
    .await
    .unwrap();
    assert_eq!(refunds(&pool).await, 2);
    assert_eq!(
        (wallet(&pool, d.id).await, owes(&pool, d.id).await),
        (0, 50)
    );
    // then the refunds themselves, newest first: they adopt the rows, nothing moves again
    for (id, evt, amount) in [("re_2", "evt_r2", 1500), ("re_1", "evt_r1", 500)] {
        let e = event(
            evt,
            "refund.created",
            t - 5,
            refund(id, &pi, amount, "succeeded"),
        );
        assert_eq!(deliver(&pool, &e).await.unwrap().outcome, "applied");
    }
    assert_eq!(refunds(&pool).await, 2);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM payment_refunds WHERE provider_refund_id IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        (wallet(&pool, d.id).await, owes(&pool, d.id).await),
        (0, 50)
    );
    // a refund at the provider beyond what the payment received is capped
    let huge = event(
        "evt_h",
        "refund.created",
        t + 3,
        refund("re_3", &pi, 5000, "succeeded"),
    );
    deliver(&pool, &huge).await.unwrap();
    let shown = marketplace::payments::service::get(&pool, &d, paid.id)
        .await
        .unwrap();
    assert_eq!(shown.amount_refunded_cents, 3000);
    assert_eq!(owes(&pool, d.id).await, 1050);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_dashboard_refund_that_fails_puts_the_money_back(pool: PgPool) {
    let (d, paid) = spent(&pool).await;
    let pi = paid.provider_payment_id.clone().unwrap();
    let t = now().timestamp();
    let pending = event(
        "evt_p",
        "refund.created",
        t,
        refund("re_f", &pi, 1000, "pending"),
    );
    deliver(&pool, &pending).await.unwrap();
    assert_eq!(wallet(&pool, d.id).await, 950);
    let failed = event(
        "evt_f",
        "refund.failed",
        t + 1,
        refund("re_f", &pi, 1000, "failed"),
    );
    deliver(&pool, &failed).await.unwrap();
    assert_eq!(wallet(&pool, d.id).await, 1950);
    // a refund that failed before we ever saw it moved nothing and is not recorded
    let never = event(
        "evt_n",
        "refund.failed",
        t + 2,
        refund("re_n", &pi, 700, "failed"),
    );
    deliver(&pool, &never).await.unwrap();
    assert_eq!(refunds(&pool).await, 1);
    assert_eq!(wallet(&pool, d.id).await, 1950);
    ledger_is_whole(&pool).await;
}

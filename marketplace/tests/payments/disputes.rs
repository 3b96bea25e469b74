//! Disputes (chargebacks) by signed `charge.dispute.*` events: the disputed amount leaves
//! the driver's wallet (what was spent becomes owed) and the provider's fee is the
//! platform's expense when the funds are withdrawn; a won dispute gives the amount back
//! (debt first). Each movement posts once, whatever the order or the replays.

use marketplace::ledger::model::AccountKind;
use marketplace::ledger::store::history::AccountFilter;
use marketplace::payments::model::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::sessions::{billed, session};
use super::support::*;

const FEE: i64 = 1500;

fn dispute(pi: &str, status: &str, withdrawn: bool, reinstated: bool) -> Value {
    let mut bts = Vec::new();
    if withdrawn {
        bts.push(
            json!({"id": "txn_out", "object": "balance_transaction", "amount": -2500,
            "fee": FEE, "net": -2500 - FEE, "currency": "eur", "type": "adjustment"}),
        );
    }
    if reinstated {
        bts.push(
            json!({"id": "txn_back", "object": "balance_transaction", "amount": 2500,
            "fee": 0, "net": 2500, "currency": "eur", "type": "adjustment"}),
        );
    }
    json!({
        "id": "dp_1", "object": "dispute", "amount": 2500, "currency": "eur",
        "charge": "ch_1", "payment_intent": pi, "status": status, "reason": "fraudulent",
        "balance_transactions": bts, "is_charge_refundable": false, "metadata": {}
    })
}

async fn owes(pool: &PgPool, driver: uuid::Uuid) -> i64 {
    -balance(pool, AccountKind::DriverReceivable, Some(driver)).await
}

async fn fees(pool: &PgPool) -> i64 {
    -balance(pool, AccountKind::ProviderFees, None).await
}

/// A driver who topped up 3000 by card and spent 1050: 1950 in the wallet.
async fn spent(pool: &PgPool) -> (marketplace::AuthUser, String) {
    let p = provider();
    let d = driver_with(pool, &p, OK_CARD).await;
    let c = charger(pool, Spec::default()).await;
    let paid = pay(pool, &p, &d, topup(3000), None).await;
    let s = billed(pool, &c, d.id).await;
    pay(pool, &p, &d, session(s, Method::Wallet), None).await;
    (d, paid.provider_payment_id.unwrap())
}

/// What the admin ledger view says of the driver's open disputes.
async fn open_disputes(pool: &PgPool, driver: uuid::Uuid) -> i64 {
    let filter = AccountFilter {
        kind: Some("driver_wallet".into()),
        owner_id: Some(driver),
        limit: 10,
        ..AccountFilter::default()
    };
    let page = marketplace::ledger::service::accounts(pool, filter)
        .await
        .unwrap();
    page.items[0].open_disputes
}

async fn status(pool: &PgPool) -> String {
    sqlx::query_scalar("SELECT status FROM payment_disputes")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_lost_dispute_takes_the_money_and_the_fee_once(pool: PgPool) {
    let (d, pi) = spent(&pool).await;
    let t = now().timestamp();
    let opened = event(
        "evt_1",
        "charge.dispute.created",
        t,
        dispute(&pi, "needs_response", false, false),
    );
    assert_eq!(deliver(&pool, &opened).await.unwrap().outcome, "applied");
    assert_eq!(wallet(&pool, d.id).await, 1950, "nothing withdrawn yet");
    let out = event(
        "evt_2",
        "charge.dispute.funds_withdrawn",
        t + 1,
        dispute(&pi, "needs_response", true, false),
    );
    deliver(&pool, &out).await.unwrap();
    assert_eq!(
        (wallet(&pool, d.id).await, owes(&pool, d.id).await),
        (0, 550)
    );
    assert_eq!(fees(&pool).await, FEE);
    assert_eq!(cleared(&pool).await, 3000 - 2500 - FEE);
    assert_eq!(
        open_disputes(&pool, d.id).await,
        1,
        "admins see the open dispute"
    );
    // replays and later events carrying the same withdrawal change nothing
    assert!(deliver(&pool, &out).await.unwrap().duplicate);
    let review = event(
        "evt_3",
        "charge.dispute.updated",
        t + 2,
        dispute(&pi, "under_review", true, false),
    );
    deliver(&pool, &review).await.unwrap();
    let lost = event(
        "evt_4",
        "charge.dispute.closed",
        t + 3,
        dispute(&pi, "lost", true, false),
    );
    deliver(&pool, &lost).await.unwrap();
    // an older event after the close does not move the status back
    let old = event(
        "evt_5",
        "charge.dispute.updated",
        t - 10,
        dispute(&pi, "warning_needs_response", true, false),
    );
    deliver(&pool, &old).await.unwrap();
    assert_eq!(status(&pool).await, "lost");
    assert_eq!(open_disputes(&pool, d.id).await, 0);
    assert_eq!(
        (wallet(&pool, d.id).await, owes(&pool, d.id).await),
        (0, 550)
    );
    assert_eq!(fees(&pool).await, FEE);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM ledger_postings WHERE idempotency_key LIKE 'dispute%'"
        )
        .await,
        1
    );
    ledger_is_whole(&pool).await;

    // reconciliation: a withdrawal posted for another amount than the dispute's is found
    let found = reconcile_after_tampering(&pool, "UPDATE payment_disputes SET fee_minor = 0").await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "dispute_posted");
    assert!(found[0].1.contains("withdrawal posting"), "{found:#?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_won_dispute_gives_back_debt_first_in_any_order(pool: PgPool) {
    let (d, pi) = spent(&pool).await;
    let t = now().timestamp();
    // the reinstatement overtakes everything: the withdrawal is posted before it
    let back = event(
        "evt_b",
        "charge.dispute.funds_reinstated",
        t + 5,
        dispute(&pi, "won", true, true),
    );
    deliver(&pool, &back).await.unwrap();
    // the amount came back: the 550 owed is paid off, the rest reaches the wallet; the fee
    // (not returned) stays the platform's expense
    assert_eq!(
        (wallet(&pool, d.id).await, owes(&pool, d.id).await),
        (1950, 0)
    );
    assert_eq!(fees(&pool).await, FEE);
    for (id, kind, at, st, w, r) in [
        (
            "evt_o",
            "charge.dispute.created",
            t,
            "needs_response",
            false,
            false,
        ),
        (
            "evt_w",
            "charge.dispute.funds_withdrawn",
            t + 1,
            "needs_response",
            true,
            false,
        ),
        ("evt_c", "charge.dispute.closed", t + 6, "won", true, true),
    ] {
        deliver(&pool, &event(id, kind, at, dispute(&pi, st, w, r)))
            .await
            .unwrap();
    }
    assert_eq!(status(&pool).await, "won");
    assert_eq!(
        (wallet(&pool, d.id).await, owes(&pool, d.id).await),
        (1950, 0)
    );
    assert_eq!(cleared(&pool).await, 3000 - FEE);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM ledger_postings WHERE idempotency_key LIKE 'dispute%'"
        )
        .await,
        2
    );
    ledger_is_whole(&pool).await;

    // reconciliation: a dispute posting no dispute names is found
    let found = reconcile_after_tampering(
        &pool,
        "UPDATE payment_disputes SET reinstatement_posting_id = NULL",
    )
    .await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "dispute_posted");
    assert!(
        found[0].1.contains("is no recorded dispute's"),
        "{found:#?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_fee_reported_after_the_withdrawal_is_posted_once(pool: PgPool) {
    let (d, pi) = spent(&pool).await;
    let t = now().timestamp();
    // the withdrawal arrives before the provider knew its fee
    let mut early = dispute(&pi, "needs_response", true, false);
    early["balance_transactions"][0]["fee"] = json!(0);
    early["balance_transactions"][0]["net"] = json!(-2500);
    let out = event("evt_f1", "charge.dispute.funds_withdrawn", t, early);
    deliver(&pool, &out).await.unwrap();
    assert_eq!(fees(&pool).await, 0);
    // a later event carries the fee: the platform's expense, posted then
    let later = event(
        "evt_f2",
        "charge.dispute.updated",
        t + 1,
        dispute(&pi, "under_review", true, false),
    );
    deliver(&pool, &later).await.unwrap();
    assert_eq!(fees(&pool).await, FEE);
    assert_eq!(cleared(&pool).await, 3000 - 2500 - FEE);
    // more events with the same fee post nothing more
    let closed = event(
        "evt_f3",
        "charge.dispute.closed",
        t + 2,
        dispute(&pi, "lost", true, false),
    );
    deliver(&pool, &closed).await.unwrap();
    assert_eq!(fees(&pool).await, FEE);
    assert_eq!(
        (wallet(&pool, d.id).await, owes(&pool, d.id).await),
        (0, 550),
        "the driver's side moved once, with the withdrawal"
    );
    ledger_is_whole(&pool).await;
    let found =
        reconcile_after_tampering(&pool, "UPDATE payment_disputes SET fee_later_minor = 0").await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "dispute_fee_posted");
}

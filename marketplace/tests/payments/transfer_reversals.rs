//! `transfer.reversed`: a paid transfer to a host that the provider reversed puts the amount
//! back into the host's payable, once per reversal, and the next run pays it again.

use marketplace::ledger::model::AccountKind;
use marketplace::payments::model::Method;
use marketplace::payments::service;
use marketplace::payments::LocalProvider;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::sessions::{billed, payout_account, session};
use super::support::*;

fn transfer(id: &str, transfer_id: uuid::Uuid, amount: i64, reversed: i64) -> Value {
    json!({
        "id": id, "object": "transfer", "amount": amount, "amount_reversed": reversed,
        "currency": "eur", "destination": "acct_x", "reversed": reversed == amount,
        "metadata": {"transfer_id": transfer_id.to_string()}
    })
}

async fn owed(pool: &PgPool, c: &Charger) -> i64 {
    balance(pool, AccountKind::HostPayable, Some(c.host.id)).await
}

/// A host paid 800 by transfer (a driver's wallet paid a 1050 session).
async fn paid_host(pool: &PgPool, p: &LocalProvider) -> (Charger, uuid::Uuid, String) {
    let d = driver_with(pool, p, OK_CARD).await;
    let c = charger(pool, Spec::default()).await;
    pay(pool, p, &d, topup(3000), None).await;
    let s = billed(pool, &c, d.id).await;
    pay(pool, p, &d, session(s, Method::Wallet), None).await;
    payout_account(pool, p, &c).await;
    service::pay_hosts(pool, p, service::MIN_TRANSFER, now())
        .await
        .unwrap();
    let made = service::host_transfers(pool, c.host.id, 10, 0)
        .await
        .unwrap();
    assert_eq!(
        (made[0].status.as_str(), made[0].amount_minor),
        ("paid", 800)
    );
    assert_eq!(owed(pool, &c).await, 0);
    let tr = made[0].provider_transfer_id.clone().unwrap();
    (c, made[0].id, tr)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reversed_transfer_is_owed_to_the_host_again_once(pool: PgPool) {
    let p = provider();
    let (c, id, tr) = paid_host(&pool, &p).await;
    let t = now().timestamp();
    // a partial reversal, then the rest; replays and an older event change nothing
    let part = event(
        "evt_t1",
        "transfer.reversed",
        t,
        transfer(&tr, id, 800, 300),
    );
    assert_eq!(deliver(&pool, &part).await.unwrap().outcome, "applied");
    assert_eq!(owed(&pool, &c).await, 300);
    let all = event(
        "evt_t2",
        "transfer.reversed",
        t + 1,
        transfer(&tr, id, 800, 800),
    );
    deliver(&pool, &all).await.unwrap();
    assert!(deliver(&pool, &all).await.unwrap().duplicate);
    let older = event(
        "evt_t0",
        "transfer.updated",
        t - 1,
        transfer(&tr, id, 800, 300),
    );
    deliver(&pool, &older).await.unwrap();
    assert_eq!(owed(&pool, &c).await, 800);
    assert_eq!(
        cleared(&pool).await,
        3000,
        "the 800 came back through the provider"
    );
    let reversed: i64 = sqlx::query_scalar("SELECT amount_reversed FROM host_transfers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(reversed, 800);
    ledger_is_whole(&pool).await;

    // a transfer that is not ours is acknowledged
    let other = event(
        "evt_x",
        "transfer.reversed",
        t,
        transfer("tr_other", uuid::Uuid::nil(), 100, 100),
    );
    assert_eq!(
        deliver(&pool, &other).await.unwrap().outcome,
        "unknown_object"
    );

    // reconciliation: a reversal recorded without its postings is found
    let found =
        reconcile_after_tampering(&pool, "UPDATE host_transfers SET amount_reversed = 500").await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "transfer_reversal_posted");
    assert!(
        found[0]
            .1
            .contains("500 reversed, reversal postings put back 800"),
        "{found:#?}"
    );
}

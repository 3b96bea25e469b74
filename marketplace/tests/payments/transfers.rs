//! Paying hosts what sessions paid from wallets earned them: a run transfers each connected
//! host's host payable to their account once, the ledger settles it, a refusal moves
//! nothing, and a destination charge in flight for an already posted bill is not paid twice.

use marketplace::ledger::model::AccountKind;
use marketplace::payments::model::Method;
use marketplace::payments::provider::CaptureMethod;
use marketplace::payments::service::{self, TransferReport};
use marketplace::payments::LocalProvider;
use sqlx::PgPool;

use super::sessions::{billed, payout_account, session};
use super::support::*;

async fn run(pool: &PgPool, p: &LocalProvider) -> TransferReport {
    service::pay_hosts(pool, p, service::MIN_TRANSFER, now())
        .await
        .unwrap()
}

async fn owed(pool: &PgPool, c: &Charger) -> i64 {
    balance(pool, AccountKind::HostPayable, Some(c.host.id)).await
}

/// The host's share of what drivers still owe: not payable, never transferred.
async fn pending(pool: &PgPool, c: &Charger) -> i64 {
    balance(pool, AccountKind::HostPending, Some(c.host.id)).await
}

/// A charger whose host is owed 800: a driver's 3000 top-up paid a session bill of 1050 from
/// the wallet.
async fn wallet_paid_session(pool: &PgPool, p: &LocalProvider) -> Charger {
    let d = driver_with(pool, p, OK_CARD).await;
    let c = charger(pool, Spec::default()).await;
    pay(pool, p, &d, topup(3000), None).await;
    let s = billed(pool, &c, d.id).await;
    pay(pool, p, &d, session(s, Method::Wallet), None).await;
    c
}

#[sqlx::test(migrations = "../migrations")]
async fn a_connected_host_is_paid_what_wallets_paid_once(pool: PgPool) {
    let p = provider();
    let c = wallet_paid_session(&pool, &p).await;
    assert_eq!(owed(&pool, &c).await, 800);

    // no payout account yet: the platform keeps owing
    assert_eq!(run(&pool, &p).await, TransferReport::default());
    let account = payout_account(&pool, &p, &c).await;
    assert_eq!(
        run(&pool, &p).await,
        TransferReport {
            paid: 1,
            ..TransferReport::default()
        }
    );
    assert_eq!(owed(&pool, &c).await, 0);
    assert_eq!(
        cleared(&pool).await,
        3000 - 800,
        "the 800 left through the provider"
    );
    let made = service::host_transfers(&pool, c.host.id, 10, 0)
        .await
        .unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(
        (
            made[0].status.as_str(),
            made[0].amount_minor,
            made[0].destination_account.as_str()
        ),
        ("paid", 800, account.account_id.as_str())
    );
    assert!(made[0].provider_transfer_id.is_some() && made[0].ledger_posting_id.is_some());
    // nothing more is owed: the next run transfers nothing
    assert_eq!(run(&pool, &p).await, TransferReport::default());
    ledger_is_whole(&pool).await;

    // reconciliation catches a transfer that claims another amount than its settlement
    let found =
        reconcile_after_tampering(&pool, "UPDATE host_transfers SET amount_minor = 700").await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, "host_transfer_posted");
    assert!(found[0].1.contains("takes 800 from the host payable"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refused_transfer_moves_nothing_and_the_next_run_tries_again(pool: PgPool) {
    let p = provider();
    let c = wallet_paid_session(&pool, &p).await;
    let account = payout_account(&pool, &p, &c).await.account_id;
    let rename = |to: String| {
        let pool = pool.clone();
        async move {
            sqlx::query("UPDATE host_payout_accounts SET provider_account_id = $1")
                .bind(to)
                .execute(&pool)
                .await
                .unwrap();
        }
    };

    // the provider does not know the host's account (closed meanwhile): it refuses
    rename("acct_closed".into()).await;
    assert_eq!(
        run(&pool, &p).await,
        TransferReport {
            refused: 1,
            ..TransferReport::default()
        }
    );
    assert_eq!(owed(&pool, &c).await, 800, "still owed");
    let made = service::host_transfers(&pool, c.host.id, 10, 0)
        .await
        .unwrap();
    assert_eq!(made[0].status, "failed");
    assert!(made[0].ledger_posting_id.is_none());

    rename(account).await;
    assert_eq!(run(&pool, &p).await.paid, 1);
    assert_eq!(owed(&pool, &c).await, 0);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_destination_charge_in_flight_for_a_posted_bill_is_not_paid_twice(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let c = charger(&pool, Spec::default()).await;
    payout_account(&pool, &p, &c).await;
    // the bill went on account (the driver's wallet was empty): the host's 800 waits for
    // the driver to pay, and nothing of it is transferable
    let s = billed(&pool, &c, d.id).await;
    marketplace::ledger::run_due(&pool, now()).await.unwrap();
    assert_eq!((owed(&pool, &c).await, pending(&pool, &c).await), (0, 800));
    assert_eq!(run(&pool, &p).await, TransferReport::default());
    // the driver authorizes the whole bill by card to the host's account: once captured,
    // the provider pays the host directly, so the platform must not transfer it as well
    let mut input = session(s, Method::Card);
    input.capture = Some(CaptureMethod::Manual);
    let held = pay(&pool, &p, &d, input, None).await;
    assert_eq!(held.status, "requires_capture");
    assert!(held.destination_account.is_some());
    assert_eq!(run(&pool, &p).await, TransferReport::default());

    service::capture(&pool, &p, &d, held.id, None, now())
        .await
        .unwrap();
    // paid: released from pending, and paid by the provider directly
    assert_eq!((owed(&pool, &c).await, pending(&pool, &c).await), (0, 0));
    assert_eq!(run(&pool, &p).await, TransferReport::default());
    ledger_is_whole(&pool).await;
}

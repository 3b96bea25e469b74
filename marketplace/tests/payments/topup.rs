//! `POST /api/wallet/topup` by card: the default card or a saved one, through the provider
//! (the money is in the wallet once the provider has it); `local_test` still credits at once;
//! anything else is named as the bad field.

use marketplace::accounts::Role;
use marketplace::ledger::service::TopupInput;
use marketplace::payments::service::{self, wallet_topup};
use marketplace::Error;
use sqlx::PgPool;

use super::support::*;

fn input(amount: i64, method: &str) -> TopupInput {
    TopupInput {
        amount_cents: amount,
        currency: "EUR".into(),
        payment_method: method.into(),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_card_top_up_through_the_wallet_route(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let done = wallet_topup(&pool, &p, &d, input(2500, "card"), Some("w-1"), now())
        .await
        .unwrap();
    let payment = done.view.payment.expect("a card payment");
    assert_eq!(payment.status, "succeeded");
    assert_eq!(payment.purpose, "topup");
    assert_eq!(done.view.wallet.unwrap().balance_cents, 2500);
    assert_eq!(wallet(&pool, d.id).await, 2500);
    // a retry is the same payment, nothing posted twice
    let again = wallet_topup(&pool, &p, &d, input(2500, "card"), Some("w-1"), now())
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.view.payment.unwrap().id, payment.id);
    assert_eq!(wallet(&pool, d.id).await, 2500);

    // a saved card named by its id; the development provider next to it
    let other = save_card(&pool, &p, &d, OK_CARD).await;
    let by_id = wallet_topup(
        &pool,
        &p,
        &d,
        input(500, &other.id.to_string()),
        None,
        now(),
    )
    .await
    .unwrap();
    assert_eq!(
        by_id.view.payment.unwrap().payment_method_id,
        Some(other.id)
    );
    let local = wallet_topup(&pool, &p, &d, input(100, "local_test"), None, now())
        .await
        .unwrap();
    assert!(local.view.payment.is_none());
    assert_eq!(local.view.transaction.unwrap().amount_cents, 100);
    assert_eq!(wallet(&pool, d.id).await, 3100);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn three_d_secure_waits_and_a_declined_card_moves_nothing(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, THREE_DS).await;
    let done = wallet_topup(&pool, &p, &d, input(2000, "card"), None, now())
        .await
        .unwrap();
    let payment = done.view.payment.unwrap();
    assert_eq!(payment.status, "requires_action");
    assert!(done.view.wallet.is_none(), "no money yet");
    service::confirm(&pool, &p, &d, payment.id, now())
        .await
        .unwrap();
    assert_eq!(wallet(&pool, d.id).await, 2000);

    let declined = driver_with(&pool, &p, DECLINED).await;
    let done = wallet_topup(&pool, &p, &declined, input(2000, "card"), None, now())
        .await
        .unwrap();
    assert_eq!(done.view.payment.unwrap().status, "failed");
    assert_eq!(wallet(&pool, declined.id).await, 0);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_methods_and_amounts_are_named(pool: PgPool) {
    let p = provider();
    let d = user(&pool, Role::Driver).await;
    let err = wallet_topup(&pool, &p, &d, input(5, "paypal"), None, now())
        .await
        .unwrap_err();
    let Error::Validation(errors) = err else {
        panic!("not a validation error: {err:?}")
    };
    let mut fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    fields.sort();
    assert_eq!(fields, ["amount_cents", "payment_method"]);
    // a card top-up without any saved card is refused, nothing posted
    assert!(wallet_topup(&pool, &p, &d, input(500, "card"), None, now())
        .await
        .is_err());
    assert_eq!(wallet(&pool, d.id).await, 0);
}

//! Refunds: to the card (the money leaves the wallet in the same transaction, so it is never
//! refunded twice) or into the wallet (admins); a driver gets what the booking's policy
//! decided.

use chrono::{DateTime, Duration, Utc};
use marketplace::accounts::Role;
use marketplace::bookings::service as bookings;
use marketplace::payments::model::{Method, RefundDestination};
use marketplace::payments::service::{self, RefundInput};
use marketplace::Error;
use sqlx::PgPool;
use uuid::Uuid;

use super::support::*;

fn start() -> DateTime<Utc> {
    utc(2027, 1, 5, 12, 0)
}

fn refund(payment: Uuid, amount: Option<i64>, to: RefundDestination) -> RefundInput {
    RefundInput {
        payment_id: payment,
        amount_cents: amount,
        destination: Some(to),
        reason: Some("test".into()),
    }
}

fn code(err: Error) -> String {
    match err {
        Error::Conflict { code, .. } => code.into(),
        Error::Validation(e) => format!("422 {}", e[0].field),
        other => format!("{other:?}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_refund_to_the_card_leaves_the_wallet(pool: PgPool) {
    let p = provider();
    let admin = user(&pool, Role::Admin).await;
    let d = driver_with(&pool, &p, OK_CARD).await;
    let paid = pay(&pool, &p, &d, topup(2500), None).await;
    let to_card = RefundDestination::OriginalMethod;
    let done = service::refund(
        &pool,
        &p,
        &admin,
        refund(paid.id, Some(1000), to_card),
        Some("r1"),
        now(),
    )
    .await
    .unwrap();
    assert!(!done.replayed);
    assert_eq!(
        (done.view.status.as_str(), done.view.basis.as_str()),
        ("succeeded", "admin")
    );
    assert!(done
        .view
        .provider_refund_id
        .as_deref()
        .unwrap()
        .starts_with("re_local_"));
    assert_eq!(wallet(&pool, d.id).await, 1500);
    assert_eq!(cleared(&pool).await, 1500);
    // the same key: the same refund
    let again = service::refund(
        &pool,
        &p,
        &admin,
        refund(paid.id, Some(1000), to_card),
        Some("r1"),
        now(),
    )
    .await
    .unwrap();
    assert!(again.replayed && again.view.id == done.view.id);
    assert_eq!(wallet(&pool, d.id).await, 1500);
    // at most what is left
    let err = service::refund(
        &pool,
        &p,
        &admin,
        refund(paid.id, Some(1501), to_card),
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(code(err), "422 amount_cents");
    let rest = service::refund(
        &pool,
        &p,
        &admin,
        refund(paid.id, None, to_card),
        None,
        now(),
    )
    .await
    .unwrap();
    assert_eq!(rest.view.amount_cents, 1500);
    let shown = service::get(&pool, &d, paid.id).await.unwrap();
    assert_eq!(shown.amount_refunded_cents, 2500);
    let err = service::refund(
        &pool,
        &p,
        &admin,
        refund(paid.id, None, to_card),
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(code(err), "nothing_to_refund");
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn money_already_spent_is_not_refunded_to_the_card(pool: PgPool) {
    let p = provider();
    let admin = user(&pool, Role::Admin).await;
    let d = driver_with(&pool, &p, OK_CARD).await;
    let c = charger(&pool, Spec::default()).await;
    let b = book(
        &pool,
        &d,
        request(&c, 0, start(), start() + Duration::hours(2)),
        now(),
    )
    .await;
    let paid = pay(&pool, &p, &d, topup(500), None).await;
    // confirming holds the top-up's money for the booking
    bookings::confirm(&pool, &d, b.id, now()).await.unwrap();
    assert_eq!(held(&pool, d.id).await, 500);
    let err = service::refund(
        &pool,
        &p,
        &admin,
        refund(paid.id, None, RefundDestination::OriginalMethod),
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(code(err), "insufficient_funds");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM payment_refunds").await,
        0
    );
    // into the wallet instead (an admin's goodwill): the platform pays it
    let goodwill = service::refund(
        &pool,
        &p,
        &admin,
        refund(paid.id, Some(200), RefundDestination::Wallet),
        None,
        now(),
    )
    .await
    .unwrap();
    assert_eq!(goodwill.view.destination, "wallet");
    assert_eq!(wallet(&pool, d.id).await, 200);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_driver_gets_the_policys_refund_back_on_the_card(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let c = charger(&pool, Spec::default()).await;
    let b = book(
        &pool,
        &d,
        request(&c, 0, start(), start() + Duration::hours(2)),
        now(),
    )
    .await;
    let paid = pay(&pool, &p, &d, for_booking(b.id, Method::Card), None).await;
    bookings::confirm(&pool, &d, b.id, now()).await.unwrap();
    assert_eq!(held(&pool, d.id).await, 500);
    // nothing is due before a cancellation
    let to_card = RefundDestination::OriginalMethod;
    let err = service::refund(&pool, &p, &d, refund(paid.id, None, to_card), None, now())
        .await
        .unwrap_err();
    assert_eq!(code(err), "no_refund_due");
    // cancelled more than 2 h ahead: 100 %, which the ledger puts back into the wallet
    bookings::cancel(&pool, &d, b.id, None, now())
        .await
        .unwrap();
    assert_eq!(
        (held(&pool, d.id).await, wallet(&pool, d.id).await),
        (0, 500)
    );
    // a driver may not send it to the wallet (it is there) nor take more than decided
    let err = service::refund(
        &pool,
        &p,
        &d,
        refund(paid.id, None, RefundDestination::Wallet),
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Forbidden));
    let back = service::refund(&pool, &p, &d, refund(paid.id, None, to_card), None, now())
        .await
        .unwrap();
    assert_eq!(
        (back.view.amount_cents, back.view.basis.as_str()),
        (500, "policy")
    );
    assert_eq!(wallet(&pool, d.id).await, 0);
    let err = service::refund(&pool, &p, &d, refund(paid.id, None, to_card), None, now())
        .await
        .unwrap_err();
    assert_eq!(code(err), "nothing_to_refund");
    ledger_is_whole(&pool).await;
}

//! Paying by card and by wallet, and what the ledger makes of it: money received by card
//! lands in the wallet once (however often reported), a booking's payment is held for it, a
//! declined card moves nothing, 3-D Secure waits for the confirm, manual capture takes at most
//! the authorization.

use chrono::{DateTime, Duration, Utc};
use marketplace::accounts::Role;
use marketplace::bookings::Booking;
use marketplace::payments::model::Method;
use marketplace::payments::provider::CaptureMethod;
use marketplace::payments::service::{self, Paid};
use marketplace::{AuthUser, Error};
use sqlx::PgPool;

use super::support::*;

fn start() -> DateTime<Utc> {
    utc(2027, 1, 5, 12, 0)
}

/// A pending booking of 12:00–14:00 (5.00 at 2.50/h): confirming it needs the money held
/// (or a card authorization), so payments come first.
async fn booking(pool: &PgPool, driver: &AuthUser) -> Booking {
    let c = charger(pool, Spec::default()).await;
    let req = request(&c, 0, start(), start() + Duration::hours(2));
    book(pool, driver, req, now()).await
}

async fn confirm(pool: &PgPool, driver: &AuthUser, b: &Booking) -> Booking {
    marketplace::bookings::service::confirm(pool, driver, b.id, now())
        .await
        .unwrap()
}

fn conflict(err: Error) -> &'static str {
    match err {
        Error::Conflict { code, .. } => code,
        other => panic!("not a conflict: {other:?}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_card_top_up_lands_in_the_wallet_once(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let paid = new(
        service::pay(&pool, &p, &d, topup(2500), Some("top-1"), now())
            .await
            .unwrap(),
    );
    assert_eq!(paid.status, "succeeded");
    assert_eq!(paid.amount_received_cents, 2500);
    assert!(paid
        .provider_payment_id
        .as_deref()
        .unwrap()
        .starts_with("pi_local_"));
    assert_eq!(wallet(&pool, d.id).await, 2500);
    assert_eq!(cleared(&pool).await, 2500);

    // the same key: the same payment, nothing posted again
    let again = service::pay(&pool, &p, &d, topup(2500), Some("top-1"), now())
        .await
        .unwrap();
    let Paid::Replayed(again) = again else {
        panic!("not replayed")
    };
    assert_eq!(again.id, paid.id);
    assert_eq!(wallet(&pool, d.id).await, 2500);
    // the same key with another request is refused
    let err = service::pay(&pool, &p, &d, topup(999), Some("top-1"), now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Validation(ref e) if e[0].field == "Idempotency-Key"),
        "{err:?}"
    );
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn declined_cards_fail_with_their_reason_and_move_nothing(pool: PgPool) {
    let p = provider();
    for (number, code, reason) in [
        (DECLINED, "card_declined", "generic_decline"),
        (NO_FUNDS, "card_declined", "insufficient_funds"),
    ] {
        let d = driver_with(&pool, &p, number).await;
        let paid = pay(&pool, &p, &d, topup(1000), None).await;
        assert_eq!(paid.status, "failed");
        let failure = paid.failure.unwrap();
        assert_eq!(failure.code, code);
        assert_eq!(failure.decline_code.as_deref(), Some(reason));
        assert_eq!(wallet(&pool, d.id).await, 0);
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM ledger_postings").await,
        0
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn three_d_secure_waits_for_the_confirm(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, THREE_DS).await;
    let paid = pay(&pool, &p, &d, topup(1500), None).await;
    assert_eq!(paid.status, "requires_action");
    let action = paid.next_action.unwrap();
    assert_eq!(action.kind, "three_d_secure");
    assert!(action.client_secret.is_some());
    assert_eq!(
        wallet(&pool, d.id).await,
        0,
        "nothing received before the challenge"
    );

    let done = service::confirm(&pool, &p, &d, paid.id, now())
        .await
        .unwrap();
    assert_eq!(done.status, "succeeded");
    assert!(done.next_action.is_none());
    assert_eq!(wallet(&pool, d.id).await, 1500);
    // confirming again changes nothing
    service::confirm(&pool, &p, &d, paid.id, now())
        .await
        .unwrap();
    assert_eq!(wallet(&pool, d.id).await, 1500);
    // nor can anyone else see it
    let other = user(&pool, Role::Driver).await;
    let err = service::confirm(&pool, &p, &other, paid.id, now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_booking_paid_by_card_is_held_for_it(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let b = booking(&pool, &d).await;
    assert_eq!(held(&pool, d.id).await, 0);
    let paid = pay(&pool, &p, &d, for_booking(b.id, Method::Card), None).await;
    assert_eq!(
        (paid.status.as_str(), paid.amount_cents),
        ("succeeded", 500)
    );
    // the money waits in the wallet until the booking is confirmed, which holds it
    assert_eq!(
        (wallet(&pool, d.id).await, held(&pool, d.id).await),
        (500, 0)
    );
    confirm(&pool, &d, &b).await;
    assert_eq!(
        held(&pool, d.id).await,
        500,
        "the card's money is held for the booking"
    );
    assert_eq!(wallet(&pool, d.id).await, 0);
    let err = service::pay(&pool, &p, &d, for_booking(b.id, Method::Card), None, now())
        .await
        .unwrap_err();
    assert_eq!(conflict(err), "already_paid");
    // another driver's booking is nobody else's to pay
    let other = driver_with(&pool, &p, OK_CARD).await;
    let err = service::pay(
        &pool,
        &p,
        &other,
        for_booking(b.id, Method::Card),
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)));
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_booking_paid_by_wallet_is_a_hold(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let b = booking(&pool, &d).await;
    let err = service::pay(
        &pool,
        &p,
        &d,
        for_booking(b.id, Method::Wallet),
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(conflict(err), "booking_not_confirmed");
    // confirming an unfunded booking is refused; a top-up makes it possible
    let err = marketplace::bookings::service::confirm(&pool, &d, b.id, now())
        .await
        .unwrap_err();
    assert_eq!(conflict(err), "payment_required");
    pay(&pool, &p, &d, topup(800), None).await;
    // confirming is the wallet's payment: it holds the amount, so nothing is left to pay
    confirm(&pool, &d, &b).await;
    assert_eq!(wallet(&pool, d.id).await, 300);
    assert_eq!(held(&pool, d.id).await, 500);
    let err = service::pay(
        &pool,
        &p,
        &d,
        for_booking(b.id, Method::Wallet),
        None,
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(conflict(err), "already_paid");
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn manual_capture_takes_at_most_the_authorization(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let mut input = topup(2000);
    input.capture = Some(CaptureMethod::Manual);
    let held_card = pay(&pool, &p, &d, input, None).await;
    assert_eq!(held_card.status, "requires_capture");
    assert_eq!(held_card.amount_capturable_cents, 2000);
    assert_eq!(
        wallet(&pool, d.id).await,
        0,
        "an authorization is not money yet"
    );

    let err = service::capture(&pool, &p, &d, held_card.id, Some(2001), now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    let captured = service::capture(&pool, &p, &d, held_card.id, Some(1200), now())
        .await
        .unwrap();
    assert_eq!(captured.status, "succeeded");
    assert_eq!(captured.amount_received_cents, 1200);
    assert_eq!(wallet(&pool, d.id).await, 1200);
    // a retried capture answers the same and posts nothing more
    service::capture(&pool, &p, &d, held_card.id, Some(1200), now())
        .await
        .unwrap();
    assert_eq!(wallet(&pool, d.id).await, 1200);
    let err = service::cancel(&pool, &p, &d, held_card.id, now())
        .await
        .unwrap_err();
    assert_eq!(conflict(err), "not_cancelable");

    let mut input = topup(700);
    input.capture = Some(CaptureMethod::Manual);
    let other = pay(&pool, &p, &d, input, None).await;
    let canceled = service::cancel(&pool, &p, &d, other.id, now())
        .await
        .unwrap();
    assert_eq!(canceled.status, "canceled");
    assert_eq!(wallet(&pool, d.id).await, 1200);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_requests_name_their_fields(pool: PgPool) {
    let p = provider();
    let d = user(&pool, Role::Driver).await;
    let mut input = topup(50);
    input.currency = Some("eur".into());
    input.booking_id = Some(uuid::Uuid::nil());
    let err = service::pay(&pool, &p, &d, input, None, now())
        .await
        .unwrap_err();
    let Error::Validation(errors) = err else {
        panic!("{err:?}")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["booking_id", "amount_cents", "currency"]);
    // no card saved: the card is the field to fix
    let err = service::pay(&pool, &p, &d, topup(500), None, now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(ref e) if e[0].field == "payment_method_id"));
}

//! Stripe webhooks with real signed payloads (the signature computed in the test): applied
//! once in a transaction, forged or stale deliveries refused, replays answered and ignored,
//! and events applied by their object's state whatever order they arrive in.

use marketplace::payments::service;
use marketplace::Error;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::support::*;

/// A PaymentIntent object as Stripe sends it in events.
fn intent(id: &str, payment: uuid::Uuid, status: &str, amount: i64, received: i64) -> Value {
    json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_received": received, "capture_method": "automatic", "currency": "eur",
        "customer": "cus_local_x", "livemode": false, "status": status,
        "metadata": {"payment_id": payment.to_string(), "purpose": "topup"},
        "last_payment_error": if status == "requires_payment_method" {
            json!({"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                   "message": "Your card was declined."})
        } else { Value::Null },
        "payment_method_types": ["card"]
    })
}

fn charge(pi: &str, captured: i64, refunded: i64) -> Value {
    json!({
        "id": "ch_3QxHd1LkdIwHu7ix0aZ9YxWv", "object": "charge", "amount": captured,
        "amount_captured": captured, "amount_refunded": refunded, "captured": true,
        "currency": "eur", "paid": true, "payment_intent": pi, "refunded": refunded == captured,
        "status": "succeeded", "metadata": {}
    })
}

fn bad_request(err: Error) -> &'static str {
    match err {
        Error::BadRequest { code, .. } => code,
        other => panic!("not a 400: {other:?}"),
    }
}

/// A 3-D Secure top-up left waiting: the provider's success can only come by webhook.
async fn waiting(
    pool: &PgPool,
) -> (
    marketplace::AuthUser,
    marketplace::payments::view::PaymentView,
) {
    let p = provider();
    let d = driver_with(pool, &p, THREE_DS).await;
    let paid = pay(pool, &p, &d, topup(1250), None).await;
    assert_eq!(paid.status, "requires_action");
    (d, paid)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_signed_event_is_applied_once(pool: PgPool) {
    let (d, paid) = waiting(&pool).await;
    let pi = paid.provider_payment_id.clone().unwrap();
    let t = now().timestamp();
    let body = event(
        "evt_1",
        "payment_intent.succeeded",
        t,
        intent(&pi, paid.id, "succeeded", 1250, 1250),
    );
    let ack = deliver(&pool, &body).await.unwrap();
    assert!(!ack.duplicate);
    assert_eq!(ack.outcome, "applied");
    assert_eq!(wallet(&pool, d.id).await, 1250);
    assert_eq!(
        service::get(&pool, &d, paid.id).await.unwrap().status,
        "succeeded"
    );

    // Stripe delivers it again: 200, nothing changes
    let ack = deliver(&pool, &body).await.unwrap();
    assert!(ack.duplicate);
    assert_eq!(wallet(&pool, d.id).await, 1250);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM provider_events").await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM ledger_postings WHERE kind = 'topup'"
        )
        .await,
        1
    );
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn forged_and_stale_deliveries_are_refused(pool: PgPool) {
    let (d, paid) = waiting(&pool).await;
    let pi = paid.provider_payment_id.clone().unwrap();
    let t = now().timestamp();
    let body = event(
        "evt_2",
        "payment_intent.succeeded",
        t,
        intent(&pi, paid.id, "succeeded", 1250, 1250),
    );
    let deliver_with = |header: String| {
        let pool = pool.clone();
        let body = body.clone();
        async move {
            service::stripe_webhook(&pool, SECRET, Some(&header), body.as_bytes(), now()).await
        }
    };
    // signed with another secret
    let forged = sign(&body, t).replace("v1=", "v1=00");
    let err = deliver_with(forged[..forged.len() - 2].to_owned())
        .await
        .unwrap_err();
    assert_eq!(bad_request(err), "invalid_signature");
    // the body changed after signing
    let header = sign(&body, t);
    let tampered = body.replace("1250", "9999");
    let err = service::stripe_webhook(&pool, SECRET, Some(&header), tampered.as_bytes(), now())
        .await
        .unwrap_err();
    assert_eq!(bad_request(err), "invalid_signature");
    // signed correctly, but 301 s ago
    let err = deliver_with(sign(&body, t - 301)).await.unwrap_err();
    assert_eq!(bad_request(err), "stale_signature");
    // no header at all
    let err = service::stripe_webhook(&pool, SECRET, None, body.as_bytes(), now())
        .await
        .unwrap_err();
    assert_eq!(bad_request(err), "missing_signature");
    // several v1 while a secret rolls: one match is enough
    let rolled = format!("{},v1={}", sign(&body, t), "ab".repeat(32));
    assert_eq!(deliver_with(rolled).await.unwrap().outcome, "applied");

    assert_eq!(
        count(&pool, "SELECT count(*) FROM provider_events").await,
        1
    );
    assert_eq!(wallet(&pool, d.id).await, 1250);
}

#[sqlx::test(migrations = "../migrations")]
async fn out_of_order_events_end_in_the_same_place(pool: PgPool) {
    let (d, paid) = waiting(&pool).await;
    let pi = paid.provider_payment_id.clone().unwrap();
    let t = now().timestamp();
    // the refund (made in Stripe's dashboard) arrives before the success
    let refunded = event("evt_r", "charge.refunded", t - 10, charge(&pi, 1250, 500));
    assert_eq!(deliver(&pool, &refunded).await.unwrap().outcome, "applied");
    let shown = service::get(&pool, &d, paid.id).await.unwrap();
    assert_eq!(
        shown.status, "succeeded",
        "a captured charge means the payment succeeded"
    );
    assert_eq!(
        (shown.amount_received_cents, shown.amount_refunded_cents),
        (1250, 500)
    );
    assert_eq!(wallet(&pool, d.id).await, 750);

    // then the success, older: applied, but nothing more moves
    let ok = event(
        "evt_s",
        "payment_intent.succeeded",
        t - 20,
        intent(&pi, paid.id, "succeeded", 1250, 1250),
    );
    assert_eq!(deliver(&pool, &ok).await.unwrap().outcome, "applied");
    // and a failure of an earlier attempt, older still: a success is never undone
    let failed = event(
        "evt_f",
        "payment_intent.payment_failed",
        t - 30,
        intent(&pi, paid.id, "requires_payment_method", 1250, 0),
    );
    deliver(&pool, &failed).await.unwrap();
    // the refund again (a redelivery of another event id with the same state): no second refund
    let again = event("evt_r2", "charge.refunded", t - 5, charge(&pi, 1250, 500));
    deliver(&pool, &again).await.unwrap();

    let shown = service::get(&pool, &d, paid.id).await.unwrap();
    assert_eq!(shown.status, "succeeded");
    assert!(shown.failure.is_none());
    assert_eq!(
        (shown.amount_received_cents, shown.amount_refunded_cents),
        (1250, 500)
    );
    assert_eq!(wallet(&pool, d.id).await, 750);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM payment_refunds").await,
        1
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM provider_events").await,
        4
    );
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn events_about_others_objects_are_acknowledged(pool: PgPool) {
    let t = now().timestamp();
    let stranger = event(
        "evt_x",
        "payment_intent.succeeded",
        t,
        intent("pi_not_ours", uuid::Uuid::nil(), "succeeded", 100, 100),
    );
    assert_eq!(
        deliver(&pool, &stranger).await.unwrap().outcome,
        "unknown_object"
    );
    let other = event(
        "evt_y",
        "customer.created",
        t,
        json!({"id": "cus_1", "object": "customer"}),
    );
    assert_eq!(deliver(&pool, &other).await.unwrap().outcome, "ignored");
    let err = service::stripe_webhook(
        &pool,
        SECRET,
        Some(&sign("not json", t)),
        b"not json",
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(bad_request(err), "malformed_event");
}

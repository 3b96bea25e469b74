//! Fixtures: drivers with saved test cards, money in the wallet, balances read back from the
//! ledger, and Stripe-signed webhook deliveries (the signature computed here, independently
//! of the code under test).

#![allow(dead_code)]

use hmac::{Hmac, Mac};
use marketplace::accounts::Role;
use marketplace::ledger::model::AccountKind;
use marketplace::payments::service::{self, MethodInput, Paid, PayInput};
use marketplace::payments::view::{MethodView, PaymentView};
use marketplace::payments::LocalProvider;
use marketplace::AuthUser;
use serde_json::Value;
use sha2::Sha256;
use sqlx::PgPool;
use uuid::Uuid;

pub use super::booking_support::*;

pub const OK_CARD: &str = "4242424242424242";
pub const DECLINED: &str = "4000000000000002";
pub const NO_FUNDS: &str = "4000000000009995";
pub const THREE_DS: &str = "4000002500003155";
pub const SECRET: &str = "whsec_test_payments";

pub fn provider() -> LocalProvider {
    LocalProvider::new()
}

pub fn card(number: &str) -> MethodInput {
    MethodInput {
        card_number: Some(number.into()),
        exp_month: Some(12),
        exp_year: Some(2034),
        cvc: Some("123".into()),
        ..MethodInput::default()
    }
}

pub async fn save_card(
    pool: &PgPool,
    p: &LocalProvider,
    who: &AuthUser,
    number: &str,
) -> MethodView {
    service::add_method(pool, p, who, card(number), None, now())
        .await
        .unwrap()
}

/// A driver whose default card is `number`.
pub async fn driver_with(pool: &PgPool, p: &LocalProvider, number: &str) -> AuthUser {
    let d = user(pool, Role::Driver).await;
    save_card(pool, p, &d, number).await;
    d
}

pub fn topup(amount: i64) -> PayInput {
    PayInput {
        purpose: marketplace::payments::model::Purpose::Topup,
        booking_id: None,
        session_id: None,
        amount_cents: Some(amount),
        currency: Some("EUR".into()),
        method: marketplace::payments::model::Method::Card,
        payment_method_id: None,
        capture: None,
    }
}

pub fn for_booking(booking: Uuid, method: marketplace::payments::model::Method) -> PayInput {
    PayInput {
        purpose: marketplace::payments::model::Purpose::Booking,
        booking_id: Some(booking),
        amount_cents: None,
        currency: None,
        session_id: None,
        method,
        payment_method_id: None,
        capture: None,
    }
}

pub fn new(paid: Paid) -> PaymentView {
    match paid {
        Paid::New(v) => v,
        Paid::Replayed(_) => panic!("a first payment answered as replayed"),
    }
}

pub async fn pay(
    pool: &PgPool,
    p: &LocalProvider,
    who: &AuthUser,
    input: PayInput,
    key: Option<&str>,
) -> PaymentView {
    match service::pay(pool, p, who, input, key, now()).await.unwrap() {
        Paid::New(v) | Paid::Replayed(v) => v,
    }
}

pub async fn balance(pool: &PgPool, kind: AccountKind, owner: Option<Uuid>) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(sum(e.amount_minor), 0)::bigint FROM ledger_entries e \
         JOIN ledger_accounts a ON a.id = e.account_id \
         WHERE a.kind = $1 AND a.owner_id IS NOT DISTINCT FROM $2 AND a.currency = 'EUR'",
    )
    .bind(kind.as_str())
    .bind(owner)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn wallet(pool: &PgPool, driver: Uuid) -> i64 {
    balance(pool, AccountKind::DriverWallet, Some(driver)).await
}

pub async fn held(pool: &PgPool, driver: Uuid) -> i64 {
    balance(pool, AccountKind::DriverHold, Some(driver)).await
}

/// What came in through providers (provider clearing, negated).
pub async fn cleared(pool: &PgPool) -> i64 {
    -balance(pool, AccountKind::ProviderClearing, None).await
}

/// The ledger proves itself whole after every test that moved money.
pub async fn ledger_is_whole(pool: &PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    let report = marketplace::ledger::reconcile(&mut conn).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
}

pub fn sign(payload: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{payload}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

/// A Stripe event around `object`, made at `created` (unix seconds).
pub fn event(id: &str, kind: &str, created: i64, object: Value) -> String {
    serde_json::json!({
        "id": id, "object": "event", "api_version": "2025-09-30.clover", "created": created,
        "livemode": false, "pending_webhooks": 1, "type": kind,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object}
    })
    .to_string()
}

/// Delivers a signed event as Stripe would, `now()` being the delivery time.
pub async fn deliver(
    pool: &PgPool,
    body: &str,
) -> Result<marketplace::payments::view::WebhookAck, marketplace::Error> {
    let header = sign(body, now().timestamp());
    service::stripe_webhook(pool, SECRET, Some(&header), body.as_bytes(), now()).await
}

//! Paying a charging session's bill (rows as the sessions module writes them): by wallet the
//! bill is posted from the wallet; by card the card pays what the wallet does not cover, and
//! a whole bill paid by card to a host with a payout account is a destination charge keeping
//! all but the host's share.

use chrono::Duration;
use marketplace::accounts::Role;
use marketplace::ledger::model::AccountKind;
use marketplace::payments::model::{Method, Purpose};
use marketplace::payments::provider::CaptureMethod;
use marketplace::payments::service::{self, PayInput, PayoutAccountInput};
use marketplace::payments::LocalProvider;
use marketplace::Error;
use sqlx::PgPool;
use uuid::Uuid;

use super::support::*;

/// A completed session on the charger's first port with a bill of 1000 (split 200/800) plus
/// 50 insurance: 1050.
pub(super) async fn billed(pool: &PgPool, c: &Charger, driver: Uuid) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO charging_sessions (id, driver_id, listing_id, port_id, station_id, evse_id, \
           id_token, id_token_type, transaction_id, status, origin, requested_at, started_at, \
           ended_at) \
         VALUES ($1, $2, $3, $4, 'ST-1', 1, 'TOKEN', 'Central', $5, 'completed', 'app', $6, $6, $7)",
    )
    .bind(id)
    .bind(driver)
    .bind(c.id)
    .bind(c.ports[0])
    .bind(id.to_string())
    .bind(now())
    .bind(now() + Duration::hours(1))
    .execute(pool)
    .await
    .unwrap();
    let bill = Uuid::now_v7();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO session_bills (id, session_id, revision, reason, currency, minor_digits, \
           total_cents, tax_kind, tax_percent, taxable_cents, tax_cents, commission_base_cents, \
           platform_commission_cents, host_share_cents, insurance_cents, session_start, \
           session_end, energy_wh, charging_seconds, idle_seconds, paused_seconds, ocpi_totals, \
           computed_at) \
         VALUES ($1, $2, 1, 'test', 'EUR', 2, 1050, 'sales_tax', 0, 1000, 0, 1000, 200, 800, 50, \
           $3, $4, 10000, 3600, 0, 0, '{}', $4)",
    )
    .bind(bill)
    .bind(id)
    .bind(now())
    .bind(now() + Duration::hours(1))
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO session_bill_lines (bill_id, position, kind, description, amount_cents) \
         VALUES ($1, 1, 'energy', 'Energy', 1050)",
    )
    .bind(bill)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

pub(super) fn session(id: Uuid, method: Method) -> PayInput {
    PayInput {
        purpose: Purpose::Session,
        session_id: Some(id),
        booking_id: None,
        amount_cents: None,
        currency: None,
        method,
        payment_method_id: None,
        capture: None,
    }
}

fn conflict(err: Error) -> &'static str {
    match err {
        Error::Conflict { code, .. } => code,
        other => panic!("not a conflict: {other:?}"),
    }
}

async fn posted(pool: &PgPool, session: Uuid) -> bool {
    sqlx::query_scalar("SELECT posted_at IS NOT NULL FROM session_bills WHERE session_id = $1")
        .bind(session)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_session_paid_by_wallet_posts_its_bill(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let c = charger(&pool, Spec::default()).await;
    let s = billed(&pool, &c, d.id).await;
    let err = service::pay(&pool, &p, &d, session(s, Method::Wallet), None, now())
        .await
        .unwrap_err();
    assert_eq!(conflict(err), "insufficient_funds");
    pay(&pool, &p, &d, topup(2000), None).await;
    let paid = pay(&pool, &p, &d, session(s, Method::Wallet), None).await;
    assert_eq!(
        (paid.status.as_str(), paid.amount_cents),
        ("succeeded", 1050)
    );
    assert!(posted(&pool, s).await);
    assert_eq!(wallet(&pool, d.id).await, 950);
    assert_eq!(
        balance(&pool, AccountKind::HostPayable, Some(c.host.id)).await,
        800
    );
    let err = service::pay(&pool, &p, &d, session(s, Method::Card), None, now())
        .await
        .unwrap_err();
    assert_eq!(conflict(err), "already_paid");
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_card_pays_what_the_wallet_does_not_cover(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let c = charger(&pool, Spec::default()).await;
    let s = billed(&pool, &c, d.id).await;
    pay(&pool, &p, &d, topup(300), None).await;
    let paid = pay(&pool, &p, &d, session(s, Method::Card), None).await;
    assert_eq!(
        (paid.status.as_str(), paid.amount_cents),
        ("succeeded", 750)
    );
    assert!(
        paid.destination_account.is_none(),
        "part of a bill is not a destination charge"
    );
    assert!(posted(&pool, s).await);
    assert_eq!(wallet(&pool, d.id).await, 0);
    // a wallet that covers it all: pay by wallet
    let s2 = billed(&pool, &c, d.id).await;
    pay(&pool, &p, &d, topup(2000), None).await;
    let err = service::pay(&pool, &p, &d, session(s2, Method::Card), None, now())
        .await
        .unwrap_err();
    assert_eq!(conflict(err), "covered_by_wallet");
    ledger_is_whole(&pool).await;
}

/// The charger's host opens a payout account (a connected account that takes charges).
pub(super) async fn payout_account(
    pool: &PgPool,
    p: &LocalProvider,
    c: &Charger,
) -> marketplace::payments::view::PayoutAccountView {
    let urls = PayoutAccountInput {
        return_url: "https://app.example.test/done".into(),
        refresh_url: "https://app.example.test/again".into(),
        country: None,
    };
    service::open_payout_account(pool, p, &c.host, urls, now())
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_whole_bill_by_card_to_a_connected_host_is_a_destination_charge(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let c = charger(&pool, Spec::default()).await;
    let account = payout_account(&pool, &p, &c).await;
    let s = billed(&pool, &c, d.id).await;
    let paid = pay(&pool, &p, &d, session(s, Method::Card), None).await;
    assert_eq!(paid.amount_cents, 1050);
    assert_eq!(
        paid.destination_account.as_deref(),
        Some(account.account_id.as_str())
    );
    assert_eq!(
        paid.application_fee_cents,
        Some(250),
        "all but the host's 800"
    );
    assert!(posted(&pool, s).await);
    // the provider paid the host's 800 straight to the connected account: the platform owes
    // the host nothing for this session any more
    assert_eq!(
        balance(&pool, AccountKind::HostPayable, Some(c.host.id)).await,
        0
    );
    // a stranger's session is not the caller's to pay
    let other = user(&pool, Role::Driver).await;
    let err = service::pay(&pool, &p, &other, session(s, Method::Wallet), None, now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)));
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_held_destination_charge_is_captured_whole_or_not_at_all(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let c = charger(&pool, Spec::default()).await;
    payout_account(&pool, &p, &c).await;
    let s = billed(&pool, &c, d.id).await;
    let mut input = session(s, Method::Card);
    input.capture = Some(CaptureMethod::Manual);
    let held = pay(&pool, &p, &d, input, None).await;
    assert_eq!(held.status, "requires_capture");
    assert_eq!(held.application_fee_cents, Some(250));

    // in part, the provider would keep the whole fee and the host get less than 80%
    let err = service::capture(&pool, &p, &d, held.id, Some(600), now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert!(!posted(&pool, s).await, "nothing was captured");

    let captured = service::capture(&pool, &p, &d, held.id, Some(1050), now())
        .await
        .unwrap();
    assert_eq!(captured.amount_received_cents, 1050);
    assert!(posted(&pool, s).await);
    assert_eq!(
        balance(&pool, AccountKind::HostPayable, Some(c.host.id)).await,
        0
    );
    ledger_is_whole(&pool).await;
}

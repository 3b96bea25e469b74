//! SQL for payments, and nothing else. Every function takes a connection so the service runs
//! several in one transaction (with the ledger's postings).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::Tracked;
use super::provider::{AccountState, IntentStatus, PayoutState};
use crate::error::Error;
use crate::ledger::model::Minor;

/// `payments_booking_live_key` / `payments_session_live_key`: a second live payment of the
/// same booking or session.
pub const BOOKING_LIVE: &str = "payments_booking_live_key";
pub const SESSION_LIVE: &str = "payments_session_live_key";
pub const PAYMENT_KEY: &str = "payments_idempotency_key";

// ---- customers -------------------------------------------------------------------------

pub async fn customer(
    conn: &mut PgConnection,
    user: Uuid,
    provider: &str,
) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT provider_customer_id FROM payment_customers WHERE user_id = $1 AND provider = $2",
    )
    .bind(user)
    .bind(provider)
    .fetch_optional(conn)
    .await?)
}

/// Keeps the first customer stored for the user (a concurrent request made the same one: the
/// provider call was idempotent).
pub async fn insert_customer(
    conn: &mut PgConnection,
    user: Uuid,
    provider: &str,
    customer: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO payment_customers (user_id, provider, provider_customer_id, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(user)
    .bind(provider)
    .bind(customer)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn user_email(conn: &mut PgConnection, user: Uuid) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(conn)
        .await?)
}

// ---- payment methods -------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MethodRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: String,
    pub provider_method_id: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i16,
    pub exp_year: i16,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}

const METHOD_COLUMNS: &str = "id, user_id, provider, provider_method_id, brand, last4, \
    exp_month, exp_year, is_default, created_at, removed_at";

/// Stores a saved card, or answers the row already stored for the same provider method.
pub async fn insert_method(conn: &mut PgConnection, m: &MethodRow) -> Result<MethodRow, Error> {
    sqlx::query(
        "INSERT INTO payment_methods (id, user_id, provider, provider_method_id, brand, last4, \
         exp_month, exp_year, is_default, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $9) ON CONFLICT DO NOTHING",
    )
    .bind(m.id)
    .bind(m.user_id)
    .bind(&m.provider)
    .bind(&m.provider_method_id)
    .bind(&m.brand)
    .bind(&m.last4)
    .bind(m.exp_month)
    .bind(m.exp_year)
    .bind(m.created_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(&format!(
        "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE provider = $1 AND provider_method_id = $2"
    ))
    .bind(&m.provider)
    .bind(&m.provider_method_id)
    .fetch_one(conn)
    .await
    .map_err(Into::into)
}

pub async fn methods_of(conn: &mut PgConnection, user: Uuid) -> Result<Vec<MethodRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE user_id = $1 AND removed_at IS NULL \
         ORDER BY is_default DESC, created_at DESC, id DESC"
    ))
    .bind(user)
    .fetch_all(conn)
    .await?)
}

/// A live (not removed) method of `user`.
pub async fn method(
    conn: &mut PgConnection,
    user: Uuid,
    id: Uuid,
    lock: bool,
) -> Result<Option<MethodRow>, Error> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(&format!(
        "SELECT {METHOD_COLUMNS} FROM payment_methods \
         WHERE id = $1 AND user_id = $2 AND removed_at IS NULL{lock}"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(conn)
    .await?)
}

pub async fn method_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<MethodRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

pub async fn default_method(
    conn: &mut PgConnection,
    user: Uuid,
) -> Result<Option<MethodRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE user_id = $1 AND is_default"
    ))
    .bind(user)
    .fetch_optional(conn)
    .await?)
}

/// Makes `id` the user's default card (and no other).
pub async fn set_default(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<(), Error> {
    sqlx::query("UPDATE payment_methods SET is_default = false WHERE user_id = $1 AND is_default AND id <> $2")
        .bind(user)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE payment_methods SET is_default = true WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a card; when it was the default, the newest remaining card becomes it.
pub async fn remove_method(
    conn: &mut PgConnection,
    m: &MethodRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query("UPDATE payment_methods SET removed_at = $2, is_default = false WHERE id = $1")
        .bind(m.id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    if m.is_default {
        sqlx::query(
            "UPDATE payment_methods SET is_default = true WHERE id = (SELECT id FROM payment_methods \
             WHERE user_id = $1 AND removed_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1)",
        )
        .bind(m.user_id)
        .execute(conn)
        .await?;
    }
    Ok(())
}

// ---- payments --------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub purpose: String,
    pub booking_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub method: String,
    pub provider: String,
    pub payment_method_id: Option<Uuid>,
    pub provider_payment_id: Option<String>,
    pub amount_minor: Minor,
    pub currency: String,
    pub capture_method: String,
    pub status: String,
    pub amount_capturable: Minor,
    pub amount_received: Minor,
    pub amount_refunded: Minor,
    pub client_secret: Option<String>,
    pub next_action: Option<String>,
    pub next_action_url: Option<String>,
    pub failure_code: Option<String>,
    pub decline_code: Option<String>,
    pub failure_message: Option<String>,
    pub destination_account: Option<String>,
    pub application_fee_minor: Option<Minor>,
    pub idempotency_key: String,
    pub request_hash: Vec<u8>,
    pub ledger_posting_id: Option<Uuid>,
    pub ledger_hold_id: Option<Uuid>,
    pub state_as_of: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PaymentRow {
    pub fn status(&self) -> Result<IntentStatus, Error> {
        self.status
            .parse()
            .map_err(|e: String| Error::Internal(format!("payment {}: {e}", self.id)))
    }
}

const PAYMENT_COLUMNS: &str = "id, user_id, purpose, booking_id, session_id, method, provider, \
    payment_method_id, provider_payment_id, amount_minor, currency, capture_method, status, \
    amount_capturable, amount_received, amount_refunded, client_secret, next_action, \
    next_action_url, failure_code, decline_code, failure_message, destination_account, \
    application_fee_minor, idempotency_key, request_hash, ledger_posting_id, ledger_hold_id, \
    state_as_of, created_at, updated_at";

pub async fn insert_payment(conn: &mut PgConnection, p: &PaymentRow) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO payments (id, user_id, purpose, booking_id, session_id, method, provider, \
         payment_method_id, provider_payment_id, amount_minor, currency, capture_method, status, \
         amount_capturable, amount_received, amount_refunded, destination_account, \
         application_fee_minor, idempotency_key, request_hash, ledger_posting_id, ledger_hold_id, \
         state_as_of, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
         $19, $20, $21, $22, $23, $24, $24)",
    )
    .bind(p.id)
    .bind(p.user_id)
    .bind(&p.purpose)
    .bind(p.booking_id)
    .bind(p.session_id)
    .bind(&p.method)
    .bind(&p.provider)
    .bind(p.payment_method_id)
    .bind(&p.provider_payment_id)
    .bind(p.amount_minor)
    .bind(&p.currency)
    .bind(&p.capture_method)
    .bind(&p.status)
    .bind(p.amount_capturable)
    .bind(p.amount_received)
    .bind(p.amount_refunded)
    .bind(&p.destination_account)
    .bind(p.application_fee_minor)
    .bind(&p.idempotency_key)
    .bind(&p.request_hash)
    .bind(p.ledger_posting_id)
    .bind(p.ledger_hold_id)
    .bind(p.state_as_of)
    .bind(p.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

fn payment_sql(condition: &str, lock: bool) -> String {
    let lock = if lock { " FOR UPDATE" } else { "" };
    format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE {condition}{lock}")
}

pub async fn payment(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<PaymentRow>, Error> {
    Ok(sqlx::query_as(&payment_sql("id = $1", lock))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

pub async fn payment_by_key(
    conn: &mut PgConnection,
    user: Uuid,
    key: &str,
    lock: bool,
) -> Result<Option<PaymentRow>, Error> {
    let sql = payment_sql("user_id = $1 AND idempotency_key = $2", lock);
    Ok(sqlx::query_as(&sql)
        .bind(user)
        .bind(key)
        .fetch_optional(conn)
        .await?)
}

pub async fn payment_by_provider_id(
    conn: &mut PgConnection,
    provider_payment_id: &str,
    lock: bool,
) -> Result<Option<PaymentRow>, Error> {
    let sql = payment_sql("provider_payment_id = $1", lock);
    Ok(sqlx::query_as(&sql)
        .bind(provider_payment_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn payments_of(
    conn: &mut PgConnection,
    user: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PaymentRow>, i64), Error> {
    let rows = sqlx::query_as(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(user)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM payments WHERE user_id = $1")
        .bind(user)
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

/// Writes what the provider said about a payment.
pub struct ProviderUpdate<'a> {
    pub provider_payment_id: &'a str,
    pub tracked: &'a Tracked,
    pub client_secret: Option<&'a str>,
    pub next_action: Option<&'a str>,
    pub next_action_url: Option<&'a str>,
}

pub async fn update_state(
    conn: &mut PgConnection,
    id: Uuid,
    u: &ProviderUpdate<'_>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let t = u.tracked;
    let decline = t.decline.as_ref();
    let action = t.status == IntentStatus::RequiresAction;
    sqlx::query(
        "UPDATE payments SET provider_payment_id = $2, status = $3, amount_capturable = $4, \
         amount_received = $5, failure_code = $6, decline_code = $7, failure_message = $8, \
         client_secret = coalesce($9, client_secret), next_action = $10, next_action_url = $11, \
         state_as_of = $12, updated_at = $13 WHERE id = $1",
    )
    .bind(id)
    .bind(u.provider_payment_id)
    .bind(t.status.as_str())
    .bind(t.amount_capturable)
    .bind(t.amount_received)
    .bind(decline.map(|d| d.code.as_str()))
    .bind(decline.and_then(|d| d.decline_code.as_deref()))
    .bind(decline.map(|d| d.message.as_str()))
    .bind(u.client_secret)
    .bind(if action { u.next_action } else { None })
    .bind(if action { u.next_action_url } else { None })
    .bind(t.as_of)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A card payment the provider refused outright (not a decline): it never reached a card.
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: Uuid,
    code: &str,
    message: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE payments SET status = 'failed', failure_code = $2, failure_message = $3, \
         updated_at = $4 WHERE id = $1 AND status = 'processing'",
    )
    .bind(id)
    .bind(code)
    .bind(message)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_ledger(
    conn: &mut PgConnection,
    id: Uuid,
    posting: Option<Uuid>,
    hold: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE payments SET ledger_posting_id = coalesce(ledger_posting_id, $2), \
         ledger_hold_id = coalesce(ledger_hold_id, $3), updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(posting)
    .bind(hold)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn add_refunded(
    conn: &mut PgConnection,
    id: Uuid,
    amount: Minor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE payments SET amount_refunded = amount_refunded + $2, updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(amount)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- refunds ---------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundRow {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub destination: String,
    pub origin: String,
    pub provider_refund_id: Option<String>,
    pub amount_minor: Minor,
    pub currency: String,
    pub status: String,
    pub reason: String,
    pub requested_by: Option<Uuid>,
    pub basis: String,
    pub idempotency_key: String,
    pub ledger_posting_id: Option<Uuid>,
    pub ledger_reversal_id: Option<Uuid>,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const REFUND_COLUMNS: &str = "id, payment_id, destination, origin, provider_refund_id, \
    amount_minor, currency, status, reason, requested_by, basis, idempotency_key, \
    ledger_posting_id, ledger_reversal_id, failure_reason, created_at, updated_at";

pub async fn insert_refund(conn: &mut PgConnection, r: &RefundRow) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO payment_refunds (id, payment_id, destination, origin, provider_refund_id, \
         amount_minor, currency, status, reason, requested_by, basis, idempotency_key, \
         ledger_posting_id, failure_reason, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
    )
    .bind(r.id)
    .bind(r.payment_id)
    .bind(&r.destination)
    .bind(&r.origin)
    .bind(&r.provider_refund_id)
    .bind(r.amount_minor)
    .bind(&r.currency)
    .bind(&r.status)
    .bind(&r.reason)
    .bind(r.requested_by)
    .bind(&r.basis)
    .bind(&r.idempotency_key)
    .bind(r.ledger_posting_id)
    .bind(&r.failure_reason)
    .bind(r.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn refund_by_key(
    conn: &mut PgConnection,
    payment: Uuid,
    key: &str,
) -> Result<Option<RefundRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REFUND_COLUMNS} FROM payment_refunds WHERE payment_id = $1 AND idempotency_key = $2"
    ))
    .bind(payment)
    .bind(key)
    .fetch_optional(conn)
    .await?)
}

pub async fn refund_by_provider_id(
    conn: &mut PgConnection,
    provider_refund_id: &str,
) -> Result<Option<RefundRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REFUND_COLUMNS} FROM payment_refunds WHERE provider_refund_id = $1 FOR UPDATE"
    ))
    .bind(provider_refund_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn refunds_of(conn: &mut PgConnection, payment: Uuid) -> Result<Vec<RefundRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REFUND_COLUMNS} FROM payment_refunds WHERE payment_id = $1 ORDER BY created_at, id"
    ))
    .bind(payment)
    .fetch_all(conn)
    .await?)
}

/// What was refunded of a payment on `basis` (refunds that did not fail).
pub async fn refunded_on(
    conn: &mut PgConnection,
    payment: Uuid,
    basis: &str,
) -> Result<Minor, Error> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(amount_minor), 0)::bigint FROM payment_refunds \
         WHERE payment_id = $1 AND basis = $2 AND status NOT IN ('failed', 'canceled')",
    )
    .bind(payment)
    .bind(basis)
    .fetch_one(conn)
    .await?)
}

/// The provider's refunds of a payment's card (not failed), as they count against
/// `amount_refunded` at the provider.
pub async fn refunded_to_card(conn: &mut PgConnection, payment: Uuid) -> Result<Minor, Error> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(amount_minor), 0)::bigint FROM payment_refunds \
         WHERE payment_id = $1 AND destination = 'original_method' \
         AND status NOT IN ('failed', 'canceled')",
    )
    .bind(payment)
    .fetch_one(conn)
    .await?)
}

pub async fn update_refund(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    failure_reason: Option<&str>,
    reversal: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE payment_refunds SET status = $2, failure_reason = coalesce($3, failure_reason), \
         ledger_reversal_id = coalesce(ledger_reversal_id, $4), updated_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(failure_reason)
    .bind(reversal)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- webhook events --------------------------------------------------------------------

/// Records an event once: `false` when it was already recorded (a redelivery).
pub async fn insert_event(
    conn: &mut PgConnection,
    provider: &str,
    event_id: &str,
    event_type: &str,
    created_at: DateTime<Utc>,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let inserted = sqlx::query(
        "INSERT INTO provider_events (provider, event_id, event_type, created_at, received_at, \
         outcome, payload) VALUES ($1, $2, $3, $4, $5, 'received', $6) ON CONFLICT DO NOTHING",
    )
    .bind(provider)
    .bind(event_id)
    .bind(event_type)
    .bind(created_at)
    .bind(now)
    .bind(payload)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn set_event_outcome(
    conn: &mut PgConnection,
    provider: &str,
    event_id: &str,
    outcome: &str,
) -> Result<(), Error> {
    sqlx::query("UPDATE provider_events SET outcome = $3 WHERE provider = $1 AND event_id = $2")
        .bind(provider)
        .bind(event_id)
        .bind(outcome)
        .execute(conn)
        .await?;
    Ok(())
}

// ---- what is paid for ------------------------------------------------------------------

/// A charging session and its bill in force, as payments need them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionDue {
    pub session_id: Uuid,
    pub driver_id: Uuid,
    pub status: String,
    pub booking_id: Option<Uuid>,
    pub host_id: Uuid,
    pub bill_id: Option<Uuid>,
    pub total_cents: Option<Minor>,
    pub host_share_cents: Option<Minor>,
    pub currency: Option<String>,
    pub posted: bool,
}

pub async fn session_due(conn: &mut PgConnection, id: Uuid) -> Result<Option<SessionDue>, Error> {
    Ok(sqlx::query_as(
        "SELECT s.id AS session_id, s.driver_id, s.status, s.booking_id, l.host_id, \
         b.id AS bill_id, b.total_cents, b.host_share_cents, b.currency::text AS currency, \
         (b.posted_at IS NOT NULL) AS posted \
         FROM charging_sessions s JOIN listings l ON l.id = s.listing_id \
         LEFT JOIN session_bills_current b ON b.session_id = s.id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

// ---- hosts' payout accounts and payouts ------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub host_id: Uuid,
    pub provider: String,
    pub provider_account_id: String,
    pub country: Option<String>,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ACCOUNT_COLUMNS: &str = "host_id, provider, provider_account_id, country::text AS country, \
    charges_enabled, payouts_enabled, details_submitted, created_at, updated_at";

pub async fn payout_account(
    conn: &mut PgConnection,
    host: Uuid,
    provider: &str,
) -> Result<Option<AccountRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM host_payout_accounts WHERE host_id = $1 AND provider = $2"
    ))
    .bind(host)
    .bind(provider)
    .fetch_optional(conn)
    .await?)
}

pub async fn insert_payout_account(
    conn: &mut PgConnection,
    host: Uuid,
    provider: &str,
    country: Option<&str>,
    a: &AccountState,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO host_payout_accounts (host_id, provider, provider_account_id, country, \
         charges_enabled, payouts_enabled, details_submitted, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING",
    )
    .bind(host)
    .bind(provider)
    .bind(&a.id)
    .bind(country)
    .bind(a.charges_enabled)
    .bind(a.payouts_enabled)
    .bind(a.details_submitted)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Updates an account's capabilities by the provider's id; `false` when it is not ours.
pub async fn update_payout_account(
    conn: &mut PgConnection,
    a: &AccountState,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let n = sqlx::query(
        "UPDATE host_payout_accounts SET charges_enabled = $2, payouts_enabled = $3, \
         details_submitted = $4, updated_at = $5 WHERE provider_account_id = $1",
    )
    .bind(&a.id)
    .bind(a.charges_enabled)
    .bind(a.payouts_enabled)
    .bind(a.details_submitted)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// The host's account that can take destination charges, if any.
pub async fn charges_account(
    conn: &mut PgConnection,
    host: Uuid,
    provider: &str,
) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT provider_account_id FROM host_payout_accounts \
         WHERE host_id = $1 AND provider = $2 AND charges_enabled",
    )
    .bind(host)
    .bind(provider)
    .fetch_optional(conn)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayoutRow {
    pub id: Uuid,
    pub host_id: Uuid,
    pub provider: String,
    pub provider_payout_id: Option<String>,
    pub amount_minor: Minor,
    pub currency: String,
    pub status: String,
    pub arrival_date: Option<DateTime<Utc>>,
    pub failure_code: Option<String>,
    pub idempotency_key: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PAYOUT_COLUMNS: &str = "id, host_id, provider, provider_payout_id, amount_minor, \
    currency::text AS currency, status, arrival_date, failure_code, idempotency_key, created_at, \
    updated_at";

pub async fn payout_by_key(
    conn: &mut PgConnection,
    host: Uuid,
    key: &str,
) -> Result<Option<PayoutRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PAYOUT_COLUMNS} FROM host_payouts WHERE host_id = $1 AND idempotency_key = $2"
    ))
    .bind(host)
    .bind(key)
    .fetch_optional(conn)
    .await?)
}

pub async fn insert_payout(conn: &mut PgConnection, p: &PayoutRow) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO host_payouts (id, host_id, provider, amount_minor, currency, status, \
         idempotency_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(p.id)
    .bind(p.host_id)
    .bind(&p.provider)
    .bind(p.amount_minor)
    .bind(&p.currency)
    .bind(&p.status)
    .bind(&p.idempotency_key)
    .bind(p.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the provider's payout state, by our id or (from a webhook) by the provider's.
pub async fn update_payout(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    state: &PayoutState,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let n = sqlx::query(
        "UPDATE host_payouts SET provider_payout_id = $2, status = $3, arrival_date = $4, \
         failure_code = $5, updated_at = $6 \
         WHERE ($1::uuid IS NOT NULL AND id = $1) OR ($1::uuid IS NULL AND provider_payout_id = $2)",
    )
    .bind(id)
    .bind(&state.id)
    .bind(state.status.as_str())
    .bind(state.arrival_date)
    .bind(&state.failure_code)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

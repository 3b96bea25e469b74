//! Payments (`payments`): the row of what is paid and how, the provider's news folded into
//! it, its links to the ledger; and the charging session a payment may pay.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;
use crate::payments::model::Tracked;
use crate::payments::provider::IntentStatus;

/// `payments_booking_live_key` / `payments_session_live_key`: a second live payment of the
/// same booking or session.
pub const BOOKING_LIVE: &str = "payments_booking_live_key";
pub const SESSION_LIVE: &str = "payments_session_live_key";
pub const PAYMENT_KEY: &str = "payments_idempotency_key";

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

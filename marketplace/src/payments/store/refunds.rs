//! Refunds (`payment_refunds`): to the card or into the wallet, asked through the API or
//! made at the provider.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;

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

/// A refund made at the provider that a `charge.refunded` event told us of before the
/// provider's refund event named it (no provider id yet), of exactly `amount`: the oldest.
pub async fn unnamed_provider_refund(
    conn: &mut PgConnection,
    payment: Uuid,
    amount: Minor,
) -> Result<Option<RefundRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REFUND_COLUMNS} FROM payment_refunds WHERE payment_id = $1 \
         AND origin = 'provider' AND provider_refund_id IS NULL AND amount_minor = $2 \
         AND status NOT IN ('failed', 'canceled') ORDER BY created_at, id LIMIT 1 FOR UPDATE"
    ))
    .bind(payment)
    .bind(amount)
    .fetch_optional(conn)
    .await?)
}

pub async fn name_refund(
    conn: &mut PgConnection,
    id: Uuid,
    provider_refund_id: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE payment_refunds SET provider_refund_id = $2, updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(provider_refund_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

//! Disputes of card payments (`payment_disputes`, migration `0031_payment_disputes.sql`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DisputeRow {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub provider: String,
    pub provider_dispute_id: String,
    pub amount_minor: Minor,
    /// The fee posted with the withdrawal.
    pub fee_minor: Minor,
    /// Fee reported after the withdrawal was posted, posted apart (`dispute_fee:` postings).
    pub fee_later_minor: Minor,
    pub fee_returned_minor: Minor,
    pub currency: String,
    pub status: String,
    pub reason: Option<String>,
    pub status_at: DateTime<Utc>,
    pub withdrawal_posting_id: Option<Uuid>,
    pub reinstatement_posting_id: Option<Uuid>,
}

const COLUMNS: &str = "id, payment_id, provider, provider_dispute_id, amount_minor, fee_minor, \
    fee_later_minor, fee_returned_minor, currency::text AS currency, status, reason, status_at, \
    withdrawal_posting_id, reinstatement_posting_id";

/// The dispute's row, made on first sight and locked: one event applies at a time.
pub async fn lock_or_insert(
    conn: &mut PgConnection,
    new: &DisputeRow,
    now: DateTime<Utc>,
) -> Result<DisputeRow, Error> {
    sqlx::query(
        "INSERT INTO payment_disputes (id, payment_id, provider, provider_dispute_id, \
           amount_minor, currency, status, reason, status_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (provider, provider_dispute_id) DO NOTHING",
    )
    .bind(new.id)
    .bind(new.payment_id)
    .bind(&new.provider)
    .bind(&new.provider_dispute_id)
    .bind(new.amount_minor)
    .bind(&new.currency)
    .bind(&new.status)
    .bind(&new.reason)
    .bind(new.status_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payment_disputes \
         WHERE provider = $1 AND provider_dispute_id = $2 FOR UPDATE"
    ))
    .bind(&new.provider)
    .bind(&new.provider_dispute_id)
    .fetch_one(conn)
    .await?)
}

/// Writes what the service decided: the status only when the event is not older than the
/// one that set it, the postings only once (never cleared).
pub async fn update(
    conn: &mut PgConnection,
    d: &DisputeRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE payment_disputes SET \
           status = CASE WHEN $2 >= status_at THEN $3 ELSE status END, \
           reason = CASE WHEN $2 >= status_at THEN coalesce($4, reason) ELSE reason END, \
           status_at = greatest(status_at, $2), \
           fee_minor = $5, fee_returned_minor = $6, fee_later_minor = $10, \
           withdrawal_posting_id = coalesce(withdrawal_posting_id, $7), \
           reinstatement_posting_id = coalesce(reinstatement_posting_id, $8), \
           updated_at = $9 \
         WHERE id = $1",
    )
    .bind(d.id)
    .bind(d.status_at)
    .bind(&d.status)
    .bind(&d.reason)
    .bind(d.fee_minor)
    .bind(d.fee_returned_minor)
    .bind(d.withdrawal_posting_id)
    .bind(d.reinstatement_posting_id)
    .bind(now)
    .bind(d.fee_later_minor)
    .execute(conn)
    .await?;
    Ok(())
}

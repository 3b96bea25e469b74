//! SQL for paying hosts what the platform owes them (`host_transfers`, migration
//! `0015_host_transfers.sql`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TransferRow {
    pub id: Uuid,
    pub host_id: Uuid,
    pub provider: String,
    pub destination_account: String,
    pub amount_minor: Minor,
    pub currency: String,
    /// `pending`, `paid` or `failed`.
    pub status: String,
    pub provider_transfer_id: Option<String>,
    pub ledger_posting_id: Option<Uuid>,
    pub failure: Option<String>,
    pub attempts: i32,
    /// What the provider took back from the host's account (cumulative).
    pub amount_reversed: Minor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, host_id, provider, destination_account, amount_minor, \
    currency::text AS currency, status, provider_transfer_id, ledger_posting_id, failure, \
    attempts, amount_reversed, created_at, updated_at";

/// (host, currency) pairs the run may pay: a positive host payable and an account of
/// `provider` that takes charges, or a transfer still pending.
pub async fn due(conn: &mut PgConnection, provider: &str) -> Result<Vec<(Uuid, String)>, Error> {
    Ok(sqlx::query_as(
        "SELECT a.owner_id, a.currency::text FROM ledger_accounts a \
         JOIN host_payout_accounts h ON h.host_id = a.owner_id AND h.provider = $1 \
           AND h.charges_enabled \
         WHERE a.kind = 'host_payable' AND (SELECT coalesce(sum(e.amount_minor), 0) \
           FROM ledger_entries e WHERE e.account_id = a.id) > 0 \
         UNION \
         SELECT host_id, currency::text FROM host_transfers \
          WHERE status = 'pending' AND provider = $1 \
         ORDER BY 1, 2",
    )
    .bind(provider)
    .fetch_all(conn)
    .await?)
}

/// The host's connected account that takes charges, locked: one run decides for a host at a
/// time.
pub async fn lock_account(
    conn: &mut PgConnection,
    host: Uuid,
    provider: &str,
) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT provider_account_id FROM host_payout_accounts \
         WHERE host_id = $1 AND provider = $2 AND charges_enabled FOR UPDATE",
    )
    .bind(host)
    .bind(provider)
    .fetch_optional(conn)
    .await?)
}

/// What may be transferred now: the host payable, less the host's share of destination
/// charges still in flight for bills already posted (their settlement will take it from the
/// host payable; a bill posted with its card payment credits and settles it at once).
pub async fn owed(conn: &mut PgConnection, host: Uuid, currency: &str) -> Result<Minor, Error> {
    Ok(sqlx::query_scalar(
        "SELECT (coalesce((SELECT sum(e.amount_minor) FROM ledger_entries e \
             JOIN ledger_accounts a ON a.id = e.account_id \
            WHERE a.kind = 'host_payable' AND a.owner_id = $1 AND a.currency = $2), 0) \
           - coalesce((SELECT sum(p.amount_minor - coalesce(p.application_fee_minor, 0)) \
             FROM payments p JOIN host_payout_accounts h ON h.provider = p.provider \
               AND h.provider_account_id = p.destination_account \
            WHERE h.host_id = $1 AND p.currency = $2 AND p.ledger_posting_id IS NULL \
              AND p.status IN ('processing', 'requires_action', 'requires_capture') \
              AND EXISTS (SELECT 1 FROM session_bills b WHERE b.session_id = p.session_id \
                AND b.posted_at IS NOT NULL)), 0) \
         )::bigint",
    )
    .bind(host)
    .bind(currency)
    .fetch_one(conn)
    .await?)
}

pub async fn pending(
    conn: &mut PgConnection,
    host: Uuid,
    currency: &str,
) -> Result<Option<TransferRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM host_transfers \
         WHERE host_id = $1 AND currency = $2 AND status = 'pending'"
    ))
    .bind(host)
    .bind(currency)
    .fetch_optional(conn)
    .await?)
}

pub async fn insert(conn: &mut PgConnection, t: &TransferRow) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO host_transfers (id, host_id, provider, destination_account, amount_minor, \
           currency, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)",
    )
    .bind(t.id)
    .bind(t.host_id)
    .bind(&t.provider)
    .bind(&t.destination_account)
    .bind(t.amount_minor)
    .bind(&t.currency)
    .bind(t.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_paid(
    conn: &mut PgConnection,
    id: Uuid,
    provider_transfer_id: &str,
    posting: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE host_transfers SET status = 'paid', provider_transfer_id = $2, \
           ledger_posting_id = $3, failure = NULL, attempts = attempts + 1, updated_at = $4 \
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(provider_transfer_id)
    .bind(posting)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The provider refused (`final`: the transfer is given up, nothing moved) or could not be
/// reached (it stays pending and is asked again, with the same key, next run).
pub async fn mark_attempt(
    conn: &mut PgConnection,
    id: Uuid,
    failure: &str,
    last: bool,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE host_transfers SET failure = $2, attempts = attempts + 1, updated_at = $4, \
           status = CASE WHEN $3 THEN 'failed' ELSE status END \
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(failure)
    .bind(last)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A host's transfers, newest first.
pub async fn of_host(
    conn: &mut PgConnection,
    host: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Vec<TransferRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM host_transfers WHERE host_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(host)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?)
}

/// A paid transfer by the provider's id, locked. (Like payments, found by the id alone:
/// the provider's ids are unique, and the local provider makes Stripe-like ones.)
pub async fn by_provider_id(
    conn: &mut PgConnection,
    provider_transfer_id: &str,
) -> Result<Option<TransferRow>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM host_transfers \
         WHERE provider_transfer_id = $1 AND status = 'paid' FOR UPDATE"
    ))
    .bind(provider_transfer_id)
    .fetch_optional(conn)
    .await?)
}

/// Records the provider's cumulative `amount_reversed` (it only grows).
pub async fn set_reversed(
    conn: &mut PgConnection,
    id: Uuid,
    amount_reversed: Minor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE host_transfers SET amount_reversed = greatest(amount_reversed, $2), \
           updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(amount_reversed)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether transfer `id` is still waiting for its provider's answer to be recorded.
pub async fn is_pending(conn: &mut PgConnection, id: Uuid) -> Result<bool, Error> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM host_transfers WHERE id = $1 AND status = 'pending')",
    )
    .bind(id)
    .fetch_one(conn)
    .await?)
}

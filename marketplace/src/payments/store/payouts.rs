//! Hosts' payout accounts (Stripe Connect) and their payouts to the bank.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;
use crate::payments::provider::{AccountState, PayoutState};

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

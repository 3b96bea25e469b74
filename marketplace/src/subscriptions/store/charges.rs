//! Charge attempts and credits: append-only money history, and the seam invoices are issued
//! from (one invoice per paid charge, a credit note per credit).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;
use crate::subscriptions::model::{ChargeKind, ChargeStatus, TaxRate};

#[derive(Debug, Clone)]
pub struct NewCharge<'a> {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub user_id: Uuid,
    pub product_code: &'a str,
    pub kind: ChargeKind,
    pub period: (DateTime<Utc>, DateTime<Utc>),
    pub amount: Minor,
    pub currency: &'a str,
    /// The VAT `amount` holds, and its rate (`None`: untaxed).
    pub tax: Minor,
    pub tax_rate: Option<&'a TaxRate>,
    pub status: ChargeStatus,
    pub attempt: i16,
    pub posting: Option<Uuid>,
    pub failure_code: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Records a charge; `false` when this (subscription, period, kind, attempt) was already
/// recorded (nothing written).
pub async fn insert(conn: &mut PgConnection, c: &NewCharge<'_>) -> Result<bool, Error> {
    let done = sqlx::query(
        "INSERT INTO subscription_charges (id, subscription_id, user_id, product_code, kind, \
           period_start, period_end, amount_minor, currency, status, attempt, \
           ledger_posting_id, failure_code, created_at, tax_minor, tax_name, tax_percent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
           $17::numeric) \
         ON CONFLICT ON CONSTRAINT subscription_charges_once_key DO NOTHING",
    )
    .bind(c.id)
    .bind(c.subscription_id)
    .bind(c.user_id)
    .bind(c.product_code)
    .bind(c.kind.as_str())
    .bind(c.period.0)
    .bind(c.period.1)
    .bind(c.amount)
    .bind(c.currency)
    .bind(c.status.as_str())
    .bind(c.attempt)
    .bind(c.posting)
    .bind(c.failure_code)
    .bind(c.at)
    .bind(c.tax)
    .bind(c.tax_rate.map(|r| r.name.as_str()))
    .bind(c.tax_rate.map(|r| r.percent.to_string()))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many attempts at the renewal of the period starting at `period_start` were made.
pub async fn attempts(
    conn: &mut PgConnection,
    subscription: Uuid,
    period_start: DateTime<Utc>,
) -> Result<i16, Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM subscription_charges \
         WHERE subscription_id = $1 AND period_start = $2 AND kind = 'renewal'",
    )
    .bind(subscription)
    .bind(period_start)
    .fetch_one(conn)
    .await?;
    Ok(i16::try_from(n).unwrap_or(i16::MAX))
}

/// A charge as its subscriber and the invoices see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InvoiceCharge {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub user_id: Uuid,
    pub product_code: String,
    pub product_name: String,
    /// `initial`, `renewal`, `proration` or `proration_credit` (a credit: a credit note).
    pub kind: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// Always positive; `kind` says which way it went.
    pub amount_minor: Minor,
    pub currency: String,
    /// The VAT `amount_minor` holds (0 untaxed), its name and rate (percent, as text).
    pub tax_minor: Minor,
    pub tax_name: Option<String>,
    pub tax_percent: Option<String>,
    /// `paid` or `failed` (failed attempts moved no money and are not invoiced).
    pub status: String,
    pub attempt: i16,
    pub ledger_posting_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "c.id, c.subscription_id, c.user_id, c.product_code, \
    p.name AS product_name, c.kind, c.period_start, c.period_end, c.amount_minor, \
    c.currency::text AS currency, c.tax_minor, c.tax_name, \
    c.tax_percent::text AS tax_percent, c.status, c.attempt, \
    c.ledger_posting_id, c.created_at";

/// One charge, for an invoice: who paid what for which product and period.
pub async fn charge(conn: &mut PgConnection, id: Uuid) -> Result<Option<InvoiceCharge>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscription_charges c \
         JOIN subscription_products p ON p.code = c.product_code WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// The charges of these subscriptions, oldest first.
pub async fn of_subscriptions(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<Vec<InvoiceCharge>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscription_charges c \
         JOIN subscription_products p ON p.code = c.product_code \
         WHERE c.subscription_id = ANY($1) ORDER BY c.created_at, c.id"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

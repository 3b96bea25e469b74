//! SQL for subscriptions, and nothing else. Every function takes a connection so a use case
//! runs several in one transaction (with the ledger posting that pays for it).
//!
//! The database has the last word: `subscriptions_live_key` keeps one live subscription per
//! (user, group[, listing]) under any concurrency, `subscription_charges_once_key` makes a
//! retried charge a conflict instead of a second charge.

pub mod charges;
pub mod spans;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

pub use charges::{charge, InvoiceCharge};

use super::model::{Audience, EndReason, Group, Product, Status};
use crate::error::{Error, ResultExt};
use crate::ledger::model::Minor;

/// One live subscription per (user, group[, listing]).
pub const LIVE_KEY: &str = "subscriptions_live_key";

#[derive(sqlx::FromRow)]
struct ProductRow {
    code: String,
    name: String,
    audience: String,
    product_group: String,
    discount_percent: i16,
    priority_booking: bool,
}

impl TryFrom<ProductRow> for Product {
    type Error = Error;
    fn try_from(r: ProductRow) -> Result<Self, Error> {
        Ok(Product {
            code: r.code,
            name: r.name,
            audience: r.audience.parse::<Audience>().map_err(Error::Internal)?,
            group: r.product_group.parse::<Group>().map_err(Error::Internal)?,
            discount_percent: r.discount_percent,
            priority_booking: r.priority_booking,
        })
    }
}

const PRODUCT_COLUMNS: &str =
    "code, name, audience, product_group, discount_percent, priority_booking";

/// The catalogue, group by group, each product with its prices (currency, minor units).
pub async fn catalogue(
    conn: &mut PgConnection,
) -> Result<Vec<(Product, Vec<(String, Minor)>)>, Error> {
    let rows: Vec<ProductRow> = sqlx::query_as(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM subscription_products ORDER BY \
           array_position(ARRAY['driver_plan', 'insurance', 'featured_listing', \
             'availability_api', 'analytics'], product_group), position"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let prices: Vec<(String, String, Minor)> = sqlx::query_as(
        "SELECT product_code, currency, amount_minor FROM subscription_prices \
         ORDER BY product_code, currency",
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let p = Product::try_from(r)?;
            let of: Vec<(String, Minor)> = prices
                .iter()
                .filter(|(code, _, _)| *code == p.code)
                .map(|(_, c, a)| (c.clone(), *a))
                .collect();
            Ok((p, of))
        })
        .collect()
}

pub async fn product(conn: &mut PgConnection, code: &str) -> Result<Option<Product>, Error> {
    let row: Option<ProductRow> = sqlx::query_as(&format!(
        "SELECT {PRODUCT_COLUMNS} FROM subscription_products WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(conn)
    .await?;
    row.map(Product::try_from).transpose()
}

pub async fn price(
    conn: &mut PgConnection,
    code: &str,
    currency: &str,
) -> Result<Option<Minor>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT amount_minor FROM subscription_prices WHERE product_code = $1 AND currency = $2",
    )
    .bind(code)
    .bind(currency)
    .fetch_optional(conn)
    .await?)
}

/// A subscription row as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: Uuid,
    pub user_id: Uuid,
    pub product_code: String,
    pub product_group: String,
    pub listing_id: Option<Uuid>,
    pub currency: String,
    /// What the current product costs for the current period.
    pub price_minor: Minor,
    pub status: String,
    pub end_reason: Option<String>,
    pub anchor_at: DateTime<Utc>,
    pub period_number: i32,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub cancel_at_period_end: bool,
    pub cancel_requested_at: Option<DateTime<Utc>>,
    pub past_due_since: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Subscription {
    pub fn status(&self) -> Result<Status, Error> {
        self.status.parse().map_err(Error::Internal)
    }
    pub fn group(&self) -> Result<Group, Error> {
        self.product_group.parse().map_err(Error::Internal)
    }
    pub fn period(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.current_period_start, self.current_period_end)
    }
}

const COLUMNS: &str = "id, user_id, product_code, product_group, listing_id, currency, \
    price_minor, status, end_reason, anchor_at, period_number, current_period_start, \
    current_period_end, cancel_at_period_end, cancel_requested_at, past_due_since, \
    next_attempt_at, ended_at, created_at, updated_at";

/// Inserts a new, active subscription; 409 `already_subscribed` when a live one of the group
/// (and listing) exists.
pub async fn insert(conn: &mut PgConnection, s: &Subscription) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO subscriptions (id, user_id, product_code, product_group, listing_id, \
           currency, price_minor, status, anchor_at, period_number, current_period_start, \
           current_period_end, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, 1, $9, $10, $11, $11)",
    )
    .bind(s.id)
    .bind(s.user_id)
    .bind(&s.product_code)
    .bind(&s.product_group)
    .bind(s.listing_id)
    .bind(&s.currency)
    .bind(s.price_minor)
    .bind(s.anchor_at)
    .bind(s.current_period_start)
    .bind(s.current_period_end)
    .bind(s.created_at)
    .execute(conn)
    .await
    .on_constraint(LIVE_KEY, |_| Error::Conflict {
        code: "already_subscribed",
        detail: "you already have a subscription of this kind; change or cancel it instead".into(),
    })?;
    Ok(())
}

/// The subscription, locked until the transaction ends when `lock`.
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<Subscription>, Error> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE id = $1{suffix}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// A user's subscriptions, live ones first, newest first.
pub async fn of_user(conn: &mut PgConnection, user: Uuid) -> Result<Vec<Subscription>, Error> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE user_id = $1 \
         ORDER BY status = 'ended', created_at DESC, id DESC"
    ))
    .bind(user)
    .fetch_all(conn)
    .await?)
}

/// Writes back what a use case changed (everything but identity and anchor).
pub async fn save(
    conn: &mut PgConnection,
    s: &Subscription,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE subscriptions SET product_code = $2, price_minor = $3, status = $4, \
           end_reason = $5, period_number = $6, current_period_start = $7, \
           current_period_end = $8, cancel_at_period_end = $9, cancel_requested_at = $10, \
           past_due_since = $11, next_attempt_at = $12, ended_at = $13, updated_at = $14 \
         WHERE id = $1",
    )
    .bind(s.id)
    .bind(&s.product_code)
    .bind(s.price_minor)
    .bind(&s.status)
    .bind(&s.end_reason)
    .bind(s.period_number)
    .bind(s.current_period_start)
    .bind(s.current_period_end)
    .bind(s.cancel_at_period_end)
    .bind(s.cancel_requested_at)
    .bind(s.past_due_since)
    .bind(s.next_attempt_at)
    .bind(s.ended_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a subscription ended (the caller closes its span).
pub fn end(s: &mut Subscription, reason: EndReason, at: DateTime<Utc>) {
    s.status = Status::Ended.as_str().into();
    s.end_reason = Some(reason.as_str().into());
    s.ended_at = Some(at);
    s.past_due_since = None;
    s.next_attempt_at = None;
    s.cancel_at_period_end = false;
}

/// Subscriptions with work due at `now`: a period that ended (renew or end it), or a
/// past-due renewal's next attempt.
pub async fn due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "(SELECT id FROM subscriptions WHERE status = 'active' AND current_period_end <= $1 \
          ORDER BY current_period_end LIMIT $2) \
         UNION \
         (SELECT id FROM subscriptions WHERE status = 'past_due' AND next_attempt_at <= $1 \
          ORDER BY next_attempt_at LIMIT $2)",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// The listing's host and currency; `None` when it does not exist.
pub async fn listing_owner(
    conn: &mut PgConnection,
    listing: Uuid,
) -> Result<Option<(Uuid, String)>, Error> {
    Ok(
        sqlx::query_as("SELECT host_id, currency::text FROM listings WHERE id = $1")
            .bind(listing)
            .fetch_optional(conn)
            .await?,
    )
}

/// The currencies the user has a wallet in.
pub async fn wallet_currencies(conn: &mut PgConnection, user: Uuid) -> Result<Vec<String>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT currency::text FROM ledger_accounts \
         WHERE kind = 'driver_wallet' AND owner_id = $1 ORDER BY currency",
    )
    .bind(user)
    .fetch_all(conn)
    .await?)
}

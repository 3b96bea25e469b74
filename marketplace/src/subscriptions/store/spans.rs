//! What a subscriber was entitled to, and when: one span per product held. Entitlement
//! questions ("which plan did the driver have when this session started?") are answered
//! from spans, so they stay true of the past when the subscription has changed since.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Subscription;
use crate::error::Error;

/// Opens the span of the subscription's current product from `at`.
pub async fn open(
    conn: &mut PgConnection,
    s: &Subscription,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO subscription_spans (subscription_id, user_id, product_code, \
           product_group, listing_id, starts_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.id)
    .bind(s.user_id)
    .bind(&s.product_code)
    .bind(&s.product_group)
    .bind(s.listing_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes the subscription's open span at `at`.
pub async fn close(
    conn: &mut PgConnection,
    subscription: Uuid,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE subscription_spans SET ends_at = greatest($2, starts_at) \
         WHERE subscription_id = $1 AND ends_at IS NULL",
    )
    .bind(subscription)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A product a user held at some instant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Held {
    pub product_code: String,
    pub product_group: String,
    pub listing_id: Option<Uuid>,
    pub discount_percent: i16,
    pub priority_booking: bool,
}

/// The products a user held at `at`.
pub async fn held_at(
    conn: &mut PgConnection,
    user: Uuid,
    at: DateTime<Utc>,
) -> Result<Vec<Held>, Error> {
    Ok(sqlx::query_as(
        "SELECT s.product_code, s.product_group, s.listing_id, p.discount_percent, \
           p.priority_booking \
         FROM subscription_spans s JOIN subscription_products p ON p.code = s.product_code \
         WHERE s.user_id = $1 AND s.starts_at <= $2 AND (s.ends_at IS NULL OR s.ends_at > $2) \
         ORDER BY s.product_group, s.listing_id",
    )
    .bind(user)
    .bind(at)
    .fetch_all(conn)
    .await?)
}

/// Which of `listings` are featured at `at` (by their own host's subscription).
pub async fn featured(
    conn: &mut PgConnection,
    listings: &[Uuid],
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, Error> {
    if listings.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT s.listing_id FROM subscription_spans s \
         JOIN listings l ON l.id = s.listing_id AND l.host_id = s.user_id \
         WHERE s.listing_id = ANY($1) AND s.product_group = 'featured_listing' \
           AND s.starts_at <= $2 AND (s.ends_at IS NULL OR s.ends_at > $2)",
    )
    .bind(listings)
    .bind(at)
    .fetch_all(conn)
    .await?)
}

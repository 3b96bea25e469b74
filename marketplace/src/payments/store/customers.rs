//! A user's customer at the payment provider (where cards are attached) and the email
//! it is made with.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;

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

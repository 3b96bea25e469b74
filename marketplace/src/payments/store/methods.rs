//! Saved cards (`payment_methods`): brand and last four digits only; a removed card is
//! kept for the payments that name it.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;

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

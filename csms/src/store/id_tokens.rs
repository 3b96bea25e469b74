use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A stored id token.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = IdToken)]
pub struct IdTokenRow {
    /// The row's id (not the token value).
    pub id: Uuid,
    #[schema(example = "04A2B3C4D5E6F7")]
    pub id_token: String,
    /// Named as in OCPP's IdTokenType and in the request body.
    #[serde(rename = "type")]
    #[schema(value_type = crate::api::doc::IdTokenType)]
    pub token_type: String,
    #[schema(value_type = crate::api::doc::IdTokenStatus)]
    pub status: String,
    #[schema(required)]
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub group_id: Option<String>,
    /// The marketplace user the token belongs to.
    #[schema(required)]
    pub user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, id_token, token_type, status, expires_at, group_id, user_id, created_at";

/// A token's stored status, expiry and group, as [`status_now`] reads them.
pub type StoredStatus = (String, Option<DateTime<Utc>>, Option<String>);

/// OCPP authorization status of a token as the station should see it now.
pub async fn authorization_status<'e>(
    db: impl PgExecutor<'e>,
    id_token: &str,
    token_type: &str,
) -> Result<(String, Option<String>), sqlx::Error> {
    let row: Option<StoredStatus> = sqlx::query_as(
        "SELECT status, expires_at, group_id FROM id_tokens WHERE id_token = $1 AND token_type = $2",
    )
    .bind(id_token)
    .bind(token_type)
    .fetch_optional(db)
    .await?;
    Ok(status_now(row, Utc::now()))
}

/// The status and group a station is told for a token's stored row (`None`: not stored).
pub fn status_now(row: Option<StoredStatus>, now: DateTime<Utc>) -> (String, Option<String>) {
    match row {
        None => ("Unknown".to_owned(), None),
        Some((status, Some(exp), group)) if status == "Accepted" && exp <= now => {
            ("Expired".to_owned(), group)
        }
        Some((status, _, group)) => (status, group),
    }
}

pub struct NewIdToken<'a> {
    pub id_token: &'a str,
    pub token_type: &'a str,
    pub status: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub group_id: Option<&'a str>,
    pub user_id: Option<Uuid>,
}

pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    t: &NewIdToken<'_>,
) -> Result<IdTokenRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO id_tokens (id, id_token, token_type, status, expires_at, group_id, user_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(t.id_token)
    .bind(t.token_type)
    .bind(t.status)
    .bind(t.expires_at)
    .bind(t.group_id)
    .bind(t.user_id)
    .fetch_one(db)
    .await
}

pub async fn update<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    t: &NewIdToken<'_>,
) -> Result<Option<IdTokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE id_tokens SET id_token = $2, token_type = $3, status = $4, expires_at = $5,
             group_id = $6, user_id = $7
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(t.id_token)
    .bind(t.token_type)
    .bind(t.status)
    .bind(t.expires_at)
    .bind(t.group_id)
    .bind(t.user_id)
    .fetch_optional(db)
    .await
}

pub async fn get<'e>(db: impl PgExecutor<'e>, id: Uuid) -> Result<Option<IdTokenRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM id_tokens WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn delete<'e>(db: impl PgExecutor<'e>, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM id_tokens WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

pub async fn list<'e>(
    db: impl PgExecutor<'e>,
    limit: i64,
    offset: i64,
) -> Result<Vec<IdTokenRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM id_tokens ORDER BY created_at, id LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// A driver's usable token (the oldest accepted, unexpired one), as `(idToken, type)`: what
/// a reservation is made out to, so the station lets that driver start on it.
pub async fn usable_for_user<'e>(
    db: impl PgExecutor<'e>,
    user_id: Uuid,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id_token, token_type FROM id_tokens WHERE user_id = $1 AND status = 'Accepted' \
         AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at, id LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Whether `token` is a central token this CSMS issued for a start on `station_id` that is
/// still live: `SESSION-<n>` of a session not yet completed, or `BOOKING-<reservation id>` of
/// a confirmed or checked-in booking on one of the station's ports. Stations that authorize
/// remote starts ask for exactly these.
pub async fn issued_central_token<'e>(
    db: impl PgExecutor<'e>,
    station_id: &str,
    token: &str,
) -> Result<bool, sqlx::Error> {
    let number = |prefix: &str| {
        token
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<i32>().ok())
    };
    if let Some(n) = number("SESSION-") {
        return sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM charging_sessions WHERE number = $1 \
             AND station_id = $2 AND status IN ('start', 'active', 'paused'))",
        )
        .bind(n)
        .bind(station_id)
        .fetch_one(db)
        .await;
    }
    if let Some(r) = number("BOOKING-") {
        return sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM bookings b JOIN listings l ON l.id = b.listing_id \
             WHERE b.reservation_id = $1 AND l.device_kind = 'ocpp' AND l.device_id = $2 \
             AND b.status IN ('confirmed', 'checked_in', 'charging'))",
        )
        .bind(r)
        .bind(station_id)
        .fetch_one(db)
        .await;
    }
    Ok(false)
}

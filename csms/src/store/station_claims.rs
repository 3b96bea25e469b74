//! Who owns a station, and the claims hosts make to own one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

/// A host's claim to own a station, and its decision.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StationClaim)]
pub struct ClaimRow {
    pub id: Uuid,
    #[schema(example = "CS-0042")]
    pub station_id: String,
    pub host_id: Uuid,
    #[schema(value_type = crate::api::doc::ClaimStatus)]
    pub status: String,
    #[schema(value_type = crate::api::doc::ClaimProof)]
    pub proof: String,
    /// The host's note for the operator (up to 500 characters).
    pub note: String,
    /// The operator who decided; null for a password claim or one still pending.
    #[schema(required)]
    pub decided_by: Option<Uuid>,
    /// null while pending.
    #[schema(required)]
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, station_id, host_id, status, proof, note, decided_by, decided_at, created_at";

/// The station's owner and Basic auth hash, locked until the transaction ends, so two claims
/// of one station are decided one after the other.
pub async fn station_for_claim(
    conn: &mut PgConnection,
    station_id: &str,
) -> Result<Option<(Option<Uuid>, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT owner_id, password_hash FROM stations WHERE id = $1 FOR UPDATE")
        .bind(station_id)
        .fetch_optional(conn)
        .await
}

pub async fn set_owner(
    conn: &mut PgConnection,
    station_id: &str,
    owner: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE stations SET owner_id = $2 WHERE id = $1")
        .bind(station_id)
        .bind(owner)
        .execute(conn)
        .await
        .map(drop)
}

pub struct NewClaim<'a> {
    pub station_id: &'a str,
    pub host_id: Uuid,
    pub status: &'a str,
    pub proof: &'a str,
    pub note: &'a str,
}

pub async fn insert(conn: &mut PgConnection, c: &NewClaim<'_>) -> Result<ClaimRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO station_claims (id, station_id, host_id, status, proof, note, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $4 = 'pending' THEN NULL ELSE now() END)
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(c.station_id)
    .bind(c.host_id)
    .bind(c.status)
    .bind(c.proof)
    .bind(c.note)
    .fetch_one(conn)
    .await
}

/// Password claims this host got wrong since `since` (each is kept, rejected, as the log).
pub async fn failed_password_claims(
    conn: &mut PgConnection,
    host_id: Uuid,
    since: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), min(created_at) FROM station_claims
         WHERE host_id = $1 AND proof = 'password' AND status = 'rejected' AND created_at > $2",
    )
    .bind(host_id)
    .bind(since)
    .fetch_one(conn)
    .await
}

pub async fn pending_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ClaimRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM station_claims WHERE id = $1 AND status = 'pending' FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    by: Uuid,
) -> Result<ClaimRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE station_claims SET status = $2, decided_by = $3, decided_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(status)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Claims, newest first: one host's (`host`), or everyone's; `status` narrows them.
pub async fn list(
    conn: &mut PgConnection,
    host: Option<Uuid>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<ClaimRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM station_claims
         WHERE ($1::uuid IS NULL OR host_id = $1) AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(host)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await
}

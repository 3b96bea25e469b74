use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgPool};

/// What the connection needs to decide on a station before the WebSocket is upgraded.
#[derive(Debug, Clone, FromRow)]
pub struct StationAuth {
    pub security_profile: i16,
    pub password_hash: Option<String>,
    pub registration_status: String,
}

pub async fn auth_record(pool: &PgPool, id: &str) -> Result<Option<StationAuth>, sqlx::Error> {
    sqlx::query_as(
        "SELECT security_profile, password_hash, registration_status FROM stations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A station as stored: how it must connect and what it said about itself.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StationRow {
    /// The OCPP stationId.
    #[schema(example = "CS-0042")]
    pub id: String,
    /// 0 none, 1 Basic auth, 2 TLS + Basic auth, 3 TLS client certificate.
    #[schema(minimum = 0, maximum = 3)]
    pub security_profile: i16,
    #[schema(value_type = crate::api::doc::RegistrationStatus)]
    pub registration_status: String,
    /// From the station's last BootNotification.
    #[schema(required)]
    pub vendor_name: Option<String>,
    #[schema(required)]
    pub model: Option<String>,
    #[schema(required)]
    pub serial_number: Option<String>,
    #[schema(required)]
    pub firmware_version: Option<String>,
    #[schema(required)]
    pub last_boot_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The account the station belongs to (after an approved claim); null: nobody's yet.
    #[schema(required)]
    pub owner_id: Option<uuid::Uuid>,
}

const STATION_COLUMNS: &str =
    "id, security_profile, registration_status, vendor_name, model, serial_number,
    firmware_version, last_boot_at, last_heartbeat_at, last_seen_at, created_at, owner_id";

pub async fn list(pool: &PgPool, limit: i64, offset: i64) -> Result<Vec<StationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {STATION_COLUMNS} FROM stations ORDER BY id LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

pub async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM stations")
        .fetch_one(pool)
        .await
}

pub async fn get(pool: &PgPool, id: &str) -> Result<Option<StationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {STATION_COLUMNS} FROM stations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Clone, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorStatusRow {
    pub evse_id: i32,
    pub connector_id: i32,
    pub status: String,
    pub reported_at: DateTime<Utc>,
}

pub async fn connectors(pool: &PgPool, id: &str) -> Result<Vec<ConnectorStatusRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT evse_id, connector_id, status, reported_at FROM connector_status
         WHERE station_id = $1 ORDER BY evse_id, connector_id",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// Creates or updates a station's provisioning (operator side). `password_hash` None keeps
/// the stored one.
pub async fn upsert_provisioning(
    pool: &PgPool,
    id: &str,
    security_profile: i16,
    password_hash: Option<&str>,
    registration_status: &str,
) -> Result<StationRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO stations (id, security_profile, password_hash, registration_status)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET security_profile = EXCLUDED.security_profile,
             password_hash = COALESCE(EXCLUDED.password_hash, stations.password_hash),
             registration_status = EXCLUDED.registration_status
         RETURNING {STATION_COLUMNS}"
    ))
    .bind(id)
    .bind(security_profile)
    .bind(password_hash)
    .bind(registration_status)
    .fetch_one(pool)
    .await
}

//! What sessions read from listings and bookings: the port a session runs on, the booking it
//! charges, and whether another driver holds the port.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::bookings::rules::BookingRules;
use crate::error::Error;

/// A port and its listing, as a session start sees them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PortTarget {
    pub listing_id: Uuid,
    pub host_id: Uuid,
    pub listing_status: String,
    pub device_kind: String,
    /// The OCPP station id when `device_kind` is `ocpp`.
    pub station_id: Option<String>,
    pub port_id: Uuid,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub live_status: String,
}

const PORT_COLUMNS: &str = "l.id AS listing_id, l.host_id, l.status AS listing_status, \
    l.device_kind, l.device_id AS station_id, p.id AS port_id, p.evse_id, p.connector_id, \
    p.live_status";

pub async fn port(
    conn: &mut PgConnection,
    listing_id: Uuid,
    port_id: Uuid,
) -> Result<Option<PortTarget>, Error> {
    let sql = format!(
        "SELECT {PORT_COLUMNS} FROM listing_ports p JOIN listings l ON l.id = p.listing_id \
         WHERE l.id = $1 AND p.id = $2"
    );
    Ok(sqlx::query_as(&sql)
        .bind(listing_id)
        .bind(port_id)
        .fetch_optional(conn)
        .await?)
}

/// The marketplace port bound to a station's EVSE (the connector's own port first, a listed
/// listing first), if the station is a listing's device at all.
pub async fn port_on_station(
    conn: &mut PgConnection,
    station_id: &str,
    evse_id: i32,
    connector_id: Option<i32>,
) -> Result<Option<PortTarget>, Error> {
    let sql = format!(
        "SELECT {PORT_COLUMNS} FROM listing_ports p JOIN listings l ON l.id = p.listing_id \
         WHERE l.device_kind = 'ocpp' AND l.device_id = $1 AND p.evse_id = $2 \
         ORDER BY (p.connector_id IS NOT DISTINCT FROM $3) DESC, (l.status = 'listed') DESC, \
           p.created_at LIMIT 1"
    );
    Ok(sqlx::query_as(&sql)
        .bind(station_id)
        .bind(evse_id)
        .bind(connector_id)
        .fetch_optional(conn)
        .await?)
}

/// A booking, as a session needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BookingFacts {
    pub id: Uuid,
    pub driver_id: Uuid,
    pub listing_id: Uuid,
    pub port_id: Uuid,
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub emergency: bool,
    pub reservation_id: i32,
    pub arrival_grace_minutes: i32,
    /// What the booking costs: what must be secured (held or authorized) to charge on it.
    pub amount_cents: i64,
    pub currency: String,
}

impl BookingFacts {
    /// Whether a session may start on it at `now`: confirmed or checked in, inside its
    /// arrival window (grace before the start) and before its end.
    pub fn startable(&self, now: DateTime<Utc>) -> bool {
        let opens = self.starts_at - chrono::Duration::minutes(self.arrival_grace_minutes.into());
        matches!(self.status.as_str(), "confirmed" | "checked_in")
            && opens <= now
            && now < self.ends_at
    }
}

fn grace() -> i32 {
    i32::try_from(BookingRules::default().arrival_grace_minutes).unwrap_or(15)
}

const BOOKING_COLUMNS: &str = "b.id, b.driver_id, b.listing_id, b.port_id, b.status, \
    b.starts_at, b.ends_at, b.emergency, b.reservation_id, b.amount_cents, \
    b.currency::text AS currency, COALESCE(r.arrival_grace_minutes, $2) AS arrival_grace_minutes";

pub async fn booking(conn: &mut PgConnection, id: Uuid) -> Result<Option<BookingFacts>, Error> {
    let sql = format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings b \
         LEFT JOIN listing_booking_rules r ON r.listing_id = b.listing_id WHERE b.id = $1"
    );
    Ok(sqlx::query_as(&sql)
        .bind(id)
        .bind(grace())
        .fetch_optional(conn)
        .await?)
}

/// The booking a station's transaction charges (`bookings.transaction_id`, set when the
/// bookings module matched the transaction's start).
pub async fn booking_of_transaction(
    conn: &mut PgConnection,
    station_id: &str,
    transaction_id: &str,
) -> Result<Option<BookingFacts>, Error> {
    let sql = format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings b JOIN listings l ON l.id = b.listing_id \
         LEFT JOIN listing_booking_rules r ON r.listing_id = b.listing_id \
         WHERE b.transaction_id = $1 AND l.device_kind = 'ocpp' AND l.device_id = $3 \
         ORDER BY b.charging_at DESC NULLS LAST LIMIT 1"
    );
    Ok(sqlx::query_as(&sql)
        .bind(transaction_id)
        .bind(grace())
        .bind(station_id)
        .fetch_optional(conn)
        .await?)
}

/// Whether another driver's live booking holds the port at `at` (its arrival window open).
pub async fn held_by_other(
    conn: &mut PgConnection,
    port_id: Uuid,
    driver_id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, Error> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bookings b \
           LEFT JOIN listing_booking_rules r ON r.listing_id = b.listing_id \
           WHERE b.port_id = $1 AND b.driver_id <> $2 \
             AND b.status IN ('pending', 'confirmed', 'checked_in', 'charging') \
             AND b.starts_at - make_interval(mins => COALESCE(r.arrival_grace_minutes, $4)) <= $3 \
             AND b.ends_at > $3)",
    )
    .bind(port_id)
    .bind(driver_id)
    .bind(at)
    .bind(grace())
    .fetch_one(conn)
    .await?)
}

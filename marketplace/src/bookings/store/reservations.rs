//! SQL of the OCPP seam: the dispatcher's queue of ReserveNow / CancelReservation work, and
//! what stations report back. See `bookings::reservations` for the protocol.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;

/// One piece of station work, claimed by [`claim`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WorkRow {
    pub booking_id: Uuid,
    pub reservation_id: i32,
    /// `sent`: send ReserveNow; `cancel_sent`: send CancelReservation.
    pub state: String,
    pub station_id: String,
    pub evse_id: i32,
    pub connector_type: String,
    pub driver_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub arrival_grace_minutes: i32,
}

/// Claims due work: reservations to send for bookings starting within `lead`, cancellations
/// to send, and either kind sent more than `retry_after` ago without an answer (the CSMS
/// may have stopped in between; ReserveNow with the same id replaces the reservation, and a
/// second CancelReservation is harmless). Claimed rows are marked sent at `now`.
pub async fn claim(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lead: Duration,
    retry_after: Duration,
    default_grace_minutes: u32,
    limit: i64,
) -> Result<Vec<WorkRow>, Error> {
    let rows = sqlx::query_as(
        "WITH due AS ( \
           SELECT b.id FROM bookings b \
           WHERE (b.reservation_state = 'due' AND b.status IN ('confirmed', 'checked_in') \
                  AND b.starts_at <= $1 + $2 AND b.ends_at > $1) \
              OR (b.reservation_state = 'sent' AND b.reservation_at <= $1 - $3 \
                  AND b.status IN ('confirmed', 'checked_in') AND b.ends_at > $1) \
              OR b.reservation_state = 'cancel_due' \
              OR (b.reservation_state = 'cancel_sent' AND b.reservation_at <= $1 - $3) \
           ORDER BY b.starts_at LIMIT $5 FOR UPDATE SKIP LOCKED), \
         claimed AS ( \
           UPDATE bookings b SET reservation_at = $1, \
             reservation_state = CASE WHEN b.reservation_state IN ('due', 'sent') THEN 'sent' \
                                      ELSE 'cancel_sent' END \
           FROM due WHERE b.id = due.id \
           RETURNING b.id, b.reservation_id, b.reservation_state, b.listing_id, b.port_id, \
             b.driver_id, b.starts_at, b.ends_at) \
         SELECT c.id AS booking_id, c.reservation_id, c.reservation_state AS state, \
           l.device_id AS station_id, p.evse_id, p.connector_type, c.driver_id, c.starts_at, \
           c.ends_at, COALESCE(r.arrival_grace_minutes, $4) AS arrival_grace_minutes \
         FROM claimed c JOIN listings l ON l.id = c.listing_id \
         JOIN listing_ports p ON p.id = c.port_id \
         LEFT JOIN listing_booking_rules r ON r.listing_id = c.listing_id \
         WHERE l.device_id IS NOT NULL AND p.evse_id IS NOT NULL \
         ORDER BY c.starts_at",
    )
    .bind(now)
    .bind(lead)
    .bind(retry_after)
    .bind(i32::try_from(default_grace_minutes).unwrap_or(15))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// The booking behind a reservation id on a station, locked; `None` if the id is unknown
/// there (a station may only speak of its own reservations).
pub async fn lock_by_reservation(
    conn: &mut PgConnection,
    station_id: &str,
    reservation_id: i32,
) -> Result<Option<(Uuid, String, String)>, Error> {
    let row = sqlx::query_as(
        "SELECT b.id, b.status, b.reservation_state FROM bookings b \
         JOIN listings l ON l.id = b.listing_id \
         WHERE b.reservation_id = $1 AND l.device_kind = 'ocpp' AND l.device_id = $2 \
         FOR UPDATE OF b",
    )
    .bind(reservation_id)
    .bind(station_id)
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

pub async fn set_state(
    conn: &mut PgConnection,
    booking_id: Uuid,
    state: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE bookings SET reservation_state = $2, reservation_at = $3, updated_at = $3 \
         WHERE id = $1",
    )
    .bind(booking_id)
    .bind(state)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The booking a session on `(station, evse)` at `at` belongs to: by reservation id when the
/// station sent one, else the confirmed or checked-in booking of that EVSE whose arrival
/// window has opened (start - grace) and whose time has not ended. Locked.
pub async fn lock_for_session(
    conn: &mut PgConnection,
    station_id: &str,
    evse_id: i32,
    reservation_id: Option<i32>,
    at: DateTime<Utc>,
    default_grace_minutes: u32,
) -> Result<Option<(Uuid, String)>, Error> {
    let row = sqlx::query_as(
        "SELECT b.id, b.status FROM bookings b \
         JOIN listings l ON l.id = b.listing_id \
         JOIN listing_ports p ON p.id = b.port_id \
         LEFT JOIN listing_booking_rules r ON r.listing_id = b.listing_id \
         WHERE l.device_kind = 'ocpp' AND l.device_id = $1 \
           AND b.status IN ('confirmed', 'checked_in') \
           AND CASE WHEN $3::int IS NOT NULL THEN b.reservation_id = $3 \
               ELSE p.evse_id = $2 \
                 AND b.starts_at - make_interval(mins => COALESCE(r.arrival_grace_minutes, $5)) <= $4 \
                 AND b.ends_at > $4 END \
         ORDER BY b.starts_at LIMIT 1 FOR UPDATE OF b",
    )
    .bind(station_id)
    .bind(evse_id)
    .bind(reservation_id)
    .bind(at)
    .bind(i32::try_from(default_grace_minutes).unwrap_or(15))
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

pub async fn start_charging(
    conn: &mut PgConnection,
    booking_id: Uuid,
    transaction_id: &str,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE bookings SET status = 'charging', charging_at = $3, transaction_id = $2, \
           reservation_state = CASE WHEN reservation_state IN ('none', 'due') THEN 'none' \
                                    ELSE 'used' END, \
           updated_at = $3 WHERE id = $1",
    )
    .bind(booking_id)
    .bind(transaction_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The charging booking of a station's transaction, locked.
pub async fn lock_by_transaction(
    conn: &mut PgConnection,
    station_id: &str,
    transaction_id: &str,
) -> Result<Option<Uuid>, Error> {
    let id = sqlx::query_scalar(
        "SELECT b.id FROM bookings b JOIN listings l ON l.id = b.listing_id \
         WHERE b.transaction_id = $2 AND b.status = 'charging' AND l.device_id = $1 \
         FOR UPDATE OF b",
    )
    .bind(station_id)
    .bind(transaction_id)
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

pub async fn complete(
    conn: &mut PgConnection,
    booking_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE bookings SET status = 'completed', completed_at = $2, updated_at = $2 \
         WHERE id = $1",
    )
    .bind(booking_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

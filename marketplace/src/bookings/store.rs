//! SQL for bookings, and nothing else. Every function takes a connection so the service runs
//! several of them in one transaction. Queries are checked at run time (`query_as`), as in
//! the other modules.
//!
//! The `bookings_no_overlap` EXCLUDE constraint is the only guard against double booking:
//! inserts and slot changes simply run into it ([`is_overlap`]) and the service answers 409.

mod context;
mod pages;
pub mod reservations;
mod rows;
pub mod sweeps;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{Actor, Booking, BookingStatus, CancelledBy, ReservationState, SlotConflict};
use super::refund::RefundDecision;
use crate::error::Error;

pub use context::{charger, save_rules, ChargerContext, PortInfo};
pub use pages::{held_intervals, list, ListFilter, Scope};
use rows::{BookingRow, BOOKING_COLUMNS};

pub const NO_OVERLAP: &str = "bookings_no_overlap";

const FROM_BOOKINGS: &str = "bookings b JOIN listings l ON l.id = b.listing_id \
     JOIN listing_ports p ON p.id = b.port_id \
     LEFT JOIN booking_refunds r ON r.booking_id = b.id";

/// The statuses that hold a port, as SQL, for queries that must agree with the constraint.
const ACTIVE: &str = "('pending', 'confirmed', 'checked_in', 'charging')";

/// Whether an error is a violation of the no-double-booking constraint.
pub fn is_overlap(err: &Error) -> bool {
    matches!(err, Error::Database(sqlx::Error::Database(db)) if db.constraint() == Some(NO_OVERLAP))
}

/// A deadlock or serialization failure: the transaction may simply be run again.
pub fn is_transient(err: &Error) -> bool {
    matches!(err, Error::Database(sqlx::Error::Database(db))
        if matches!(db.code().as_deref(), Some("40P01" | "40001")))
}

/// A booking about to be inserted.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub port_id: Uuid,
    pub driver_id: Uuid,
    pub status: BookingStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub emergency: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub amount_cents: i64,
    pub currency: String,
    pub reservation_state: ReservationState,
    pub actor: Actor,
    pub now: DateTime<Utc>,
}

/// Inserts the booking and its `created` event in one statement.
pub async fn insert(conn: &mut PgConnection, row: &NewRow) -> Result<Booking, Error> {
    let sql = format!(
        "WITH b AS ( \
           INSERT INTO bookings (id, listing_id, port_id, driver_id, status, starts_at, ends_at, \
             emergency, expires_at, confirmed_at, amount_cents, currency, reservation_state, \
             created_at, updated_at) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) \
           RETURNING *), \
         e AS ( \
           INSERT INTO booking_events (booking_id, at, kind, actor_id, actor, data) \
           SELECT id, $14, 'created', driver_id, $15, \
             jsonb_build_object('status', status, 'starts_at', starts_at, 'ends_at', ends_at, \
               'port_id', port_id, 'emergency', emergency, 'amount_cents', amount_cents) \
           FROM b) \
         SELECT {BOOKING_COLUMNS} FROM b JOIN listings l ON l.id = b.listing_id \
           JOIN listing_ports p ON p.id = b.port_id \
           LEFT JOIN booking_refunds r ON false"
    );
    sqlx::query_as::<_, BookingRow>(&sql)
        .bind(row.id)
        .bind(row.listing_id)
        .bind(row.port_id)
        .bind(row.driver_id)
        .bind(row.status.as_str())
        .bind(row.starts_at)
        .bind(row.ends_at)
        .bind(row.emergency)
        .bind(row.expires_at)
        .bind(row.confirmed_at)
        .bind(row.amount_cents)
        .bind(&row.currency)
        .bind(row.reservation_state.as_str())
        .bind(row.now)
        .bind(row.actor.as_str())
        .fetch_one(conn)
        .await?
        .try_into()
}

/// `lock` takes the row lock until the transaction ends: every change to a booking locks it
/// first, so two requests never decide on the same stale state.
pub async fn by_id(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<Booking>, Error> {
    let lock = if lock { " FOR UPDATE OF b" } else { "" };
    let sql = format!("SELECT {BOOKING_COLUMNS} FROM {FROM_BOOKINGS} WHERE b.id = $1{lock}");
    sqlx::query_as::<_, BookingRow>(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(Booking::try_from)
        .transpose()
}

pub async fn confirm(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    reservation: ReservationState,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE bookings SET status = 'confirmed', confirmed_at = $2, reservation_state = $3, \
           updated_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(reservation.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn check_in(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), Error> {
    sqlx::query(
        "UPDATE bookings SET status = 'checked_in', checked_in_at = $2, updated_at = $2 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// How a booking ends before it is used.
#[derive(Debug, Clone)]
pub struct Ending<'a> {
    /// `Cancelled` or `Preempted`.
    pub status: BookingStatus,
    pub by: CancelledBy,
    pub reason: Option<&'a str>,
    pub preempted_by: Option<Uuid>,
    pub reservation: ReservationState,
    pub now: DateTime<Utc>,
}

pub async fn end(conn: &mut PgConnection, id: Uuid, e: &Ending<'_>) -> Result<(), Error> {
    sqlx::query(
        "UPDATE bookings SET status = $2, cancelled_at = $3, cancelled_by = $4, \
           cancel_reason = $5, preempted_by = $6, reservation_state = $7, updated_at = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(e.status.as_str())
    .bind(e.now)
    .bind(e.by.as_str())
    .bind(e.reason)
    .bind(e.preempted_by)
    .bind(e.reservation.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// A booking's new place in time (and maybe port): one UPDATE, so the old slot is held until
/// the new one is, and the constraint checks the new one against every other booking.
#[derive(Debug, Clone)]
pub struct Slot {
    pub port_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub amount_cents: i64,
    pub reservation: ReservationState,
    /// Set when an emergency moved the booking.
    pub moved: Option<(Uuid, Uuid)>,
}

pub async fn set_slot(
    conn: &mut PgConnection,
    id: Uuid,
    slot: &Slot,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (moved_from, preempted_by) = slot.moved.unzip();
    sqlx::query(
        "UPDATE bookings SET port_id = $2, starts_at = $3, ends_at = $4, amount_cents = $5, \
           reservation_state = $6, moved_from_port = COALESCE($7, moved_from_port), \
           preempted_by = COALESCE($8, preempted_by), updated_at = $9 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(slot.port_id)
    .bind(slot.starts_at)
    .bind(slot.ends_at)
    .bind(slot.amount_cents)
    .bind(slot.reservation.as_str())
    .bind(moved_from)
    .bind(preempted_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends to the audit trail (the table refuses updates and deletes).
pub async fn event(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor: Actor,
    actor_id: Option<Uuid>,
    data: Value,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO booking_events (booking_id, at, kind, actor_id, actor, data) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(at)
    .bind(kind)
    .bind(actor_id)
    .bind(actor.as_str())
    .bind(data)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the refund decision for the ledger to post (one per booking, by constraint).
pub async fn insert_refund(
    conn: &mut PgConnection,
    booking: &Booking,
    decision: RefundDecision,
    reason: &str,
    by: CancelledBy,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO booking_refunds (id, booking_id, amount_cents, currency, percent, reason, \
           cancelled_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(booking.id)
    .bind(decision.amount_cents)
    .bind(&booking.currency)
    .bind(i16::from(decision.percent))
    .bind(reason)
    .bind(by.as_str())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A live booking of the port overlapping `[start, end)`, other than `except`.
pub async fn conflicting_slot(
    conn: &mut PgConnection,
    port_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Option<SlotConflict>, Error> {
    let row: Option<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(&format!(
        "SELECT starts_at, ends_at FROM bookings \
         WHERE port_id = $1 AND status IN {ACTIVE} AND period && tstzrange($2, $3, '[)') \
           AND id IS DISTINCT FROM $4 \
         ORDER BY starts_at LIMIT 1"
    ))
    .bind(port_id)
    .bind(start)
    .bind(end)
    .bind(except)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(start_time, end_time)| SlotConflict {
        port_id,
        start_time,
        end_time,
    }))
}

/// The live bookings of a port overlapping `[start, end)`, locked, earliest first.
pub async fn overlapping_for_update(
    conn: &mut PgConnection,
    port_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Booking>, Error> {
    let sql = format!(
        "SELECT {BOOKING_COLUMNS} FROM {FROM_BOOKINGS} \
         WHERE b.port_id = $1 AND b.status IN {ACTIVE} AND b.period && tstzrange($2, $3, '[)') \
         ORDER BY b.starts_at, b.id FOR UPDATE OF b"
    );
    sqlx::query_as::<_, BookingRow>(&sql)
        .bind(port_id)
        .bind(start)
        .bind(end)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(Booking::try_from)
        .collect()
}

/// Other ports of the listing with the same connector, not reported broken, and free for the
/// whole of `[start, end)`: where a preempted booking can go.
pub async fn free_ports(
    conn: &mut PgConnection,
    listing_id: Uuid,
    connector_type: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    except: Uuid,
) -> Result<Vec<Uuid>, Error> {
    let ids = sqlx::query_scalar(&format!(
        "SELECT p.id FROM listing_ports p \
         WHERE p.listing_id = $1 AND p.connector_type = $2 AND p.id <> $5 \
           AND p.live_status NOT IN ('Faulted', 'Unavailable') \
           AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.port_id = p.id \
             AND b.status IN {ACTIVE} AND b.period && tstzrange($3, $4, '[)')) \
         ORDER BY p.power_kw DESC, p.created_at, p.id"
    ))
    .bind(listing_id)
    .bind(connector_type)
    .bind(start)
    .bind(end)
    .bind(except)
    .fetch_all(conn)
    .await?;
    Ok(ids)
}

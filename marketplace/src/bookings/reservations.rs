//! The OCPP seam: what the CSMS does for bookings on ports bound to an OCPP station.
//!
//! The work queue is the `bookings` table itself (`reservation_state`), so it survives
//! restarts and several CSMS nodes can share it:
//!
//! 1. Every few seconds the dispatcher calls [`claim_due`] and, per item, sends
//!    `ReserveNow { id: reservation_id, evseId, idToken, connectorType, expiryDateTime }`
//!    or `CancelReservation { reservationId }` to the station.
//! 2. It reports the station's answer with [`reserve_result`] / [`cancel_result`]. An item
//!    with no answer is handed out again after [`RETRY_AFTER`] (ReserveNow with the same id
//!    replaces the reservation on the station; a repeated cancel is harmless).
//! 3. The `ReservationStatusUpdate` handler calls [`status_update`].
//! 4. The TransactionEvent handler calls [`session_started`] on `Started` (with the
//!    event's `reservationId` when present) and [`session_ended`] on `Ended`.
//!
//! Booking changes (confirm, cancel, reschedule, preemption, expiry, no-show) set the state
//! through `model::reservation_after_change`; this module only moves it on station news.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::model::{transition, Actor, BookingAction, BookingStatus};
use super::rules::BookingRules;
use super::store::{self, reservations as sql};
use crate::error::Error;

/// Work handed out but not answered is handed out again after this long.
pub const RETRY_AFTER: Duration = Duration::seconds(60);

/// Reserve an EVSE for a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveNow {
    pub booking_id: Uuid,
    /// OCPP `ReserveNowRequest.id`.
    pub reservation_id: i32,
    pub station_id: String,
    pub evse_id: i32,
    /// Our connector name (`CCS2`, `Type2`...); map it to OCPP's `ConnectorEnumType`.
    pub connector_type: String,
    /// Whose idToken to reserve for (the CSMS knows the driver's tokens).
    pub driver_id: Uuid,
    /// `expiryDateTime`: the end of the arrival window (start + grace). Later the driver is
    /// a no-show, or is already charging on it.
    pub expiry: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Withdraw a reservation from a station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelReservation {
    pub booking_id: Uuid,
    pub reservation_id: i32,
    pub station_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StationWork {
    Reserve(ReserveNow),
    Cancel(CancelReservation),
}

/// Claims up to `limit` items due at `now`: ReserveNow for confirmed bookings starting
/// within `lead`, and every pending CancelReservation. Claimed items are marked sent.
pub async fn claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    lead: Duration,
    limit: i64,
) -> Result<Vec<StationWork>, Error> {
    let grace = BookingRules::default().arrival_grace_minutes;
    let mut tx = pool.begin().await?;
    let rows = sql::claim(&mut tx, now, lead, RETRY_AFTER, grace, limit).await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            if r.state == "sent" {
                StationWork::Reserve(ReserveNow {
                    booking_id: r.booking_id,
                    reservation_id: r.reservation_id,
                    station_id: r.station_id,
                    evse_id: r.evse_id,
                    connector_type: r.connector_type,
                    driver_id: r.driver_id,
                    expiry: (r.starts_at + Duration::minutes(i64::from(r.arrival_grace_minutes)))
                        .min(r.ends_at),
                    starts_at: r.starts_at,
                    ends_at: r.ends_at,
                })
            } else {
                StationWork::Cancel(CancelReservation {
                    booking_id: r.booking_id,
                    reservation_id: r.reservation_id,
                    station_id: r.station_id,
                })
            }
        })
        .collect())
}

fn still_held(status: &str) -> bool {
    matches!(status, "confirmed" | "checked_in")
}

/// The station's answer to ReserveNow: `accepted`, or the status it gave instead
/// (`Faulted`, `Occupied`, `Rejected`, `Unavailable`). Stale answers are ignored.
pub async fn reserve_result(
    pool: &PgPool,
    station_id: &str,
    reservation_id: i32,
    status: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let mut tx = pool.begin().await?;
    let Some((id, booking_status, state)) =
        sql::lock_by_reservation(&mut tx, station_id, reservation_id).await?
    else {
        return Ok(None);
    };
    let accepted = status == "Accepted";
    let next = match state.as_str() {
        "sent" if accepted => "accepted",
        "sent" => "rejected",
        // cancelled or moved while the ReserveNow was on its way: if the station holds
        // nothing, there is nothing to cancel
        "cancel_due" | "cancel_sent" if !accepted && still_held(&booking_status) => "due",
        "cancel_due" | "cancel_sent" if !accepted => "cancelled",
        _ => return Ok(Some(id)),
    };
    sql::set_state(&mut tx, id, next, now).await?;
    let data = json!({"reservation_id": reservation_id, "status": status});
    store::event(
        &mut tx,
        id,
        now,
        "reserve_result",
        Actor::Station,
        None,
        data,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// The station's answer to CancelReservation. `Rejected` means it knows no such
/// reservation: gone either way. A booking that still holds its port (it was moved or
/// rescheduled) becomes due to be reserved again.
pub async fn cancel_result(
    pool: &PgPool,
    station_id: &str,
    reservation_id: i32,
    status: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let mut tx = pool.begin().await?;
    let Some((id, booking_status, state)) =
        sql::lock_by_reservation(&mut tx, station_id, reservation_id).await?
    else {
        return Ok(None);
    };
    if !matches!(state.as_str(), "cancel_due" | "cancel_sent") {
        return Ok(Some(id));
    }
    let next = if still_held(&booking_status) {
        "due"
    } else {
        "cancelled"
    };
    sql::set_state(&mut tx, id, next, now).await?;
    let data = json!({"reservation_id": reservation_id, "status": status});
    store::event(
        &mut tx,
        id,
        now,
        "cancel_result",
        Actor::Station,
        None,
        data,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// `ReservationStatusUpdate` (`Expired` or `Removed`): the station no longer holds it. It is
/// not re-sent: the booking itself goes on (a driver can still start on a free EVSE).
pub async fn status_update(
    pool: &PgPool,
    station_id: &str,
    reservation_id: i32,
    status: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let mut tx = pool.begin().await?;
    let Some((id, _, state)) =
        sql::lock_by_reservation(&mut tx, station_id, reservation_id).await?
    else {
        return Ok(None);
    };
    let next = match state.as_str() {
        "sent" | "accepted" => "expired",
        "cancel_due" | "cancel_sent" => "cancelled",
        _ => return Ok(Some(id)),
    };
    sql::set_state(&mut tx, id, next, now).await?;
    let data = json!({"reservation_id": reservation_id, "status": status});
    store::event(
        &mut tx,
        id,
        now,
        "reservation_status",
        Actor::Station,
        None,
        data,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// A transaction started on `(station, evse)`: the booking it belongs to (by the event's
/// `reservationId`, else the booking of that EVSE whose arrival window is open) starts
/// charging. `None`: a walk-in with no booking.
pub async fn session_started(
    pool: &PgPool,
    station_id: &str,
    evse_id: i32,
    reservation_id: Option<i32>,
    transaction_id: &str,
    at: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let grace = BookingRules::default().arrival_grace_minutes;
    let mut tx = pool.begin().await?;
    let found =
        sql::lock_for_session(&mut tx, station_id, evse_id, reservation_id, at, grace).await?;
    let Some((id, status)) = found else {
        return Ok(None);
    };
    let status: BookingStatus = status.parse().map_err(|e: String| Error::Internal(e))?;
    if transition(status, BookingAction::StartCharging).is_err() {
        return Ok(None);
    }
    sql::start_charging(&mut tx, id, transaction_id, at).await?;
    let data =
        json!({"station_id": station_id, "evse_id": evse_id, "transaction_id": transaction_id});
    store::event(&mut tx, id, at, "charging", Actor::Station, None, data).await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// The transaction of a charging booking ended: the booking is completed.
pub async fn session_ended(
    pool: &PgPool,
    station_id: &str,
    transaction_id: &str,
    at: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let mut tx = pool.begin().await?;
    let Some(id) = sql::lock_by_transaction(&mut tx, station_id, transaction_id).await? else {
        return Ok(None);
    };
    sql::complete(&mut tx, id, at).await?;
    let data = json!({"transaction_id": transaction_id});
    store::event(&mut tx, id, at, "completed", Actor::Station, None, data).await?;
    tx.commit().await?;
    Ok(Some(id))
}

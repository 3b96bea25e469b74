//! Booking types and the lifecycle state machine. Pure; tested in `model_tests.rs`.
//!
//! ```text
//! pending ──confirm──▶ confirmed ──check-in──▶ checked_in ──start──▶ charging ──▶ completed
//!    │                    │  │                     │                               ▲
//!    │ expire             │  └──start (station)────┼───────────────────────────────┘
//!    ▼                    ▼                        └──end (no charge)──▶ completed
//! expired     cancelled / preempted / no_show
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

text_enum!(
    /// Where a booking is in its life; see [`transition`].
    #[schema(description = "pending → confirmed → checked_in → charging → completed, or \
        cancelled, expired (not confirmed within its hold), preempted (by an emergency booking) \
        or no_show (not checked in within the arrival window).")]
    BookingStatus {
        Pending = "pending",
        Confirmed = "confirmed",
        CheckedIn = "checked_in",
        Charging = "charging",
        Completed = "completed",
        Cancelled = "cancelled",
        Expired = "expired",
        Preempted = "preempted",
        NoShow = "no_show",
    }
);

impl BookingStatus {
    /// The statuses that hold the port: exactly the `WHERE` of the `bookings_no_overlap`
    /// constraint (a test checks the migration says the same).
    pub const ACTIVE: [BookingStatus; 4] = [
        Self::Pending,
        Self::Confirmed,
        Self::CheckedIn,
        Self::Charging,
    ];

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }

    /// No way out: the booking is history.
    pub fn is_final(self) -> bool {
        !self.is_active()
    }
}

text_enum!(
    /// Who cancelled: a driver's own cancellation follows the refund policy; a host's or the
    /// system's (preemption, an admin) always refunds in full.
    CancelledBy {
        Driver = "driver",
        Host = "host",
        System = "system",
    }
);

text_enum!(
    /// Who did something to a booking, as the audit trail records it.
    Actor {
        Driver = "driver",
        Host = "host",
        Admin = "admin",
        System = "system",
        Station = "station",
    }
);

/// What can happen to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingAction {
    Confirm,
    CheckIn,
    /// The driver started charging (a station's transaction matched, or by hand).
    StartCharging,
    /// The session (or the booked time of a checked-in driver) ended.
    Complete,
    Cancel,
    /// A pending booking nobody confirmed in time.
    Expire,
    /// A confirmed driver who did not arrive within the arrival window.
    NoShow,
    /// Taken by an emergency booking with no other port to move to.
    Preempt,
    /// New start/end (and maybe port): keeps the status.
    Reschedule,
    /// A later end: keeps the status.
    Extend,
    /// Moved to another port of the same listing by an emergency: keeps the status.
    Move,
}

impl BookingAction {
    pub const ALL: [BookingAction; 11] = [
        Self::Confirm,
        Self::CheckIn,
        Self::StartCharging,
        Self::Complete,
        Self::Cancel,
        Self::Expire,
        Self::NoShow,
        Self::Preempt,
        Self::Reschedule,
        Self::Extend,
        Self::Move,
    ];

    /// The past participle, for messages: "cannot be confirmed".
    pub fn done(self) -> &'static str {
        match self {
            Self::Confirm => "confirmed",
            Self::CheckIn => "checked in",
            Self::StartCharging => "started",
            Self::Complete => "completed",
            Self::Cancel => "cancelled",
            Self::Expire => "expired",
            Self::NoShow => "marked as no-show",
            Self::Preempt => "preempted",
            Self::Reschedule => "rescheduled",
            Self::Extend => "extended",
            Self::Move => "moved",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} booking cannot be {}", action.done())]
pub struct InvalidTransition {
    pub from: BookingStatus,
    pub action: BookingAction,
}

/// The lifecycle. Only the moves drawn in the module diagram exist; everything else is an
/// [`InvalidTransition`] (a 409 for the caller).
///
/// Decisions: a checked-in or charging booking cannot be cancelled (the driver is at the
/// port; ending it is `Complete`) nor rescheduled, but it can be extended; a pending booking
/// can be rescheduled and extended (it is still the driver's slot until it expires).
pub fn transition(
    from: BookingStatus,
    action: BookingAction,
) -> Result<BookingStatus, InvalidTransition> {
    use BookingAction as A;
    use BookingStatus as S;
    let to = match (from, action) {
        (S::Pending, A::Confirm) => S::Confirmed,
        (S::Confirmed, A::CheckIn) => S::CheckedIn,
        (S::Confirmed | S::CheckedIn, A::StartCharging) => S::Charging,
        (S::CheckedIn | S::Charging, A::Complete) => S::Completed,
        (S::Pending | S::Confirmed, A::Cancel) => S::Cancelled,
        (S::Pending, A::Expire) => S::Expired,
        (S::Confirmed, A::NoShow) => S::NoShow,
        (S::Pending | S::Confirmed, A::Preempt) => S::Preempted,
        (S::Pending | S::Confirmed, A::Reschedule | A::Move) => from,
        (S::Pending | S::Confirmed | S::CheckedIn | S::Charging, A::Extend) => from,
        _ => return Err(InvalidTransition { from, action }),
    };
    Ok(to)
}

text_enum!(
    /// Where the station's reservation for a booking stands (OCPP ReserveNow /
    /// CancelReservation), so the CSMS dispatcher can pick its work from the table.
    ///
    /// `due`: send ReserveNow when the start is near; `sent`: sent, no answer yet;
    /// `accepted`/`rejected`: the station's answer; `cancel_due`: send CancelReservation;
    /// `cancel_sent`: sent, no answer yet; `cancelled`: gone from the station; `expired`:
    /// the station dropped it (ReservationStatusUpdate); `used`: the driver started on it.
    #[schema(description = "The OCPP reservation on the charging station, for ports bound to \
        one: `none` (no station reservation), `due` (ReserveNow to be sent before the start), \
        `sent`, `accepted`, `rejected`, `cancel_due`, `cancel_sent`, `cancelled`, `expired` \
        (the station dropped it), `used` (charging started on it).")]
    ReservationState {
        None = "none",
        Due = "due",
        Sent = "sent",
        Accepted = "accepted",
        Rejected = "rejected",
        CancelDue = "cancel_due",
        CancelSent = "cancel_sent",
        Cancelled = "cancelled",
        Expired = "expired",
        Used = "used",
    }
);

impl ReservationState {
    /// Whether the station may be holding (or about to hold) the EVSE for this booking.
    pub fn on_station(self) -> bool {
        matches!(self, Self::Sent | Self::Accepted)
    }
}

/// What the station's reservation should become after a booking changed.
///
/// - `still_held`: the booking still holds a port (confirmed, after a move or reschedule,
///   or just confirmed); `false` when it ended (cancelled, expired, preempted, no-show).
/// - Only bookings on a port bound to an OCPP EVSE (`ocpp`) have reservations at all.
///
/// A reservation already on the station is always cancelled first, even when the booking
/// only moved: the dispatcher re-reserves it afterwards (see `reservations::cancel_result`),
/// because a ReserveNow blocks the EVSE from the moment it arrives, so a booking moved later
/// must not keep the old hold.
pub fn reservation_after_change(
    current: ReservationState,
    still_held: bool,
    ocpp: bool,
) -> ReservationState {
    use ReservationState as R;
    match current {
        R::Used => R::Used,
        R::Sent | R::Accepted => R::CancelDue,
        R::CancelDue | R::CancelSent => current,
        _ if !ocpp => R::None,
        _ if still_held => R::Due,
        R::Due => R::None,
        other => other,
    }
}

/// A stored booking.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub port_id: Uuid,
    pub driver_id: Uuid,
    pub host_id: Uuid,
    pub status: BookingStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub emergency: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub charging_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<CancelledBy>,
    pub cancel_reason: Option<String>,
    pub preempted_by: Option<Uuid>,
    pub moved_from_port: Option<Uuid>,
    pub amount_cents: i64,
    pub currency: String,
    pub reservation_id: i32,
    pub reservation_state: ReservationState,
    /// The port is an EVSE of an OCPP station: the booking gets a station reservation.
    pub station_bound: bool,
    pub refund: Option<Refund>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Booking {
    /// What the driver paid (or will pay) for this booking, the base of any refund.
    ///
    /// The seam for payments (issue 7): confirming is where the payment hold is taken, so a
    /// booking that was never confirmed has charged nothing.
    pub fn charged_cents(&self) -> i64 {
        if self.confirmed_at.is_some() {
            self.amount_cents
        } else {
            0
        }
    }
}

/// A refund decision, as recorded for the ledger to post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    pub amount_cents: i64,
    pub currency: String,
    pub percent: u8,
    pub reason: String,
    pub cancelled_by: CancelledBy,
    pub decided_at: DateTime<Utc>,
}

/// A booking request after parsing, before the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewBooking {
    pub charger_id: Uuid,
    pub port_id: Uuid,
    /// `None` only for an emergency booking, which starts now.
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: DateTime<Utc>,
    pub emergency: bool,
}

/// A slot someone else holds, for a 409 that names it.
pub use crate::error::SlotConflict;

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;

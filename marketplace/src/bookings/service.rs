//! Booking use cases, one transaction each. Every change locks the booking row first
//! ([`store::by_id`] with `lock`), checks who is asking and the state machine there, and
//! leaves an audit event. `now` comes from the caller (the HTTP layer's clock).
//!
//! Double booking is left to the database: inserts and slot changes run into the
//! `bookings_no_overlap` constraint and become a 409 naming the slot that is taken.

mod change;
mod charger;
mod create;
mod emergency;

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::model::{
    reservation_after_change, transition, Actor, Booking, BookingAction, BookingStatus, CancelledBy,
};
use super::refund::refund;
use super::store::{self, sweeps, ListFilter, Scope};
use crate::accounts::{AuthUser, Role};
use crate::error::Error;
use crate::ledger::service::{self as ledger, HoldPolicy};
use crate::listings::ListingCalendar;
use crate::plumbing::{Notifier, Outbox};

pub use change::{check_in, extend, reschedule};
pub use charger::{held_intervals, rules, set_rules, slots};
pub use create::{create, Created, IDEMPOTENCY_SCOPE};

pub const CANCEL_REASON_MAX_CHARS: usize = 500;

const NOT_FOUND: Error = Error::NotFound("booking");

/// The database keeps microseconds: rules are checked on the instants that get stored.
pub(super) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

pub(super) use crate::plumbing::tx::finish;

/// A booking, locked until the transaction ends when `lock`, for other modules in their
/// transaction (payments: what is paid for is locked before the driver's balances).
pub async fn by_id(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<Booking>, Error> {
    store::by_id(conn, id, lock).await
}

/// What the ledger holds for a booking: its price, as plain data (the ledger does not know
/// bookings; bookings and payments call it with this).
impl<'a> From<&'a Booking> for ledger::BookedAmount<'a> {
    fn from(b: &'a Booking) -> Self {
        Self {
            booking_id: b.id,
            driver_id: b.driver_id,
            currency: &b.currency,
            amount: b.amount_cents,
        }
    }
}

/// How the caller stands to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Relation {
    Driver,
    Host,
    Admin,
}

impl Relation {
    pub(super) fn of(caller: &AuthUser, b: &Booking) -> Option<Self> {
        if caller.id == b.driver_id {
            Some(Self::Driver)
        } else if caller.id == b.host_id {
            Some(Self::Host)
        } else if caller.role == Role::Admin {
            Some(Self::Admin)
        } else {
            None
        }
    }

    pub(super) fn actor(self) -> Actor {
        match self {
            Self::Driver => Actor::Driver,
            Self::Host => Actor::Host,
            Self::Admin => Actor::Admin,
        }
    }
}

/// The booking, locked, if the caller may see it (its driver, the listing's host, an
/// admin); 404 otherwise, so ids of other people's bookings reveal nothing.
pub(super) async fn lock_visible(
    tx: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
) -> Result<(Booking, Relation), Error> {
    let booking = store::by_id(tx, id, true).await?.ok_or(NOT_FOUND)?;
    let relation = Relation::of(caller, &booking).ok_or(NOT_FOUND)?;
    Ok((booking, relation))
}

/// Only the driver (or an admin for them) changes the booking's time or confirms it.
pub(super) fn drivers_only(relation: Relation) -> Result<(), Error> {
    match relation {
        Relation::Driver | Relation::Admin => Ok(()),
        Relation::Host => Err(Error::Forbidden),
    }
}

pub(super) fn check(from: BookingStatus, action: BookingAction) -> Result<BookingStatus, Error> {
    transition(from, action).map_err(|err| Error::Conflict {
        code: "invalid_booking_transition",
        detail: err.to_string(),
    })
}

/// The listing of a new booking: 404 unless it exists and is listed.
pub(super) async fn bookable_charger(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<store::ChargerContext, Error> {
    store::charger(conn, id)
        .await?
        .filter(|c| c.status == "listed")
        .ok_or(Error::NotFound("charger"))
}

pub(super) async fn calendar(conn: &mut PgConnection, id: Uuid) -> Result<ListingCalendar, Error> {
    crate::listings::service::calendar_of(conn, id)
        .await?
        .ok_or(Error::NotFound("charger"))
}

pub(super) async fn reload(conn: &mut PgConnection, id: Uuid) -> Result<Booking, Error> {
    store::by_id(conn, id, false)
        .await?
        .ok_or_else(|| Error::Internal(format!("booking {id} vanished in its transaction")))
}

pub async fn get(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<Booking, Error> {
    let mut conn = pool.acquire().await?;
    let booking = store::by_id(&mut conn, id, false).await?.ok_or(NOT_FOUND)?;
    Relation::of(caller, &booking).ok_or(NOT_FOUND)?;
    Ok(booking)
}

/// The caller's own bookings as a driver.
pub async fn list_mine(
    pool: &PgPool,
    caller: &AuthUser,
    mut filter: ListFilter,
) -> Result<(Vec<Booking>, i64), Error> {
    filter.scope = Scope::Driver(caller.id);
    store::list(&mut *pool.acquire().await?, &filter).await
}

/// The bookings on the caller's listings (a host); an admin sees every booking.
pub async fn list_hosted(
    pool: &PgPool,
    caller: &AuthUser,
    mut filter: ListFilter,
) -> Result<(Vec<Booking>, i64), Error> {
    caller.require(&[Role::Host])?;
    filter.scope = if caller.role == Role::Admin {
        Scope::All
    } else {
        Scope::Host(caller.id)
    };
    store::list(&mut *pool.acquire().await?, &filter).await
}

/// Pending → confirmed, only with money secured in this transaction: the booking's amount
/// held on the driver's wallet, or a card authorization of the booking
/// (`ledger::HoldPolicy::Secured`); otherwise 409 `payment_required`, and a driver in debt
/// gets 409 `outstanding_debt`.
pub async fn confirm(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let now = micros(now);
    let mut tx = pool.begin().await?;
    match confirm_in(&mut tx, caller, id, now).await {
        // the expiry found on the way is kept: the hold is over, whatever the sweep did
        Err(err @ Error::Conflict { code: EXPIRED, .. }) => {
            tx.commit().await?;
            Err(err)
        }
        result => finish(tx, result).await,
    }
}

const EXPIRED: &str = "booking_expired";

async fn confirm_in(
    tx: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let (b, relation) = lock_visible(tx, caller, id).await?;
    drivers_only(relation)?;
    check(b.status, BookingAction::Confirm)?;
    if b.expires_at.is_some_and(|at| at <= now) {
        // The sweep may not have run yet; the hold is over all the same, and saying so
        // now frees the slot for others at once.
        sweeps::expire_pending(tx, now, Some((b.port_id, b.starts_at, b.ends_at)), 100).await?;
        return Err(Error::Conflict {
            code: EXPIRED,
            detail: "the booking was not confirmed within 10 minutes and has expired".into(),
        });
    }
    // a driver who owes money pays it off before booking anything more
    ledger::ensure_no_debt(tx, b.driver_id).await?;
    let reservation = reservation_after_change(b.reservation_state, true, b.station_bound);
    store::confirm(tx, id, now, reservation).await?;
    // the payment hold, in this transaction: the wallet's, or a card authorization of the
    // booking; without either the transaction is rolled back and the booking stays pending
    let hold = ledger::hold_for_booking(tx, (&b).into(), Some(caller.id), HoldPolicy::Secured, now)
        .await?;
    let data = json!({"amount_cents": b.amount_cents, "currency": b.currency, "hold_id": hold});
    store::event(
        tx,
        id,
        now,
        "confirmed",
        relation.actor(),
        Some(caller.id),
        data,
    )
    .await?;
    reload(tx, id).await
}

/// Cancels a pending or confirmed booking and records the refund decision: the listing's
/// policy for the driver's own cancellation, everything back when the host (or an admin)
/// cancels. A station reservation already made is marked for CancelReservation.
pub async fn cancel(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let now = micros(now);
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > CANCEL_REASON_MAX_CHARS)
    {
        return Err(Error::invalid(
            "reason",
            format!("must be at most {CANCEL_REASON_MAX_CHARS} characters"),
        ));
    }
    let mut tx = pool.begin().await?;
    let result = cancel_in(&mut tx, caller, id, reason, now).await;
    finish(tx, result).await
}

async fn cancel_in(
    tx: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let (b, relation) = lock_visible(tx, caller, id).await?;
    check(b.status, BookingAction::Cancel)?;
    let by = match relation {
        Relation::Driver => CancelledBy::Driver,
        Relation::Host => CancelledBy::Host,
        Relation::Admin => CancelledBy::System,
    };
    let ctx = store::charger(tx, b.listing_id)
        .await?
        .ok_or(Error::NotFound("charger"))?;
    let decision = refund(
        &ctx.rules.refund_tiers,
        by,
        b.charged_cents(),
        b.starts_at,
        now,
    );
    let notice_min = (b.starts_at - now).num_minutes();
    let why = match (by, b.confirmed_at) {
        (_, None) => "not confirmed: nothing was charged".to_owned(),
        (CancelledBy::Driver, _) => format!(
            "cancelled by the driver {notice_min} minutes before the start: {}% per the \
             listing's refund policy",
            decision.percent
        ),
        (CancelledBy::Host, _) => "cancelled by the host: full refund".to_owned(),
        (CancelledBy::System, _) => "cancelled by the platform: full refund".to_owned(),
    };
    let ending = store::Ending {
        status: BookingStatus::Cancelled,
        by,
        reason: reason.as_deref(),
        preempted_by: None,
        reservation: reservation_after_change(b.reservation_state, false, b.station_bound),
        now,
    };
    store::end(tx, id, &ending).await?;
    store::insert_refund(tx, &b, decision, &why, by, now).await?;
    // the hold goes back by the decision, in this transaction (nothing held: nothing moves)
    ledger::post_booking_refund(tx, id, Some(caller.id), now).await?;
    let data = json!({
        "cancelled_by": by, "reason": reason, "notice_minutes": notice_min,
        "refund_cents": decision.amount_cents, "refund_percent": decision.percent,
    });
    store::event(
        tx,
        id,
        now,
        "cancelled",
        relation.actor(),
        Some(caller.id),
        data,
    )
    .await?;
    if by != CancelledBy::Driver {
        let body =
            format!(
            "Your booking at {} from {} to {} was cancelled by the {}{}. You get a full refund \
             of {} {}.",
            ctx.title,
            b.starts_at.to_rfc3339(),
            b.ends_at.to_rfc3339(),
            if by == CancelledBy::Host { "host" } else { "platform" },
            reason.map(|r| format!(" ({r})")).unwrap_or_default(),
            money(decision.amount_cents),
            b.currency,
        );
        Outbox
            .tell_user(tx, b.driver_id, "Your booking was cancelled", &body)
            .await?;
    }
    reload(tx, id).await
}

/// Minor units as a decimal amount for messages (two minor digits, see `estimate_cents`).
pub(super) fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

//! Changing a booking's time: reschedule (a new slot, maybe another port), extend (a later
//! end) and check-in (the arrival window).
//!
//! A slot change is ONE UPDATE of the booking row: the old slot stays held until the new one
//! is, so there is no moment in which someone else could take either, and the EXCLUDE
//! constraint checks the new slot against every other booking. A savepoint around it keeps
//! the transaction usable to look up the slot that is in the way.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use super::{calendar, check, drivers_only, finish, lock_visible, micros, reload};
use crate::accounts::AuthUser;
use crate::bookings::model::{reservation_after_change, Booking, BookingAction, BookingStatus};
use crate::bookings::price::estimate_cents;
use crate::bookings::store::{self, sweeps};
use crate::error::Error;

/// A new slot (and, with `port_id`, another port of the same charger) for a pending or
/// confirmed booking that has not started, under the same rules as a new booking.
pub async fn reschedule(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    port_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let (now, start, end) = (micros(now), micros(start), micros(end));
    let mut tx = pool.begin().await?;
    let result = reschedule_in(&mut tx, caller, id, (start, end, port_id), now).await;
    finish(tx, result).await
}

async fn reschedule_in(
    tx: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
    (start, end, port_id): (DateTime<Utc>, DateTime<Utc>, Option<Uuid>),
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let (b, relation) = lock_visible(tx, caller, id).await?;
    drivers_only(relation)?;
    check(b.status, BookingAction::Reschedule)?;
    if b.emergency {
        return Err(Error::Conflict {
            code: "emergency_booking",
            detail: "an emergency booking starts when it is made; book anew instead".into(),
        });
    }
    if b.starts_at <= now {
        return Err(Error::Conflict {
            code: "booking_started",
            detail: "the booking has started; extend it instead".into(),
        });
    }
    let ctx = store::charger(tx, b.listing_id)
        .await?
        .ok_or(Error::NotFound("charger"))?;
    let port_id = port_id.unwrap_or(b.port_id);
    let port = ctx
        .port(port_id)
        .ok_or_else(|| Error::invalid("port_id", "is not a port of this charger"))?;
    let calendar = calendar(tx, b.listing_id).await?;
    let rules =
        if crate::subscriptions::entitlements::priority_booking(tx, b.driver_id, now).await? {
            ctx.rules.with_priority()
        } else {
            ctx.rules.clone()
        };
    rules
        .check_slot(&calendar, start, end, now, false)
        .map_err(Error::Validation)?;
    // Only a confirmed booking has (or is due) a station reservation; it follows the move.
    let reservation = if b.status == BookingStatus::Confirmed {
        reservation_after_change(b.reservation_state, true, ctx.station_bound(port))
    } else {
        b.reservation_state
    };
    let slot = store::Slot {
        port_id,
        starts_at: start,
        ends_at: end,
        amount_cents: estimate_cents(ctx.price_per_hour, end - start),
        reservation,
        moved: None,
    };
    move_to(tx, &b, &slot, now).await?;
    let data = json!({
        "from": {"port_id": b.port_id, "starts_at": b.starts_at, "ends_at": b.ends_at},
        "to": {"port_id": port_id, "starts_at": start, "ends_at": end},
        "amount_cents": slot.amount_cents,
    });
    store::event(
        tx,
        id,
        now,
        "rescheduled",
        relation.actor(),
        Some(caller.id),
        data,
    )
    .await?;
    reload(tx, id).await
}

/// A later end for a live booking (also while charging), if the port is free and the
/// charger open until then.
pub async fn extend(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let (now, end) = (micros(now), micros(end));
    let mut tx = pool.begin().await?;
    let result = extend_in(&mut tx, caller, id, end, now).await;
    finish(tx, result).await
}

async fn extend_in(
    tx: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let (b, relation) = lock_visible(tx, caller, id).await?;
    drivers_only(relation)?;
    check(b.status, BookingAction::Extend)?;
    let ctx = store::charger(tx, b.listing_id)
        .await?
        .ok_or(Error::NotFound("charger"))?;
    let calendar = calendar(tx, b.listing_id).await?;
    ctx.rules
        .check_extension(&calendar, b.starts_at, b.ends_at, end, now, b.emergency)
        .map_err(Error::Validation)?;
    let slot = store::Slot {
        port_id: b.port_id,
        starts_at: b.starts_at,
        ends_at: end,
        amount_cents: estimate_cents(ctx.price_per_hour, end - b.starts_at),
        // the station's reservation only guards the arrival; a later end changes nothing
        reservation: b.reservation_state,
        moved: None,
    };
    move_to(tx, &b, &slot, now).await?;
    let data =
        json!({"from_ends_at": b.ends_at, "ends_at": end, "amount_cents": slot.amount_cents});
    store::event(
        tx,
        id,
        now,
        "extended",
        relation.actor(),
        Some(caller.id),
        data,
    )
    .await?;
    reload(tx, id).await
}

/// Applies a slot change; a clash is a 409 naming the booking in the way. Pending bookings
/// past their hold are expired first: they no longer hold anything.
async fn move_to(
    tx: &mut PgConnection,
    b: &Booking,
    slot: &store::Slot,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let range = (slot.port_id, slot.starts_at, slot.ends_at);
    sweeps::expire_pending(tx, now, Some(range), 100).await?;
    let mut savepoint = tx.begin().await?;
    match store::set_slot(&mut savepoint, b.id, slot, now).await {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(())
        }
        Err(err) if store::is_overlap(&err) => {
            savepoint.rollback().await?;
            let taken =
                store::conflicting_slot(tx, slot.port_id, slot.starts_at, slot.ends_at, Some(b.id))
                    .await?;
            Err(taken.map_or_else(
                || Error::Conflict {
                    code: "slot_taken",
                    detail: "the slot was taken meanwhile; try again".into(),
                },
                Error::SlotTaken,
            ))
        }
        Err(err) => Err(err),
    }
}

/// The driver is at the charger: allowed within the arrival window (from the grace period
/// before the start until the grace period after it).
pub async fn check_in(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let now = micros(now);
    let mut tx = pool.begin().await?;
    let result = check_in_in(&mut tx, caller, id, now).await;
    finish(tx, result).await
}

async fn check_in_in(
    tx: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    let (b, relation) = lock_visible(tx, caller, id).await?;
    drivers_only(relation)?;
    check(b.status, BookingAction::CheckIn)?;
    let ctx = store::charger(tx, b.listing_id)
        .await?
        .ok_or(Error::NotFound("charger"))?;
    let (opens, closes) = ctx.rules.arrival_window(b.starts_at, b.ends_at);
    if now < opens || now >= closes {
        let when = if now < opens { "opens" } else { "closed" };
        let at = if now < opens { opens } else { closes };
        return Err(Error::Conflict {
            code: "outside_arrival_window",
            detail: format!("check-in {when} at {}", at.to_rfc3339()),
        });
    }
    store::check_in(tx, id, now).await?;
    let actor = relation.actor();
    store::event(tx, id, now, "checked_in", actor, Some(caller.id), json!({})).await?;
    reload(tx, id).await
}

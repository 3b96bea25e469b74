//! Emergency instant booking: starts now, confirmed at once, and takes the port from
//! non-emergency bookings in the way.
//!
//! Each booking in the way (pending or confirmed, not an emergency) is moved to another free
//! port of the same listing with the same connector if there is one; otherwise it is
//! preempted with a full refund. Its driver is told why through the outbox, in the same
//! transaction. An emergency booking, or a driver already checked in or charging, is never
//! displaced: the emergency answers 409 naming that slot.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use super::{bookable_charger, calendar, check, money};
use crate::accounts::AuthUser;
use crate::bookings::model::{
    reservation_after_change, Actor, Booking, BookingAction, BookingStatus, CancelledBy,
    NewBooking, ReservationState, SlotConflict,
};
use crate::bookings::price::estimate_cents;
use crate::bookings::refund::refund;
use crate::bookings::rules::EMERGENCY_START_TOLERANCE;
use crate::bookings::store::{self, sweeps, ChargerContext, NewRow};
use crate::error::Error;
use crate::ledger::service::{self as ledger, HoldPolicy};
use crate::plumbing::{Notifier, Outbox};

/// Port statuses that cannot take a car now, whatever the bookings say.
const UNUSABLE: [&str; 3] = ["Occupied", "Faulted", "Unavailable"];

pub(super) async fn create(
    tx: &mut PgConnection,
    caller: &AuthUser,
    input: &NewBooking,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    // a driver who owes money pays it off before booking anything more
    crate::ledger::service::ensure_no_debt(tx, caller.id).await?;
    let ctx = bookable_charger(tx, input.charger_id).await?;
    let port = ctx
        .port(input.port_id)
        .ok_or_else(|| Error::invalid("port_id", "is not a port of this charger"))?
        .clone();
    if let Some(start) = input.start_time {
        if (start - now).abs() > EMERGENCY_START_TOLERANCE {
            return Err(Error::invalid(
                "start_time",
                "an emergency booking starts now; leave start_time out",
            ));
        }
    }
    let (start, end) = (now, input.end_time);
    let calendar = calendar(tx, ctx.listing_id).await?;
    ctx.rules
        .check_slot(&calendar, start, end, now, true)
        .map_err(Error::Validation)?;
    if UNUSABLE.contains(&port.live_status.as_str()) {
        return Err(Error::Conflict {
            code: "port_unavailable",
            detail: format!("the port reports `{}` right now", port.live_status),
        });
    }
    sweeps::expire_pending(tx, now, Some((port.id, start, end)), 100).await?;
    let in_the_way = store::overlapping_for_update(tx, port.id, start, end).await?;
    if let Some(b) = in_the_way.iter().find(|b| {
        b.emergency || !matches!(b.status, BookingStatus::Pending | BookingStatus::Confirmed)
    }) {
        return Err(Error::SlotTaken(SlotConflict {
            port_id: b.port_id,
            start_time: b.starts_at,
            end_time: b.ends_at,
        }));
    }
    let id = Uuid::now_v7();
    for b in &in_the_way {
        relocate(tx, &ctx, b, id, now).await?;
    }
    let reservation = if ctx.station_bound(&port) {
        ReservationState::Due
    } else {
        ReservationState::None
    };
    let booking = store::insert(
        tx,
        &NewRow {
            id,
            listing_id: ctx.listing_id,
            port_id: port.id,
            driver_id: caller.id,
            status: BookingStatus::Confirmed,
            starts_at: start,
            ends_at: end,
            emergency: true,
            expires_at: None,
            // instant: no pending hold; the payment hold seam is the same as `confirm`'s
            confirmed_at: Some(now),
            amount_cents: estimate_cents(ctx.price_per_hour, end - start),
            currency: ctx.currency.clone(),
            reservation_state: reservation,
            actor: Actor::Driver,
            now,
        },
    )
    .await?;
    // confirmed at once: the payment hold is taken here, as `confirm` does
    // (nothing is left of the booking and its moves when it cannot be secured: the caller
    // rolls the transaction back)
    ledger::hold_for_booking(
        tx,
        (&booking).into(),
        Some(caller.id),
        HoldPolicy::Secured,
        now,
    )
    .await?;
    Ok(booking)
}

/// Moves `b` off its port for the emergency `by`, or preempts it when no port can take it.
async fn relocate(
    tx: &mut PgConnection,
    ctx: &ChargerContext,
    b: &Booking,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let connector = ctx
        .port(b.port_id)
        .map(|p| p.connector_type.clone())
        .unwrap_or_default();
    let candidates = store::free_ports(
        tx,
        ctx.listing_id,
        &connector,
        b.starts_at,
        b.ends_at,
        b.port_id,
    )
    .await?;
    for to in candidates {
        let Some(port) = ctx.port(to) else { continue };
        let reservation = if b.status == BookingStatus::Confirmed {
            reservation_after_change(b.reservation_state, true, ctx.station_bound(port))
        } else {
            b.reservation_state
        };
        let slot = store::Slot {
            port_id: to,
            starts_at: b.starts_at,
            ends_at: b.ends_at,
            amount_cents: b.amount_cents,
            reservation,
            moved: Some((b.port_id, by)),
        };
        // A booking made on that port since the candidates were read: try the next one.
        let mut savepoint = tx.begin().await?;
        match store::set_slot(&mut savepoint, b.id, &slot, now).await {
            Ok(()) => savepoint.commit().await?,
            Err(err) if store::is_overlap(&err) => {
                savepoint.rollback().await?;
                continue;
            }
            Err(err) => return Err(err),
        }
        let data = json!({"from_port_id": b.port_id, "to_port_id": to, "emergency_booking_id": by});
        store::event(tx, b.id, now, "moved", Actor::System, None, data).await?;
        let label = if port.label.is_empty() {
            String::new()
        } else {
            format!(" ({})", port.label)
        };
        let body = format!(
            "An emergency booking needed the port of your booking at {} from {} to {}. Your \
             booking was moved to another {connector} port of the same charger{label}; \
             nothing else changes.",
            ctx.title,
            b.starts_at.to_rfc3339(),
            b.ends_at.to_rfc3339(),
        );
        return Outbox
            .tell_user(tx, b.driver_id, "Your booking moved to another port", &body)
            .await;
    }
    check(b.status, BookingAction::Preempt)?;
    let decision = refund(
        &ctx.rules.refund_tiers,
        CancelledBy::System,
        b.charged_cents(),
        b.starts_at,
        now,
    );
    let why = "preempted by an emergency booking; no other compatible port was free";
    let ending = store::Ending {
        status: BookingStatus::Preempted,
        by: CancelledBy::System,
        reason: Some(why),
        preempted_by: Some(by),
        reservation: reservation_after_change(b.reservation_state, false, b.station_bound),
        now,
    };
    store::end(tx, b.id, &ending).await?;
    store::insert_refund(tx, b, decision, why, CancelledBy::System, now).await?;
    ledger::post_booking_refund(tx, b.id, None, now).await?;
    let data = json!({"emergency_booking_id": by, "refund_cents": decision.amount_cents});
    store::event(tx, b.id, now, "preempted", Actor::System, None, data).await?;
    let refunded = if b.confirmed_at.is_some() {
        format!(
            "You get a full refund of {} {}.",
            money(decision.amount_cents),
            b.currency
        )
    } else {
        "Nothing was charged.".to_owned()
    };
    let body = format!(
        "An emergency booking needed the port of your booking at {} from {} to {}, and no \
         other {connector} port of that charger was free, so your booking was cancelled. \
         {refunded} We are sorry for the trouble.",
        ctx.title,
        b.starts_at.to_rfc3339(),
        b.ends_at.to_rfc3339(),
    );
    Outbox
        .tell_user(tx, b.driver_id, "Your booking was cancelled", &body)
        .await
}

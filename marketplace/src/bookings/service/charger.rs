//! A charger's side of booking: its free slots on a local day, the intervals its bookings
//! hold (for search's availability view), and its booking rules.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{bookable_charger, calendar, micros};
use crate::accounts::AuthUser;
use crate::bookings::rules::{validate_rules, RulesInput};
use crate::bookings::slots::{free_slots, local_day, Interval};
use crate::bookings::store;
use crate::bookings::view::{DaySlots, PortSlots, RulesView, SlotView};
use crate::error::Error;
use crate::listings::model::{access, Access, ListingStatus};

/// The live bookings of a listing's ports overlapping `[from, to)`, as (port, start, end),
/// by port then start: pending holds past their expiry at `now` no longer count.
pub async fn held_intervals(
    pool: &PgPool,
    listing_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)>, Error> {
    let mut conn = pool.acquire().await?;
    store::held_intervals(&mut conn, listing_id, from, to, now).await
}

/// Free and booked slots per port on a local calendar day of a listed charger. "Free" means
/// bookable by a new booking now: open, not held, from now plus the lead time on, and at
/// least the minimum duration long.
pub async fn slots(
    pool: &PgPool,
    charger_id: Uuid,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DaySlots, Error> {
    let now = micros(now);
    let mut conn = pool.acquire().await?;
    let ctx = bookable_charger(&mut conn, charger_id).await?;
    let calendar = calendar(&mut conn, charger_id).await?;
    let tz = calendar.time_zone;
    let day = local_day(tz, date).ok_or_else(|| Error::invalid("date", "is out of range"))?;
    let held = store::held_intervals(&mut conn, charger_id, day.0, day.1, now).await?;
    let local = |(a, b): Interval| SlotView {
        start_time: a.with_timezone(&tz).fixed_offset(),
        end_time: b.with_timezone(&tz).fixed_offset(),
    };
    let ports = ctx
        .ports
        .iter()
        .map(|p| {
            let booked: Vec<Interval> = held
                .iter()
                .filter(|(port, _, _)| *port == p.id)
                .map(|(_, a, b)| ((*a).max(day.0), (*b).min(day.1)))
                .collect();
            let free = free_slots(
                &calendar,
                day,
                &booked,
                now + ctx.rules.lead_time(),
                ctx.rules.min_duration(),
            );
            PortSlots {
                port_id: p.id,
                label: p.label.clone(),
                connector_type: p.connector_type.clone(),
                power_kw: p.power_kw,
                free: free.into_iter().map(local).collect(),
                booked: booked.into_iter().map(local).collect(),
            }
        })
        .collect();
    Ok(DaySlots {
        charger_id,
        date,
        time_zone: tz.name().to_owned(),
        day_start: day.0.with_timezone(&tz).fixed_offset(),
        day_end: day.1.with_timezone(&tz).fixed_offset(),
        hours_in_day: (day.1 - day.0).num_minutes() as f64 / 60.0,
        min_duration_minutes: ctx.rules.min_duration_minutes,
        ports,
    })
}

/// A listing's booking rules, visible to whoever may see the listing.
pub async fn rules(
    pool: &PgPool,
    caller: Option<&AuthUser>,
    charger_id: Uuid,
) -> Result<RulesView, Error> {
    let mut conn = pool.acquire().await?;
    let ctx = store::charger(&mut conn, charger_id)
        .await?
        .filter(|c| {
            let status = c.status.parse().unwrap_or(ListingStatus::Draft);
            access(caller, c.host_id, status) >= Access::Read
        })
        .ok_or(Error::NotFound("charger"))?;
    Ok(RulesView::new(charger_id, ctx.custom_rules, &ctx.rules))
}

/// Replaces a listing's rules (its host or an admin). Existing bookings keep the rules they
/// were made under, except the refund policy, which is read when a booking is cancelled.
pub async fn set_rules(
    pool: &PgPool,
    caller: &AuthUser,
    charger_id: Uuid,
    input: RulesInput,
) -> Result<RulesView, Error> {
    let rules = validate_rules(input).map_err(Error::Validation)?;
    let mut tx = pool.begin().await?;
    let listing = crate::listings::service::listing_by_id(&mut tx, charger_id, true)
        .await?
        .ok_or(Error::NotFound("charger"))?;
    match access(Some(caller), listing.host_id, listing.status) {
        Access::None => return Err(Error::NotFound("charger")),
        Access::Read => return Err(Error::Forbidden),
        Access::Write => {}
    }
    store::save_rules(&mut tx, charger_id, &rules).await?;
    tx.commit().await?;
    Ok(RulesView::new(charger_id, true, &rules))
}

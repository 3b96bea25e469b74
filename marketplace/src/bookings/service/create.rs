//! Creating a booking: a pending hold, or an emergency booking; `Idempotency-Key` retries.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{bookable_charger, calendar, emergency, finish, micros};
use crate::accounts::AuthUser;
use crate::bookings::model::{Actor, Booking, BookingStatus, NewBooking, ReservationState};
use crate::bookings::price::estimate_cents;
use crate::bookings::rules::BookingRules;
use crate::bookings::store::{self, sweeps, NewRow};
use crate::bookings::view::BookingView;
use crate::error::Error;
use crate::plumbing::idempotency::{self, Claim};

pub const IDEMPOTENCY_SCOPE: &str = "POST /api/bookings";

/// The answer of [`create`].
#[derive(Debug)]
pub enum Created {
    New(Box<Booking>),
    /// A retry with the same `Idempotency-Key` and body: the first answer, as it was.
    Replayed {
        status: u16,
        body: Value,
    },
}

/// Books a port: a pending booking holding the slot for [`BookingRules::pending_ttl`]
/// unless confirmed (longer with priority booking); an emergency booking starts now, is
/// confirmed at once and may preempt (see `emergency`).
///
/// With an `Idempotency-Key`, the first successful answer is stored in the same transaction
/// and replayed to retries with the same body; the same key with another body is a 422.
/// Failures are not stored: nothing happened, so a retry simply runs again.
pub async fn create(
    pool: &PgPool,
    caller: &AuthUser,
    mut input: NewBooking,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Created, Error> {
    let key = idempotency::checked(idempotency_key)?;
    let now = micros(now);
    input.start_time = input.start_time.map(micros);
    input.end_time = micros(input.end_time);
    let hash = idempotency::request_hash(&input)?;
    let start = if input.emergency {
        now
    } else {
        input.start_time.unwrap_or(now)
    };
    // Two attempts: the first conflict may be a pending booking whose hold just ran out.
    for attempt in 0..2 {
        let mut tx = pool.begin().await?;
        if let Some(key) = key {
            match idempotency::claim_key(&mut tx, caller.id, IDEMPOTENCY_SCOPE, key, &hash, now)
                .await?
            {
                Claim::New => {}
                Claim::Replay { status, body } => {
                    tx.rollback().await?;
                    return Ok(Created::Replayed { status, body });
                }
                Claim::Mismatch => {
                    tx.rollback().await?;
                    return Err(Error::invalid(
                        "Idempotency-Key",
                        "was already used with a different request",
                    ));
                }
            }
        }
        let outcome = if input.emergency {
            emergency::create(&mut tx, caller, &input, now).await
        } else {
            create_pending(&mut tx, caller, &input, now).await
        };
        match outcome {
            Ok(booking) => {
                if let Some(key) = key {
                    let body = serde_json::to_value(BookingView::from(booking.clone()))
                        .map_err(|e| Error::Internal(e.to_string()))?;
                    idempotency::save_response(
                        &mut tx,
                        caller.id,
                        IDEMPOTENCY_SCOPE,
                        key,
                        201,
                        &body,
                    )
                    .await?;
                }
                tx.commit().await?;
                return Ok(Created::New(Box::new(booking)));
            }
            Err(err) if store::is_overlap(&err) => {
                tx.rollback().await?;
                let range = (input.port_id, start, input.end_time);
                let mut conn = pool.acquire().await?;
                let freed = sweeps::expire_pending(&mut conn, now, Some(range), 100).await?;
                let taken =
                    store::conflicting_slot(&mut conn, input.port_id, start, input.end_time, None)
                        .await?;
                match taken {
                    Some(slot) if freed == 0 || attempt > 0 => return Err(Error::SlotTaken(slot)),
                    _ if attempt > 0 => break,
                    _ => continue,
                }
            }
            // two emergencies moving bookings onto each other's ports can still deadlock
            Err(err) if store::is_transient(&err) && attempt == 0 => {
                tx.rollback().await?;
                continue;
            }
            Err(err) => return finish(tx, Err(err)).await,
        }
    }
    Err(Error::Conflict {
        code: "slot_taken",
        detail: "the slot was taken while booking it; try again".into(),
    })
}

async fn create_pending(
    tx: &mut PgConnection,
    caller: &AuthUser,
    input: &NewBooking,
    now: DateTime<Utc>,
) -> Result<Booking, Error> {
    // a driver who owes money pays it off before booking anything more
    crate::ledger::service::ensure_no_debt(tx, caller.id).await?;
    let ctx = bookable_charger(tx, input.charger_id).await?;
    if ctx.port(input.port_id).is_none() {
        return Err(Error::invalid("port_id", "is not a port of this charger"));
    }
    let start = input
        .start_time
        .ok_or_else(|| Error::invalid("start_time", "is required"))?;
    let calendar = calendar(tx, ctx.listing_id).await?;
    let priority = crate::subscriptions::entitlements::priority_booking(tx, caller.id, now).await?;
    let rules = if priority {
        ctx.rules.with_priority()
    } else {
        ctx.rules.clone()
    };
    rules
        .check_slot(&calendar, start, input.end_time, now, false)
        .map_err(Error::Validation)?;
    store::insert(
        tx,
        &NewRow {
            id: Uuid::now_v7(),
            listing_id: ctx.listing_id,
            port_id: input.port_id,
            driver_id: caller.id,
            status: BookingStatus::Pending,
            starts_at: start,
            ends_at: input.end_time,
            emergency: false,
            expires_at: Some(now + BookingRules::pending_ttl(priority)),
            confirmed_at: None,
            amount_cents: estimate_cents(ctx.price_per_hour, input.end_time - start),
            currency: ctx.currency.clone(),
            reservation_state: ReservationState::None,
            actor: Actor::Driver,
            now,
        },
    )
    .await
}

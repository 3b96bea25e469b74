//! Booking rows and their conversion into model types. The CHECK constraints make the
//! conversion errors unreachable unless the schema and the model drift apart.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::bookings::model::{Booking, Refund};
use crate::error::Error;

/// The columns of [`BookingRow`], over `bookings b` joined with its listing `l`, port `p`
/// and refund `r` (see [`super::FROM_BOOKINGS`]).
pub(super) const BOOKING_COLUMNS: &str = "b.id, b.listing_id, b.port_id, b.driver_id, \
     l.host_id, b.status, b.starts_at, b.ends_at, b.emergency, b.expires_at, b.confirmed_at, \
     b.checked_in_at, b.charging_at, b.completed_at, b.cancelled_at, b.cancelled_by, \
     b.cancel_reason, b.preempted_by, b.moved_from_port, b.amount_cents, \
     b.currency::text AS currency, b.reservation_id, b.reservation_state, \
     (l.device_kind = 'ocpp' AND p.evse_id IS NOT NULL) AS station_bound, \
     b.created_at, b.updated_at, r.amount_cents AS refund_amount_cents, \
     r.currency::text AS refund_currency, r.percent AS refund_percent, \
     r.reason AS refund_reason, r.cancelled_by AS refund_cancelled_by, \
     r.decided_at AS refund_decided_at";

#[derive(sqlx::FromRow)]
pub(super) struct BookingRow {
    id: Uuid,
    listing_id: Uuid,
    port_id: Uuid,
    driver_id: Uuid,
    host_id: Uuid,
    status: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    emergency: bool,
    expires_at: Option<DateTime<Utc>>,
    confirmed_at: Option<DateTime<Utc>>,
    checked_in_at: Option<DateTime<Utc>>,
    charging_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
    cancelled_by: Option<String>,
    cancel_reason: Option<String>,
    preempted_by: Option<Uuid>,
    moved_from_port: Option<Uuid>,
    amount_cents: i64,
    currency: String,
    reservation_id: i32,
    reservation_state: String,
    station_bound: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    refund_amount_cents: Option<i64>,
    refund_currency: Option<String>,
    refund_percent: Option<i16>,
    refund_reason: Option<String>,
    refund_cancelled_by: Option<String>,
    refund_decided_at: Option<DateTime<Utc>>,
}

fn parse<T: FromStr>(what: &str, id: Uuid, text: &str) -> Result<T, Error> {
    text.parse()
        .map_err(|_| Error::Internal(format!("booking {id}: bad {what} `{text}` in the database")))
}

impl TryFrom<BookingRow> for Booking {
    type Error = Error;

    fn try_from(r: BookingRow) -> Result<Self, Error> {
        let id = r.id;
        let refund = match (
            r.refund_amount_cents,
            r.refund_currency,
            r.refund_percent,
            r.refund_reason,
            r.refund_cancelled_by,
            r.refund_decided_at,
        ) {
            (
                Some(amount_cents),
                Some(currency),
                Some(percent),
                Some(reason),
                Some(by),
                Some(at),
            ) => Some(Refund {
                amount_cents,
                currency,
                percent: u8::try_from(percent)
                    .map_err(|_| Error::Internal(format!("booking {id}: bad refund percent")))?,
                reason,
                cancelled_by: parse("refund cancelled_by", id, &by)?,
                decided_at: at,
            }),
            _ => None,
        };
        Ok(Booking {
            id,
            listing_id: r.listing_id,
            port_id: r.port_id,
            driver_id: r.driver_id,
            host_id: r.host_id,
            status: parse("status", id, &r.status)?,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            emergency: r.emergency,
            expires_at: r.expires_at,
            confirmed_at: r.confirmed_at,
            checked_in_at: r.checked_in_at,
            charging_at: r.charging_at,
            completed_at: r.completed_at,
            cancelled_at: r.cancelled_at,
            cancelled_by: r
                .cancelled_by
                .map(|c| parse("cancelled_by", id, &c))
                .transpose()?,
            cancel_reason: r.cancel_reason,
            preempted_by: r.preempted_by,
            moved_from_port: r.moved_from_port,
            amount_cents: r.amount_cents,
            currency: r.currency,
            reservation_id: r.reservation_id,
            reservation_state: parse("reservation state", id, &r.reservation_state)?,
            station_bound: r.station_bound,
            refund,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

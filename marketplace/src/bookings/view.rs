//! What clients read: the JSON shapes of bookings, pages, slots and rules (snake_case).
//! The service stores a [`BookingView`] as the replayable answer of an idempotent create,
//! so the shape lives here rather than in `http`.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{Booking, BookingStatus, CancelledBy, Refund, ReservationState};
use super::refund::RefundTier;
use super::rules::BookingRules;

#[derive(Debug, Clone, Serialize)]
pub struct RefundView {
    pub amount_cents: i64,
    pub currency: String,
    pub percent: u8,
    pub reason: String,
    pub cancelled_by: CancelledBy,
    pub decided_at: DateTime<Utc>,
}

impl From<Refund> for RefundView {
    fn from(r: Refund) -> Self {
        Self {
            amount_cents: r.amount_cents,
            currency: r.currency,
            percent: r.percent,
            reason: r.reason,
            cancelled_by: r.cancelled_by,
            decided_at: r.decided_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BookingView {
    pub id: Uuid,
    pub charger_id: Uuid,
    pub port_id: Uuid,
    pub driver_id: Uuid,
    pub status: BookingStatus,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub emergency: bool,
    /// While pending: when the hold lapses unless confirmed.
    pub expires_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub charging_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<CancelledBy>,
    pub cancel_reason: Option<String>,
    /// The emergency booking that moved or preempted this one.
    pub preempted_by: Option<Uuid>,
    pub moved_from_port_id: Option<Uuid>,
    pub amount_cents: i64,
    pub currency: String,
    pub refund: Option<RefundView>,
    /// Where the charging station's reservation stands (`none` for a port without one).
    pub reservation_state: ReservationState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Booking> for BookingView {
    fn from(b: Booking) -> Self {
        Self {
            id: b.id,
            charger_id: b.listing_id,
            port_id: b.port_id,
            driver_id: b.driver_id,
            status: b.status,
            start_time: b.starts_at,
            end_time: b.ends_at,
            emergency: b.emergency,
            expires_at: (b.status == BookingStatus::Pending)
                .then_some(b.expires_at)
                .flatten(),
            confirmed_at: b.confirmed_at,
            checked_in_at: b.checked_in_at,
            charging_at: b.charging_at,
            completed_at: b.completed_at,
            cancelled_at: b.cancelled_at,
            cancelled_by: b.cancelled_by,
            cancel_reason: b.cancel_reason,
            preempted_by: b.preempted_by,
            moved_from_port_id: b.moved_from_port,
            amount_cents: b.amount_cents,
            currency: b.currency,
            refund: b.refund.map(Into::into),
            reservation_state: b.reservation_state,
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Page {
    pub items: Vec<BookingView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// `[start, end)` on the listing's local clock (RFC 3339 with its UTC offset), so a client
/// shows local times without a time-zone database, DST days included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotView {
    pub start_time: DateTime<FixedOffset>,
    pub end_time: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortSlots {
    pub port_id: Uuid,
    pub label: String,
    pub connector_type: String,
    pub power_kw: f64,
    /// Bookable stretches, each at least the listing's minimum duration.
    pub free: Vec<SlotView>,
    /// Held by live bookings (whoever made them).
    pub booked: Vec<SlotView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DaySlots {
    pub charger_id: Uuid,
    pub date: NaiveDate,
    pub time_zone: String,
    pub day_start: DateTime<FixedOffset>,
    pub day_end: DateTime<FixedOffset>,
    /// 24, or 23/25 on the days the clocks change.
    pub hours_in_day: f64,
    pub min_duration_minutes: u32,
    pub ports: Vec<PortSlots>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RulesView {
    pub charger_id: Uuid,
    /// `false`: the listing set no rules and these are the defaults.
    pub custom: bool,
    pub min_duration_minutes: u32,
    pub max_duration_minutes: u32,
    pub lead_time_minutes: u32,
    pub max_advance_days: u32,
    pub arrival_grace_minutes: u32,
    /// Longest notice first; a driver's cancellation more than `min_notice_minutes` before
    /// the start refunds `refund_percent`.
    pub refund_tiers: Vec<RefundTier>,
}

impl RulesView {
    pub fn new(charger_id: Uuid, custom: bool, r: &BookingRules) -> Self {
        Self {
            charger_id,
            custom,
            min_duration_minutes: r.min_duration_minutes,
            max_duration_minutes: r.max_duration_minutes,
            lead_time_minutes: r.lead_time_minutes,
            max_advance_days: r.max_advance_days,
            arrival_grace_minutes: r.arrival_grace_minutes,
            refund_tiers: r.refund_tiers.tiers().to_vec(),
        }
    }
}

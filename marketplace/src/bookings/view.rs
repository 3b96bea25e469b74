//! What clients read: the JSON shapes of bookings, pages, slots and rules (snake_case).
//! The service stores a [`BookingView`] as the replayable answer of an idempotent create,
//! so the shape lives here rather than in `http`.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{Booking, BookingStatus, CancelledBy, Refund, ReservationState};
use super::refund::RefundTier;
use super::rules::BookingRules;

/// A refund decision, recorded for the wallet ledger to post.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = BookingRefund)]
pub struct RefundView {
    /// What goes back to the driver, in minor units.
    #[schema(minimum = 0, example = 250)]
    pub amount_cents: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(minimum = 0, maximum = 100, example = 50)]
    pub percent: u8,
    /// Why this much, in words.
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

/// A booking as its driver, the listing's host and admins see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Booking)]
pub struct BookingView {
    pub id: Uuid,
    /// The listing.
    pub charger_id: Uuid,
    pub port_id: Uuid,
    pub driver_id: Uuid,
    pub status: BookingStatus,
    #[schema(example = "2031-01-01T10:00:00Z")]
    pub start_time: DateTime<Utc>,
    #[schema(example = "2031-01-01T11:00:00Z")]
    pub end_time: DateTime<Utc>,
    pub emergency: bool,
    /// While pending: when the hold lapses unless confirmed.
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub checked_in_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub charging_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub completed_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub cancelled_by: Option<CancelledBy>,
    #[schema(required = true)]
    pub cancel_reason: Option<String>,
    /// The emergency booking that moved or preempted this one.
    #[schema(required = true)]
    pub preempted_by: Option<Uuid>,
    /// The port it was booked on before an emergency booking moved it.
    #[schema(required = true)]
    pub moved_from_port_id: Option<Uuid>,
    /// The price in minor units (hourly price × duration).
    #[schema(minimum = 0, example = 250)]
    pub amount_cents: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    /// Set once cancelled or preempted.
    #[schema(required = true)]
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

/// A page of bookings, latest start first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = BookingPage)]
pub struct Page {
    pub items: Vec<BookingView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// `[start, end)` on the listing's local clock (RFC 3339 with its UTC offset), so a client
/// shows local times without a time-zone database, DST days included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BookingSlot)]
pub struct SlotView {
    #[schema(example = "2026-03-29T04:00:00+02:00")]
    pub start_time: DateTime<FixedOffset>,
    #[schema(example = "2026-03-30T00:00:00+02:00")]
    pub end_time: DateTime<FixedOffset>,
}

/// One port's day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = BookingPortSlots)]
pub struct PortSlots {
    pub port_id: Uuid,
    pub label: String,
    #[schema(example = "CCS2")]
    pub connector_type: String,
    #[schema(example = 22.0)]
    pub power_kw: f64,
    /// Bookable now: open, not held, from now plus the lead time on, each at least the
    /// listing's minimum duration long.
    pub free: Vec<SlotView>,
    /// Held by live bookings (whoever made them).
    pub booked: Vec<SlotView>,
}

/// A listing's local day: free and booked stretches per port.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DaySlots {
    pub charger_id: Uuid,
    #[schema(example = "2026-03-29")]
    pub date: NaiveDate,
    /// The listing's IANA time zone.
    #[schema(example = "Europe/Amsterdam")]
    pub time_zone: String,
    /// The day's first instant, on the listing's local clock.
    #[schema(example = "2026-03-29T00:00:00+01:00")]
    pub day_start: DateTime<FixedOffset>,
    /// The next day's first instant.
    #[schema(example = "2026-03-30T00:00:00+02:00")]
    pub day_end: DateTime<FixedOffset>,
    /// 24, or 23/25 on the days the clocks change.
    #[schema(example = 23)]
    pub hours_in_day: f64,
    #[schema(example = 15)]
    pub min_duration_minutes: u32,
    pub ports: Vec<PortSlots>,
}

/// A listing's booking rules in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = BookingRules)]
pub struct RulesView {
    pub charger_id: Uuid,
    /// `false`: the listing set no rules and these are the defaults.
    pub custom: bool,
    #[schema(example = 15)]
    pub min_duration_minutes: u32,
    #[schema(example = 720)]
    pub max_duration_minutes: u32,
    /// How long before its start a booking must be made.
    #[schema(example = 0)]
    pub lead_time_minutes: u32,
    /// How far ahead a booking may start (7 days more with priority booking).
    #[schema(example = 90)]
    pub max_advance_days: u32,
    /// Check-in is open from this long before the start until this long after it.
    #[schema(example = 15)]
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

//! Bookings: drivers hold a port of a listed charger for a time slot; hosts see the bookings
//! on their chargers. Mirrors `marketplace::bookings::http` (answers: `bookings::view`);
//! snake_case.

use chrono::{DateTime, NaiveDate, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::route::{date_time, integer, one_of, uuid, Access, Route, HOST};

const TAG: &str = "bookings";

const STATUSES: &[&str] = &[
    "pending",
    "confirmed",
    "checked_in",
    "charging",
    "completed",
    "cancelled",
    "expired",
    "preempted",
    "no_show",
];

/// pending → confirmed → checked_in → charging → completed, or cancelled, expired (not
/// confirmed within 10 minutes), preempted (by an emergency booking) or no_show.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum BookingStatus {
    Pending,
    Confirmed,
    CheckedIn,
    Charging,
    Completed,
    Cancelled,
    Expired,
    Preempted,
    NoShow,
}

/// The OCPP reservation on the charging station, for ports bound to one: `due` (ReserveNow
/// to be sent before the start), `sent`, `accepted`, `rejected`, `cancel_due`, `cancel_sent`,
/// `cancelled`, `expired` (the station dropped it), `used` (charging started on it).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ReservationState {
    None,
    Due,
    Sent,
    Accepted,
    Rejected,
    CancelDue,
    CancelSent,
    Cancelled,
    Expired,
    Used,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum CancelledBy {
    Driver,
    Host,
    System,
}

/// `POST /api/bookings`. Times are RFC 3339 with any offset; they are stored in UTC.
#[derive(ToSchema)]
pub struct BookingBody {
    /// The listing.
    pub charger_id: Uuid,
    /// One of the listing's ports.
    pub port_id: Uuid,
    /// Required unless `emergency` (an emergency booking starts now; if sent it must be
    /// within 5 minutes of now).
    #[schema(example = "2031-01-01T10:00:00Z")]
    pub start_time: Option<DateTime<Utc>>,
    /// After `start_time`, within the listing's minimum and maximum duration (emergency: at
    /// most 2 hours).
    #[schema(example = "2031-01-01T11:00:00Z")]
    pub end_time: DateTime<Utc>,
    /// Default `false`. Starts now, is confirmed at once, and moves (or preempts, with a full
    /// refund) non-emergency bookings in the way.
    pub emergency: Option<bool>,
}

/// `POST /api/bookings/{id}/reschedule`.
#[derive(ToSchema)]
pub struct RescheduleBody {
    #[schema(example = "2031-01-01T12:00:00Z")]
    pub start_time: DateTime<Utc>,
    #[schema(example = "2031-01-01T13:00:00Z")]
    pub end_time: DateTime<Utc>,
    /// Another port of the same charger; default the booking's.
    pub port_id: Option<Uuid>,
}

/// `POST /api/bookings/{id}/extend`.
#[derive(ToSchema)]
pub struct ExtendBody {
    /// Later than the booking's current end.
    #[schema(example = "2031-01-01T12:00:00Z")]
    pub end_time: DateTime<Utc>,
}

/// `POST /api/bookings/{id}/cancel`; the body may be left out.
#[derive(ToSchema)]
pub struct CancelBody {
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// A refund decision, recorded for the wallet ledger to post.
#[derive(ToSchema)]
pub struct Refund {
    #[schema(minimum = 0, example = 250)]
    pub amount_cents: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(minimum = 0, maximum = 100, example = 50)]
    pub percent: u8,
    pub reason: String,
    pub cancelled_by: CancelledBy,
    pub decided_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct Booking {
    pub id: Uuid,
    pub charger_id: Uuid,
    pub port_id: Uuid,
    pub driver_id: Uuid,
    pub status: BookingStatus,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub emergency: bool,
    /// While pending: when the hold lapses unless confirmed.
    #[schema(required)]
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub confirmed_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub checked_in_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub charging_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub completed_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub cancelled_by: Option<CancelledBy>,
    #[schema(required)]
    pub cancel_reason: Option<String>,
    /// The emergency booking that moved or preempted this one.
    #[schema(required)]
    pub preempted_by: Option<Uuid>,
    #[schema(required)]
    pub moved_from_port_id: Option<Uuid>,
    /// The price in minor units (hourly price × duration, until tariffs exist).
    #[schema(minimum = 0, example = 250)]
    pub amount_cents: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    /// Set once cancelled or preempted.
    #[schema(required)]
    pub refund: Option<Refund>,
    pub reservation_state: ReservationState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct BookingPage {
    pub items: Vec<Booking>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// `[start_time, end_time)` on the listing's local clock (RFC 3339 with its offset).
#[derive(ToSchema)]
pub struct BookingSlot {
    #[schema(example = "2026-03-29T04:00:00+02:00")]
    pub start_time: String,
    #[schema(example = "2026-03-30T00:00:00+02:00")]
    pub end_time: String,
}

#[derive(ToSchema)]
pub struct PortSlots {
    pub port_id: Uuid,
    pub label: String,
    pub connector_type: String,
    pub power_kw: f64,
    /// Bookable now: open, not held, from now plus the lead time on, at least the minimum
    /// duration long.
    pub free: Vec<BookingSlot>,
    /// Held by live bookings.
    pub booked: Vec<BookingSlot>,
}

#[derive(ToSchema)]
pub struct DaySlots {
    pub charger_id: Uuid,
    pub date: NaiveDate,
    #[schema(example = "Europe/Amsterdam")]
    pub time_zone: String,
    pub day_start: String,
    pub day_end: String,
    /// 24, or 23/25 on the days the clocks change.
    #[schema(example = 23)]
    pub hours_in_day: f64,
    pub min_duration_minutes: u32,
    pub ports: Vec<PortSlots>,
}

/// A driver's cancellation MORE than `min_notice_minutes` before the start refunds
/// `refund_percent` (the tier with the longest notice that applies).
#[derive(ToSchema)]
pub struct RefundTier {
    #[schema(minimum = 0, maximum = 43200, example = 120)]
    pub min_notice_minutes: u32,
    #[schema(minimum = 0, maximum = 100, example = 100)]
    pub refund_percent: u8,
}

/// `PUT /api/chargers/{id}/booking-rules`: every field optional, a missing one takes the
/// default (`{}` resets the defaults).
#[derive(ToSchema)]
pub struct BookingRulesBody {
    /// Default 15.
    #[schema(minimum = 5, maximum = 10080)]
    pub min_duration_minutes: Option<u32>,
    /// Default 720; at least `min_duration_minutes`.
    #[schema(minimum = 5, maximum = 10080)]
    pub max_duration_minutes: Option<u32>,
    /// How long before its start a booking must be made; default 0.
    #[schema(minimum = 0, maximum = 10080)]
    pub lead_time_minutes: Option<u32>,
    /// Default 90.
    #[schema(minimum = 1, maximum = 365)]
    pub max_advance_days: Option<u32>,
    /// Check-in from this long before the start until this long after it; later is a
    /// no-show. Default 15.
    #[schema(minimum = 5, maximum = 120)]
    pub arrival_grace_minutes: Option<u32>,
    /// At most 10, distinct notices, a longer notice never refunding less; default
    /// `[{120, 100}, {60, 50}]`; `[]` never refunds.
    pub refund_tiers: Option<Vec<RefundTier>>,
}

#[derive(ToSchema)]
pub struct BookingRules {
    pub charger_id: Uuid,
    /// `false`: the listing set no rules; these are the defaults.
    pub custom: bool,
    pub min_duration_minutes: u32,
    pub max_duration_minutes: u32,
    pub lead_time_minutes: u32,
    pub max_advance_days: u32,
    pub arrival_grace_minutes: u32,
    pub refund_tiers: Vec<RefundTier>,
}

const SLOT_TAKEN: &str = "`slot_taken`: the port is booked then; `conflicting_slot` names the \
    `port_id`, `start_time` and `end_time` of the booking in the way";

fn one(route: Route) -> Route {
    route
        .access(Access::AnyUser)
        .describe("Visible to the booking's driver, the listing's host and admins.")
        .uuid_param("id", "Booking id")
        .not_found("booking")
}

/// Changes only the driver (or an admin) may make; `conflicts` lists the other 409 codes.
fn drivers(route: Route, from: &str, conflicts: &str) -> Route {
    one(route)
        .describe(" Only the driver or an admin.")
        .problem(403, "`forbidden`: the listing's host")
        .conflict(&format!(
            "`invalid_booking_transition`: only from {from}{conflicts}"
        ))
        .ok::<Booking>(200, "The booking as it is now")
}

fn list(route: Route) -> Route {
    route
        .query(
            "status",
            "Only these statuses (comma-separated, or the parameter repeated)",
            one_of(STATUSES),
        )
        .query(
            "from",
            "Only bookings ending after this instant",
            date_time(),
        )
        .query(
            "to",
            "Only bookings starting before this instant",
            date_time(),
        )
        .query("limit", "Page size", integer(1, Some(100), Some(20)))
        .query("offset", "Rows to skip", integer(0, None, Some(0)))
        .ok::<BookingPage>(200, "A page of bookings, latest start first")
        .problem(
            422,
            "A query parameter is unknown or out of range (named in `errors`)",
        )
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/bookings", TAG, "Book a port")
            .access(Access::AnyUser)
            .describe(
                "A pending booking holding the slot for 10 minutes unless confirmed; with \
                 `emergency` it starts now and is confirmed at once. The slot must keep the \
                 listing's opening hours, blackouts, durations and lead time. Send an \
                 `Idempotency-Key` header to retry safely: a retry with the same key and body \
                 answers the first booking again (with `Idempotent-Replayed: true`); the same \
                 key with another body is a 422.",
            )
            .body::<BookingBody>()
            .ok::<Booking>(201, "Booked (or the replayed first answer)")
            .not_found("charger (or it is not listed)")
            .conflict(&format!(
                "{SLOT_TAKEN}; or `port_unavailable` (emergency on a port reported occupied \
                 or broken)"
            )),
        list(
            Route::get("/api/bookings", TAG, "My bookings")
                .access(Access::AnyUser)
                .describe("The caller's own bookings as a driver. Any other parameter is a 422."),
        ),
        one(Route::get("/api/bookings/{id}", TAG, "One booking")).ok::<Booking>(200, "The booking"),
        drivers(
            Route::post(
                "/api/bookings/{id}/confirm",
                TAG,
                "Confirm a pending booking",
            ),
            "pending",
            "; `booking_expired`: not confirmed within 10 minutes",
        ),
        one(Route::post(
            "/api/bookings/{id}/cancel",
            TAG,
            "Cancel a booking",
        ))
        .describe(
            " The driver's cancellation refunds per the listing's policy (default: more than \
                 2 h before the start 100%, more than 1 h 50%, otherwise nothing; exactly 2 h is \
                 50%, exactly 1 h nothing); the host's (or an admin's) always refunds in full. \
                 A booking never confirmed charged nothing. The answer carries the `refund`.",
        )
        .body::<CancelBody>()
        .ok::<Booking>(200, "Cancelled, with the refund decision")
        .conflict("`invalid_booking_transition`: only pending or confirmed bookings"),
        drivers(
            Route::post("/api/bookings/{id}/reschedule", TAG, "Move to another slot"),
            "pending or confirmed",
            &format!("; {SLOT_TAKEN}; `booking_started`; `emergency_booking`"),
        )
        .describe(
            " Atomic: the old slot is held until the new one is. Same rules as a new booking.",
        )
        .body::<RescheduleBody>(),
        drivers(
            Route::post("/api/bookings/{id}/extend", TAG, "End later"),
            "pending, confirmed, checked_in or charging",
            &format!("; {SLOT_TAKEN}"),
        )
        .body::<ExtendBody>(),
        drivers(
            Route::post("/api/bookings/{id}/check-in", TAG, "Arrive"),
            "confirmed",
            "; `outside_arrival_window`: too early, or too late (a no-show)",
        )
        .describe(
            " Within the arrival window: from the grace period before the start to the grace \
             period after it.",
        ),
        list(
            Route::get("/api/host/bookings", TAG, "Bookings on my chargers")
                .access(HOST)
                .describe("Hosts see the bookings on their listings; admins see all.")
                .query("charger_id", "Only this listing's", uuid()),
        ),
        Route::get("/api/chargers/{id}/slots", TAG, "Free slots on a day")
            .uuid_param("id", "Listing id")
            .required_query(
                "date",
                "The listing's local day (`YYYY-MM-DD`)",
                super::route::date(),
            )
            .ok::<DaySlots>(200, "Free and booked stretches per port")
            .not_found("charger (or it is not listed)")
            .problem(
                422,
                "`date` is missing or not a date, or another parameter was sent",
            ),
        Route::get(
            "/api/chargers/{id}/booking-rules",
            TAG,
            "A listing's booking rules",
        )
        .access(Access::Optional(
            "without one only listed chargers' rules are visible",
        ))
        .uuid_param("id", "Listing id")
        .ok::<BookingRules>(200, "The rules in force")
        .not_found("charger"),
        Route::put(
            "/api/chargers/{id}/booking-rules",
            TAG,
            "Set a listing's booking rules",
        )
        .access(Access::AnyUser)
        .describe("Only the listing's host or an admin.")
        .uuid_param("id", "Listing id")
        .body::<BookingRulesBody>()
        .ok::<BookingRules>(200, "The rules now in force")
        .not_found("charger")
        .problem(403, "`forbidden`: a listed charger of another host"),
    ]
}

#[cfg(test)]
mod tests {
    /// Schemas are keyed by their Rust name: two areas defining the same name differently
    /// would silently replace one with the other in the document.
    #[test]
    fn no_two_schemas_share_a_name() {
        let mut seen = std::collections::HashMap::new();
        for route in super::super::routes() {
            for (name, schema) in &route.schemas {
                let json = serde_json::to_string(schema).unwrap();
                if let Some(before) = seen.insert(name.clone(), json.clone()) {
                    assert_eq!(before, json, "two different schemas are named {name}");
                }
            }
        }
    }
}

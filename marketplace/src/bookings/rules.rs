//! Which slots may be booked: a listing's booking rules (durations, lead time, arrival
//! window, refund policy) checked against its calendar. Pure; the calendar (opening hours,
//! blackouts, DST) is the listings module's, evaluated in the listing's IANA zone.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::refund::{RefundPolicy, RefundTier};
use crate::error::FieldError;
use crate::listings::ListingCalendar;

/// A pending booking holds its slot this long unless confirmed (the product guide's rule).
pub const PENDING_TTL: Duration = Duration::minutes(10);
/// Priority booking (the Pro plan): a pending booking holds its slot this long instead.
pub const PRIORITY_PENDING_TTL: Duration = Duration::minutes(30);
/// Priority booking: this many days further ahead than the listing's `max_advance_days`.
pub const PRIORITY_EXTRA_ADVANCE_DAYS: u32 = 7;
/// A client's clock may run this much behind ours: "now" is not in the past yet.
pub const CLOCK_SKEW: Duration = Duration::minutes(1);
/// An emergency booking is for getting a car moving, not for parking on a port.
pub const EMERGENCY_MAX_MINUTES: u32 = 120;
/// An emergency booking's `start_time`, when sent, must be this close to now.
pub const EMERGENCY_START_TOLERANCE: Duration = Duration::minutes(5);

/// A listing's rules; [`BookingRules::default`] for a listing that set none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingRules {
    pub min_duration_minutes: u32,
    pub max_duration_minutes: u32,
    pub lead_time_minutes: u32,
    pub max_advance_days: u32,
    pub arrival_grace_minutes: u32,
    pub refund_tiers: RefundPolicy,
}

impl Default for BookingRules {
    fn default() -> Self {
        Self {
            min_duration_minutes: 15,
            max_duration_minutes: 720,
            lead_time_minutes: 0,
            max_advance_days: 90,
            arrival_grace_minutes: 15,
            refund_tiers: RefundPolicy::default(),
        }
    }
}

/// `PUT /api/chargers/{id}/booking-rules`: every field optional, missing ones take the
/// default (so `{}` resets a listing to the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BookingRulesBody)]
pub struct RulesInput {
    /// Default 15.
    #[schema(minimum = 5, maximum = 10080, example = 30)]
    pub min_duration_minutes: Option<u32>,
    /// Default 720; at least `min_duration_minutes`.
    #[schema(minimum = 5, maximum = 10080, example = 240)]
    pub max_duration_minutes: Option<u32>,
    /// How long before its start a booking must be made; default 0.
    #[schema(minimum = 0, maximum = 10080, example = 60)]
    pub lead_time_minutes: Option<u32>,
    /// How far ahead a booking may start; default 90.
    #[schema(minimum = 1, maximum = 365, example = 30)]
    pub max_advance_days: Option<u32>,
    /// Check-in from this long before the start until this long after it; later is a
    /// no-show. Default 15.
    #[schema(minimum = 5, maximum = 120, example = 15)]
    pub arrival_grace_minutes: Option<u32>,
    /// At most 10, distinct notices, a longer notice never refunding less; default
    /// `[{120, 100}, {60, 50}]`; `[]` never refunds.
    #[schema(max_items = 10)]
    pub refund_tiers: Option<Vec<RefundTier>>,
}

/// The database CHECKs of `listing_booking_rules`, said once more with field names.
pub fn validate_rules(input: RulesInput) -> Result<BookingRules, Vec<FieldError>> {
    let d = BookingRules::default();
    let min = input.min_duration_minutes.unwrap_or(d.min_duration_minutes);
    let max = input.max_duration_minutes.unwrap_or(d.max_duration_minutes);
    let lead = input.lead_time_minutes.unwrap_or(d.lead_time_minutes);
    let advance = input.max_advance_days.unwrap_or(d.max_advance_days);
    let grace = input
        .arrival_grace_minutes
        .unwrap_or(d.arrival_grace_minutes);
    let mut errors = Vec::new();
    let mut check = |ok: bool, field: &str, message: &str| {
        if !ok {
            errors.push(FieldError::new(field, message));
        }
    };
    check(min >= 5, "min_duration_minutes", "must be at least 5");
    check(
        max >= min,
        "max_duration_minutes",
        "must not be less than min_duration_minutes",
    );
    check(
        max <= 10_080,
        "max_duration_minutes",
        "must be at most 10080 (7 days)",
    );
    check(
        lead <= 10_080,
        "lead_time_minutes",
        "must be at most 10080 (7 days)",
    );
    check(
        (1..=365).contains(&advance),
        "max_advance_days",
        "must be from 1 to 365",
    );
    check(
        (5..=120).contains(&grace),
        "arrival_grace_minutes",
        "must be from 5 to 120",
    );
    let refund = match input.refund_tiers {
        None => Ok(d.refund_tiers),
        Some(tiers) => RefundPolicy::new(tiers),
    };
    match refund {
        Ok(refund_tiers) if errors.is_empty() => Ok(BookingRules {
            min_duration_minutes: min,
            max_duration_minutes: max,
            lead_time_minutes: lead,
            max_advance_days: advance,
            arrival_grace_minutes: grace,
            refund_tiers,
        }),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

fn minutes(m: u32) -> Duration {
    Duration::minutes(i64::from(m))
}

impl BookingRules {
    /// The rules a driver with priority booking (Pro) books under: the listing's, with the
    /// advance window [`PRIORITY_EXTRA_ADVANCE_DAYS`] longer.
    pub fn with_priority(&self) -> Self {
        Self {
            max_advance_days: self.max_advance_days + PRIORITY_EXTRA_ADVANCE_DAYS,
            ..self.clone()
        }
    }

    /// How long a new pending booking holds its slot unless confirmed.
    pub fn pending_ttl(priority: bool) -> Duration {
        if priority {
            PRIORITY_PENDING_TTL
        } else {
            PENDING_TTL
        }
    }

    pub fn grace(&self) -> Duration {
        minutes(self.arrival_grace_minutes)
    }

    pub fn lead_time(&self) -> Duration {
        minutes(self.lead_time_minutes)
    }

    pub fn min_duration(&self) -> Duration {
        minutes(self.min_duration_minutes)
    }

    /// Check-in is open from `grace` before the start until `grace` after it (never past
    /// the end); a confirmed driver not checked in when it closes is a no-show.
    pub fn arrival_window(
        &self,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            starts_at - self.grace(),
            (starts_at + self.grace()).min(ends_at),
        )
    }

    /// Every rule a new (or rescheduled) slot must keep, all problems at once, named by the
    /// body fields `start_time`/`end_time`. An emergency booking starts now: it skips the
    /// lead time but keeps every other rule, and lasts at most [`EMERGENCY_MAX_MINUTES`].
    pub fn check_slot(
        &self,
        calendar: &ListingCalendar,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
        emergency: bool,
    ) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if end <= start {
            errors.push(FieldError::new("end_time", "must be after start_time"));
            return Err(errors);
        }
        let length = end - start;
        if length < self.min_duration() {
            errors.push(FieldError::new(
                "end_time",
                format!(
                    "a booking lasts at least {} minutes",
                    self.min_duration_minutes
                ),
            ));
        }
        let max = if emergency {
            self.max_duration_minutes.min(EMERGENCY_MAX_MINUTES)
        } else {
            self.max_duration_minutes
        };
        if length > minutes(max) {
            errors.push(FieldError::new(
                "end_time",
                format!("a booking lasts at most {max} minutes"),
            ));
        }
        if !emergency {
            if start < now - CLOCK_SKEW {
                errors.push(FieldError::new("start_time", "must not be in the past"));
            } else if start < now + self.lead_time() - CLOCK_SKEW {
                errors.push(FieldError::new(
                    "start_time",
                    format!(
                        "this charger is booked at least {} minutes ahead",
                        self.lead_time_minutes
                    ),
                ));
            }
        }
        if start > now + Duration::days(i64::from(self.max_advance_days)) {
            errors.push(FieldError::new(
                "start_time",
                format!("must be within {} days from now", self.max_advance_days),
            ));
        }
        if let Err(e) = check_open(calendar, start, end) {
            errors.push(e);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// A later end for a booking that keeps its start: the new stretch must be open and the
    /// whole booking within the maximum duration.
    pub fn check_extension(
        &self,
        calendar: &ListingCalendar,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        new_end: DateTime<Utc>,
        now: DateTime<Utc>,
        emergency: bool,
    ) -> Result<(), Vec<FieldError>> {
        if new_end <= ends_at {
            return Err(vec![FieldError::new(
                "end_time",
                "must be after the booking's current end",
            )]);
        }
        if ends_at <= now {
            return Err(vec![FieldError::new(
                "end_time",
                "the booking is already over",
            )]);
        }
        let max = if emergency {
            self.max_duration_minutes.min(EMERGENCY_MAX_MINUTES)
        } else {
            self.max_duration_minutes
        };
        if new_end - starts_at > minutes(max) {
            return Err(vec![FieldError::new(
                "end_time",
                format!("a booking lasts at most {max} minutes"),
            )]);
        }
        check_open(calendar, ends_at, new_end).map_err(|mut e| {
            e.field = "end_time".into();
            vec![e]
        })
    }
}

/// The charger must be open for the whole of `[start, end)`: the calendar's open intervals
/// (merged where they touch, so a booking may run through midnight between two windows)
/// must cover it in one piece.
fn check_open(
    calendar: &ListingCalendar,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<(), FieldError> {
    let open = calendar.open_intervals(start, end);
    if open.first() == Some(&(start, end)) {
        return Ok(());
    }
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&calendar.time_zone)
            .fixed_offset()
            .to_rfc3339()
    };
    match open.first() {
        Some(&(first, close)) if first == start => Err(FieldError::new(
            "end_time",
            format!(
                "the charger closes at {} (opening hours or a blackout)",
                local(close)
            ),
        )),
        _ => Err(FieldError::new(
            "start_time",
            "the charger is closed then (opening hours or a blackout)",
        )),
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;

//! When a charger is open: weekly windows in the listing's local time, minus whole-day
//! blackouts, turned into UTC instants. Pure; search and bookings build on it.
//!
//! Windows are turned into UTC by their boundaries, one local day at a time, so both
//! functions agree and DST is handled at exactly two places ([`to_utc`]):
//! - a boundary in a spring-forward gap (02:30 on a day that jumps 02:00 → 03:00) does not
//!   exist and moves to the end of the gap, so the skipped local hour is simply not open;
//! - a boundary in a fall-back overlap (02:30 happens twice) takes the earlier instant.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::FieldError;

pub const MINUTES_PER_DAY: u16 = 24 * 60;
pub const MAX_WINDOWS: usize = 50;
pub const MAX_BLACKOUT_DAYS: i64 = 366;
pub const BLACKOUT_REASON_MAX_CHARS: usize = 200;

/// A wall-clock time in whole minutes, `00:00` to `24:00` (which ends the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub const MIDNIGHT: ClockTime = ClockTime(0);
    pub const END_OF_DAY: ClockTime = ClockTime(MINUTES_PER_DAY);

    pub fn from_minutes(minutes: u16) -> Option<Self> {
        (minutes <= MINUTES_PER_DAY).then_some(Self(minutes))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    /// `HH:MM`, `00:00` to `24:00`.
    pub fn parse(text: &str) -> Option<Self> {
        let (h, m) = text.split_once(':')?;
        if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        if m >= 60 {
            return None;
        }
        Self::from_minutes(h * 60 + m)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("`{text}` is not a time from 00:00 to 24:00"))
        })
    }
}

/// `HH:MM` text on the wire, exactly what [`ClockTime::parse`] accepts.
impl utoipa::PartialSchema for ClockTime {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(CLOCK_TIME_PATTERN))
            .description(Some(
                "A wall-clock time in whole minutes, `00:00` to `24:00` (which ends the day)",
            ))
            .examples([serde_json::json!("08:00")])
            .into()
    }
}

impl utoipa::ToSchema for ClockTime {}

/// What [`ClockTime::parse`] accepts.
pub const CLOCK_TIME_PATTERN: &str = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";

/// Open from `opens` to `closes` on an ISO weekday (1 = Monday ... 7 = Sunday), local time.
///
/// The week is a plain array of these (at most 50, not overlapping within a day; touching is
/// fine); no window on a weekday means closed that day, an empty array open around the clock.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct OpeningWindow {
    /// 1 = Monday ... 7 = Sunday.
    #[schema(minimum = 1, maximum = 7, example = 1)]
    pub weekday: u8,
    pub opens: ClockTime,
    /// After `opens`; `24:00` ends the day.
    pub closes: ClockTime,
}

/// Closed on every local day from `starts_on` to `ends_on`, both included (at most 366 days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Blackout {
    #[schema(example = "2031-01-01")]
    pub starts_on: NaiveDate,
    /// On or after `starts_on`, less than 366 days later.
    #[schema(example = "2031-01-02")]
    pub ends_on: NaiveDate,
    /// Trimmed, at most 200 characters; defaults to `""`.
    #[serde(default)]
    #[schema(pattern = r"^\s*(\S([\s\S]{0,198}\S)?)?\s*$", example = "Resurfacing")]
    pub reason: String,
}

impl Blackout {
    pub fn covers(&self, date: NaiveDate) -> bool {
        (self.starts_on..=self.ends_on).contains(&date)
    }
}

/// Everything that decides when one listing is open, for callers that check many instants.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingCalendar {
    pub time_zone: Tz,
    pub opening_hours: Vec<OpeningWindow>,
    pub blackouts: Vec<Blackout>,
}

impl ListingCalendar {
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        is_open(&self.opening_hours, &self.blackouts, self.time_zone, at)
    }

    pub fn open_intervals(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        open_intervals(
            &self.opening_hours,
            &self.blackouts,
            self.time_zone,
            from,
            to,
        )
    }
}

/// Sorts the windows and checks each, and that no two overlap within a day (touching is fine:
/// 08:00–12:00 and 12:00–20:00 is one long opening).
pub fn validate_opening_hours(
    mut windows: Vec<OpeningWindow>,
) -> Result<Vec<OpeningWindow>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if windows.len() > MAX_WINDOWS {
        errors.push(FieldError::new(
            "opening_hours",
            format!("must hold at most {MAX_WINDOWS} windows"),
        ));
    }
    for (i, w) in windows.iter().enumerate() {
        if !(1..=7).contains(&w.weekday) {
            errors.push(FieldError::new(
                format!("[{i}].weekday"),
                "must be 1 (Monday) to 7 (Sunday)",
            ));
        }
        if w.closes <= w.opens {
            errors.push(FieldError::new(
                format!("[{i}].closes"),
                "must be after opens",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    windows.sort();
    for pair in windows.windows(2) {
        if pair[0].weekday == pair[1].weekday && pair[1].opens < pair[0].closes {
            errors.push(FieldError::new(
                "opening_hours",
                format!(
                    "windows {}–{} and {}–{} on weekday {} overlap",
                    pair[0].opens, pair[0].closes, pair[1].opens, pair[1].closes, pair[0].weekday
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(windows)
    } else {
        Err(errors)
    }
}

pub fn validate_blackout(mut blackout: Blackout) -> Result<Blackout, Vec<FieldError>> {
    let mut errors = Vec::new();
    let days = (blackout.ends_on - blackout.starts_on).num_days();
    if days < 0 {
        errors.push(FieldError::new("ends_on", "must not be before starts_on"));
    } else if days >= MAX_BLACKOUT_DAYS {
        errors.push(FieldError::new(
            "ends_on",
            format!("a blackout lasts at most {MAX_BLACKOUT_DAYS} days"),
        ));
    }
    blackout.reason = blackout.reason.trim().to_owned();
    if blackout.reason.chars().count() > BLACKOUT_REASON_MAX_CHARS {
        errors.push(FieldError::new(
            "reason",
            format!("must be at most {BLACKOUT_REASON_MAX_CHARS} characters"),
        ));
    }
    if errors.is_empty() {
        Ok(blackout)
    } else {
        Err(errors)
    }
}

/// Whether the charger is open at an instant. No windows at all means open around the clock.
pub fn is_open(hours: &[OpeningWindow], blackouts: &[Blackout], tz: Tz, at: DateTime<Utc>) -> bool {
    // A window of the previous or next local day can reach `at` only through DST shifts, but
    // checking three days costs little and keeps this exactly consistent with open_intervals.
    let date = at.with_timezone(&tz).date_naive();
    [date.pred_opt(), Some(date), date.succ_opt()]
        .into_iter()
        .flatten()
        .flat_map(|d| day_intervals(hours, blackouts, tz, d))
        .any(|(start, end)| start <= at && at < end)
}

/// The open stretches within `[from, to)`, sorted, clipped to the range, and merged where
/// they touch (so 22:00–24:00 Monday and 00:00–06:00 Tuesday come out as one interval).
pub fn open_intervals(
    hours: &[OpeningWindow],
    blackouts: &[Blackout],
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    if from >= to {
        return out;
    }
    let first = from.with_timezone(&tz).date_naive().pred_opt();
    let last = to.with_timezone(&tz).date_naive().succ_opt();
    let (Some(mut date), Some(last)) = (first, last) else {
        return out;
    };
    while date <= last {
        for (start, end) in day_intervals(hours, blackouts, tz, date) {
            let (start, end) = (start.max(from), end.min(to));
            if start >= end {
                continue;
            }
            match out.last_mut() {
                Some(prev) if start <= prev.1 => prev.1 = prev.1.max(end),
                _ => out.push((start, end)),
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    out
}

/// The UTC intervals of one local date's windows, in order.
fn day_intervals(
    hours: &[OpeningWindow],
    blackouts: &[Blackout],
    tz: Tz,
    date: NaiveDate,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    if blackouts.iter().any(|b| b.covers(date)) {
        return Vec::new();
    }
    let all_day = [OpeningWindow {
        weekday: 0,
        opens: ClockTime::MIDNIGHT,
        closes: ClockTime::END_OF_DAY,
    }];
    let weekday = date.weekday().number_from_monday() as u8;
    let windows: Vec<&OpeningWindow> = if hours.is_empty() {
        all_day.iter().collect()
    } else {
        let mut ws: Vec<_> = hours.iter().filter(|w| w.weekday == weekday).collect();
        ws.sort();
        ws
    };
    windows
        .into_iter()
        .filter_map(|w| {
            let start = to_utc(tz, date, w.opens)?;
            let end = to_utc(tz, date, w.closes)?;
            // A window wholly inside a spring-forward gap collapses to nothing.
            (start < end).then_some((start, end))
        })
        .collect()
}

/// A local date and wall-clock time as an instant: the earlier one when the time happens
/// twice, the end of the gap when it does not happen at all.
fn to_utc(tz: Tz, date: NaiveDate, time: ClockTime) -> Option<DateTime<Utc>> {
    let local: NaiveDateTime = if time == ClockTime::END_OF_DAY {
        date.succ_opt()?.and_time(NaiveTime::MIN)
    } else {
        date.and_time(NaiveTime::from_num_seconds_from_midnight_opt(
            u32::from(time.minutes()) * 60,
            0,
        )?)
    };
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return Some(t.with_timezone(&Utc));
    }
    // In a gap: the first local minute that exists is where the gap ends (every transition
    // in the tz database since 1970 falls on a whole minute; gaps are at most a day long).
    (1..=2 * i64::from(MINUTES_PER_DAY))
        .map(|m| local + Duration::minutes(m))
        .find_map(|t| tz.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;

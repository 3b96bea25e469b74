//! When a tariff element is active (OCPI `TariffRestrictions`), and where inside a period that
//! can change, so the engine can cut the period there. Pure.
//!
//! Rules where OCPI 2.2.1 is silent or loose, decided here:
//! - `min_*` bounds are inclusive, `max_*` bounds exclusive (the specification says so for
//!   durations and kWh — "valid from" / "valid until" — and the same reading is used for
//!   current and power, so a 32 A boundary belongs to the `min_current: 32` element).
//! - `start_time == end_time` means the whole day; `start_time > end_time` crosses midnight.
//! - `day_of_week`, dates and times are each checked against the local date-time of the
//!   moment itself: 02:00 on a Tuesday is a Tuesday even inside a Monday 22:00–06:00 window.
//! - A current restriction on a period that reports no current does not match (it cannot be
//!   proven); power falls back to the period's average power.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::ocpi::{DayOfWeek, Tariff, TariffRestrictions};

/// The state of a session at one moment, as restrictions read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    pub local: NaiveDateTime,
    /// Energy delivered since the session started, kWh.
    pub energy_kwh: Decimal,
    /// Seconds since the session started.
    pub elapsed_s: Decimal,
    pub current_a: Option<Decimal>,
    pub power_kw: Decimal,
}

fn at_least(value: Decimal, bound: Option<Decimal>) -> bool {
    bound.is_none_or(|b| value >= b)
}

fn below(value: Decimal, bound: Option<Decimal>) -> bool {
    bound.is_none_or(|b| value < b)
}

fn in_time_window(t: NaiveTime, start: Option<NaiveTime>, end: Option<NaiveTime>) -> bool {
    match (start, end) {
        (None, None) => true,
        (Some(s), None) => t >= s,
        (None, Some(e)) => t < e,
        (Some(s), Some(e)) if s < e => s <= t && t < e,
        (Some(s), Some(e)) if s > e => t >= s || t < e,
        (Some(_), Some(_)) => true,
    }
}

/// Whether every restriction holds at `m` (reservation is the caller's business).
pub fn matches(r: &TariffRestrictions, m: &Moment) -> bool {
    let date = m.local.date();
    let current_ok = match (r.min_current.or(r.max_current), m.current_a) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(_), Some(a)) => at_least(a, r.min_current) && below(a, r.max_current),
    };
    in_time_window(m.local.time(), r.start_time, r.end_time)
        && r.start_date.is_none_or(|d| date >= d)
        && r.end_date.is_none_or(|d| date < d)
        && (r.day_of_week.is_empty() || r.day_of_week.contains(&DayOfWeek::of(date.weekday())))
        && at_least(m.energy_kwh, r.min_kwh)
        && below(m.energy_kwh, r.max_kwh)
        && current_ok
        && at_least(m.power_kw, r.min_power)
        && below(m.power_kw, r.max_power)
        && at_least(m.elapsed_s, r.min_duration.map(Decimal::from))
        && below(m.elapsed_s, r.max_duration.map(Decimal::from))
}

/// Every kWh bound any element uses.
pub fn energy_bounds(tariff: &Tariff) -> Vec<Decimal> {
    restrictions(tariff)
        .flat_map(|r| [r.min_kwh, r.max_kwh])
        .flatten()
        .collect()
}

/// Every duration bound any element uses, seconds.
pub fn duration_bounds(tariff: &Tariff) -> Vec<u64> {
    restrictions(tariff)
        .flat_map(|r| [r.min_duration, r.max_duration])
        .flatten()
        .collect()
}

fn restrictions(tariff: &Tariff) -> impl Iterator<Item = &TariffRestrictions> {
    tariff
        .elements
        .iter()
        .filter_map(|e| e.restrictions.as_ref())
}

/// The local times of day at which some element may switch: midnight (dates, weekdays) and
/// every `start_time`/`end_time`.
pub fn times_of_day(tariff: &Tariff) -> Vec<NaiveTime> {
    let mut times = vec![NaiveTime::MIN];
    times.extend(
        restrictions(tariff)
            .flat_map(|r| [r.start_time, r.end_time])
            .flatten(),
    );
    times.sort();
    times.dedup();
    times
}

/// The instants strictly inside `(from, to)` where the local clock shows one of `times`, plus
/// the instants where the zone's offset changes (a DST night's jump makes a time that does
/// not exist take effect at the jump). Sorted, no duplicates.
pub fn local_boundaries(
    tz: Tz,
    times: &[NaiveTime],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let mut out = offset_changes(tz, from, to);
    let first = tz.from_utc_datetime(&from.naive_utc()).date_naive();
    let last = tz.from_utc_datetime(&to.naive_utc()).date_naive();
    let mut day = first.pred_opt().unwrap_or(first);
    while day <= last.succ_opt().unwrap_or(last) {
        for &t in times {
            let local = day.and_time(t);
            let instants = match tz.from_local_datetime(&local) {
                LocalResult::Single(x) => vec![x],
                LocalResult::Ambiguous(a, b) => vec![a, b],
                LocalResult::None => vec![],
            };
            out.extend(
                instants
                    .into_iter()
                    .map(|x| x.with_timezone(&Utc))
                    .filter(|x| from < *x && *x < to),
            );
        }
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    out.sort();
    out.dedup();
    out
}

/// Where the zone's UTC offset changes inside `(from, to)`, to the second.
fn offset_changes(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    let mut out = Vec::new();
    let mut lo = from;
    while lo < to {
        let hi = (lo + Duration::hours(1)).min(to);
        if offset(lo) != offset(hi) {
            // Binary search for the first second with the new offset.
            let (mut a, mut b) = (lo, hi);
            while b - a > Duration::seconds(1) {
                let mid = a + (b - a) / 2;
                if offset(mid) == offset(a) {
                    a = mid;
                } else {
                    b = mid;
                }
            }
            if from < b && b < to {
                out.push(b);
            }
        }
        lo = hi;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn windows_cross_midnight() {
        let night = (Some(t("22:00")), Some(t("06:00")));
        assert!(in_time_window(t("23:00"), night.0, night.1));
        assert!(in_time_window(t("05:59"), night.0, night.1));
        assert!(!in_time_window(t("06:00"), night.0, night.1));
        assert!(!in_time_window(t("12:00"), night.0, night.1));
        assert!(in_time_window(
            t("12:00"),
            Some(t("08:00")),
            Some(t("08:00"))
        ));
        assert!(in_time_window(
            t("18:00"),
            Some(t("18:00")),
            Some(t("21:00"))
        ));
        assert!(!in_time_window(
            t("21:00"),
            Some(t("18:00")),
            Some(t("21:00"))
        ));
    }

    #[test]
    fn dst_nights_have_their_jump_as_a_boundary() {
        let tz: Tz = "Europe/Amsterdam".parse().unwrap();
        // 2025-03-30: 02:00 CET jumps to 03:00 CEST at 01:00Z; 02:30 does not exist.
        let from = "2025-03-29T23:00:00Z".parse().unwrap();
        let to = "2025-03-30T03:00:00Z".parse().unwrap();
        let cuts = local_boundaries(tz, &[t("02:30")], from, to);
        assert_eq!(
            cuts,
            vec!["2025-03-30T01:00:00Z".parse::<DateTime<Utc>>().unwrap()]
        );
        // 2025-10-26: 02:30 happens twice (00:30Z and 01:30Z), the jump back is at 01:00Z.
        let from = "2025-10-25T23:00:00Z".parse().unwrap();
        let to = "2025-10-26T03:00:00Z".parse().unwrap();
        let cuts: Vec<String> = local_boundaries(tz, &[t("02:30")], from, to)
            .iter()
            .map(|c| c.format("%H:%M").to_string())
            .collect();
        assert_eq!(cuts, ["00:30", "01:00", "01:30"]);
    }
}

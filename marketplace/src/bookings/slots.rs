//! Free slots of one port on one local day: the listing's day (23 or 25 hours on DST days),
//! its open hours, minus the port's live bookings and the time that can no longer be booked.
//! Pure.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::listings::ListingCalendar;

/// `[start, end)` in UTC.
pub type Interval = (DateTime<Utc>, DateTime<Utc>);

/// The UTC bounds of a local calendar day: from its first instant to the next day's.
///
/// Midnight itself is skipped in a few zones on their DST day (the clocks jump 00:00 →
/// 01:00); the day then starts when the gap ends, the same rule the listings calendar uses.
pub fn local_day(tz: Tz, date: NaiveDate) -> Option<Interval> {
    Some((
        first_instant(tz, date)?,
        first_instant(tz, date.succ_opt()?)?,
    ))
}

fn first_instant(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = date.and_time(NaiveTime::MIN);
    // every transition since 1970 falls on a whole minute; gaps are at most a day long
    (0..=24 * 60)
        .map(|m| midnight + Duration::minutes(m))
        .find_map(|t| tz.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
}

/// What can still be booked on `day`: open time from `bookable_from` (now plus the lead
/// time) on, minus `booked` (any order, may overlap), keeping only stretches of at least
/// `min_length` (shorter gaps cannot hold a booking).
pub fn free_slots(
    calendar: &ListingCalendar,
    day: Interval,
    booked: &[Interval],
    bookable_from: DateTime<Utc>,
    min_length: Duration,
) -> Vec<Interval> {
    let from = day.0.max(bookable_from);
    let mut booked: Vec<Interval> = booked.to_vec();
    booked.sort();
    let mut out = Vec::new();
    for (open_start, open_end) in calendar.open_intervals(from, day.1) {
        let mut cursor = open_start;
        for &(b_start, b_end) in &booked {
            if b_end <= cursor || b_start >= open_end {
                continue;
            }
            if b_start > cursor {
                out.push((cursor, b_start));
            }
            cursor = cursor.max(b_end);
            if cursor >= open_end {
                break;
            }
        }
        if cursor < open_end {
            out.push((cursor, open_end));
        }
    }
    out.retain(|(a, b)| *b - *a >= min_length);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listings::{Blackout, ClockTime, OpeningWindow};
    use proptest::prelude::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn always(tz: Tz) -> ListingCalendar {
        ListingCalendar {
            time_zone: tz,
            opening_hours: vec![],
            blackouts: vec![],
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dst_days_have_23_and_25_hours() {
        let tz = chrono_tz::Europe::Amsterdam;
        let (a, b) = local_day(tz, date(2026, 3, 29)).unwrap();
        assert_eq!((a, b), (utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)));
        assert_eq!(b - a, Duration::hours(23));
        let (a, b) = local_day(tz, date(2026, 10, 25)).unwrap();
        assert_eq!(b - a, Duration::hours(25));
        let (a, b) = local_day(tz, date(2026, 6, 1)).unwrap();
        assert_eq!(b - a, Duration::hours(24));
    }

    #[test]
    fn a_day_that_skips_midnight_starts_at_the_end_of_the_gap() {
        // Chile sprang forward at 00:00 on 2022-09-11: the day began at 01:00 -03
        let tz = chrono_tz::America::Santiago;
        let (a, _) = local_day(tz, date(2022, 9, 11)).unwrap();
        assert_eq!(a, utc(2022, 9, 11, 4, 0));
    }

    #[test]
    fn bookings_and_hours_cut_the_day() {
        let mut cal = always(chrono_tz::UTC);
        cal.opening_hours = (1..=7)
            .map(|d| OpeningWindow {
                weekday: d,
                opens: ClockTime::from_minutes(8 * 60).unwrap(),
                closes: ClockTime::from_minutes(20 * 60).unwrap(),
            })
            .collect();
        let day = local_day(chrono_tz::UTC, date(2026, 6, 1)).unwrap();
        let booked = [
            (utc(2026, 6, 1, 12, 0), utc(2026, 6, 1, 13, 0)),
            (utc(2026, 6, 1, 9, 0), utc(2026, 6, 1, 10, 0)),
            (utc(2026, 6, 1, 9, 30), utc(2026, 6, 1, 10, 30)),
            (utc(2026, 6, 1, 13, 0), utc(2026, 6, 1, 13, 10)),
        ];
        let free = free_slots(&cal, day, &booked, day.0, Duration::minutes(15));
        assert_eq!(
            free,
            vec![
                (utc(2026, 6, 1, 8, 0), utc(2026, 6, 1, 9, 0)),
                (utc(2026, 6, 1, 10, 30), utc(2026, 6, 1, 12, 0)),
                (utc(2026, 6, 1, 13, 10), utc(2026, 6, 1, 20, 0)),
            ]
        );
        // from 11:50 on, the 10 minutes left before 12:00 are too short to book
        let later = free_slots(
            &cal,
            day,
            &booked,
            utc(2026, 6, 1, 11, 50),
            Duration::minutes(15),
        );
        assert_eq!(later[0].0, utc(2026, 6, 1, 13, 10));
    }

    #[test]
    fn a_blackout_day_has_no_slots() {
        let mut cal = always(chrono_tz::Europe::Amsterdam);
        cal.blackouts.push(Blackout {
            starts_on: date(2026, 3, 29),
            ends_on: date(2026, 3, 29),
            reason: String::new(),
        });
        let day = local_day(cal.time_zone, date(2026, 3, 29)).unwrap();
        assert!(free_slots(&cal, day, &[], day.0, Duration::minutes(15)).is_empty());
    }

    proptest! {
        #[test]
        fn free_slots_never_touch_a_booking_and_stay_in_the_day(
            raw in prop::collection::vec((0i64..1500, 1i64..300), 0..8),
            from in 0i64..1500,
        ) {
            let cal = always(chrono_tz::Europe::Amsterdam);
            let day = local_day(cal.time_zone, date(2026, 10, 25)).unwrap();
            let booked: Vec<Interval> = raw
                .iter()
                .map(|(s, l)| (day.0 + Duration::minutes(*s), day.0 + Duration::minutes(s + l)))
                .collect();
            let bookable = day.0 + Duration::minutes(from);
            let free = free_slots(&cal, day, &booked, bookable, Duration::minutes(15));
            for w in free.windows(2) {
                prop_assert!(w[0].1 < w[1].0, "sorted and disjoint");
            }
            for (a, b) in &free {
                prop_assert!(*a >= bookable && *a >= day.0 && *b <= day.1);
                prop_assert!(*b - *a >= Duration::minutes(15));
                for (s, e) in &booked {
                    prop_assert!(!(*a < *e && *s < *b), "free overlaps a booking");
                }
            }
        }
    }
}

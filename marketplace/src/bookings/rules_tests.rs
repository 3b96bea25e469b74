use super::*;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use proptest::prelude::*;

use crate::listings::{Blackout, ClockTime, OpeningWindow};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn hm(h: u16, m: u16) -> ClockTime {
    ClockTime::from_minutes(h * 60 + m).unwrap()
}

/// Open 08:00–20:00 every day in `tz`.
fn daily(tz: Tz) -> ListingCalendar {
    ListingCalendar {
        time_zone: tz,
        opening_hours: (1..=7)
            .map(|d| OpeningWindow {
                weekday: d,
                opens: hm(8, 0),
                closes: hm(20, 0),
            })
            .collect(),
        blackouts: vec![],
    }
}

fn fields(r: Result<(), Vec<FieldError>>) -> Vec<String> {
    r.err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.field)
        .collect()
}

#[test]
fn durations_lead_time_and_the_past() {
    let rules = BookingRules {
        lead_time_minutes: 60,
        ..BookingRules::default()
    };
    let cal = daily(chrono_tz::UTC);
    let now = utc(2026, 6, 1, 8, 0);
    let ok = rules.check_slot(
        &cal,
        utc(2026, 6, 1, 10, 0),
        utc(2026, 6, 1, 11, 0),
        now,
        false,
    );
    assert_eq!(ok, Ok(()));
    let check = |s, e| fields(rules.check_slot(&cal, s, e, now, false));
    assert_eq!(
        check(utc(2026, 6, 1, 10, 0), utc(2026, 6, 1, 10, 0)),
        ["end_time"]
    );
    assert_eq!(
        check(utc(2026, 6, 1, 10, 0), utc(2026, 6, 1, 10, 10)),
        ["end_time"]
    );
    assert_eq!(
        check(utc(2026, 6, 2, 8, 0), utc(2026, 6, 2, 20, 1)),
        ["end_time", "end_time"]
    );
    assert_eq!(
        check(utc(2026, 6, 1, 8, 30), utc(2026, 6, 1, 9, 30)),
        ["start_time"]
    );
    assert_eq!(
        check(utc(2026, 5, 31, 10, 0), utc(2026, 5, 31, 11, 0)),
        ["start_time"]
    );
    // 90 days ahead is the limit
    assert_eq!(
        check(utc(2026, 8, 31, 10, 0), utc(2026, 8, 31, 11, 0)),
        ["start_time"]
    );
    // an emergency starts now: no lead time, but at most two hours
    let e = |s, e| fields(rules.check_slot(&cal, s, e, now, true));
    assert!(e(now, utc(2026, 6, 1, 10, 0)).is_empty());
    assert_eq!(e(now, utc(2026, 6, 1, 10, 1)), ["end_time"]);
}

#[test]
fn opening_hours_and_blackouts() {
    let rules = BookingRules::default();
    let mut cal = daily(chrono_tz::Europe::Amsterdam);
    let now = utc(2026, 6, 1, 0, 0);
    let check = |cal: &ListingCalendar, s, e| fields(rules.check_slot(cal, s, e, now, false));
    // summer: 08:00–20:00 local is 06:00–18:00 UTC
    assert!(check(&cal, utc(2026, 6, 2, 6, 0), utc(2026, 6, 2, 18, 0)).is_empty());
    assert_eq!(
        check(&cal, utc(2026, 6, 2, 5, 59), utc(2026, 6, 2, 7, 0)),
        ["start_time"]
    );
    assert_eq!(
        check(&cal, utc(2026, 6, 2, 17, 0), utc(2026, 6, 2, 18, 1)),
        ["end_time"]
    );
    cal.blackouts.push(Blackout {
        starts_on: NaiveDate::from_ymd_opt(2026, 6, 2).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 6, 2).unwrap(),
        reason: "maintenance".into(),
    });
    assert_eq!(
        check(&cal, utc(2026, 6, 2, 8, 0), utc(2026, 6, 2, 9, 0)),
        ["start_time"]
    );
    assert!(check(&cal, utc(2026, 6, 3, 8, 0), utc(2026, 6, 3, 9, 0)).is_empty());
}

#[test]
fn through_midnight_between_two_windows() {
    let rules = BookingRules::default();
    let cal = ListingCalendar {
        time_zone: chrono_tz::UTC,
        opening_hours: (1..=7)
            .flat_map(|d| {
                [
                    OpeningWindow {
                        weekday: d,
                        opens: hm(0, 0),
                        closes: hm(6, 0),
                    },
                    OpeningWindow {
                        weekday: d,
                        opens: hm(22, 0),
                        closes: ClockTime::END_OF_DAY,
                    },
                ]
            })
            .collect(),
        blackouts: vec![],
    };
    let now = utc(2026, 6, 1, 0, 0);
    let r = rules.check_slot(
        &cal,
        utc(2026, 6, 1, 23, 0),
        utc(2026, 6, 2, 5, 0),
        now,
        false,
    );
    assert_eq!(r, Ok(()));
}

#[test]
fn the_skipped_hour_of_a_dst_night_is_not_bookable() {
    // Amsterdam, 29 March 2026: 02:00 → 03:00. Open 01:00–04:00 local is 00:00–02:00 UTC,
    // two real hours; a booking of three hours from 01:00 local does not fit.
    let rules = BookingRules::default();
    let cal = ListingCalendar {
        time_zone: chrono_tz::Europe::Amsterdam,
        opening_hours: vec![OpeningWindow {
            weekday: 7,
            opens: hm(1, 0),
            closes: hm(4, 0),
        }],
        blackouts: vec![],
    };
    let now = utc(2026, 3, 1, 0, 0);
    let two = rules.check_slot(
        &cal,
        utc(2026, 3, 29, 0, 0),
        utc(2026, 3, 29, 2, 0),
        now,
        false,
    );
    assert_eq!(two, Ok(()));
    let three = rules.check_slot(
        &cal,
        utc(2026, 3, 29, 0, 0),
        utc(2026, 3, 29, 3, 0),
        now,
        false,
    );
    assert_eq!(fields(three), ["end_time"]);
}

#[test]
fn extensions() {
    let rules = BookingRules::default();
    let cal = daily(chrono_tz::UTC);
    let (s, e) = (utc(2026, 6, 1, 10, 0), utc(2026, 6, 1, 11, 0));
    let now = utc(2026, 6, 1, 10, 30);
    assert_eq!(
        rules.check_extension(&cal, s, e, utc(2026, 6, 1, 12, 0), now, false),
        Ok(())
    );
    let bad = |new_end, now| fields(rules.check_extension(&cal, s, e, new_end, now, false));
    assert_eq!(bad(e, now), ["end_time"]);
    assert_eq!(bad(utc(2026, 6, 1, 20, 30), now), ["end_time"]);
    assert_eq!(
        bad(utc(2026, 6, 1, 12, 0), utc(2026, 6, 1, 11, 0)),
        ["end_time"]
    );
    // longer than the 12 h maximum in all
    let always = ListingCalendar {
        opening_hours: vec![],
        ..cal.clone()
    };
    let long = rules.check_extension(&always, s, e, utc(2026, 6, 1, 22, 1), now, false);
    assert_eq!(fields(long), ["end_time"]);
}

#[test]
fn arrival_window_never_passes_the_end() {
    let rules = BookingRules::default();
    let (s, e) = (utc(2026, 6, 1, 10, 0), utc(2026, 6, 1, 11, 0));
    assert_eq!(
        rules.arrival_window(s, e),
        (utc(2026, 6, 1, 9, 45), utc(2026, 6, 1, 10, 15))
    );
    let short = BookingRules {
        arrival_grace_minutes: 90,
        ..BookingRules::default()
    };
    assert_eq!(short.arrival_window(s, e).1, e);
}

#[test]
fn rules_validation_names_fields() {
    assert_eq!(
        validate_rules(RulesInput::default()),
        Ok(BookingRules::default())
    );
    let err = validate_rules(RulesInput {
        min_duration_minutes: Some(60),
        max_duration_minutes: Some(30),
        lead_time_minutes: Some(20_000),
        max_advance_days: Some(0),
        arrival_grace_minutes: Some(1),
        refund_tiers: Some(vec![RefundTier {
            min_notice_minutes: 10,
            refund_percent: 120,
        }]),
    })
    .unwrap_err();
    let names: Vec<_> = err.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        names,
        [
            "max_duration_minutes",
            "lead_time_minutes",
            "max_advance_days",
            "arrival_grace_minutes",
            "refund_tiers[0].refund_percent"
        ]
    );
}

proptest! {
    /// A slot the rules accept lies wholly in open time, and within the durations.
    #[test]
    fn accepted_slots_are_open_and_sized(start_min in 0i64..(3 * 24 * 60), len in 1i64..900) {
        let rules = BookingRules::default();
        let cal = daily(chrono_tz::Europe::Amsterdam);
        let now = utc(2026, 3, 28, 0, 0);
        let s = now + Duration::minutes(start_min);
        let e = s + Duration::minutes(len);
        if rules.check_slot(&cal, s, e, now, false).is_ok() {
            prop_assert!((15..=720).contains(&len));
            let mut t = s;
            while t < e {
                prop_assert!(cal.is_open(t), "closed at {t}");
                t += Duration::minutes(1);
            }
        }
    }
}

use super::*;
use chrono_tz::Europe::Berlin;
use proptest::prelude::*;

fn t(text: &str) -> ClockTime {
    ClockTime::parse(text).unwrap()
}

fn w(weekday: u8, opens: &str, closes: &str) -> OpeningWindow {
    OpeningWindow {
        weekday,
        opens: t(opens),
        closes: t(closes),
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn every_day(opens: &str, closes: &str) -> Vec<OpeningWindow> {
    (1..=7).map(|d| w(d, opens, closes)).collect()
}

#[test]
fn clock_time_parses_and_prints() {
    assert_eq!(t("08:05").minutes(), 485);
    assert_eq!(t("24:00"), ClockTime::END_OF_DAY);
    assert_eq!(t("07:30").to_string(), "07:30");
    assert_eq!(ClockTime::END_OF_DAY.to_string(), "24:00");
    for bad in [
        "24:01", "8:00", "08:60", "0800", "ab:cd", "", "+1:00", "08:00:00",
    ] {
        assert_eq!(ClockTime::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn opening_hours_are_checked_and_sorted() {
    let ok = validate_opening_hours(vec![w(2, "13:00", "24:00"), w(2, "08:00", "13:00")]).unwrap();
    assert_eq!(ok[0].opens, t("08:00"));
    let err =
        validate_opening_hours(vec![w(0, "08:00", "09:00"), w(1, "10:00", "10:00")]).unwrap_err();
    let fields: Vec<_> = err.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["[0].weekday", "[1].closes"]);
    let err =
        validate_opening_hours(vec![w(3, "08:00", "12:00"), w(3, "11:00", "14:00")]).unwrap_err();
    assert_eq!(err[0].field, "opening_hours");
    // the same hours on different days do not overlap
    assert!(validate_opening_hours(vec![w(3, "08:00", "12:00"), w(4, "08:00", "12:00")]).is_ok());
}

#[test]
fn blackouts_are_checked() {
    let b = |s: &str, e: &str| Blackout {
        starts_on: date(s),
        ends_on: date(e),
        reason: " Xmas ".into(),
    };
    assert_eq!(
        validate_blackout(b("2026-12-24", "2026-12-26"))
            .unwrap()
            .reason,
        "Xmas"
    );
    assert_eq!(
        validate_blackout(b("2026-12-24", "2026-12-24"))
            .unwrap()
            .ends_on,
        date("2026-12-24")
    );
    assert_eq!(
        validate_blackout(b("2026-12-24", "2026-12-23")).unwrap_err()[0].field,
        "ends_on"
    );
    assert!(validate_blackout(b("2026-01-01", "2027-01-02")).is_err());
}

#[test]
fn no_hours_means_always_open() {
    assert!(is_open(&[], &[], Berlin, utc("2026-03-29T01:30:00Z")));
    let all = open_intervals(
        &[],
        &[],
        Berlin,
        utc("2026-06-01T00:00:00Z"),
        utc("2026-06-08T00:00:00Z"),
    );
    assert_eq!(
        all,
        [(utc("2026-06-01T00:00:00Z"), utc("2026-06-08T00:00:00Z"))]
    );
}

#[test]
fn is_open_uses_local_time() {
    // Monday 2026-06-01, Berlin is UTC+2 in summer.
    let hours = [w(1, "08:00", "20:00")];
    assert!(!is_open(&hours, &[], Berlin, utc("2026-06-01T05:59:59Z")));
    assert!(is_open(&hours, &[], Berlin, utc("2026-06-01T06:00:00Z")));
    assert!(is_open(&hours, &[], Berlin, utc("2026-06-01T17:59:59Z")));
    assert!(!is_open(&hours, &[], Berlin, utc("2026-06-01T18:00:00Z")));
    // Tuesday: no window
    assert!(!is_open(&hours, &[], Berlin, utc("2026-06-02T10:00:00Z")));
}

#[test]
fn windows_merge_across_midnight() {
    // Mon 22:00 – Tue 06:00 local, written as two windows; winter, UTC+1.
    let hours = [w(1, "22:00", "24:00"), w(2, "00:00", "06:00")];
    let got = open_intervals(
        &hours,
        &[],
        Berlin,
        utc("2026-01-05T00:00:00Z"),
        utc("2026-01-07T00:00:00Z"),
    );
    assert_eq!(
        got,
        [(utc("2026-01-05T21:00:00Z"), utc("2026-01-06T05:00:00Z"))]
    );
    assert!(is_open(&hours, &[], Berlin, utc("2026-01-05T23:30:00Z")));
}

#[test]
fn blackouts_close_whole_local_days() {
    let blackouts = [Blackout {
        starts_on: date("2026-12-24"),
        ends_on: date("2026-12-25"),
        reason: String::new(),
    }];
    // 2026-12-23 23:30 UTC is already 00:30 on the 24th in Berlin.
    assert!(!is_open(
        &[],
        &blackouts,
        Berlin,
        utc("2026-12-23T23:30:00Z")
    ));
    assert!(is_open(
        &[],
        &blackouts,
        Berlin,
        utc("2026-12-23T22:59:00Z")
    ));
    let got = open_intervals(
        &[],
        &blackouts,
        Berlin,
        utc("2026-12-23T00:00:00Z"),
        utc("2026-12-28T00:00:00Z"),
    );
    assert_eq!(
        got,
        [
            (utc("2026-12-23T00:00:00Z"), utc("2026-12-23T23:00:00Z")),
            (utc("2026-12-25T23:00:00Z"), utc("2026-12-28T00:00:00Z")),
        ]
    );
}

#[test]
fn spring_forward_day_is_23_hours() {
    // Sunday 2026-03-29: Berlin jumps from 02:00 CET to 03:00 CEST.
    let got = day_intervals(
        &every_day("00:00", "24:00"),
        &[],
        Berlin,
        date("2026-03-29"),
    );
    assert_eq!(
        got,
        [(utc("2026-03-28T23:00:00Z"), utc("2026-03-29T22:00:00Z"))]
    );
    assert_eq!(got[0].1 - got[0].0, Duration::hours(23));
}

#[test]
fn a_window_starting_in_the_gap_opens_when_the_gap_ends() {
    // 02:30 does not exist on 2026-03-29 in Berlin: skipped to 03:00 CEST = 01:00 UTC.
    let hours = [w(7, "02:30", "05:00")];
    let got = open_intervals(
        &hours,
        &[],
        Berlin,
        utc("2026-03-28T00:00:00Z"),
        utc("2026-03-30T00:00:00Z"),
    );
    assert_eq!(
        got,
        [(utc("2026-03-29T01:00:00Z"), utc("2026-03-29T03:00:00Z"))]
    );
    assert!(!is_open(&hours, &[], Berlin, utc("2026-03-29T00:59:59Z")));
    assert!(is_open(&hours, &[], Berlin, utc("2026-03-29T01:00:00Z")));
    // a window wholly inside the gap never opens
    let gap_only = [w(7, "02:10", "02:50")];
    assert!(open_intervals(
        &gap_only,
        &[],
        Berlin,
        utc("2026-03-28T00:00:00Z"),
        utc("2026-03-30T00:00:00Z")
    )
    .is_empty());
}

#[test]
fn fall_back_day_is_25_hours_and_ambiguous_times_take_the_earlier() {
    // Sunday 2026-10-25: Berlin goes from 03:00 CEST back to 02:00 CET.
    let got = day_intervals(&[], &[], Berlin, date("2026-10-25"));
    assert_eq!(
        got,
        [(utc("2026-10-24T22:00:00Z"), utc("2026-10-25T23:00:00Z"))]
    );
    assert_eq!(got[0].1 - got[0].0, Duration::hours(25));

    // 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET): opening takes the first.
    let hours = [w(7, "02:30", "04:00")];
    let got = open_intervals(
        &hours,
        &[],
        Berlin,
        utc("2026-10-24T00:00:00Z"),
        utc("2026-10-26T00:00:00Z"),
    );
    assert_eq!(
        got,
        [(utc("2026-10-25T00:30:00Z"), utc("2026-10-25T03:00:00Z"))]
    );
    // the repeated hour is inside the window, once as CEST and once as CET
    assert!(is_open(&hours, &[], Berlin, utc("2026-10-25T01:15:00Z")));
    // closing at an ambiguous time also takes the earlier instant
    let hours = [w(7, "01:00", "02:30")];
    let got = open_intervals(
        &hours,
        &[],
        Berlin,
        utc("2026-10-24T00:00:00Z"),
        utc("2026-10-26T00:00:00Z"),
    );
    assert_eq!(
        got,
        [(utc("2026-10-24T23:00:00Z"), utc("2026-10-25T00:30:00Z"))]
    );
}

#[test]
fn intervals_are_clipped_to_the_range() {
    let hours = [w(1, "08:00", "20:00")];
    let got = open_intervals(
        &hours,
        &[],
        Berlin,
        utc("2026-06-01T10:00:00Z"),
        utc("2026-06-01T12:00:00Z"),
    );
    assert_eq!(
        got,
        [(utc("2026-06-01T10:00:00Z"), utc("2026-06-01T12:00:00Z"))]
    );
    assert!(open_intervals(
        &hours,
        &[],
        Berlin,
        utc("2026-06-01T12:00:00Z"),
        utc("2026-06-01T12:00:00Z")
    )
    .is_empty());
}

fn arb_hours() -> impl Strategy<Value = Vec<OpeningWindow>> {
    prop::collection::vec((1u8..=7, 0u16..1440, 1u16..=1440), 0..6).prop_map(|raw| {
        let windows: Vec<_> = raw
            .into_iter()
            .map(|(d, a, len)| OpeningWindow {
                weekday: d,
                opens: ClockTime(a),
                closes: ClockTime((a + len).min(MINUTES_PER_DAY)),
            })
            .filter(|w| w.closes > w.opens)
            .collect();
        // keep only a non-overlapping subset, as validation would demand
        let mut kept: Vec<OpeningWindow> = Vec::new();
        for w in windows {
            if !kept
                .iter()
                .any(|k| k.weekday == w.weekday && w.opens < k.closes && k.opens < w.closes)
            {
                kept.push(w);
            }
        }
        kept
    })
}

proptest! {
    /// is_open and open_intervals agree at every instant, DST days included.
    #[test]
    fn is_open_matches_open_intervals(
        hours in arb_hours(),
        zone in prop::sample::select(vec!["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]),
        start_min in 0i64..(400 * 24 * 60),
        probes in prop::collection::vec(0i64..(3 * 24 * 60), 1..20),
    ) {
        let tz: Tz = zone.parse().unwrap();
        let from = utc("2026-01-01T00:00:00Z") + Duration::minutes(start_min);
        let to = from + Duration::days(3);
        let intervals = open_intervals(&hours, &[], tz, from, to);
        for pair in intervals.windows(2) {
            prop_assert!(pair[0].1 < pair[1].0, "sorted and merged: {:?}", pair);
        }
        for p in probes {
            let at = from + Duration::minutes(p) + Duration::seconds(17);
            let inside = intervals.iter().any(|(s, e)| *s <= at && at < *e);
            prop_assert_eq!(inside, is_open(&hours, &[], tz, at), "at {}", at);
        }
    }
}

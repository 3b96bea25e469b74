//! From a session's register readings to the periods the price engine bills. Pure.
//!
//! Rules (decisions where the issue is silent):
//! - Readings are ordered by the station's timestamp, never by arrival, so offline events
//!   replayed in any order give the same session. Two readings of one instant: the larger.
//! - A drop in the register is a meter reset (or a meter swap): the new reading is the new
//!   base, and the interval that contains the reset counts no energy — nothing can tell how
//!   much flowed before the reset, and the driver is not billed for a guess.
//! - Missing samples: the energy between two readings is spread evenly over the time between
//!   them that was not paused (the engine cuts such a period at tariff boundaries pro rata).
//! - Readings before the session's start or after its end count at the start or the end:
//!   the reading nearest the start is the base; energy before the start is not the driver's.
//! - Time is charging (OCPI TIME) where the register moved, idle (PARKING_TIME: connected,
//!   not charging) where it did not. Paused time (a 0 A profile the driver asked for) is
//!   idle and gets none of the energy between two readings (it goes to the interval's
//!   unpaused time); a reading interval paused throughout (a station ramping down) still
//!   bills what the meter counted, as energy. Before the first reading: idle.
//! - After the last reading: idle for an ended session (the Ended event carries the last
//!   reading, so this is normally nothing); for a running session the last interval's kind
//!   continues until now ([`Tail::Continuing`]), so a time tariff's running cost grows
//!   between samples.
//! - A reading outside `0 ..= bounds::MAX_ENERGY_WH` is ignored (the CSMS never stores one;
//!   older rows might hold one): that bound, and millisecond times, keep every sum and
//!   product below `Decimal::MAX`, so nothing here can overflow (property-tested).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::bounds::MAX_ENERGY_WH;
use crate::tariffs::model::{hours_between, Period, Session};

/// A register reading this module counts (see the module rules).
fn counts(wh: Decimal) -> bool {
    Decimal::ZERO <= wh && wh <= MAX_ENERGY_WH
}

/// One reading of `Energy.Active.Import.Register`, in Wh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub at: DateTime<Utc>,
    pub wh: Decimal,
}

/// A pause asked for by the driver; `to` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

/// How the time after the last reading counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// The session ended: idle.
    Idle,
    /// The session runs: as the last interval between readings did.
    Continuing,
}

/// A session cut into billable periods, with its time split three ways (milliseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdown {
    pub session: Session,
    pub energy_wh: Decimal,
    pub charging_ms: i64,
    pub idle_ms: i64,
    pub paused_ms: i64,
}

/// Energy delivered since the first reading, at each reading instant, in time order, meter
/// resets applied (see the module rules). Negative and implausible readings are ignored.
pub fn delivered(readings: &[Reading]) -> Vec<(DateTime<Utc>, Decimal)> {
    let mut sorted: Vec<Reading> = readings.iter().copied().filter(|r| counts(r.wh)).collect();
    sorted.sort_by(|a, b| a.at.cmp(&b.at).then(a.wh.cmp(&b.wh)));
    // one reading per instant: the largest (sorted last)
    sorted.dedup_by(|later, earlier| {
        if later.at == earlier.at {
            earlier.wh = later.wh;
            true
        } else {
            false
        }
    });
    let mut out = Vec::with_capacity(sorted.len());
    let mut total = Decimal::ZERO;
    let mut previous: Option<Decimal> = None;
    for r in sorted {
        if let Some(p) = previous {
            if r.wh >= p {
                total += r.wh - p;
            }
        }
        previous = Some(r.wh);
        out.push((r.at, total));
    }
    out
}

/// Energy delivered over all the readings, in Wh.
pub fn energy_wh(readings: &[Reading]) -> Decimal {
    delivered(readings).last().map_or(Decimal::ZERO, |p| p.1)
}

/// The energy delivered once `fresh` readings follow stored ones that delivered `total`,
/// the latest of them `last`, all inside the session: `None` unless every fresh reading is
/// later than `last` and `last` counts (then only a recount of all of them is right). Spares
/// a running session's every MeterValues a read of all its readings.
pub fn extend(total: Decimal, last: Option<Reading>, fresh: &[Reading]) -> Option<Decimal> {
    if let Some(l) = last {
        if !counts(l.wh) || fresh.iter().any(|r| r.at <= l.at) {
            return None;
        }
    }
    let joined: Vec<Reading> = last.into_iter().chain(fresh.iter().copied()).collect();
    Some(total + energy_wh(&joined))
}

/// The billable session from `start` to `end` (an ended session's end, or now).
pub fn breakdown(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    readings: &[Reading],
    pauses: &[Pause],
    tail: Tail,
) -> Breakdown {
    let end = end.max(start);
    // delivered energy at instants clamped into [start, end]; nondecreasing, so the last
    // one of a clamped instant is the largest
    let mut points: Vec<(DateTime<Utc>, Decimal)> = Vec::new();
    for (at, wh) in delivered(readings) {
        let at = at.clamp(start, end);
        match points.last_mut() {
            Some(last) if last.0 == at => last.1 = wh,
            _ => points.push((at, wh)),
        }
    }
    let mut cuts: Vec<DateTime<Utc>> = vec![start, end];
    cuts.extend(points.iter().map(|p| p.0));
    for p in pauses {
        cuts.push(p.from.clamp(start, end));
        cuts.push(p.to.unwrap_or(end).clamp(start, end));
    }
    cuts.sort();
    cuts.dedup();

    let base = points.first().map_or(Decimal::ZERO, |p| p.1);
    let first_at = points.first().map(|p| p.0);
    let last_at = points.last().map(|p| p.0);
    let mut periods: Vec<Period> = Vec::new();
    let (mut charging_ms, mut idle_ms, mut paused_ms) = (0i64, 0i64, 0i64);
    let mut last_kind_charging = false;
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        // delivered energy never falls; two interpolations of huge readings can differ by a
        // rounding step of the 28-digit decimal, which must not become a negative volume
        let energy_wh = (at(&points, pauses, b) - at(&points, pauses, a)).max(Decimal::ZERO);
        let paused = pauses
            .iter()
            .any(|p| p.from <= a && p.to.unwrap_or(end) >= b);
        let before_first = first_at.is_none_or(|f| b <= f);
        let after_last = last_at.is_some_and(|l| a >= l);
        let charging = if paused {
            false
        } else if energy_wh > Decimal::ZERO {
            true
        } else if after_last {
            tail == Tail::Continuing && last_kind_charging
        } else {
            false
        };
        if !after_last && !before_first && !paused {
            last_kind_charging = charging;
        }
        let ms = (b - a).num_milliseconds();
        let hours = hours_between(a, b);
        // saturating: i64 milliseconds overflow only past ±292 million years of session
        let mut period = Period {
            start: a,
            energy_kwh: energy_wh / Decimal::from(1000),
            ..Period::default()
        };
        if charging {
            period.charging_hours = hours;
            charging_ms = charging_ms.saturating_add(ms);
        } else {
            period.parking_hours = hours;
            if paused {
                paused_ms = paused_ms.saturating_add(ms);
            } else {
                idle_ms = idle_ms.saturating_add(ms);
            }
        }
        periods.push(period);
    }
    let energy_wh = points.last().map_or(Decimal::ZERO, |p| p.1) - base;
    Breakdown {
        session: Session {
            start,
            end,
            periods,
        },
        energy_wh,
        charging_ms,
        idle_ms,
        paused_ms,
    }
}

/// Delivered energy at `t`: flat before the first reading and after the last, exact at
/// every reading (so a period's parts always add up to the period), and in between spread
/// evenly over the time that was not paused — a 0 A profile lets nothing through — or over
/// the whole interval when all of it was paused.
fn at(points: &[(DateTime<Utc>, Decimal)], pauses: &[Pause], t: DateTime<Utc>) -> Decimal {
    let Some(first) = points.first() else {
        return Decimal::ZERO;
    };
    if t <= first.0 {
        return first.1;
    }
    let i = points.partition_point(|p| p.0 <= t);
    let (t0, c0) = points[i - 1];
    if t0 == t || i == points.len() {
        return c0;
    }
    let (t1, c1) = points[i];
    let (part, whole) = match (active_ms(pauses, t0, t), active_ms(pauses, t0, t1)) {
        (_, 0) => ((t - t0).num_milliseconds(), (t1 - t0).num_milliseconds()),
        active => active,
    };
    if whole == 0 {
        // readings less than a millisecond apart: the earlier one holds until the later
        return c0;
    }
    let (delta, part, whole) = (c1 - c0, Decimal::from(part), Decimal::from(whole));
    // exact when the product fits (≤ 10^12 Wh × 3.2·10^12 ms in this century always does);
    // over millennia-long intervals the fraction first, a rounding in the 28th digit
    let spread = match delta.checked_mul(part) {
        Some(product) => product / whole,
        None => delta * (part / whole),
    };
    c0 + spread
}

/// Milliseconds of `[a, b)` outside every pause; overlapping pauses (a station may send
/// the same 0 A profile twice) count once, or the paused share could exceed the interval.
fn active_ms(pauses: &[Pause], a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = pauses
        .iter()
        .map(|p| (p.from.max(a), p.to.unwrap_or(b).min(b)))
        .filter(|(from, to)| from < to)
        .collect();
    spans.sort();
    let mut paused = 0i64;
    let mut covered_to: Option<DateTime<Utc>> = None;
    for (from, to) in spans {
        let from = covered_to.map_or(from, |c| from.max(c));
        if to > from {
            paused = paused.saturating_add((to - from).num_milliseconds());
            covered_to = Some(to);
        }
    }
    (b - a).num_milliseconds().saturating_sub(paused).max(0)
}

/// Average power over the last interval between energy readings, in W.
pub fn average_power_w(readings: &[Reading]) -> Option<Decimal> {
    let points = delivered(readings);
    let [.., (t0, c0), (t1, c1)] = points.as_slice() else {
        return None;
    };
    let hours = hours_between(*t0, *t1);
    (hours > Decimal::ZERO).then(|| ((c1 - c0) / hours).round_dp(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        "2027-01-04T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::minutes(min)
    }

    fn r(min: i64, wh: i64) -> Reading {
        Reading {
            at: t(min),
            wh: Decimal::from(wh),
        }
    }

    #[test]
    fn a_pause_sent_twice_counts_once() {
        // 0 → 6000 Wh over an hour, paused for its last half (twice, overlapping)
        let readings = [r(0, 0), r(60, 6000)];
        let once = [Pause {
            from: t(30),
            to: None,
        }];
        let twice = [
            Pause {
                from: t(30),
                to: None,
            },
            Pause {
                from: t(20),
                to: Some(t(40)),
            },
            Pause {
                from: t(30),
                to: None,
            },
        ];
        let kwh = |pauses: &[Pause]| -> Vec<Decimal> {
            let b = breakdown(t(0), t(60), &readings, pauses, Tail::Idle);
            b.session.periods.iter().map(|p| p.energy_kwh).collect()
        };
        assert_eq!(kwh(&once), [Decimal::from(6), Decimal::ZERO]);
        let sum: Decimal = kwh(&twice).into_iter().sum();
        assert_eq!(sum, Decimal::from(6));
    }

    #[test]
    fn resets_start_a_new_base_and_order_is_by_time() {
        // 1000 → 3000, reset to 0 between 20 and 30, then 0 → 4000
        let readings = [
            r(30, 500),
            r(0, 1000),
            r(40, 4000),
            r(10, 2000),
            r(20, 3000),
        ];
        let d = delivered(&readings);
        let wh: Vec<i64> = d.iter().map(|p| p.1.try_into().unwrap()).collect();
        assert_eq!(wh, vec![0, 1000, 2000, 2000, 5500]);
        assert_eq!(energy_wh(&readings), Decimal::from(5500));
    }

    #[test]
    fn one_instant_keeps_the_larger_reading() {
        let d = delivered(&[r(0, 0), r(10, 900), r(10, 1000)]);
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].1, Decimal::from(1000));
    }

    #[test]
    fn time_splits_into_charging_idle_and_paused() {
        // charging 0-20, pause 20-30 (no energy), charging 30-40, idle 40-50
        let readings = [r(0, 0), r(20, 4000), r(30, 4000), r(40, 6000), r(50, 6000)];
        let pauses = [Pause {
            from: t(20),
            to: Some(t(30)),
        }];
        let b = breakdown(t(0), t(50), &readings, &pauses, Tail::Idle);
        assert_eq!(b.energy_wh, Decimal::from(6000));
        assert_eq!(b.charging_ms, 30 * 60_000);
        assert_eq!(b.paused_ms, 10 * 60_000);
        assert_eq!(b.idle_ms, 10 * 60_000);
        b.session.validate().unwrap();
        let kwh: Decimal = b.session.periods.iter().map(|p| p.energy_kwh).sum();
        assert_eq!(kwh, Decimal::from(6));
    }

    #[test]
    fn a_pause_inside_a_reading_interval_gets_none_of_its_energy() {
        let readings = [r(0, 0), r(60, 6000)];
        let pauses = [Pause {
            from: t(30),
            to: Some(t(45)),
        }];
        let b = breakdown(t(0), t(60), &readings, &pauses, Tail::Idle);
        let energy: Vec<Decimal> = b.session.periods.iter().map(|p| p.energy_kwh).collect();
        assert_eq!(
            energy,
            vec![Decimal::from(4), Decimal::ZERO, Decimal::from(2)]
        );
        assert_eq!(b.paused_ms, 15 * 60_000);
        assert_eq!(b.charging_ms, 45 * 60_000);
        // a reading interval paused throughout still bills what the meter counted
        let all = [Pause {
            from: t(0),
            to: None,
        }];
        let b = breakdown(t(0), t(60), &readings, &all, Tail::Idle);
        assert_eq!(b.energy_wh, Decimal::from(6000));
        assert_eq!(b.paused_ms, 60 * 60_000);
    }

    #[test]
    fn readings_outside_the_session_count_at_its_edges() {
        // the meter read 1000 a minute before the start: that is the base
        let readings = [r(-2, 500), r(-1, 1000), r(30, 3000), r(61, 3500)];
        let b = breakdown(t(0), t(60), &readings, &[], Tail::Idle);
        assert_eq!(b.energy_wh, Decimal::from(2500));
        assert_eq!(b.session.end, t(60));
        b.session.validate().unwrap();
    }

    #[test]
    fn a_running_session_continues_its_last_kind() {
        let readings = [r(0, 0), r(10, 2000)];
        let b = breakdown(t(0), t(15), &readings, &[], Tail::Continuing);
        assert_eq!(b.charging_ms, 15 * 60_000);
        let b = breakdown(t(0), t(15), &readings, &[], Tail::Idle);
        assert_eq!(b.charging_ms, 10 * 60_000);
        assert_eq!(b.idle_ms, 5 * 60_000);
        // no readings at all: idle, no energy
        let b = breakdown(t(0), t(15), &[], &[], Tail::Continuing);
        assert_eq!((b.charging_ms, b.idle_ms), (0, 15 * 60_000));
        assert_eq!(b.energy_wh, Decimal::ZERO);
    }

    proptest::proptest! {
        #[test]
        fn extending_in_time_order_matches_a_recount(
            steps in proptest::collection::vec((1i64..30, -50i64..5000), 0..40),
            split in 0usize..40,
        ) {
            let mut at = 0;
            let readings: Vec<Reading> = steps
                .iter()
                .map(|&(gap, wh)| {
                    at += gap;
                    r(at, wh)
                })
                .collect();
            let (stored, fresh) = readings.split_at(split.min(readings.len()));
            let last = stored.iter().rev().find(|x| !x.wh.is_sign_negative()).copied();
            let extended = extend(energy_wh(stored), last, fresh);
            proptest::prop_assert_eq!(extended, Some(energy_wh(&readings)));
        }
    }

    /// Any Decimal, MAX and MIN included.
    fn any_decimal() -> impl proptest::strategy::Strategy<Value = Decimal> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Decimal::MAX),
            Just(Decimal::MIN),
            Just(MAX_ENERGY_WH),
            (0i64..5_000).prop_map(Decimal::from),
            (
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
                any::<bool>(),
                0u32..=28
            )
                .prop_map(|(lo, mid, hi, neg, scale)| Decimal::from_parts(lo, mid, hi, neg, scale)),
        ]
    }

    /// Any instant chrono can hold, or one near 2027.
    fn any_instant() -> impl proptest::strategy::Strategy<Value = DateTime<Utc>> {
        use proptest::prelude::*;
        let (lo, hi) = (
            DateTime::<Utc>::MIN_UTC.timestamp_millis(),
            DateTime::<Utc>::MAX_UTC.timestamp_millis(),
        );
        prop_oneof![
            Just(DateTime::<Utc>::MIN_UTC),
            Just(DateTime::<Utc>::MAX_UTC),
            (lo..=hi).prop_map(|ms| DateTime::from_timestamp_millis(ms).unwrap()),
            (0i64..600).prop_map(t),
        ]
    }

    /// A session's own start and end: station timestamps outside 2000..2100 are refused
    /// before they reach a session (`csms::ocpp::handlers::transactions::bounds`), and the
    /// server's clock is inside too. Readings stay any instant.
    fn plausible_instant() -> impl proptest::strategy::Strategy<Value = DateTime<Utc>> {
        use proptest::prelude::*;
        (946_684_800_000i64..4_102_444_800_000)
            .prop_map(|ms| DateTime::from_timestamp_millis(ms).unwrap())
    }

    proptest::proptest! {
        /// Extreme readings (any Decimal, any instant, pauses anywhere) never panic: energy
        /// is never negative, never more than the plausible readings can deliver, and the
        /// periods always form a valid session whose energy adds up.
        #[test]
        fn extreme_readings_never_panic_and_stay_bounded(
            raw in proptest::collection::vec((any_instant(), any_decimal()), 0..12),
            edges in (plausible_instant(), plausible_instant()),
            pauses in proptest::collection::vec((any_instant(), proptest::option::of(any_instant())), 0..3),
            continuing in proptest::bool::ANY,
        ) {
            let readings: Vec<Reading> = raw.iter().map(|&(at, wh)| Reading { at, wh }).collect();
            let pauses: Vec<Pause> = pauses.iter().map(|&(from, to)| Pause { from, to }).collect();
            let plausible = readings.iter().filter(|r| counts(r.wh)).count();
            let ceiling = MAX_ENERGY_WH * Decimal::from(plausible.max(1));
            let total = energy_wh(&readings);
            proptest::prop_assert!(Decimal::ZERO <= total && total <= ceiling);
            let d = delivered(&readings);
            proptest::prop_assert!(d.windows(2).all(|w| w[0].1 <= w[1].1));
            let tail = if continuing { Tail::Continuing } else { Tail::Idle };
            let (start, end) = (edges.0.min(edges.1), edges.0.max(edges.1));
            let b = breakdown(start, end, &readings, &pauses, tail);
            proptest::prop_assert!(Decimal::ZERO <= b.energy_wh && b.energy_wh <= total);
            proptest::prop_assert!(b.charging_ms >= 0 && b.idle_ms >= 0 && b.paused_ms >= 0);
            proptest::prop_assert!(b.session.validate().is_ok());
            let kwh: Decimal = b.session.periods.iter().map(|p| p.energy_kwh).sum();
            proptest::prop_assert!((kwh * Decimal::from(1000) - b.energy_wh).abs() < Decimal::new(1, 6));
            let _ = average_power_w(&readings);
            let _ = extend(total, readings.last().copied(), &readings);
        }
    }

    #[test]
    fn extending_refuses_what_a_recount_must_decide() {
        // a fresh reading not after the stored last one, or a last one that does not count
        assert_eq!(extend(Decimal::ZERO, Some(r(10, 100)), &[r(10, 200)]), None);
        assert_eq!(
            extend(Decimal::ZERO, Some(r(10, 100)), &[r(20, 300), r(5, 0)]),
            None
        );
        assert_eq!(extend(Decimal::ZERO, Some(r(10, -1)), &[r(20, 300)]), None);
        assert_eq!(
            extend(
                Decimal::from(50),
                Some(r(10, 100)),
                &[r(20, 300), r(30, 250)]
            ),
            Some(Decimal::from(250)),
            "a drop is a reset: the interval holding it counts nothing"
        );
    }

    #[test]
    fn average_power_of_the_last_interval() {
        assert_eq!(
            average_power_w(&[r(0, 0), r(30, 5500)]),
            Some(Decimal::from(11000))
        );
        assert_eq!(average_power_w(&[r(0, 0)]), None);
    }
}

//! Property tests at the session level: the bill does not depend on how the station batched,
//! ordered or repeated its meter samples, nor on samples missing from a steady charge; a
//! bill's total is the sum of its lines (to the cent) and splits exactly; the time split
//! always adds up to the session.

use chrono::{DateTime, Duration, Utc};
use marketplace::sessions::energy::{self, Pause, Reading, Tail};
use marketplace::tariffs::model::to_minor_units;
use marketplace::tariffs::peak_night::SimpleSettings;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::support::{bill_of, d, settings, t0};

/// Runs of whole minutes at a steady power: (minutes, Wh per minute; 0 = connected, idle).
fn runs() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec(
        (1i64..40, prop_oneof![1 => Just(0i64), 3 => 1i64..400]),
        1..12,
    )
}

/// One reading a minute over the runs, from a register starting at `base`.
fn minute_readings(runs: &[(i64, i64)], base: i64) -> Vec<Reading> {
    let mut out = vec![Reading {
        at: t0(),
        wh: Decimal::from(base),
    }];
    let (mut minute, mut wh) = (0, base);
    for &(len, per) in runs {
        for _ in 0..len {
            minute += 1;
            wh += per;
            out.push(Reading {
                at: t0() + Duration::minutes(minute),
                wh: Decimal::from(wh),
            });
        }
    }
    out
}

fn end_of(readings: &[Reading]) -> DateTime<Utc> {
    readings.last().unwrap().at
}

fn simple_settings() -> impl Strategy<Value = SimpleSettings> {
    (
        500u32..=10_000,
        0u32..=500,
        0u32..=1000,
        prop::sample::select(vec!["1", "1.5", "2"]),
    )
        .prop_map(|(kwh, hour, idle, peak)| SimpleSettings {
            price_per_kwh: Decimal::new(kwh.into(), 4),
            price_per_hour: Decimal::new(hour.into(), 2),
            idle_fee_per_hour: Decimal::new(idle.into(), 2),
            peak_multiplier: d(peak),
            ..settings()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// However the station batched its samples into events, in whatever order the events
    /// arrived, and however often a retried event repeated them: the same session and bill.
    #[test]
    fn arrival_order_batching_and_retries_never_change_the_bill(
        runs in runs(),
        base in 0i64..1_000_000,
        order in prop::collection::vec(any::<u32>(), 1..200),
        repeats in prop::collection::vec(0usize..400, 0..20),
        s in simple_settings(),
    ) {
        let readings = minute_readings(&runs, base);
        let end = end_of(&readings);
        // events: consecutive batches, shuffled by the `order` keys, some sent again
        let mut batches: Vec<(u32, Vec<Reading>)> = readings
            .chunks(3)
            .zip(order.iter().cycle())
            .map(|(c, k)| (*k, c.to_vec()))
            .collect();
        batches.sort_by_key(|b| b.0);
        let mut arrived: Vec<Reading> = batches.into_iter().flat_map(|b| b.1).collect();
        for i in repeats {
            arrived.push(readings[i % readings.len()]);
        }
        let a = energy::breakdown(t0(), end, &readings, &[], Tail::Idle);
        let b = energy::breakdown(t0(), end, &arrived, &[], Tail::Idle);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(bill_of(&s, &a), bill_of(&s, &b));
    }

    /// Samples missing from a steady charge (the station sampled less often, or messages were
    /// lost) change nothing: the energy between the samples left is spread evenly, exactly as
    /// it flowed.
    #[test]
    fn missing_samples_of_a_steady_charge_never_change_the_bill(
        runs in runs(),
        drop in prop::collection::vec(any::<bool>(), 0..400),
    ) {
        let readings = minute_readings(&runs, 0);
        let end = end_of(&readings);
        // keep the first and last reading of every run (where the power changes)
        let mut edges = vec![0i64];
        for &(len, _) in &runs {
            edges.push(edges.last().unwrap() + len);
        }
        let kept: Vec<Reading> = readings
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                edges.contains(&(*i as i64)) || !drop.get(*i).copied().unwrap_or(false)
            })
            .map(|(_, r)| *r)
            .collect();
        let full = energy::breakdown(t0(), end, &readings, &[], Tail::Idle);
        let sparse = energy::breakdown(t0(), end, &kept, &[], Tail::Idle);
        prop_assert_eq!(full.energy_wh, sparse.energy_wh);
        prop_assert_eq!(
            (full.charging_ms, full.idle_ms),
            (sparse.charging_ms, sparse.idle_ms)
        );
        let s = settings();
        prop_assert_eq!(bill_of(&s, &full), bill_of(&s, &sparse));
    }

    /// For any readings (resets and stray readings outside the session included) and pauses:
    /// the periods are valid, time splits into charging + idle + paused exactly, energy is
    /// never negative, and the bill's total is the sum of its lines in cents and splits into
    /// commission + host share + insurance + tax exactly.
    #[test]
    fn totals_are_the_sum_of_the_lines_and_time_adds_up(
        raw in prop::collection::vec((-30i64..300, 0i64..50_000), 0..40),
        pauses in prop::collection::vec((0i64..240, 1i64..60), 0..4),
        length in 1i64..240,
        start_hour in 0u32..24,
        s in simple_settings(),
    ) {
        let start = t0() + Duration::hours(i64::from(start_hour));
        let end = start + Duration::minutes(length);
        let readings: Vec<Reading> = raw
            .iter()
            .map(|&(m, wh)| Reading { at: start + Duration::minutes(m), wh: Decimal::from(wh) })
            .collect();
        // pauses never overlap: each starts where the previous one could have ended
        let mut from = start;
        let pauses: Vec<Pause> = pauses
            .iter()
            .map(|&(gap, len)| {
                let p = Pause {
                    from: from + Duration::minutes(gap % 30),
                    to: Some(from + Duration::minutes(gap % 30 + len)),
                };
                from = p.to.unwrap();
                p
            })
            .collect();
        let b = energy::breakdown(start, end, &readings, &pauses, Tail::Idle);
        prop_assert!(b.session.validate().is_ok());
        prop_assert_eq!(b.charging_ms + b.idle_ms + b.paused_ms, (end - start).num_milliseconds());
        prop_assert!(b.energy_wh >= Decimal::ZERO);
        let bill = bill_of(&s, &b);
        let lines: Decimal = bill.lines.iter().map(|l| l.amount).sum();
        prop_assert_eq!(lines, bill.total);
        let cents: i64 = bill.lines.iter().map(|l| to_minor_units(l.amount, "EUR")).sum();
        prop_assert_eq!(cents, to_minor_units(bill.total, "EUR"));
        let sp = &bill.split;
        prop_assert_eq!(sp.platform_commission + sp.host_share + sp.insurance_reserve + sp.tax, bill.total);
    }
}

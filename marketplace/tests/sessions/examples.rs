//! Worked examples, priced by hand: a meter reset mid-session, offline events arriving out of
//! order, paused time, a session crossing the evening peak. Pure (no database).

use marketplace::sessions::energy::{self, Pause, Reading, Tail};
use marketplace::tariffs::peak_night::SimpleSettings;
use rust_decimal::Decimal;

use super::support::{at, bill_of, d, lines, settings, t0, utc};

fn r(min: i64, wh: i64) -> Reading {
    Reading {
        at: at(min),
        wh: Decimal::from(wh),
    }
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
}

/// 08:00–09:00 UTC. The register counts 1000 → 6000 Wh, the meter is reset (reads 200 at
/// 08:20), counts on to 3200, the driver pauses 08:30–08:40, it charges to 5200 by 08:50
/// and stays connected until the end.
///
/// Energy: 5000 + 0 (the reset interval counts nothing) + 3000 + 2000 = 10 kWh.
/// Charging: 08:00–08:15, 08:20–08:30, 08:40–08:50 = 35 min. Idle: 08:15–08:20 (reset
/// interval, meter did not move from the new base) and 08:50–09:00 = 15 min; paused 10 min.
///
/// Net: energy 10 × 0.30 = 3.00; time 35/60 × 2.00 = 1.1667; idle + paused 25 min × 6.00/h
/// = 2.50. With 21 % VAT, each line rounded once: 3.63, 1.41, 3.03 (3.025 half-up), and the
/// 0.50 insurance fee: 8.57.
#[test]
fn meter_reset_and_pause() {
    let readings = [
        r(0, 1000),
        r(15, 6000),
        r(20, 200),
        r(30, 3200),
        r(40, 3200),
        r(50, 5200),
        r(60, 5200),
    ];
    let pauses = [Pause {
        from: at(30),
        to: Some(at(40)),
    }];
    let b = energy::breakdown(t0(), at(60), &readings, &pauses, Tail::Idle);
    assert_eq!(b.energy_wh, Decimal::from(10_000));
    assert_eq!(b.charging_ms, 35 * 60_000);
    assert_eq!(b.idle_ms, 15 * 60_000);
    assert_eq!(b.paused_ms, 10 * 60_000);
    let bill = bill_of(&settings(), &b);
    assert_eq!(
        lines(&bill),
        pairs(&[
            ("energy", "3.63"),
            ("time", "1.41"),
            ("parking", "3.03"),
            ("fee", "0.50")
        ])
    );
    assert_eq!(bill.total, d("8.57"));
    // VAT inside 8.07 of charging: 1.40; commission 20 % of 6.67 rounded down: 1.33
    assert_eq!(bill.tax.tax_amount, d("1.40"));
    assert_eq!(bill.split.platform_commission, d("1.33"));
    assert_eq!(bill.split.host_share, d("5.34"));
}

/// An offline station replays its queue: the same readings in any arrival order, some twice,
/// give the same session and the same bill as in order.
#[test]
fn out_of_order_offline_events() {
    let in_order = [r(0, 0), r(10, 2000), r(20, 4000), r(30, 4000), r(40, 7000)];
    let replayed = [
        r(40, 7000),
        r(20, 4000),
        r(0, 0),
        r(30, 4000),
        r(20, 4000),
        r(10, 2000),
    ];
    let a = energy::breakdown(t0(), at(40), &in_order, &[], Tail::Idle);
    let b = energy::breakdown(t0(), at(40), &replayed, &[], Tail::Idle);
    assert_eq!(a, b);
    // 7 kWh = 2.10 → 2.54; charging 30 min = 1.00 → 1.21; idle 10 min = 1.00 → 1.21; + 0.50
    let bill = bill_of(&settings(), &b);
    assert_eq!(
        lines(&bill),
        pairs(&[
            ("energy", "2.54"),
            ("time", "1.21"),
            ("parking", "1.21"),
            ("fee", "0.50")
        ])
    );
    assert_eq!(bill.total, d("5.46"));
}

/// Paused time is idle time, reported apart: a 20-minute pause in a steady 11 kW charge.
#[test]
fn paused_time_is_tracked_apart() {
    // 11 kW: 183.33 Wh a minute; samples every 10 minutes, none while paused (20–40)
    let readings = [r(0, 0), r(10, 1833), r(20, 3667), r(40, 3667), r(50, 5500)];
    let pauses = [Pause {
        from: at(20),
        to: Some(at(40)),
    }];
    let b = energy::breakdown(t0(), at(50), &readings, &pauses, Tail::Idle);
    assert_eq!(b.paused_ms, 20 * 60_000);
    assert_eq!(b.charging_ms, 30 * 60_000);
    assert_eq!(b.idle_ms, 0);
    let free_idle = SimpleSettings {
        idle_fee_per_hour: Decimal::ZERO,
        ..settings()
    };
    // without an idle fee the pause costs nothing: 5.5 kWh → 1.65 → 2.00; 30 min → 1.21
    let bill = bill_of(&free_idle, &b);
    assert_eq!(
        lines(&bill),
        pairs(&[("energy", "2.00"), ("time", "1.21"), ("fee", "0.50")])
    );
    // with one, the 20 paused minutes are idle: 2.00 → 2.42
    let bill = bill_of(&settings(), &b);
    assert_eq!(bill.lines[2].amount, d("2.42"));
    assert_eq!(bill.total, d("6.13"));
}

/// A session from 17:30 to 18:30 local (15:30–16:30 UTC) at a steady 10 kWh per hour with
/// the guide's peak ×1.5 from 18:00: half the energy and time at peak, as multiplier lines.
#[test]
fn crossing_the_evening_peak() {
    let start = utc(2031, 6, 10, 15, 30);
    let readings = [
        Reading {
            at: start,
            wh: Decimal::ZERO,
        },
        Reading {
            at: start + chrono::Duration::hours(1),
            wh: Decimal::from(10_000),
        },
    ];
    let b = energy::breakdown(
        start,
        start + chrono::Duration::hours(1),
        &readings,
        &[],
        Tail::Idle,
    );
    let peak = SimpleSettings {
        peak_multiplier: d("1.5"),
        ..settings()
    };
    let bill = bill_of(&peak, &b);
    // energy 3.00 → 3.63; peak +0.75 → 0.91; time 2.00 → 2.42; peak +0.50 → 0.61; fee 0.50
    assert_eq!(
        lines(&bill),
        pairs(&[
            ("energy", "3.63"),
            ("multiplier", "0.91"),
            ("time", "2.42"),
            ("multiplier", "0.61"),
            ("fee", "0.50")
        ])
    );
    assert_eq!(bill.total, d("8.07"));
}

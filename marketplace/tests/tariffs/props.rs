//! Property tests: a session costs the same however its meter samples are batched into
//! periods; a bill's total is the sum of its lines; commission + host share is the
//! commission base exactly, and with the insurance fee and tax, the amount charged.

use chrono::{DateTime, Duration, Utc};
use marketplace::tariffs::bill::{self, ChargerSubscription, Extras, Plan, PrepaidPackage};
use marketplace::tariffs::engine;
use marketplace::tariffs::model::{Period, Session};
use marketplace::tariffs::peak_night::{self, SimpleSettings};
use marketplace::tariffs::zones::TaxRule;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::common::{d, t, tz};
use super::engine::header;

const ZONES: [&str; 5] = [
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "UTC",
];

fn settings() -> impl Strategy<Value = SimpleSettings> {
    (
        500u32..=10_000,
        0u32..=500,
        0u32..=300,
        prop::sample::select(vec!["1", "1.5", "2"]),
        prop::sample::select(vec!["0.5", "0.8", "1"]),
        0u32..=1000,
    )
        .prop_map(|(kwh, hour, min, peak, night, idle)| SimpleSettings {
            price_per_kwh: Decimal::new(kwh.into(), 4),
            price_per_hour: Decimal::new(hour.into(), 2),
            minimum_charge: Decimal::new(min.into(), 2),
            peak_multiplier: d(peak),
            night_multiplier: d(night),
            idle_fee_per_hour: Decimal::new(idle.into(), 2),
        })
}

/// 5-minute meter intervals: Wh delivered in each (0: connected, not charging).
fn intervals() -> impl Strategy<Value = (DateTime<Utc>, Vec<u32>)> {
    (
        0i64..(365 * 24 * 12),
        prop::collection::vec(prop_oneof![1 => Just(0u32), 3 => 0u32..4000], 1..60),
    )
        .prop_map(|(slot, wh)| (t("2025-01-01T00:00:00Z") + Duration::minutes(slot * 5), wh))
}

/// Groups consecutive intervals into periods; `cuts[i]` starts a new period at interval i.
/// A period always starts on a UTC full or half hour, so no period straddles a local hour
/// (the simple tariff's windows, midnight and DST jumps are all at local hours).
fn batch(start: DateTime<Utc>, wh: &[u32], cuts: &[bool]) -> Session {
    let mut periods: Vec<Period> = Vec::new();
    for (i, &w) in wh.iter().enumerate() {
        let at = start + Duration::minutes(5 * i as i64);
        use chrono::Timelike;
        let forced = at.minute().is_multiple_of(30);
        if i == 0 || forced || cuts.get(i).copied().unwrap_or(false) {
            periods.push(Period {
                start: at,
                ..Period::default()
            });
        }
        let p = periods.last_mut().unwrap();
        p.energy_kwh += Decimal::new(w.into(), 3);
        let hours = Decimal::from(5) / Decimal::from(60);
        if w > 0 {
            p.charging_hours += hours;
        } else {
            p.parking_hours += hours;
        }
    }
    Session {
        start,
        end: start + Duration::minutes(5 * wh.len() as i64),
        periods,
    }
}

fn extras() -> impl Strategy<Value = Extras> {
    (
        prop::sample::select(vec![Plan::Basic, Plan::Premium, Plan::Pro]),
        prop::option::of(0u32..50_000),
        prop::option::of((0u32..300, 0u32..300)),
        prop::sample::select(vec![
            TaxRule::NONE,
            TaxRule::VatInclusive { percent: d("21") },
            TaxRule::VatInclusive { percent: d("25.5") },
            TaxRule::SalesTaxExclusive {
                percent: d("8.875"),
            },
        ]),
    )
        .prop_map(|(plan, package, sub, tax)| Extras {
            plan,
            package: package.map(|wh| PrepaidPackage {
                remaining_kwh: Decimal::new(wh.into(), 3),
            }),
            subscription: sub.map(|(cap, used)| ChargerSubscription {
                fair_use_kwh: cap.into(),
                used_kwh: used.into(),
            }),
            tax,
            ..Extras::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn batching_does_not_change_the_cost(
        s in settings(),
        (start, wh) in intervals(),
        cuts in prop::collection::vec(any::<bool>(), 60),
        zone in prop::sample::select(ZONES.to_vec()),
        package in prop::option::of(0u32..50_000),
        emergency in any::<bool>(),
    ) {
        let (mut tariff, labels) = peak_night::to_ocpi(&s, &header("EUR", Some("21")));
        if emergency {
            tariff = peak_night::emergency_variant(&tariff, d("2"));
        }
        let zone = tz(zone);
        let fine = batch(start, &wh, &vec![true; wh.len()]);
        let coarse = batch(start, &wh, &cuts);
        let a = engine::price(&tariff, &fine, zone).unwrap();
        let b = engine::price(&tariff, &coarse, zone).unwrap();
        prop_assert_eq!(&a.totals, &b.totals);
        let extras = Extras {
            package: package.map(|w| PrepaidPackage { remaining_kwh: Decimal::new(w.into(), 3) }),
            ..Extras::default()
        };
        let labels = (!emergency).then_some(&labels);
        prop_assert_eq!(bill::bill(&a, labels, &extras).total, bill::bill(&b, labels, &extras).total);
    }

    #[test]
    fn bills_add_up(
        s in settings(),
        (start, wh) in intervals(),
        zone in prop::sample::select(ZONES.to_vec()),
        extras in extras(),
    ) {
        let (tariff, labels) = peak_night::to_ocpi(&s, &header("EUR", None));
        let session = batch(start, &wh, &[]);
        let report = engine::price(&tariff, &session, tz(zone)).unwrap();
        let b = bill::bill(&report, Some(&labels), &extras);
        prop_assert_eq!(b.total, b.lines.iter().map(|l| l.amount).sum::<Decimal>());
        for l in &b.lines {
            prop_assert_eq!(l.amount, l.amount.round_dp(2));
        }
        let split = &b.split;
        prop_assert_eq!(split.platform_commission + split.host_share, split.commission_base);
        prop_assert_eq!(
            split.commission_base + split.insurance_reserve + split.tax,
            b.total
        );
        prop_assert!(split.platform_commission >= Decimal::ZERO);
        prop_assert!(split.platform_commission <= split.commission_base.max(Decimal::ZERO) / Decimal::from(5));
        // Never a negative charge for charging.
        prop_assert!(b.total >= split.insurance_reserve);
    }
}

/// The case proptest once found: a subscription covering a short session's energy and
/// charging time, each tariff line rounded on its own, used to come out a cent below zero
/// (total under the insurance fee). Swept here over session sizes and lengths.
#[test]
fn coverage_never_charges_less_than_nothing() {
    let s = SimpleSettings {
        price_per_kwh: d("0.4890"),
        price_per_hour: d("1.34"),
        minimum_charge: Decimal::ZERO,
        peak_multiplier: d("1"),
        night_multiplier: d("1"),
        idle_fee_per_hour: Decimal::ZERO,
    };
    let (tariff, labels) = peak_night::to_ocpi(&s, &header("EUR", None));
    let start = t("2025-01-10T05:55:00Z");
    for tax in [
        TaxRule::SalesTaxExclusive {
            percent: d("8.875"),
        },
        TaxRule::VatInclusive { percent: d("21") },
    ] {
        for wh in (1..1200).step_by(7) {
            for intervals in 1..8 {
                let session = batch(start, &vec![wh; intervals], &[]);
                let report = engine::price(&tariff, &session, tz("UTC")).unwrap();
                let extras = Extras {
                    subscription: Some(ChargerSubscription {
                        fair_use_kwh: d("56"),
                        used_kwh: Decimal::ZERO,
                    }),
                    tax,
                    ..Extras::default()
                };
                let b = bill::bill(&report, Some(&labels), &extras);
                assert!(
                    b.total >= b.split.insurance_reserve,
                    "{wh} Wh × {intervals}: {b:?}"
                );
                assert!(b.split.commission_base >= Decimal::ZERO, "{b:?}");
                assert_eq!(b.total, b.lines.iter().map(|l| l.amount).sum::<Decimal>());
            }
        }
    }
}

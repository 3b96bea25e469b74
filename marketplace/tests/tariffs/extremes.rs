//! Property tests of extreme input: the tariff engine and the bill fed absurd prices, step
//! sizes, restrictions and CDR periods/volumes never panic; they either refuse with an error
//! naming the field or price within the bounds, the total between `min_price` and
//! `max_price` and never negative.

use chrono::{DateTime, Duration, Utc};
use marketplace::tariffs::bill::{self, ChargerSubscription, Extras, PrepaidPackage};
use marketplace::tariffs::bounds;
use marketplace::tariffs::engine::{self, PriceError};
use marketplace::tariffs::model::{to_minor_units, Period, Session};
use marketplace::tariffs::ocpi::{Price, Tariff};
use marketplace::tariffs::peak_night;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::common::{t, tariff, tz};

const FIXTURES: [&str; 6] = [
    "complex",
    "step_size",
    "max_power",
    "max_duration",
    "025kwh_min_price",
    "reservation_17",
];

/// Any Decimal, MAX and MIN included, with ordinary values and the bounds themselves often.
fn any_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(Decimal::ZERO),
        Just(bounds::MAX_ENGINE_UNIT_PRICE),
        Just(bounds::MAX_SESSION_KWH),
        Just(Decimal::new(1, 28)),
        (0u32..100_000).prop_map(|n| Decimal::new(n.into(), 2)),
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

fn any_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(u64::MAX),
        Just(i64::MAX as u64 + 1),
        0u64..100_000,
        any::<u64>()
    ]
}

fn any_u32() -> impl Strategy<Value = u32> {
    prop_oneof![Just(u32::MAX), Just(0u32), 1u32..3_600, any::<u32>()]
}

/// What the strategy changes in a fixture tariff: every component's price and step, the
/// restrictions' bounds, min/max price.
#[derive(Debug, Clone)]
struct Extremes {
    prices: Vec<(Decimal, u32)>,
    kwh: (Option<Decimal>, Option<Decimal>),
    duration: (Option<u64>, Option<u64>),
    power: Option<Decimal>,
    min_price: Option<Decimal>,
    max_price: Option<Decimal>,
}

fn extremes() -> impl Strategy<Value = Extremes> {
    (
        prop::collection::vec((any_decimal(), any_u32()), 1..6),
        (
            prop::option::of(any_decimal()),
            prop::option::of(any_decimal()),
        ),
        (prop::option::of(any_u64()), prop::option::of(any_u64())),
        prop::option::of(any_decimal()),
        prop::option::of(any_decimal()),
        prop::option::of(any_decimal()),
    )
        .prop_map(
            |(prices, kwh, duration, power, min_price, max_price)| Extremes {
                prices,
                kwh,
                duration,
                power,
                min_price,
                max_price,
            },
        )
}

fn apply(mut tariff: Tariff, x: &Extremes) -> Tariff {
    let components = tariff
        .elements
        .iter_mut()
        .flat_map(|e| e.price_components.iter_mut());
    for (c, (price, step)) in components.zip(x.prices.iter().cycle()) {
        c.price = *price;
        c.step_size = *step;
    }
    for r in tariff
        .elements
        .iter_mut()
        .filter_map(|e| e.restrictions.as_mut())
    {
        (r.min_kwh, r.max_kwh) = x.kwh;
        (r.min_duration, r.max_duration) = x.duration;
        r.max_power = x.power.or(r.max_power);
    }
    let price = |p: Option<Decimal>| {
        p.map(|excl_vat| Price {
            excl_vat,
            incl_vat: None,
        })
    };
    tariff.min_price = price(x.min_price).or(tariff.min_price);
    tariff.max_price = price(x.max_price).or(tariff.max_price);
    tariff
}

/// A session of up to four periods with any volumes, lasting from nothing to millennia.
fn session() -> impl Strategy<Value = Session> {
    (
        prop_oneof![
            Just(0i64),
            1i64..(3 * 24 * 60),
            Just(200 * 24 * 60),
            0i64..(1 << 40)
        ],
        prop::collection::vec(
            (0u32..=1000, any_decimal(), any_decimal(), any_decimal()),
            1..4,
        ),
    )
        .prop_map(|(minutes, raw)| {
            let start = t("2025-03-29T20:00:00Z");
            let end = Duration::try_minutes(minutes)
                .and_then(|d| start.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            let span = (end - start).num_milliseconds();
            let mut periods: Vec<Period> = raw
                .into_iter()
                .map(|(at, energy_kwh, charging_hours, parking_hours)| Period {
                    start: start + Duration::milliseconds(span / 1000 * i64::from(at)),
                    energy_kwh,
                    charging_hours,
                    parking_hours,
                    ..Period::default()
                })
                .collect();
            periods.sort_by_key(|p| p.start);
            Session {
                start,
                end,
                periods,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Extreme tariffs and CDR periods never panic: the engine refuses them with an error
    /// naming the field, or prices them within min/max price, never negative; and the bill
    /// of what it priced is never negative either.
    #[test]
    fn the_engine_never_panics_on_extreme_tariffs_and_sessions(
        fixture in prop::sample::select(FIXTURES.to_vec()),
        x in extremes(),
        s in session(),
        extras in (prop::option::of(any_decimal()), prop::option::of((any_decimal(), any_decimal()))),
    ) {
        let tariff = apply(tariff(fixture), &x);
        match engine::price(&tariff, &s, tz("Europe/Amsterdam")) {
            Err(PriceError::OutOfBounds { field, message }) => {
                prop_assert!(field.starts_with("tariff.") || field.starts_with("cdr."), "{field}");
                prop_assert!(!message.is_empty());
            }
            Err(PriceError::Session(_) | PriceError::NoElements) => {}
            Ok(report) => {
                let total = report.total_excl;
                prop_assert!(total >= Decimal::ZERO, "{total}");
                if let Some(max) = &tariff.max_price {
                    prop_assert!(total <= max.excl_vat);
                }
                if let (Some(min), Some(max)) = (&tariff.min_price, &tariff.max_price) {
                    if min.excl_vat <= max.excl_vat {
                        prop_assert!(total >= min.excl_vat);
                    }
                } else if let Some(min) = &tariff.min_price {
                    prop_assert!(total >= min.excl_vat);
                }
                prop_assert!(report.totals.total_cost.excl_vat >= Decimal::ZERO);
                // the bill on top, with the estimate's bounded extras
                let kwh = |k: Decimal| k.max(Decimal::ZERO).min(bounds::MAX_ACCOUNT_KWH);
                let extras = Extras {
                    package: extras.0.map(|k| PrepaidPackage { remaining_kwh: kwh(k) }),
                    subscription: extras.1.map(|(f, u)| ChargerSubscription {
                        fair_use_kwh: kwh(f),
                        used_kwh: kwh(u),
                    }),
                    ..Extras::default()
                };
                let b = bill::bill(&report, None, &extras);
                prop_assert!(b.total >= Decimal::ZERO, "{}", b.total);
                // in cents the ledger can add a bill's parts in i64 without overflow
                let cents = to_minor_units(b.total, &b.currency);
                prop_assert!((0..i64::MAX / 8).contains(&cents), "{cents}");
            }
        }
    }
}

#[test]
fn absurd_figures_are_refused_by_name() {
    let s = super::engine::charging("2025-01-06T10:00:00Z", "2025-01-06T11:00:00Z", "10");
    let mut huge = tariff("simple_025kwh");
    huge.elements[0].price_components[0].price = Decimal::from_scientific("1e27").unwrap();
    let e = engine::price(&huge, &s, tz("UTC")).unwrap_err().to_string();
    assert!(
        e.starts_with("tariff.elements[0].price_components[0].price"),
        "{e}"
    );

    // a stored price beyond the bounds, made an emergency variant: refused, not overflowed
    huge.elements[0].price_components[0].price = Decimal::MAX / Decimal::TWO;
    let emergency = peak_night::emergency_variant(&huge, Decimal::from(3));
    let e = engine::price(&emergency, &s, tz("UTC"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("tariff.elements[0].price_components[0].price"),
        "{e}"
    );

    let mut step = tariff("simple_025kwh");
    step.elements[0].price_components[0].step_size = u32::MAX;
    let e = engine::price(&step, &s, tz("UTC")).unwrap_err().to_string();
    assert!(e.contains("step_size"), "{e}");

    let mut long = s.clone();
    long.end = t("2026-01-06T11:00:00Z");
    let e = engine::price(&tariff("simple_025kwh"), &long, tz("UTC"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cdr.end_date_time"), "{e}");

    let mut tiny = s;
    tiny.periods[0].charging_hours = Decimal::new(1, 28);
    tiny.periods[0].energy_kwh = bounds::MAX_SESSION_KWH;
    // an instant of charging with 100 MWh: an absurd power, but no overflow
    assert!(engine::price(&tariff("max_power"), &tiny, tz("UTC")).is_ok());
}

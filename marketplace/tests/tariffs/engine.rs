//! Worked examples of the engine with host settings: the guide's formula inside one window,
//! sessions crossing 18:00, 21:00 and 22:00, DST nights (23 h and 25 h days), midnight and
//! weekdays, energy thresholds, meter readings.

use chrono_tz::Tz;
use marketplace::tariffs::engine::{self, ChargeKind, PriceReport};
use marketplace::tariffs::model::{Period, Session};
use marketplace::tariffs::ocpi::{self, Tariff};
use marketplace::tariffs::peak_night::{self, Header, SimpleSettings};
use rust_decimal::Decimal;

use super::common::{d, t, tz};

pub fn settings(kwh: &str, hour: &str) -> SimpleSettings {
    SimpleSettings {
        price_per_kwh: d(kwh),
        price_per_hour: d(hour),
        minimum_charge: Decimal::ZERO,
        peak_multiplier: d("1.5"),
        night_multiplier: d("0.8"),
        idle_fee_per_hour: Decimal::ZERO,
    }
}

pub fn header(currency: &str, vat: Option<&str>) -> Header {
    Header {
        id: "test".into(),
        currency: currency.into(),
        country_code: Some("NL".into()),
        party_id: Some("EVP".into()),
        vat: vat.map(d),
        last_updated: t("2025-01-01T00:00:00Z"),
    }
}

pub fn charging(start: &str, end: &str, kwh: &str) -> Session {
    let (start, end) = (t(start), t(end));
    Session {
        start,
        end,
        periods: vec![Period {
            start,
            energy_kwh: d(kwh),
            charging_hours: marketplace::tariffs::model::hours_between(start, end),
            ..Period::default()
        }],
    }
}

fn price(tariff: &Tariff, session: &Session, zone: Tz) -> PriceReport {
    engine::price(tariff, session, zone).unwrap()
}

fn simple_tariff(s: &SimpleSettings) -> Tariff {
    peak_night::to_ocpi(s, &header("USD", None)).0
}

#[test]
fn the_guides_formula_inside_one_window() {
    let tariff = simple_tariff(&settings("0.40", "3.00"));
    let chicago = tz("America/Chicago");
    // 18:30-20:00 CDT: all peak. (15 kWh × 0.40 + 1.5 h × 3.00) × 1.5 = 15.75.
    let r = price(
        &tariff,
        &charging("2025-06-10T23:30:00Z", "2025-06-11T01:00:00Z", "15"),
        chicago,
    );
    assert_eq!(r.totals.total_cost.excl_vat, d("15.75"));
    assert_eq!(r.totals.total_energy_cost.excl_vat, d("9.00"));
    assert_eq!(r.totals.total_time_cost.excl_vat, d("6.75"));
    // 12:00-13:30: the standard window, no multiplier.
    let r = price(
        &tariff,
        &charging("2025-06-10T17:00:00Z", "2025-06-10T18:30:00Z", "15"),
        chicago,
    );
    assert_eq!(r.totals.total_cost.excl_vat, d("10.50"));
    // 23:00-01:30: night, across midnight: × 0.8.
    let r = price(
        &tariff,
        &charging("2025-06-11T04:00:00Z", "2025-06-11T06:30:00Z", "10"),
        chicago,
    );
    assert_eq!(r.totals.total_cost.excl_vat, d("9.20")); // (4.00 + 7.50) × 0.8
}

#[test]
fn a_session_crossing_18_and_22_is_priced_per_period() {
    // 17:00-23:00 CEST, 10 kWh an hour, 0.30/kWh + 2.00/h.
    let tariff = simple_tariff(&settings("0.30", "2.00"));
    let r = price(
        &tariff,
        &charging("2025-06-10T15:00:00Z", "2025-06-10T21:00:00Z", "60"),
        tz("Europe/Amsterdam"),
    );
    // 17-18 standard 5.00, 18-21 peak 22.50, 21-22 standard 5.00, 22-23 night 4.00.
    assert_eq!(r.totals.total_cost.excl_vat, d("36.50"));
    assert_eq!(r.totals.total_energy_cost.excl_vat, d("21.90"));
    assert_eq!(r.totals.total_time_cost.excl_vat, d("14.60"));
    let energy: Vec<(String, String)> = r
        .charges
        .iter()
        .filter(|c| c.kind == ChargeKind::Energy)
        .map(|c| {
            (
                c.from.format("%H:%M").to_string(),
                c.volume.normalize().to_string(),
            )
        })
        .collect();
    let expected = [
        ("15:00", "10"),
        ("16:00", "30"),
        ("19:00", "10"),
        ("20:00", "10"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(energy, expected);
}

#[test]
fn dst_nights_are_23_and_25_hours_long() {
    let tariff = simple_tariff(&settings("0.30", "0"));
    let amsterdam = tz("Europe/Amsterdam");
    // Spring forward: 21:00 CET (20:00Z) to 07:00 CEST (05:00Z) is 9 hours; the night window
    // 22:00-06:00 is 7 of them. 1 kWh an hour: 7 × 0.24 + 2 × 0.30.
    let spring = charging("2025-03-29T20:00:00Z", "2025-03-30T05:00:00Z", "9");
    let r = price(&tariff, &spring, amsterdam);
    assert_eq!(r.totals.total_time, d("9"));
    assert_eq!(r.totals.total_cost.excl_vat, d("2.28"));
    // Fall back: 21:00 CEST (19:00Z) to 07:00 CET (06:00Z) is 11 hours, 9 of them night.
    let autumn = charging("2025-10-25T19:00:00Z", "2025-10-26T06:00:00Z", "11");
    let r = price(&tariff, &autumn, amsterdam);
    assert_eq!(r.totals.total_time, d("11"));
    assert_eq!(r.totals.total_cost.excl_vat, d("2.76"));
}

#[test]
fn a_time_that_does_not_exist_starts_at_the_jump() {
    // An element from 02:30 local: on the spring-forward night it starts at 03:00 CEST.
    let text = r#"{"id":"x","currency":"EUR","last_updated":"2025-01-01T00:00:00Z","elements":[
        {"price_components":[{"type":"ENERGY","price":1.00,"step_size":1}],
         "restrictions":{"start_time":"02:30","end_time":"04:00"}},
        {"price_components":[{"type":"ENERGY","price":0.00,"step_size":1}]}]}"#;
    let tariff: Tariff = ocpi::from_json(text).unwrap();
    // 00:00Z-02:00Z = 01:00 CET .. 04:00 CEST; the element is active 01:00Z-02:00Z.
    let r = price(
        &tariff,
        &charging("2025-03-30T00:00:00Z", "2025-03-30T02:00:00Z", "2"),
        tz("Europe/Amsterdam"),
    );
    assert_eq!(r.totals.total_energy_cost.excl_vat, d("1.00"));
}

#[test]
fn weekdays_switch_at_local_midnight() {
    let text = r#"{"id":"w","currency":"EUR","last_updated":"2025-01-01T00:00:00Z","elements":[
        {"price_components":[{"type":"ENERGY","price":0.20,"step_size":1}],
         "restrictions":{"day_of_week":["SATURDAY","SUNDAY"]}},
        {"price_components":[{"type":"ENERGY","price":0.40,"step_size":1}]}]}"#;
    let tariff: Tariff = ocpi::from_json(text).unwrap();
    // Friday 23:00 to Saturday 01:00 in Berlin (CEST): 5 kWh each hour.
    let r = price(
        &tariff,
        &charging("2025-06-13T21:00:00Z", "2025-06-13T23:00:00Z", "10"),
        tz("Europe/Berlin"),
    );
    assert_eq!(r.totals.total_cost.excl_vat, d("3.00"));
    // The same instants in UTC are all Friday.
    let r = price(
        &tariff,
        &charging("2025-06-13T21:00:00Z", "2025-06-13T23:00:00Z", "10"),
        tz("UTC"),
    );
    assert_eq!(r.totals.total_cost.excl_vat, d("4.00"));
}

#[test]
fn energy_thresholds_split_a_period_where_they_are_reached() {
    // The first kWh free, then 0.20 (the specification's "first kWh free" energy part).
    let text = r#"{"id":"k","currency":"EUR","last_updated":"2025-01-01T00:00:00Z","elements":[
        {"price_components":[{"type":"ENERGY","price":0.00,"step_size":1}],"restrictions":{"max_kwh":1.0}},
        {"price_components":[{"type":"ENERGY","price":0.20,"step_size":1}],"restrictions":{"min_kwh":1.0}}]}"#;
    let tariff: Tariff = ocpi::from_json(text).unwrap();
    let r = price(
        &tariff,
        &charging("2025-06-10T10:00:00Z", "2025-06-10T12:00:00Z", "20"),
        tz("UTC"),
    );
    assert_eq!(r.totals.total_cost.excl_vat, d("3.80"));
}

#[test]
fn meter_readings_become_charging_and_idle_periods() {
    let s = SimpleSettings {
        idle_fee_per_hour: d("6.00"),
        ..settings("0.30", "0")
    };
    let tariff = simple_tariff(&s);
    let readings = [
        (t("2025-06-10T10:00:00Z"), d("1000.000")),
        (t("2025-06-10T10:30:00Z"), d("1005.500")),
        (t("2025-06-10T11:00:00Z"), d("1011.000")),
        (t("2025-06-10T11:10:00Z"), d("1011.000")),
    ];
    let session = Session::from_meter_readings(&readings, t("2025-06-10T11:20:00Z"));
    let r = price(&tariff, &session, tz("UTC"));
    assert_eq!(r.totals.total_energy, d("11"));
    assert_eq!(r.totals.total_parking_time.round_dp(4), d("0.3333"));
    // 11 kWh × 0.30 + 20 idle minutes × 6.00/h.
    assert_eq!(r.totals.total_cost.excl_vat, d("5.30"));
}

#[test]
fn emergency_bookings_double_energy_and_time_only() {
    let s = SimpleSettings {
        idle_fee_per_hour: d("6.00"),
        minimum_charge: d("1.00"),
        ..settings("0.40", "3.00")
    };
    let tariff = peak_night::emergency_variant(&simple_tariff(&s), d("2"));
    let r = price(
        &tariff,
        &charging("2025-06-10T17:00:00Z", "2025-06-10T18:00:00Z", "10"),
        tz("America/Chicago"),
    );
    assert_eq!(r.totals.total_cost.excl_vat, d("14.00")); // (4.00 + 3.00) × 2
    assert_eq!(tariff.min_price.unwrap().excl_vat, d("1.00"));
    let idle = tariff
        .elements
        .last()
        .unwrap()
        .price_components
        .last()
        .unwrap();
    assert_eq!(idle.price, d("6.00"));
}

#[test]
fn vat_countries_carry_the_rate_into_incl_vat() {
    let (tariff, _) = peak_night::to_ocpi(&settings("0.35", "0"), &header("EUR", Some("21")));
    let r = price(
        &tariff,
        &charging("2025-06-10T08:00:00Z", "2025-06-10T10:00:00Z", "20"),
        tz("Europe/Amsterdam"),
    );
    assert_eq!(r.totals.total_cost.excl_vat, d("7.00"));
    assert_eq!(r.totals.total_cost.incl_vat, Some(d("8.47")));
}

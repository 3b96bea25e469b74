//! The OCPI 2.2.1 specification's tariff examples (mod_tariffs "Examples", the step_size
//! examples and the restriction examples), each a tariff and a CDR under
//! `tests/fixtures/ocpi/` whose `total_cost` is the total the specification documents.
//! Local times are Berlin's (the CDRs are in Germany), taken from the CDR's country.

use marketplace::tariffs::model::Session;
use marketplace::tariffs::ocpi::{self, Cdr, Tariff};
use marketplace::tariffs::{engine, zones};
use serde_json::Value;

use super::common::{cdr, d, fixture_text, tariff};

/// (tariff, CDR) pairs; the CDR carries the expected total.
const EXAMPLES: &[(&str, &str)] = &[
    ("simple_025kwh", "simple_025kwh"),
    ("025kwh_start", "025kwh_start"),
    ("025kwh_min_price", "025kwh_min_price"),
    ("025kwh_min_price", "025kwh_min_price_small"),
    ("025kwh_parking_start", "025kwh_parking_start"),
    ("025kwh_start_max_price", "025kwh_start_max_price"),
    ("025kwh_start_max_price", "025kwh_start_max_price_30kwh"),
    ("simple_2hour", "simple_2hour"),
    ("simple_3hour_5parking", "simple_3hour_5parking"),
    ("alt_text", "alt_text"),
    ("alt_url", "alt_url"),
    ("complex", "complex_monday"),
    ("complex", "complex_saturday"),
    ("free_of_charge", "free_of_charge"),
    ("step_size", "step_size_1"),
    ("step_size", "step_size_2"),
    ("step_size", "step_size_3"),
    ("max_power", "max_power"),
    ("max_duration", "max_duration"),
    ("reservation_15", "reservation_15"),
    ("reservation_16", "reservation_16"),
    ("reservation_17", "reservation_17_used"),
    ("reservation_17", "reservation_17_expired"),
];

fn priced(t: &Tariff, c: &Cdr) -> engine::PriceReport {
    let tz = zones::single_zone(&c.cdr_location.country).unwrap();
    engine::price(t, &Session::from_cdr(c), tz).unwrap()
}

#[test]
fn every_specification_example_costs_what_the_specification_says() {
    let mut wrong = Vec::new();
    for (t, c) in EXAMPLES {
        let (tariff, cdr) = (tariff(t), cdr(c));
        let expected = cdr.total_cost.unwrap();
        let got = priced(&tariff, &cdr).totals.total_cost;
        if got != expected {
            wrong.push(format!("{c}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn complex_example_splits_its_totals() {
    let r = priced(&tariff("complex"), &cdr("complex_monday"));
    let t = &r.totals;
    assert_eq!(t.total_fixed_cost.excl_vat, d("2.50"));
    assert_eq!(t.total_fixed_cost.incl_vat, Some(d("2.88")));
    assert_eq!(t.total_time_cost.excl_vat, d("2.50")); // 150 billed minutes at 1.00/h
    assert_eq!(t.total_parking_cost.excl_vat, d("3.75")); // 45 billed minutes at 5.00/h
    assert_eq!(t.total_parking_cost.incl_vat, Some(d("4.13")));
    // Each figure is rounded once from the exact sum: 10.00, not 2.88 + 3.00 + 4.13.
    assert_eq!(t.total_cost.incl_vat, Some(d("10.00")));
    assert_eq!(t.total_time, d("3.15"));
    assert_eq!(t.total_parking_time, d("0.7"));
    assert_eq!(t.total_energy, d("9"));
}

#[test]
fn step_size_rounds_the_last_element_and_bills_the_extra_there() {
    // 16:35-17:10: 25 min at 1.20/h before 17:00, then 10 min rounded to 45 min in total.
    let r = priced(&tariff("step_size"), &cdr("step_size_2"));
    let time: Vec<(usize, String)> = r
        .charges
        .iter()
        .map(|c| {
            (
                c.element,
                (c.volume * d("60")).round_dp(2).normalize().to_string(),
            )
        })
        .collect();
    assert_eq!(time, [(0, "25".to_owned()), (1, "20".to_owned())]);
    // The 2 parking minutes of example #1 fall inside the extra charging minutes.
    let r = priced(&tariff("step_size"), &cdr("step_size_1"));
    assert_eq!(r.totals.total_parking_cost.excl_vat, d("0"));
}

#[test]
fn reservation_costs_are_their_own_total() {
    let r = priced(&tariff("reservation_16"), &cdr("reservation_16"));
    assert_eq!(r.totals.total_reservation_cost.excl_vat, d("3.25"));
    assert_eq!(r.totals.total_fixed_cost.excl_vat, d("0.50"));
    let r = priced(&tariff("reservation_17"), &cdr("reservation_17_expired"));
    assert_eq!(
        r.totals.total_fixed_cost.excl_vat,
        d("0"),
        "no start fee without charging"
    );
}

/// JSON numbers compare by value (2.50 and 2.5, 15 and 15.0 are one number).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn tariffs_and_cdrs_survive_an_import_export_round_trip() {
    let dir = super::common::fixture_path("");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 30);
    for name in names {
        let text = fixture_text(&name);
        let original: Value = serde_json::from_str(&text).unwrap();
        let exported = if name.ends_with(".tariff.json") {
            serde_json::to_value(ocpi::from_json::<Tariff>(&text).unwrap()).unwrap()
        } else {
            serde_json::to_value(ocpi::from_json::<Cdr>(&text).unwrap()).unwrap()
        };
        assert!(
            same(&original, &exported),
            "{name}:\n{original:#}\n!=\n{exported:#}"
        );
    }
}

#[test]
fn strict_nested_fields_name_the_path() {
    let text = fixture_text("simple_025kwh.tariff.json").replace("step_size", "step-size");
    let err = ocpi::from_json::<Tariff>(&text).unwrap_err();
    assert!(err.starts_with("elements[0].price_components[0]"), "{err}");
    let text = fixture_text("complex.tariff.json").replace("\"09:00\"", "\"9:00\"");
    let err = ocpi::from_json::<Tariff>(&text).unwrap_err();
    assert!(err.contains("start_time"), "{err}");
}

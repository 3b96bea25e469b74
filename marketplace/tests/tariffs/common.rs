//! Fixture loading shared by the tariff tests.

#![allow(dead_code)]

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use marketplace::tariffs::ocpi::{self, Cdr, Tariff};
use rust_decimal::Decimal;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ocpi")
        .join(name)
}

pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn tariff(name: &str) -> Tariff {
    ocpi::from_json(&fixture_text(&format!("{name}.tariff.json"))).unwrap()
}

pub fn cdr(name: &str) -> Cdr {
    ocpi::from_json(&fixture_text(&format!("{name}.cdr.json"))).unwrap()
}

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub fn tz(name: &str) -> Tz {
    name.parse().unwrap()
}

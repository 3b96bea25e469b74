//! What a plausible tariff and a plausible session to price are: the one place these bounds
//! live. Host input outside them is a 422 naming the field (`rules::validate_tariff`, the
//! estimate's `validate`); the engine refuses anything outside them with
//! [`PriceError::OutOfBounds`](super::PriceError) before any arithmetic. Inside them no
//! `Decimal` operation can overflow (the largest product, a price × a volume in Wh or
//! seconds, stays below 10^15 against `Decimal::MAX` ≈ 7.9·10^28; property-tested in
//! `marketplace/tests/tariffs/extremes.rs`), and chrono arithmetic stays far from its limits.

use chrono::TimeDelta;
use rust_decimal::Decimal;

use super::model::Session;
use super::ocpi::{Price, Tariff};

/// The most a host may ask per kWh, per hour or as a flat fee, in the tariff's currency:
/// a million units is far beyond any real tariff even in currencies of small value (VND,
/// IDR), and small enough that prices × volumes cannot overflow.
pub const MAX_UNIT_PRICE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// The most the engine accepts per unit: a host's [`MAX_UNIT_PRICE`] × the largest emergency
/// multiplier (3, `peak_night::validate_emergency`), which the engine applies on top.
pub const MAX_ENGINE_UNIT_PRICE: Decimal = Decimal::from_parts(3_000_000, 0, 0, false, 0);

/// A tariff's `min_price` / `max_price`: a hundred million units.
pub const MAX_PRICE_BOUND: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 0);

/// `step_size`, Wh or seconds: 1 MWh or about 11.6 days; real steps are 1 to 3600.
pub const MAX_STEP_SIZE: u32 = 1_000_000;

/// kWh in one session, in a restriction or an estimate: 100 MWh is a 10 MW site running ten
/// hours for one car.
pub const MAX_SESSION_KWH: Decimal = Decimal::from_parts(100_000, 0, 0, false, 0);

/// kWh figures of a driver's account (a prepaid package, a subscription's fair use).
pub const MAX_ACCOUNT_KWH: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// The longest session the engine prices: 90 days. Its hour-by-hour walk for DST jumps and
/// day-by-day walk for local restriction times stay short.
pub const MAX_SESSION_DAYS: i64 = 90;
pub const MAX_SESSION_HOURS: Decimal = Decimal::from_parts(2_160, 0, 0, false, 0);

/// `min/max_duration` restrictions, seconds: a year.
pub const MAX_RESTRICTION_SECONDS: u64 = 366 * 24 * 3600;

/// `min/max_current` (A) and `min/max_power` (kW) restrictions and CDR readings.
pub const MAX_CURRENT_A: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
pub const MAX_POWER_KW: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// Periods of one session: a reading every ten seconds for a day is 8,640.
pub const MAX_PERIODS: usize = 1_000_000;

/// One broken bound: the field (relative to the tariff or the session) and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub field: String,
    pub message: String,
}

fn within(v: Decimal, max: Decimal) -> bool {
    Decimal::ZERO <= v && v <= max
}

/// Every bound `tariff` breaks, fields named as in OCPI (`elements[0].price_components[1].price`),
/// prices against `max_unit_price` ([`MAX_UNIT_PRICE`] for host input).
pub fn tariff_breaches(tariff: &Tariff, max_unit_price: Decimal) -> Vec<Breach> {
    let mut out = Vec::new();
    let mut breach = |field: String, message: String| out.push(Breach { field, message });
    for (i, el) in tariff.elements.iter().enumerate() {
        for (j, c) in el.price_components.iter().enumerate() {
            let at = format!("elements[{i}].price_components[{j}]");
            if !within(c.price, max_unit_price) {
                breach(
                    format!("{at}.price"),
                    format!("must be from 0 to {max_unit_price}"),
                );
            }
            if c.step_size > MAX_STEP_SIZE {
                breach(
                    format!("{at}.step_size"),
                    format!("must be at most {MAX_STEP_SIZE}"),
                );
            }
            if c.vat.is_some_and(|v| !within(v, Decimal::ONE_HUNDRED)) {
                breach(
                    format!("{at}.vat"),
                    "must be a percentage from 0 to 100".into(),
                );
            }
        }
        let Some(r) = &el.restrictions else { continue };
        let at = format!("elements[{i}].restrictions");
        let decimals = [
            ("min_kwh", r.min_kwh, MAX_SESSION_KWH),
            ("max_kwh", r.max_kwh, MAX_SESSION_KWH),
            ("min_current", r.min_current, MAX_CURRENT_A),
            ("max_current", r.max_current, MAX_CURRENT_A),
            ("min_power", r.min_power, MAX_POWER_KW),
            ("max_power", r.max_power, MAX_POWER_KW),
        ];
        for (name, value, max) in decimals {
            if value.is_some_and(|v| !within(v, max)) {
                breach(format!("{at}.{name}"), format!("must be from 0 to {max}"));
            }
        }
        for (name, value) in [
            ("min_duration", r.min_duration),
            ("max_duration", r.max_duration),
        ] {
            if value.is_some_and(|s| s > MAX_RESTRICTION_SECONDS) {
                breach(
                    format!("{at}.{name}"),
                    format!("must be at most {MAX_RESTRICTION_SECONDS} seconds"),
                );
            }
        }
    }
    for (name, p) in [
        ("min_price", tariff.min_price),
        ("max_price", tariff.max_price),
    ] {
        if let Some(Price { excl_vat, incl_vat }) = p {
            if !within(excl_vat, MAX_PRICE_BOUND)
                || incl_vat.is_some_and(|v| !within(v, MAX_PRICE_BOUND))
            {
                breach(name.into(), format!("must be from 0 to {MAX_PRICE_BOUND}"));
            }
        }
    }
    out
}

/// The first bound `session` breaks, fields named as in an OCPI CDR.
pub fn session_breach(session: &Session) -> Option<Breach> {
    let breach = |field: String, message: String| Some(Breach { field, message });
    let span = session.end.signed_duration_since(session.start);
    if span > TimeDelta::days(MAX_SESSION_DAYS) {
        return breach(
            "end_date_time".into(),
            format!("a session lasts at most {MAX_SESSION_DAYS} days"),
        );
    }
    if session.periods.len() > MAX_PERIODS {
        return breach("charging_periods".into(), format!("at most {MAX_PERIODS}"));
    }
    let mut totals = [Decimal::ZERO; 4];
    for (i, p) in session.periods.iter().enumerate() {
        let at = format!("charging_periods[{i}]");
        let volumes = [
            ("ENERGY", p.energy_kwh, MAX_SESSION_KWH),
            ("TIME", p.charging_hours, MAX_SESSION_HOURS),
            ("PARKING_TIME", p.parking_hours, MAX_SESSION_HOURS),
            ("RESERVATION_TIME", p.reservation_hours, MAX_SESSION_HOURS),
        ];
        for (k, (name, v, max)) in volumes.into_iter().enumerate() {
            // each term ≤ max, so the running total (≤ 2 max before the check) cannot overflow
            totals[k] += v.max(Decimal::ZERO).min(max + Decimal::ONE);
            if !within(v, max) || totals[k] > max {
                return breach(
                    format!("{at}.dimensions.{name}"),
                    format!("the session's total must be from 0 to {max}"),
                );
            }
        }
        if p.current_a.is_some_and(|v| !within(v, MAX_CURRENT_A)) {
            return breach(
                format!("{at}.dimensions.CURRENT"),
                format!("must be from 0 to {MAX_CURRENT_A}"),
            );
        }
        if p.power_kw.is_some_and(|v| !within(v, MAX_POWER_KW)) {
            return breach(
                format!("{at}.dimensions.POWER"),
                format!("must be from 0 to {MAX_POWER_KW}"),
            );
        }
    }
    None
}

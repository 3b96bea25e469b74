//! What a plausible meter reading is, in base units: the one place these bounds live. The
//! OCPP decoder (`csms`) rejects a station's message with anything outside them, and the
//! pure energy code ignores stored readings outside them, so the arithmetic on readings
//! can never overflow (`rust_decimal` operators panic on overflow).

use rust_decimal::Decimal;

/// An energy register, Wh: 10^12 Wh (1 TWh) is more than a 350 kW charger delivers running
/// for three centuries; `session_readings.value` (numeric(16,3)) holds it.
pub const MAX_ENERGY_WH: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0); // 10^12

/// Active power, W: 10 MW is above any charging site's grid connection
/// (`charging_sessions.power_w` is numeric(12,3)).
pub const MAX_POWER_W: Decimal = Decimal::from_parts(10_000_000, 0, 0, false, 0);

/// State of charge, percent.
pub const MAX_SOC_PERCENT: Decimal = Decimal::ONE_HUNDRED;

/// The bound of a measurand as sessions name them (`energy_wh`, `power_w`, `soc_percent`).
pub fn max_of(measurand: &str) -> Option<Decimal> {
    match measurand {
        "energy_wh" => Some(MAX_ENERGY_WH),
        "power_w" => Some(MAX_POWER_W),
        "soc_percent" => Some(MAX_SOC_PERCENT),
        _ => None,
    }
}

/// Whether a reading of `measurand` is within 0 ..= its bound.
pub fn plausible(measurand: &str, value: Decimal) -> bool {
    max_of(measurand).is_some_and(|max| Decimal::ZERO <= value && value <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constants_are_what_their_comments_say() {
        assert_eq!(MAX_ENERGY_WH, Decimal::from(1_000_000_000_000i64));
        assert_eq!(MAX_POWER_W, Decimal::from(10_000_000));
        assert!(plausible("energy_wh", Decimal::ZERO));
        assert!(plausible("energy_wh", MAX_ENERGY_WH));
        assert!(!plausible("energy_wh", MAX_ENERGY_WH + Decimal::ONE));
        assert!(!plausible("soc_percent", Decimal::NEGATIVE_ONE));
        assert!(!plausible("voltage", Decimal::ONE));
    }
}

//! What a plausible MeterValues or TransactionEvent says: the one place the OCPP side's
//! bounds live (the readings' own bounds are `marketplace::sessions::bounds`). A message with
//! anything outside them is answered with a CALLERROR `PropertyConstraintViolation` naming
//! the field, before anything of it is stored; inside them, the decoder's arithmetic cannot
//! overflow (`rust_decimal` operators panic on overflow, `f64` goes to infinity).

use chrono::{DateTime, Utc};
use marketplace::sessions::bounds::{MAX_ENERGY_WH, MAX_POWER_W, MAX_SOC_PERCENT};
use ocpp_schemas::ErrorCode;
use rust_decimal::Decimal;
use rust_ocpp::v2_0_1::datatypes::meter_value_type::MeterValueType;
use rust_ocpp::v2_0_1::datatypes::sampled_value_type::SampledValueType;
use rust_ocpp::v2_0_1::messages::meter_values::MeterValuesRequest;
use rust_ocpp::v2_0_1::messages::transaction_event::TransactionEventRequest;
use serde_json::Value;

use crate::ocpp::handlers::{wire, HandlerError};

/// `unitOfMeasure.multiplier`, a power of ten: milli (-3) to mega (6). The specification
/// gives no range; real meters use these, and anything wider is a unit mistake.
pub const MIN_MULTIPLIER: i32 = -3;
pub const MAX_MULTIPLIER: i32 = 6;

/// Earliest timestamp, 2000-01-01T00:00:00Z: no OCPP 2.0.1 station predates it, and an
/// unset clock (1970) is no time to bill by.
pub const MIN_TIMESTAMP_SECS: i64 = 946_684_800;
/// Latest timestamp, 2100-01-01T00:00:00Z: keeps every session span (and the tariff engine's
/// walk over it) finite and `DateTime` arithmetic far from chrono's limits.
pub const MAX_TIMESTAMP_SECS: i64 = 4_102_444_800;

/// EVSE and connector ids: a station with a thousand of either is no station.
pub const MAX_EVSE_ID: i32 = 1_000;
pub const MAX_CONNECTOR_ID: i32 = 1_000;

/// Current (A) and voltage (V) magnitudes: above any charger's rating.
pub const MAX_CURRENT_A: i64 = 10_000;
pub const MAX_VOLTAGE_V: i64 = 100_000;
/// Any other measurand's magnitude (frequency, temperature, power factor, …): no real
/// reading comes near, and it keeps the stored `f64` finite.
pub const MAX_OTHER: i64 = 1_000_000_000_000;

/// The bound (inclusive, in base units: Wh, W, A, V, %) of a measurand's magnitude, and
/// whether it must not be negative.
fn bound_of(measurand: &str) -> (Decimal, bool) {
    match measurand {
        "SoC" => (MAX_SOC_PERCENT, true),
        m if m.ends_with(".Register") => (MAX_ENERGY_WH, true),
        m if m.starts_with("Energy.") => (MAX_ENERGY_WH, false),
        m if m.starts_with("Power.") && m != "Power.Factor" => (MAX_POWER_W, false),
        m if m.starts_with("Current.") => (Decimal::from(MAX_CURRENT_A), false),
        "Voltage" => (Decimal::from(MAX_VOLTAGE_V), false),
        _ => (Decimal::from(MAX_OTHER), false),
    }
}

/// `value × 10^multiplier`, or `None` when the multiplier is out of bounds or the product
/// does not fit.
pub fn scaled(value: Decimal, multiplier: i32) -> Option<Decimal> {
    if !(MIN_MULTIPLIER..=MAX_MULTIPLIER).contains(&multiplier) {
        return None;
    }
    let power = Decimal::from(10i64.pow(multiplier.unsigned_abs()));
    if multiplier >= 0 {
        value.checked_mul(power)
    } else {
        value.checked_div(power)
    }
}

/// Whether a unit carries the kilo prefix (`kWh`, `kW`, `kvarh`, `kVA`; not `K`, kelvin).
pub fn is_kilo(unit: Option<&str>) -> bool {
    unit.is_some_and(|u| u.len() > 1 && u.starts_with('k'))
}

/// A sampled value in base units (Wh, W, …), multiplier and kilo prefix applied, when it is
/// plausible for its measurand.
pub fn base_value(sv: &SampledValueType, measurand: &str) -> Result<Decimal, &'static str> {
    let unit = sv.unit_of_measure.as_ref();
    let multiplier = unit.and_then(|u| u.multiplier).unwrap_or(0);
    if !(MIN_MULTIPLIER..=MAX_MULTIPLIER).contains(&multiplier) {
        return Err("unitOfMeasure.multiplier");
    }
    let kilo = is_kilo(unit.and_then(|u| u.unit.as_deref()));
    let value = scaled(sv.value, multiplier)
        .and_then(|v| {
            if kilo {
                v.checked_mul(Decimal::ONE_THOUSAND)
            } else {
                Some(v)
            }
        })
        .ok_or("value")?;
    let (max, non_negative) = bound_of(measurand);
    if value.abs() > max || (non_negative && value < Decimal::ZERO) {
        return Err("value");
    }
    Ok(value)
}

fn violation(field: String, what: &str) -> HandlerError {
    HandlerError::new(
        ErrorCode::PropertyConstraintViolation,
        format!("{field} {what}"),
    )
}

fn check_time(field: &str, at: DateTime<Utc>) -> Result<(), HandlerError> {
    let secs = at.timestamp();
    if (MIN_TIMESTAMP_SECS..=MAX_TIMESTAMP_SECS).contains(&secs) {
        Ok(())
    } else {
        Err(violation(
            field.to_owned(),
            "must be from 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z",
        ))
    }
}

fn check_range(field: &str, value: i32, (lo, hi): (i32, i32)) -> Result<(), HandlerError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(violation(
            field.to_owned(),
            &format!("{value} is outside {lo}..={hi}"),
        ))
    }
}

/// Every meter value under `field` (`meterValue`).
pub fn check_meter_values(field: &str, values: &[MeterValueType]) -> Result<(), HandlerError> {
    for (i, mv) in values.iter().enumerate() {
        check_time(&format!("{field}[{i}].timestamp"), mv.timestamp)?;
        for (j, sv) in mv.sampled_value.iter().enumerate() {
            let measurand = sv
                .measurand
                .as_ref()
                .map(wire)
                .unwrap_or_else(|| super::DEFAULT_MEASURAND.to_owned());
            if let Err(part) = base_value(sv, &measurand) {
                let at = format!("{field}[{i}].sampledValue[{j}].{part}");
                return Err(violation(
                    at,
                    &format!("is implausible for {measurand} (multiplier {MIN_MULTIPLIER}..={MAX_MULTIPLIER}, value within the measurand's bounds)"),
                ));
            }
        }
    }
    Ok(())
}

pub fn check_meter_values_request(req: &MeterValuesRequest) -> Result<(), HandlerError> {
    check_range("evseId", req.evse_id, (0, MAX_EVSE_ID))?;
    check_meter_values("meterValue", &req.meter_value)
}

pub fn check_transaction_event(req: &TransactionEventRequest) -> Result<(), HandlerError> {
    check_time("timestamp", req.timestamp)?;
    check_range("seqNo", req.seq_no, (0, i32::MAX))?;
    if let Some(evse) = &req.evse {
        check_range("evse.id", evse.id, (0, MAX_EVSE_ID))?;
        if let Some(c) = evse.connector_id {
            check_range("evse.connectorId", c, (0, MAX_CONNECTOR_ID))?;
        }
    }
    check_meter_values("meterValue", req.meter_value.as_deref().unwrap_or_default())
}

/// Before the typed parse: a sampled `value` no `Decimal` can hold (beyond ±7.9·10^28) is
/// the station's error, not a defect of our model.
pub fn check_raw(payload: &Value) -> Result<(), HandlerError> {
    let Some(values) = payload["meterValue"].as_array() else {
        return Ok(());
    };
    for (i, mv) in values.iter().enumerate() {
        for (j, sv) in mv["sampledValue"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let fits: Result<Decimal, _> =
                rust_decimal::serde::arbitrary_precision::deserialize(&sv["value"]);
            if fits.is_err() {
                return Err(violation(
                    format!("meterValue[{i}].sampledValue[{j}].value"),
                    "is not a number this CSMS can hold",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_ocpp::v2_0_1::datatypes::unit_of_measure_type::UnitOfMeasureType;
    use rust_ocpp::v2_0_1::enumerations::measurand_enum_type::MeasurandEnumType;
    use serde_json::json;

    const MEASURANDS: &[&str] = &[
        "Energy.Active.Import.Register",
        "Energy.Active.Net",
        "Power.Active.Import",
        "Power.Factor",
        "SoC",
        "Current.Import",
        "Voltage",
        "Frequency",
    ];

    fn any_decimal() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            Just(Decimal::MAX),
            Just(Decimal::MIN),
            Just(MAX_ENERGY_WH),
            (-100_000i64..100_000).prop_map(Decimal::from),
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

    fn any_multiplier() -> impl Strategy<Value = Option<i32>> {
        prop_oneof![
            Just(None),
            Just(Some(i32::MAX)),
            Just(Some(i32::MIN)),
            (-10i32..10).prop_map(Some),
            any::<i32>().prop_map(Some),
        ]
    }

    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        let (lo, hi) = (
            DateTime::<Utc>::MIN_UTC.timestamp(),
            DateTime::<Utc>::MAX_UTC.timestamp(),
        );
        prop_oneof![
            (lo..=hi).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
            (MIN_TIMESTAMP_SECS - 10..MAX_TIMESTAMP_SECS + 10)
                .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        ]
    }

    fn sampled() -> impl Strategy<Value = SampledValueType> {
        (
            any_decimal(),
            any_multiplier(),
            prop::option::of(prop::sample::select(vec![
                "Wh", "kWh", "W", "kW", "A", "V", "K", "Percent", "kvarh", "x",
            ])),
            prop::option::of(prop::sample::select(MEASURANDS.to_vec())),
        )
            .prop_map(|(value, multiplier, unit, measurand)| SampledValueType {
                value,
                measurand: measurand
                    .map(|m| serde_json::from_value::<MeasurandEnumType>(json!(m)).unwrap()),
                unit_of_measure: Some(UnitOfMeasureType {
                    unit: unit.map(str::to_owned),
                    multiplier,
                }),
                ..Default::default()
            })
    }

    proptest! {
        /// Any value, multiplier, unit, measurand and timestamp: the check never panics, and
        /// what it lets through decodes (both decoders) to values within the bounds.
        #[test]
        fn meter_value_decoders_never_panic_and_keep_the_bounds(
            values in prop::collection::vec(
                (any_instant(), prop::collection::vec(sampled(), 1..4)), 1..3),
        ) {
            let values: Vec<MeterValueType> = values
                .into_iter()
                .map(|(timestamp, sampled_value)| MeterValueType { timestamp, sampled_value })
                .collect();
            let checked = check_meter_values("meterValue", &values);
            // the decoders are total even on what the check refuses
            let stored = super::super::samples("S", 1, None, &values);
            let kept = super::super::sessions::samples(&values);
            prop_assert!(stored.iter().all(|s| s.value.is_finite()));
            match checked {
                Err(e) => {
                    prop_assert_eq!(e.code, ErrorCode::PropertyConstraintViolation);
                    prop_assert!(e.description.starts_with("meterValue["));
                }
                Ok(()) => {
                    for mv in &values {
                        let secs = mv.timestamp.timestamp();
                        prop_assert!((MIN_TIMESTAMP_SECS..=MAX_TIMESTAMP_SECS).contains(&secs));
                    }
                    for s in &stored {
                        let kilo = if is_kilo(s.unit.as_deref()) { 1000.0 } else { 1.0 };
                        prop_assert!((s.value * kilo).abs() <= MAX_OTHER as f64);
                    }
                    for (wh, _) in super::super::energy_readings(&stored).iter().map(|r| (r.1, r.0)) {
                        prop_assert!((0.0..=1e12).contains(&wh));
                    }
                    for k in &kept {
                        prop_assert!(marketplace::sessions::bounds::plausible(k.measurand, k.value));
                    }
                }
            }
        }
    }

    #[test]
    fn absurd_values_are_named_in_the_error() {
        let mv = |value: Value| -> Vec<MeterValueType> {
            serde_json::from_value(
                json!([{"timestamp": "2027-01-04T10:00:00Z", "sampledValue": [value]}]),
            )
            .unwrap()
        };
        let field = |values: &[MeterValueType]| {
            check_meter_values("meterValue", values)
                .unwrap_err()
                .description
        };
        let huge = mv(json!({"value": 1e28, "unitOfMeasure": {"unit": "Wh", "multiplier": 9}}));
        assert!(field(&huge).starts_with("meterValue[0].sampledValue[0].unitOfMeasure.multiplier"));
        let max = mv(json!({"value": 1, "unitOfMeasure": {"multiplier": 2147483647}}));
        assert!(field(&max).contains("multiplier"));
        let big = mv(json!({"value": 1e28}));
        assert!(field(&big).starts_with("meterValue[0].sampledValue[0].value"));
        let soc = mv(json!({"value": 101, "measurand": "SoC"}));
        assert!(field(&soc).contains(".value"));
        let ok = mv(json!({"value": 1000, "unitOfMeasure": {"unit": "kWh", "multiplier": 6}}));
        assert!(
            check_meter_values("meterValue", &ok).is_ok(),
            "10^12 Wh is the bound itself"
        );
        let old = serde_json::from_value::<Vec<MeterValueType>>(
            json!([{"timestamp": "1970-01-01T00:00:00Z", "sampledValue": [{"value": 1}]}]),
        )
        .unwrap();
        assert!(field(&old).starts_with("meterValue[0].timestamp"));
    }

    #[test]
    fn values_no_decimal_holds_are_refused_before_parsing() {
        let payload = json!({"evseId": 1, "meterValue": [{"timestamp": "2027-01-04T10:00:00Z",
            "sampledValue": [{"value": 5}, {"value": 1e30}]}]});
        let e = check_raw(&payload).unwrap_err();
        assert_eq!(e.code, ErrorCode::PropertyConstraintViolation);
        assert!(e
            .description
            .starts_with("meterValue[0].sampledValue[1].value"));
        let fine = json!({"meterValue": [{"sampledValue": [{"value": 1e28}]}]});
        assert!(check_raw(&fine).is_ok());
    }
}

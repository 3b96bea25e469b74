//! Vehicle rules with no I/O.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::FieldError;

pub const NAME_MAX_CHARS: usize = 60;
/// The biggest packs on sale are ~200 kWh (trucks aside); more is a typo in Wh.
pub const BATTERY_MAX_KWH: f64 = 250.0;
pub const YEAR_MIN: i32 = 1990;
pub const YEAR_MAX: i32 = 2100;

/// The plugs a vehicle accepts. Spelled as on the wire and in the database.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum ConnectorType {
    #[serde(rename = "CCS1")]
    Ccs1,
    #[serde(rename = "CCS2")]
    Ccs2,
    #[serde(rename = "CHAdeMO")]
    Chademo,
    Type1,
    Type2,
    #[serde(rename = "NACS")]
    Nacs,
    Schuko,
}

impl ConnectorType {
    pub const ALL: [ConnectorType; 7] = [
        ConnectorType::Ccs1,
        ConnectorType::Ccs2,
        ConnectorType::Chademo,
        ConnectorType::Type1,
        ConnectorType::Type2,
        ConnectorType::Nacs,
        ConnectorType::Schuko,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorType::Ccs1 => "CCS1",
            ConnectorType::Ccs2 => "CCS2",
            ConnectorType::Chademo => "CHAdeMO",
            ConnectorType::Type1 => "Type1",
            ConnectorType::Type2 => "Type2",
            ConnectorType::Nacs => "NACS",
            ConnectorType::Schuko => "Schuko",
        }
    }
}

impl fmt::Display for ConnectorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConnectorType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConnectorType::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown connector type `{s}`"))
    }
}

/// A stored vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Vehicle {
    pub id: Uuid,
    #[schema(example = "Volkswagen")]
    pub make: String,
    #[schema(example = "ID.3")]
    pub model: String,
    #[schema(required, example = 2022)]
    pub year: Option<i32>,
    /// Usable capacity in kWh.
    #[schema(example = 58.0)]
    pub battery_kwh: f64,
    /// Sorted, without duplicates.
    pub connector_types: Vec<ConnectorType>,
    #[schema(required)]
    pub nickname: Option<String>,
    /// At most one vehicle per user is the default.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A vehicle as the client sends it (create and full replace). Connector types arrive as
/// strings so that every bad one can be reported with its index, alongside other fields.
/// Names are trimmed; control characters are refused.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleInput {
    #[schema(schema_with = crate::accounts::doc::vehicle_make)]
    pub make: String,
    #[schema(schema_with = crate::accounts::doc::vehicle_model)]
    pub model: String,
    #[serde(default)]
    #[schema(minimum = 1990, maximum = 2100, example = 2022)]
    pub year: Option<i32>,
    /// Usable capacity, more than 0 and at most 250.
    #[schema(exclusive_minimum = 0, maximum = 250, example = 58.0)]
    pub battery_kwh: f64,
    /// At least one; duplicates are dropped.
    #[schema(value_type = Vec<ConnectorType>, min_items = 1)]
    pub connector_types: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = crate::accounts::doc::vehicle_nickname)]
    pub nickname: Option<String>,
    /// Defaults to `false`. At most one default vehicle per user; setting it clears the
    /// others.
    #[serde(default)]
    pub is_default: bool,
}

/// Input that passed every rule: names trimmed, connectors parsed, sorted and deduplicated.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidVehicle {
    pub make: String,
    pub model: String,
    pub year: Option<i32>,
    pub battery_kwh: f64,
    pub connector_types: Vec<ConnectorType>,
    pub nickname: Option<String>,
    pub is_default: bool,
}

/// Checks every field and reports all problems at once.
pub fn validate_vehicle(input: &VehicleInput) -> Result<ValidVehicle, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut name = |field: &str, raw: &str| {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            errors.push(FieldError::new(field, "is required"));
        } else if trimmed.chars().count() > NAME_MAX_CHARS {
            errors.push(FieldError::new(field, "must be at most 60 characters"));
        } else if trimmed.chars().any(char::is_control) {
            errors.push(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
        trimmed.to_owned()
    };
    let make = name("make", &input.make);
    let model = name("model", &input.model);
    let nickname = match input.nickname.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(name("nickname", raw)),
    };
    if let Some(year) = input.year {
        if !(YEAR_MIN..=YEAR_MAX).contains(&year) {
            errors.push(FieldError::new("year", "must be between 1990 and 2100"));
        }
    }
    let kwh = input.battery_kwh;
    if !kwh.is_finite() || kwh <= 0.0 {
        errors.push(FieldError::new("battery_kwh", "must be a positive number"));
    } else if kwh > BATTERY_MAX_KWH {
        errors.push(FieldError::new("battery_kwh", "must be at most 250"));
    }
    let mut connector_types = Vec::new();
    if input.connector_types.is_empty() {
        errors.push(FieldError::new(
            "connector_types",
            "must name at least one connector",
        ));
    }
    for (i, raw) in input.connector_types.iter().enumerate() {
        match raw.parse::<ConnectorType>() {
            Ok(c) => connector_types.push(c),
            Err(_) => errors.push(FieldError::new(
                format!("connector_types[{i}]"),
                "must be one of CCS1, CCS2, CHAdeMO, Type1, Type2, NACS, Schuko",
            )),
        }
    }
    connector_types.sort();
    connector_types.dedup();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidVehicle {
        make,
        model,
        year: input.year,
        battery_kwh: kwh,
        connector_types,
        nickname,
        is_default: input.is_default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input() -> VehicleInput {
        VehicleInput {
            make: " Tesla ".into(),
            model: "Model 3".into(),
            year: Some(2022),
            battery_kwh: 75.0,
            connector_types: vec!["NACS".into(), "CCS1".into(), "NACS".into()],
            nickname: Some("  ".into()),
            is_default: true,
        }
    }

    #[test]
    fn normalises_a_good_vehicle() {
        let v = validate_vehicle(&input()).unwrap();
        assert_eq!(v.make, "Tesla");
        assert_eq!(v.nickname, None);
        assert_eq!(
            v.connector_types,
            [ConnectorType::Ccs1, ConnectorType::Nacs]
        );
    }

    #[test]
    fn reports_every_bad_field() {
        let bad = VehicleInput {
            make: "".into(),
            model: "x".repeat(61),
            year: Some(1899),
            battery_kwh: 0.0,
            connector_types: vec!["CCS2".into(), "Tesla".into()],
            nickname: None,
            is_default: false,
        };
        let fields: Vec<String> = validate_vehicle(&bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["make", "model", "year", "battery_kwh", "connector_types[1]"]
        );
        let none = VehicleInput {
            connector_types: vec![],
            battery_kwh: 250.1,
            ..input()
        };
        let fields: Vec<String> = validate_vehicle(&none)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["battery_kwh", "connector_types"]);
    }

    #[test]
    fn connector_names_round_trip() {
        for c in ConnectorType::ALL {
            assert_eq!(c.as_str().parse::<ConnectorType>(), Ok(c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
        assert!("ccs2".parse::<ConnectorType>().is_err(), "names are exact");
    }

    proptest! {
        #[test]
        fn battery_rule_is_exactly_the_range(kwh in -10.0f64..300.0) {
            let ok = validate_vehicle(&VehicleInput { battery_kwh: kwh, ..input() }).is_ok();
            prop_assert_eq!(ok, kwh > 0.0 && kwh <= BATTERY_MAX_KWH);
        }
    }
}

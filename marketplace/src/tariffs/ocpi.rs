//! OCPI 2.2.1 Tariff and CDR objects as they cross the wire (module `tariffs`, `cdrs`), so the
//! platform can import and export them for roaming partners.
//!
//! Prices and volumes are `rust_decimal` in memory and JSON numbers on the wire (OCPI's
//! `number`); timestamps are RFC 3339 in UTC (a missing designator means UTC, as OCPI says).
//! The objects the engine reads are modelled field by field; the nested tariff classes are
//! strict (a misspelt `step-size` is an error, not a free session), while the top-level objects
//! keep fields we do not read (`signed_data`, later-version fields) in `extra`, so a CDR or a
//! tariff survives an import/export round trip unchanged.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A price in the tariff's currency; `incl_vat` is optional in OCPI 2.2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OcpiPrice)]
pub struct Price {
    #[serde(with = "num")]
    #[schema(value_type = f64, minimum = 0, example = 1.0)]
    pub excl_vat: Decimal,
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0, example = 1.21)]
    pub incl_vat: Option<Decimal>,
}

/// What a price component is charged for.
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
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = OcpiDimension)]
pub enum TariffDimensionType {
    Energy,
    Flat,
    ParkingTime,
    Time,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = OcpiTariffType)]
pub enum TariffType {
    AdHocPayment,
    ProfileCheap,
    ProfileFast,
    ProfileGreen,
    Regular,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = OcpiDayOfWeek)]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl DayOfWeek {
    pub fn of(weekday: chrono::Weekday) -> Self {
        use chrono::Weekday as W;
        match weekday {
            W::Mon => Self::Monday,
            W::Tue => Self::Tuesday,
            W::Wed => Self::Wednesday,
            W::Thu => Self::Thursday,
            W::Fri => Self::Friday,
            W::Sat => Self::Saturday,
            W::Sun => Self::Sunday,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = OcpiReservation)]
pub enum ReservationRestrictionType {
    Reservation,
    ReservationExpires,
}

/// `price` is per unit and excludes VAT; `vat` is a percentage (absent: no VAT applies);
/// `step_size` is in Wh (ENERGY) or seconds (TIME, PARKING_TIME), unused for FLAT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OcpiPriceComponent)]
pub struct PriceComponent {
    #[serde(rename = "type")]
    pub kind: TariffDimensionType,
    /// Per kWh (ENERGY), per hour (TIME, PARKING_TIME) or per session (FLAT), excl. VAT;
    /// 0 to 1000000.
    #[serde(with = "num")]
    #[schema(value_type = f64, minimum = 0, maximum = 1_000_000, example = 0.25)]
    pub price: Decimal,
    /// VAT percentage, 0 to 100; absent: no VAT applies.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 100, example = 21)]
    pub vat: Option<Decimal>,
    /// Wh (ENERGY) or seconds (TIME, PARKING_TIME), at most 1000000; at least 1 except for
    /// FLAT, which does not use it.
    #[schema(minimum = 0, maximum = 1_000_000, example = 1)]
    pub step_size: u32,
}

/// When an element is active. Times and dates are local to the charger's time zone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = OcpiRestrictions,
    description = "OCPI 2.2.1 `TariffRestrictions`, local to the charger's time zone; `min_*` \
        inclusive, `max_*` exclusive, a minimum never above its maximum (nor `start_date` on or \
        after `end_date`); durations in seconds since the session started."
)]
pub struct TariffRestrictions {
    #[serde(default, with = "opt_hhmm", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^([0-1][0-9]|2[0-3]):[0-5][0-9]$", example = "18:00")]
    pub start_time: Option<NaiveTime>,
    #[serde(default, with = "opt_hhmm", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^([0-1][0-9]|2[0-3]):[0-5][0-9]$", example = "21:00")]
    pub end_time: Option<NaiveTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    /// kWh, 0 to 100000.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 100_000)]
    pub min_kwh: Option<Decimal>,
    /// kWh, 0 to 100000.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 100_000)]
    pub max_kwh: Option<Decimal>,
    /// A over all phases, 0 to 10000.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 10_000)]
    pub min_current: Option<Decimal>,
    /// A over all phases, 0 to 10000.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 10_000)]
    pub max_current: Option<Decimal>,
    /// kW, 0 to 10000.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 10_000)]
    pub min_power: Option<Decimal>,
    /// kW, 0 to 10000.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 10_000)]
    pub max_power: Option<Decimal>,
    /// Seconds since the session started, inclusive; at most a year (31622400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 31_622_400)]
    pub min_duration: Option<u64>,
    /// Seconds since the session started, exclusive; at most a year (31622400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(maximum = 31_622_400)]
    pub max_duration: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub day_of_week: Vec<DayOfWeek>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<ReservationRestrictionType>,
}

/// OCPI 2.2.1 `TariffElement`: the first element whose restrictions apply prices a moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OcpiTariffElement)]
pub struct TariffElement {
    #[schema(min_items = 1)]
    pub price_components: Vec<PriceComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<TariffRestrictions>,
}

/// OCPI `DisplayText`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OcpiDisplayText)]
pub struct DisplayText {
    #[schema(example = "en")]
    pub language: String,
    #[schema(example = "0.35 EUR per kWh")]
    pub text: String,
}

/// OCPI 2.2.1 `Tariff`. `country_code` and `party_id` are required by the specification but
/// missing from several of its own examples, so they are optional here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = OcpiTariff)]
pub struct Tariff {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "DE")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "EVP")]
    pub party_id: Option<String>,
    /// 1 to 36 characters.
    #[schema(min_length = 1, max_length = 36, example = "13")]
    pub id: String,
    /// ISO 4217; a host's tariff must be in the charger's currency.
    #[schema(example = "EUR")]
    pub currency: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TariffType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tariff_alt_text: Vec<DisplayText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_alt_url: Option<String>,
    /// The least a session costs; each figure 0 to 100000000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<Price>,
    /// The most a session costs; each figure 0 to 100000000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<Price>,
    /// At least one.
    #[schema(min_items = 1)]
    pub elements: Vec<TariffElement>,
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub start_date_time: Option<DateTime<Utc>>,
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub end_date_time: Option<DateTime<Utc>>,
    /// OCPI `EnergyMix`, carried as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_mix: Option<Value>,
    /// A host's tariff gets the time its version is stored.
    #[serde(with = "datetime")]
    #[schema(value_type = DateTime<Utc>, example = "2026-01-01T00:00:00Z")]
    pub last_updated: DateTime<Utc>,
    /// Fields this version does not model, kept for the round trip.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Tariff {
    /// Whether the tariff is valid at `at` (its optional start/end date-times).
    pub fn valid_at(&self, at: DateTime<Utc>) -> bool {
        self.start_date_time.is_none_or(|s| s <= at) && self.end_date_time.is_none_or(|e| at < e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CdrDimensionType {
    Current,
    Energy,
    EnergyExport,
    EnergyImport,
    MaxCurrent,
    MinCurrent,
    MaxPower,
    MinPower,
    ParkingTime,
    Power,
    ReservationTime,
    StateOfCharge,
    Time,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CdrDimension {
    #[serde(rename = "type")]
    pub kind: CdrDimensionType,
    #[serde(with = "num")]
    pub volume: Decimal,
}

/// A period ends when the next one starts; the last one when the session ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargingPeriod {
    #[serde(with = "datetime")]
    pub start_date_time: DateTime<Utc>,
    pub dimensions: Vec<CdrDimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_id: Option<String>,
}

impl ChargingPeriod {
    /// The volume of one dimension; absent counts as none.
    pub fn volume(&self, kind: CdrDimensionType) -> Option<Decimal> {
        self.dimensions
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.volume)
            .reduce(|a, b| a + b)
    }
}

/// OCPI `CdrLocation`: the fields pricing reads, the rest kept as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdrLocation {
    /// ISO 3166-1 alpha-3.
    pub country: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// OCPI 2.2.1 `CDR`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cdr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_id: Option<String>,
    pub id: String,
    #[serde(with = "datetime")]
    pub start_date_time: DateTime<Utc>,
    #[serde(with = "datetime")]
    pub end_date_time: DateTime<Utc>,
    pub cdr_location: CdrLocation,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tariffs: Vec<Tariff>,
    pub charging_periods: Vec<ChargingPeriod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_cost: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_fixed_cost: Option<Price>,
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    pub total_energy: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_energy_cost: Option<Price>,
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    pub total_time: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_time_cost: Option<Price>,
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    pub total_parking_time: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_parking_cost: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_reservation_cost: Option<Price>,
    #[serde(with = "datetime")]
    pub last_updated: DateTime<Utc>,
    /// `cdr_token`, `auth_method`, `signed_data`, `remark`, ... as they came.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Parses JSON naming the path of a bad field (`elements[0].price_components[1].step_size`).
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        format!("{path}: {}", err.into_inner())
    })?;
    de.end().map_err(|err| err.to_string())?;
    Ok(value)
}

/// `Decimal` as a JSON number (OCPI's `number`); reads numbers and numeric strings.
pub mod num {
    use rust_decimal::prelude::ToPrimitive;
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        let normal = value.normalize();
        match normal.to_i64() {
            Some(i) if normal.scale() == 0 => s.serialize_i64(i),
            _ => s.serialize_f64(value.to_f64().unwrap_or(f64::NAN)),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        <Decimal as Deserialize>::deserialize(d)
    }
}

pub mod opt_num {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => super::num::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Option::<Decimal>::deserialize(d)
    }
}

/// OCPI `DateTime`: RFC 3339, UTC; written with `Z` and fractions only when there are any.
pub mod datetime {
    use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn parse(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|t| t.and_utc())
            })
    }

    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| D::Error::custom(format!("`{text}` is not an RFC 3339 time")))
    }
}

pub mod opt_datetime {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => super::datetime::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::datetime")] DateTime<Utc>);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

/// `HH:MM`, 24 h with leading zeros, as OCPI's regex `([0-1][0-9]|2[0-3]):[0-5][0-9]`.
pub mod opt_hhmm {
    use chrono::NaiveTime;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => s.serialize_str(&t.format("%H:%M").to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveTime>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let ok = text.len() == 5 && text.as_bytes()[2] == b':';
        ok.then(|| NaiveTime::parse_from_str(&text, "%H:%M").ok())
            .flatten()
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("`{text}` is not a time HH:MM")))
    }
}

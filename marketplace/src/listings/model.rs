//! Listing rules with no I/O: the field vocabulary and input validation. The lifecycle state
//! machine with who may see or change a listing ([`super::lifecycle`]) and the calendar
//! ([`super::calendar`]) live next door and are re-exported here.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::FieldError;

pub use super::lifecycle::{access, transition, Access, InvalidTransition, ListingAction};

pub use super::calendar::{
    is_open, open_intervals, validate_blackout, validate_opening_hours, Blackout, ClockTime,
    ListingCalendar, OpeningWindow,
};

pub const TITLE_CHARS: (usize, usize) = (3, 120);
pub const ADDRESS_CHARS: (usize, usize) = (3, 300);
pub const DESCRIPTION_MAX_CHARS: usize = 5000;
pub const ACCESS_INSTRUCTIONS_MAX_CHARS: usize = 2000;
pub const MAX_PHOTOS: usize = 10;
pub const PHOTO_URL_MAX_CHARS: usize = 2000;
pub const MAX_AMENITIES: usize = 20;
pub const AMENITY_MAX_CHARS: usize = 50;
pub const DEVICE_ID_MAX_CHARS: usize = 64;
pub const PORT_LABEL_MAX_CHARS: usize = 60;
pub const MAX_POWER_KW: f64 = 1000.0;
pub const REJECTION_REASON_MAX_CHARS: usize = 1000;

// Variants whose wire text is not their name say it for the API document too: utoipa does
// not read the `#[serde(rename = …)]` that `text_enum!` writes (a `literal` fragment reaches
// the derive wrapped in an invisible group, which utoipa's serde parser skips).

text_enum!(
    /// Where a listing is in its life; see [`transition`].
    ListingStatus {
        #[schema(rename = "draft")]
        Draft = "draft",
        #[schema(rename = "submitted")]
        Submitted = "submitted",
        #[schema(rename = "rejected")]
        Rejected = "rejected",
        #[schema(rename = "listed")]
        Listed = "listed",
        #[schema(rename = "unlisted")]
        Unlisted = "unlisted",
    }
);

text_enum!(
    /// How the charger is driven: by hand, as an OCPP station, or as an MQTT device.
    DeviceKind {
        #[schema(rename = "plain")]
        Plain = "plain",
        #[schema(rename = "ocpp")]
        Ocpp = "ocpp",
        #[schema(rename = "mqtt")]
        Mqtt = "mqtt",
    }
);

text_enum!(
    /// A port's plug.
    ConnectorType {
        #[schema(rename = "CCS1")]
        Ccs1 = "CCS1",
        #[schema(rename = "CCS2")]
        Ccs2 = "CCS2",
        #[schema(rename = "CHAdeMO")]
        Chademo = "CHAdeMO",
        #[schema(rename = "Type1")]
        Type1 = "Type1",
        #[schema(rename = "Type2")]
        Type2 = "Type2",
        #[schema(rename = "NACS")]
        Nacs = "NACS",
        #[schema(rename = "Schuko")]
        Schuko = "Schuko",
    }
);

text_enum!(
    /// AC or DC charging.
    CurrentType {
        #[schema(rename = "AC")]
        Ac = "AC",
        #[schema(rename = "DC")]
        Dc = "DC",
    }
);

text_enum!(
    /// OCPP 2.0.1 ConnectorStatusEnumType, plus `Unknown` until the device first reports.
    PortStatus {
        Available = "Available",
        Occupied = "Occupied",
        Reserved = "Reserved",
        Unavailable = "Unavailable",
        Faulted = "Faulted",
        Unknown = "Unknown",
    }
);

/// The host-editable fields of a listing, as they came over the wire.
///
/// Create (POST) or replace (PUT) a listing's own fields; ports and calendar have their own
/// routes. Text fields are trimmed.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingInput {
    /// 3 to 120 characters once trimmed.
    #[schema(
        pattern = r"^\s*\S[\s\S]{1,118}\S\s*$",
        example = "22 kW wall box, Jordaan"
    )]
    pub title: String,
    /// Defaults to `""`.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    #[serde(default)]
    #[schema(schema_with = super::schema::photos)]
    pub photos: Vec<String>,
    /// 3 to 300 characters once trimmed.
    #[schema(
        pattern = r"^\s*\S[\s\S]{1,298}\S\s*$",
        example = "Westerstraat 112, 1015 MN Amsterdam"
    )]
    pub address: String,
    #[schema(minimum = -90, maximum = 90, example = 52.3791)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.8826)]
    pub longitude: f64,
    /// IANA zone; opening hours and blackouts are local to it.
    #[schema(value_type = super::schema::TimeZoneName)]
    pub time_zone: String,
    #[serde(default)]
    #[schema(schema_with = super::schema::amenities)]
    pub amenities: Vec<String>,
    /// Defaults to `""`.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub access_instructions: String,
    /// Defaults to `plain`; `ocpp`/`mqtt` need `device_id` (an OCPP stationId for `ocpp`),
    /// `plain` must not have one.
    pub device_kind: Option<DeviceKind>,
    /// 1 to 64 characters once trimmed. For `ocpp`, a station the caller claimed
    /// (`POST /api/stations/claims`); a device drives one listing.
    #[schema(pattern = r"^\s*\S([\s\S]{0,62}\S)?\s*$", example = "CS-0042")]
    pub device_id: Option<String>,
    /// ISO 4217, three capital letters; defaults to `USD`.
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: Option<String>,
    #[schema(schema_with = super::schema::price_per_kwh)]
    pub price_per_kwh: Option<Decimal>,
    #[schema(schema_with = super::schema::price_per_hour)]
    pub price_per_hour: Option<Decimal>,
}

/// [`ListingInput`] that passed every rule: trimmed, time zone parsed, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingFields {
    pub title: String,
    pub description: String,
    pub photos: Vec<String>,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub time_zone: Tz,
    pub amenities: Vec<String>,
    pub access_instructions: String,
    pub device_kind: DeviceKind,
    pub device_id: Option<String>,
    pub currency: String,
    pub price_per_kwh: Option<Decimal>,
    pub price_per_hour: Option<Decimal>,
}

/// A stored listing without its ports and calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub id: Uuid,
    pub host_id: Uuid,
    pub fields: ListingFields,
    pub status: ListingStatus,
    pub rejection_reason: Option<String>,
    pub rating_avg: f64,
    pub rating_count: i32,
    pub connector_types: Vec<ConnectorType>,
    pub max_power_kw: f64,
    pub ports_total: i32,
    pub ports_available: i32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A listing with everything a detail page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingDetails {
    pub listing: Listing,
    pub ports: Vec<Port>,
    pub opening_hours: Vec<OpeningWindow>,
    pub blackouts: Vec<Blackout>,
}

/// A port of a charger, as the host describes it.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortInput {
    /// Defaults to `""`.
    #[serde(default)]
    #[schema(max_length = 60, example = "Left")]
    pub label: String,
    pub connector_type: ConnectorType,
    /// More than 0 (at least 0.05: one decimal is kept) and at most 1000.
    #[schema(minimum = 0.05, maximum = 1000, example = 11.0)]
    pub power_kw: f64,
    pub current_type: CurrentType,
    /// Only for `ocpp`/`mqtt` listings, together with `connector_id`: the device's EVSE
    /// and connector this port is.
    #[schema(minimum = 1, maximum = 2147483647)]
    pub evse_id: Option<i32>,
    #[schema(minimum = 1, maximum = 2147483647)]
    pub connector_id: Option<i32>,
}

/// A port of a listed charger, with the status its device last reported.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ListingPort)]
pub struct Port {
    pub id: Uuid,
    #[schema(example = "Left")]
    pub label: String,
    pub connector_type: ConnectorType,
    #[schema(example = 11.0)]
    pub power_kw: f64,
    pub current_type: CurrentType,
    /// The device's EVSE this port is; null when not bound.
    #[schema(required)]
    pub evse_id: Option<i32>,
    #[schema(required)]
    pub connector_id: Option<i32>,
    pub live_status: PortStatus,
    /// When the device last reported; null until it did.
    #[schema(required)]
    pub live_status_at: Option<DateTime<Utc>>,
}

/// A status report from a device, as the CSMS or the MQTT bridge sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceStatus {
    pub device_kind: DeviceKind,
    /// The OCPP `stationId` or the MQTT charger id.
    pub device_id: String,
    pub evse_id: i32,
    pub connector_id: i32,
    /// OCPP ConnectorStatus name; anything else is ignored (and logged) by the service.
    pub status: String,
    pub at: DateTime<Utc>,
}

/// Checks every field and reports all problems at once, so a form can show them together.
pub fn validate_listing(input: ListingInput) -> Result<ListingFields, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut check = |field: &str, result: Result<(), String>| {
        if let Err(message) = result {
            errors.push(FieldError::new(field, message));
        }
    };
    let title = input.title.trim().to_owned();
    check("title", char_range(&title, TITLE_CHARS));
    check(
        "description",
        max_chars(&input.description, DESCRIPTION_MAX_CHARS),
    );
    let address = input.address.trim().to_owned();
    check("address", char_range(&address, ADDRESS_CHARS));
    check("latitude", coordinate(input.latitude, 90.0));
    check("longitude", coordinate(input.longitude, 180.0));
    check(
        "access_instructions",
        max_chars(&input.access_instructions, ACCESS_INSTRUCTIONS_MAX_CHARS),
    );
    if input.photos.len() > MAX_PHOTOS {
        check(
            "photos",
            Err(format!("must hold at most {MAX_PHOTOS} URLs")),
        );
    }
    for (i, url) in input.photos.iter().enumerate() {
        check(&format!("photos[{i}]"), photo_url(url));
    }
    let amenities: Vec<String> = input
        .amenities
        .iter()
        .map(|a| a.trim().to_owned())
        .collect();
    if amenities.len() > MAX_AMENITIES {
        check(
            "amenities",
            Err(format!("must hold at most {MAX_AMENITIES} entries")),
        );
    }
    for (i, amenity) in amenities.iter().enumerate() {
        check(
            &format!("amenities[{i}]"),
            char_range(amenity, (1, AMENITY_MAX_CHARS)),
        );
    }
    let time_zone = input.time_zone.trim().parse::<Tz>().ok();
    if time_zone.is_none() {
        check(
            "time_zone",
            Err("is not an IANA time zone such as `Europe/Berlin`".into()),
        );
    }
    let device_kind = input.device_kind.unwrap_or(DeviceKind::Plain);
    let device_id = input.device_id.map(|id| id.trim().to_owned());
    match (device_kind, &device_id) {
        (DeviceKind::Plain, None) => {}
        (DeviceKind::Plain, Some(_)) => check(
            "device_id",
            Err("must be absent for a plain charger".into()),
        ),
        (_, None) => check(
            "device_id",
            Err("is required for an OCPP or MQTT charger".into()),
        ),
        (_, Some(id)) => check("device_id", char_range(id, (1, DEVICE_ID_MAX_CHARS))),
    }
    let currency = input.currency.unwrap_or_else(|| "USD".into());
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        check(
            "currency",
            Err("must be an ISO 4217 code of three capital letters".into()),
        );
    }
    if let Some(price) = input.price_per_kwh {
        check("price_per_kwh", price_per_kwh(price));
    }
    if let Some(price) = input.price_per_hour {
        check("price_per_hour", price_per_hour(price));
    }
    match time_zone {
        Some(time_zone) if errors.is_empty() => Ok(ListingFields {
            title,
            description: input.description,
            photos: input.photos,
            address,
            latitude: input.latitude,
            longitude: input.longitude,
            time_zone,
            amenities,
            access_instructions: input.access_instructions,
            device_kind,
            device_id,
            currency,
            price_per_kwh: input.price_per_kwh,
            price_per_hour: input.price_per_hour,
        }),
        _ => Err(errors),
    }
}

/// Checks a port against its own rules and the listing it belongs to.
pub fn validate_port(input: &PortInput, device_kind: DeviceKind) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Err(message) = max_chars(&input.label, PORT_LABEL_MAX_CHARS) {
        errors.push(FieldError::new("label", message));
    }
    // numeric(6, 1) keeps one decimal: 0.04 would round to 0 and break the CHECK.
    if !(input.power_kw.is_finite() && input.power_kw >= 0.05 && input.power_kw <= MAX_POWER_KW) {
        errors.push(FieldError::new(
            "power_kw",
            format!("must be more than 0 and at most {MAX_POWER_KW} kW"),
        ));
    }
    match (input.evse_id, input.connector_id) {
        (None, None) => {}
        (Some(_), Some(_)) if device_kind == DeviceKind::Plain => errors.push(FieldError::new(
            "evse_id",
            "only applies to a charger bound to a device",
        )),
        (Some(evse), Some(connector)) => {
            if evse < 1 {
                errors.push(FieldError::new("evse_id", "must be at least 1"));
            }
            if connector < 1 {
                errors.push(FieldError::new("connector_id", "must be at least 1"));
            }
        }
        (None, Some(_)) => errors.push(FieldError::new("evse_id", "is required with connector_id")),
        (Some(_), None) => errors.push(FieldError::new("connector_id", "is required with evse_id")),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

pub fn validate_rejection_reason(reason: &str) -> Result<String, FieldError> {
    let reason = reason.trim();
    char_range(reason, (1, REJECTION_REASON_MAX_CHARS))
        .map(|()| reason.to_owned())
        .map_err(|message| FieldError::new("reason", message))
}

fn char_range(value: &str, (min, max): (usize, usize)) -> Result<(), String> {
    let n = value.chars().count();
    if n < min || n > max {
        Err(format!("must be {min} to {max} characters"))
    } else {
        Ok(())
    }
}

fn max_chars(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(())
    }
}

fn coordinate(value: f64, bound: f64) -> Result<(), String> {
    if value.is_finite() && (-bound..=bound).contains(&value) {
        Ok(())
    } else {
        Err(format!("must be between -{bound} and {bound}"))
    }
}

fn photo_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let ok = matches!(host, Some(h) if !h.is_empty())
        && url.chars().count() <= PHOTO_URL_MAX_CHARS
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be an http or https URL of at most {PHOTO_URL_MAX_CHARS} characters"
        ))
    }
}

fn price_per_kwh(price: Decimal) -> Result<(), String> {
    // numeric(10, 4): more decimals would be silently rounded by the database.
    if price.scale() > 4 || price < Decimal::new(5, 2) || price > Decimal::ONE {
        Err("must be between 0.05 and 1.00 with at most 4 decimals".into())
    } else {
        Ok(())
    }
}

fn price_per_hour(price: Decimal) -> Result<(), String> {
    if price.scale() > 2 || price.is_sign_negative() || price >= Decimal::new(100_000_000, 0) {
        Err("must be between 0 and 99999999.99 with at most 2 decimals".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;

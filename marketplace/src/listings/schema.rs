//! API-document schemas for listing values whose Rust type says less than the rules that check
//! them: IANA zone names, decimal prices, photo URLs, trimmed text, and the rules that tie two
//! fields together. Each mirrors the check named in its comment, so that the document allows
//! exactly what the handlers accept.

use std::borrow::Cow;

use serde_json::json;
use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::calendar::MAX_WINDOWS;
use super::model::{
    ListingInput, OpeningWindow, PortInput, AMENITY_MAX_CHARS, MAX_AMENITIES, MAX_PHOTOS,
    PHOTO_URL_MAX_CHARS,
};

/// Any text whose trimmed form (`str::trim`) is `min..=max` characters long, however much
/// white space surrounds it. Fields write it out as a literal; the tests check those.
pub fn trimmed(min: usize, max: usize) -> String {
    let inner = |min: usize| format!(r"[\s\S]{{{min},{}}}", max.saturating_sub(2));
    match min {
        0 => format!(r"^\s*(\S({}\S)?)?\s*$", inner(0)),
        1 => format!(r"^\s*\S({}\S)?\s*$", inner(0)),
        _ => format!(r"^\s*\S{}\S\s*$", inner(min - 2)),
    }
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn null() -> Schema {
    ObjectBuilder::new().schema_type(Type::Null).into()
}

/// An IANA time zone name as `chrono-tz` knows it (`Tz::from_str`, exact case; the value is
/// trimmed first).
pub struct TimeZoneName;

impl PartialSchema for TimeZoneName {
    fn schema() -> RefOr<Schema> {
        string()
            .description(Some(
                "An IANA time zone name (the tz database's, exact case); opening hours and \
                 blackouts are local to it",
            ))
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
            .examples([json!("Europe/Amsterdam")])
            .into()
    }
}

impl ToSchema for TimeZoneName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TimeZone")
    }
}

/// `price_per_kwh` in: a decimal from 0.05 to 1.00 with at most 4 decimals
/// (`model::price_per_kwh`). A JSON string in decimal notation, or a whole number.
pub fn price_per_kwh() -> Schema {
    OneOfBuilder::new()
        .item(
            string()
                .pattern(Some(
                    r"^(0\.(0[5-9][0-9]{0,2}|[1-9][0-9]{0,3})|1(\.0{1,4})?)$",
                ))
                .examples([json!("0.35")]),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(1)),
        )
        .item(null())
        .description(Some(
            "Per kWh, 0.05 to 1.00 with at most 4 decimals: a decimal string (`\"0.35\"`), as \
             answers write it, or the whole number 1. Defaults to none. (A JSON number with \
             decimals is read too, but a number cannot say how many decimals it has.)",
        ))
        .examples([json!("0.35")])
        .into()
}

/// `price_per_hour` in: a decimal from 0 to 99999999.99 with at most 2 decimals
/// (`model::price_per_hour`).
pub fn price_per_hour() -> Schema {
    OneOfBuilder::new()
        .item(
            string()
                .pattern(Some(r"^(0|[1-9][0-9]{0,7})(\.[0-9]{1,2})?$"))
                .examples([json!("1.50")]),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(99_999_999)),
        )
        .item(null())
        .description(Some(
            "Per hour plugged in, 0 to 99999999.99 with at most 2 decimals: a decimal string \
             (`\"1.50\"`), as answers write it, or a whole number. Defaults to none. (A JSON \
             number with decimals is read too, but a number cannot say how many decimals it \
             has.)",
        ))
        .examples([json!("1.50")])
        .into()
}

/// `photos`: at most 10 http(s) URLs of at most 2000 characters, with a host, without white
/// space or control characters (`model::photo_url`).
pub fn photos() -> Schema {
    ArrayBuilder::new()
        .items(
            string()
                .pattern(Some(
                    r"^https?://[^/?#\s\x00-\x1f\x7f-\x9f][^\s\x00-\x1f\x7f-\x9f]*$",
                ))
                .max_length(Some(PHOTO_URL_MAX_CHARS))
                .examples([json!("https://example.com/charger.jpg")]),
        )
        .max_items(Some(MAX_PHOTOS))
        .description(Some(
            "http(s) URLs with a host, at most 2000 characters each; defaults to none",
        ))
        .into()
}

/// `amenities`: at most 20, each 1 to 50 characters once trimmed.
pub fn amenities() -> Schema {
    ArrayBuilder::new()
        .items(
            string()
                .pattern(Some(trimmed(1, AMENITY_MAX_CHARS)))
                .examples([json!("Toilets")]),
        )
        .max_items(Some(MAX_AMENITIES))
        .description(Some("Each 1 to 50 characters (trimmed); defaults to none"))
        .into()
}

/// The body of `POST /api/chargers` and `PUT /api/chargers/{id}`: [`ListingInput`], with the
/// rule that ties `device_id` to `device_kind` (`model::validate_listing`).
pub struct ListingBody;

impl PartialSchema for ListingBody {
    fn schema() -> RefOr<Schema> {
        let plain = ObjectBuilder::new()
            .description(Some("A plain charger: no `device_id`"))
            .property(
                "device_kind",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .enum_values(Some([json!("plain"), json!(null)])),
            )
            .property("device_id", null());
        let driven = ObjectBuilder::new()
            .description(Some(
                "A charger driven by a device: `ocpp` (its OCPP stationId, a station the caller \
                 claimed) or `mqtt`, with the device's id",
            ))
            .property(
                "device_kind",
                string().enum_values(Some([json!("ocpp"), json!("mqtt")])),
            )
            .property("device_id", string())
            .required("device_kind")
            .required("device_id");
        AllOfBuilder::new()
            .item(Ref::from_schema_name(ListingInput::name()))
            .item(OneOfBuilder::new().item(plain).item(driven))
            .description(Some(
                "A listing's own fields. `device_id` goes with `device_kind` `ocpp` or `mqtt` \
                 and must be left out (or null) for a plain charger.",
            ))
            .into()
    }
}

impl ToSchema for ListingBody {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        out.push((ListingInput::name().into_owned(), ListingInput::schema()));
        ListingInput::schemas(out);
    }
}

/// The body of the port routes: [`PortInput`], with `evse_id` and `connector_id` given
/// together or not at all (`model::validate_port`).
pub struct PortBody;

impl PartialSchema for PortBody {
    fn schema() -> RefOr<Schema> {
        let unbound = ObjectBuilder::new()
            .description(Some("Not bound to a device's connector"))
            .property("evse_id", null())
            .property("connector_id", null());
        let bound = ObjectBuilder::new()
            .description(Some(
                "Bound to a device's EVSE and connector (only on an `ocpp` or `mqtt` charger)",
            ))
            .property("evse_id", ObjectBuilder::new().schema_type(Type::Integer))
            .property(
                "connector_id",
                ObjectBuilder::new().schema_type(Type::Integer),
            )
            .required("evse_id")
            .required("connector_id");
        AllOfBuilder::new()
            .item(Ref::from_schema_name(PortInput::name()))
            .item(OneOfBuilder::new().item(unbound).item(bound))
            .description(Some(
                "A port. `evse_id` and `connector_id` go together, and only on a charger \
                 driven by a device (a plain charger's port with them is a 422).",
            ))
            .into()
    }
}

impl ToSchema for PortBody {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        out.push((PortInput::name().into_owned(), PortInput::schema()));
        PortInput::schemas(out);
    }
}

/// The body of `PUT /api/chargers/{id}/opening-hours`: the whole week, at most 50 windows
/// (`calendar::validate_opening_hours`).
pub struct OpeningHours;

impl PartialSchema for OpeningHours {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(Ref::from_schema_name(OpeningWindow::name()))
            .max_items(Some(MAX_WINDOWS))
            .description(Some(
                "The week: at most 50 windows, none overlapping another of its weekday \
                 (touching is fine: 08:00–12:00 and 12:00–20:00); empty: open around the clock",
            ))
            .into()
    }
}

impl ToSchema for OpeningHours {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        out.push((OpeningWindow::name().into_owned(), OpeningWindow::schema()));
        OpeningWindow::schemas(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_patterns() {
        // the literals the fields write out
        for (min, max, literal) in [
            (1, 50, r"^\s*\S([\s\S]{0,48}\S)?\s*$"),
            (1, 64, r"^\s*\S([\s\S]{0,62}\S)?\s*$"),
            (1, 1000, r"^\s*\S([\s\S]{0,998}\S)?\s*$"),
            (0, 200, r"^\s*(\S([\s\S]{0,198}\S)?)?\s*$"),
            (3, 120, r"^\s*\S[\s\S]{1,118}\S\s*$"),
            (3, 300, r"^\s*\S[\s\S]{1,298}\S\s*$"),
        ] {
            assert_eq!(trimmed(min, max), literal);
        }
    }
}

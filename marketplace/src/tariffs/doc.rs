//! How the API document shows the decimal amounts a host or a driver sends in pricing
//! requests: a JSON number, or the same number as a string (`0.35` or `"0.35"`: `Decimal`
//! reads both), within the bounds the validation checks. The string form carries the bounds
//! and the decimals allowed in its pattern (leading zeros, a trailing point and trailing
//! zeros pass, as they do on the server); a number's decimals cannot be bounded in JSON
//! Schema, so the description says how many are allowed. Answers write these amounts as
//! strings, which the same schema describes.
//!
//! OCPI objects are not described here: their numbers are JSON numbers both ways
//! (`ocpi::num`), shown with `#[schema(value_type = f64)]` where they are declared.

use serde_json::json;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::PartialSchema;

use super::ocpi::Tariff;

/// The bounds of one amount: inclusive `min`/`max`, and the string form's pattern.
struct Range {
    min: f64,
    max: f64,
    pattern: &'static str,
}

/// 0.05 to 1, at most 4 decimals (a price per kWh).
const PER_KWH: Range = Range {
    min: 0.05,
    max: 1.0,
    pattern: r"^0*(1(\.0*)?|\.(0[5-9]|[1-9][0-9]?)[0-9]{0,2}0*)$",
};

/// 0 to 100, at most 2 decimals (hourly rates, fees, the minimum charge).
const UP_TO_100: Range = Range {
    min: 0.0,
    max: 100.0,
    pattern: r"^0*(100(\.0*)?|[0-9]{1,2}(\.([0-9]{1,2}0*)?)?|\.[0-9]{1,2}0*)$",
};

/// 1 to 3, at most 2 decimals (the peak and emergency multipliers).
const ONE_TO_3: Range = Range {
    min: 1.0,
    max: 3.0,
    pattern: r"^0*(3(\.0*)?|[12](\.([0-9]{1,2}0*)?)?)$",
};

/// 0.5 to 1, at most 2 decimals (the night multiplier).
const HALF_TO_1: Range = Range {
    min: 0.5,
    max: 1.0,
    pattern: r"^0*(1(\.0*)?|\.[5-9][0-9]?0*)$",
};

/// 0 to 25, at most 3 decimals (a sales tax rate).
const SALES_TAX: Range = Range {
    min: 0.0,
    max: 25.0,
    pattern: r"^0*(25(\.0*)?|(1?[0-9]|2[0-4])(\.([0-9]{1,3}0*)?)?|\.[0-9]{1,3}0*)$",
};

/// 0 to 1000 kWh (a planned session's energy).
const SESSION_KWH: Range = Range {
    min: 0.0,
    max: 1000.0,
    pattern: r"^0*(1000(\.0*)?|[0-9]{1,3}(\.[0-9]*)?|\.[0-9]+)$",
};

/// 0 to 1,000,000 kWh (`bounds::MAX_ACCOUNT_KWH`: a package, a subscription's fair use).
const ACCOUNT_KWH: Range = Range {
    min: 0.0,
    max: 1_000_000.0,
    pattern: r"^0*(1000000(\.0*)?|[0-9]{1,6}(\.[0-9]*)?|\.[0-9]+)$",
};

fn decimal(range: &Range, nullable: bool, description: &str, example: &str) -> RefOr<Schema> {
    let number = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(range.min))
        .maximum(Some(range.max));
    let string = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(range.pattern));
    let mut one_of = OneOfBuilder::new().item(number).item(string);
    if nullable {
        one_of = one_of.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    one_of
        .description(Some(description))
        .examples([json!(example)])
        .into()
}

/// One `fn() -> schema` per field, as `#[schema(schema_with = ...)]` wants them.
macro_rules! amounts {
    ($($name:ident: $range:ident, $nullable:literal, $example:literal, $description:literal;)+) => {
        $(
            pub(super) fn $name() -> RefOr<Schema> {
                decimal(&$range, $nullable, $description, $example)
            }
        )+
    };
}

amounts! {
    price_per_kwh: PER_KWH, false, "0.35",
        "Per kWh, 0.05 to 1.00 with at most 4 decimals; billed per Wh.";
    price_per_hour: UP_TO_100, false, "2.00",
        "Per hour of charging, 0 to 100 with at most 2 decimals; default 0. Billed per second.";
    minimum_charge: UP_TO_100, false, "1.00",
        "The least a session costs (OCPI `min_price`), 0 to 100 with at most 2 decimals; \
         default 0.";
    peak_multiplier: ONE_TO_3, false, "1.5",
        "18:00–21:00 local: 1 to 3 with at most 2 decimals (1 turns it off); default 1.5.";
    night_multiplier: HALF_TO_1, false, "0.8",
        "22:00–06:00 local: 0.5 to 1 with at most 2 decimals (1 turns it off); default 0.8.";
    idle_fee_per_hour: UP_TO_100, false, "6.00",
        "Per hour connected but not charging (OCPI PARKING_TIME), billed per started minute; \
         0 to 100 with at most 2 decimals; default 0.";
    emergency_multiplier: ONE_TO_3, true, "2",
        "Instant (emergency) bookings pay ENERGY and TIME × this: 1 to 3 with at most 2 \
         decimals; default 2.";
    sales_tax_percent: SALES_TAX, true, "8.875",
        "Only where sales tax applies (e.g. the United States; a VAT country's charger refuses \
         it): the combined local rate, 0 to 25 with at most 3 decimals. VAT countries' rates \
         come from the charger's time zone.";
    estimated_kwh: SESSION_KWH, false, "20",
        "kWh expected over the charging time, 0 to 1000.";
    prepaid_kwh: ACCOUNT_KWH, true, "15",
        "kWh left on the driver's prepaid package, 0 to 1000000; they are used first.";
    fair_use_kwh: ACCOUNT_KWH, false, "300",
        "The subscription's monthly fair-use cap, kWh, 0 to 1000000.";
    used_kwh: ACCOUNT_KWH, false, "120",
        "kWh already used this month, 0 to 1000000.";
}

/// A host's own OCPI tariff in a pricing request: the OCPI `Tariff` schema, where a
/// top-level field this server does not model is refused (`rules::validate_tariff`), unlike
/// in answers and imports, which keep them. `null` is the same as leaving it out.
pub(super) fn host_tariff() -> RefOr<Schema> {
    let mut tariff = <Tariff as PartialSchema>::schema();
    if let RefOr::T(Schema::Object(object)) = &mut tariff {
        object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        object.description = Some(
            "A full OCPI 2.2.1 tariff. `currency` must be the charger's, `last_updated` is set \
             to now, and a missing `country_code`/`party_id` is filled in; the default ENERGY \
             price (of the first element without restrictions) must be from 0.05 to 1.00."
                .into(),
        );
    }
    OneOfBuilder::new()
        .item(tariff)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

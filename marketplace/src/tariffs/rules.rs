//! What a host may send as pricing, and what it becomes: an OCPI tariff, the listing's price
//! summary, the tax rule. Pure; the service stores the result.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::bounds;
use super::ocpi::{Tariff, TariffDimensionType};
use super::peak_night::{self, Header, Labels, SimpleSettings};
use super::store::Source;
use super::zones::{self, TaxRule};
use crate::error::FieldError;

/// `POST|PUT /api/chargers/{id}/pricing`: exactly one of `simple` and `ocpi`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = PricingBody,
    description = "Exactly one of `simple` and `ocpi`. Each call makes a new version in force \
        from now; the listing's `price_per_kwh`/`price_per_hour` (search) follow it."
)]
pub struct PricingInput {
    /// The host's simple settings.
    pub simple: Option<SimpleSettings>,
    #[schema(schema_with = super::doc::host_tariff)]
    pub ocpi: Option<Box<Tariff>>,
    /// Instant (emergency) bookings pay ENERGY and TIME × this; 1 to 3, default 2.
    #[schema(schema_with = super::doc::emergency_multiplier)]
    pub emergency_multiplier: Option<Decimal>,
    /// Sales-tax countries only (e.g. the United States): the combined local rate, 0 to 25.
    #[schema(schema_with = super::doc::sales_tax_percent)]
    pub sales_tax_percent: Option<Decimal>,
}

/// A validated pricing input, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    pub source: Source,
    pub settings: Option<SimpleSettings>,
    pub tariff: Tariff,
    pub emergency_multiplier: Decimal,
    pub sales_tax_percent: Option<Decimal>,
    /// For `listings.price_per_kwh` / `price_per_hour`.
    pub summary: (Option<Decimal>, Option<Decimal>),
}

/// The listing a pricing is for.
pub struct Target<'a> {
    pub tariff_id: String,
    pub currency: &'a str,
    pub time_zone: Tz,
    pub now: DateTime<Utc>,
}

/// The tax rule of a charger: its country's, with the host's sales tax rate where sales tax
/// applies.
pub fn tax_rule(tz: Tz, sales_tax_percent: Option<Decimal>) -> TaxRule {
    match (zones::tax_for_zone(tz), sales_tax_percent) {
        (TaxRule::SalesTaxExclusive { .. }, Some(percent)) => {
            TaxRule::SalesTaxExclusive { percent }
        }
        (rule, _) => rule,
    }
}

/// The header a simple tariff gets: our platform as the CPO, the charger's country.
pub fn header(target: &Target<'_>) -> Header {
    let country = zones::by_zone(target.time_zone);
    Header {
        id: target.tariff_id.clone(),
        currency: target.currency.to_owned(),
        country_code: Some(country.map_or("ZZ", |c| c.alpha2).to_owned()),
        party_id: Some(peak_night::PARTY_ID.to_owned()),
        vat: match zones::tax_for_zone(target.time_zone) {
            TaxRule::VatInclusive { percent } => Some(percent),
            TaxRule::SalesTaxExclusive { .. } => None,
        },
        last_updated: target.now,
    }
}

/// Simple settings the listing's summary columns stood for before any tariff was set
/// (the guide's default multipliers; no minimum, no idle fee).
pub fn settings_from_summary(
    price_per_kwh: Decimal,
    price_per_hour: Option<Decimal>,
) -> SimpleSettings {
    SimpleSettings {
        price_per_kwh,
        price_per_hour: price_per_hour.unwrap_or_default(),
        minimum_charge: Decimal::ZERO,
        peak_multiplier: Decimal::new(15, 1),
        night_multiplier: Decimal::new(8, 1),
        idle_fee_per_hour: Decimal::ZERO,
    }
}

pub fn validate(input: PricingInput, target: &Target<'_>) -> Result<Pricing, Vec<FieldError>> {
    let mut errors = Vec::new();
    let emergency = input
        .emergency_multiplier
        .unwrap_or_else(peak_night::default_emergency);
    errors.extend(peak_night::validate_emergency(
        emergency,
        "emergency_multiplier",
    ));
    if let Some(p) = input.sales_tax_percent {
        match zones::tax_for_zone(target.time_zone) {
            TaxRule::VatInclusive { percent } => errors.push(FieldError::new(
                "sales_tax_percent",
                format!("this charger's country prices VAT-inclusive ({percent}% VAT); sales tax does not apply"),
            )),
            _ if p < Decimal::ZERO || p > Decimal::from(25) || p.normalize().scale() > 3 => {
                errors.push(FieldError::new("sales_tax_percent", "must be from 0 to 25 with at most 3 decimals"))
            }
            _ => {}
        }
    }
    let built = match (input.simple, input.ocpi) {
        (Some(s), None) => {
            errors.extend(s.validate("simple."));
            let (tariff, _) = peak_night::to_ocpi(&s, &header(target));
            let hour = (s.price_per_hour > Decimal::ZERO).then_some(s.price_per_hour);
            let kwh = Some(s.price_per_kwh);
            Some((Source::Simple, Some(s), tariff, (kwh, hour)))
        }
        (None, Some(t)) => {
            let mut t = *t;
            errors.extend(validate_tariff(&t, target.currency));
            t.last_updated = target.now;
            t.country_code
                .get_or_insert_with(|| header(target).country_code.unwrap_or_default());
            t.party_id
                .get_or_insert_with(|| peak_night::PARTY_ID.to_owned());
            let summary = summary_prices(&t);
            if let Some(kwh) = summary.0 {
                if kwh < Decimal::new(5, 2) || kwh > Decimal::ONE {
                    errors.push(FieldError::new(
                        "ocpi.elements",
                        "the default ENERGY price (of the first element without restrictions) must be from 0.05 to 1.00",
                    ));
                }
            }
            Some((Source::Ocpi, None, t, summary))
        }
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "ocpi",
                "send either `simple` or `ocpi`, not both",
            ));
            None
        }
        (None, None) => {
            errors.push(FieldError::new(
                "simple",
                "is required (or a full OCPI tariff in `ocpi`)",
            ));
            None
        }
    };
    match built {
        Some((source, settings, tariff, summary)) if errors.is_empty() => Ok(Pricing {
            source,
            settings,
            tariff,
            emergency_multiplier: emergency,
            sales_tax_percent: input.sales_tax_percent,
            summary: (
                summary.0.map(|d| d.round_dp(4)),
                summary.1.map(|d| d.round_dp(2)),
            ),
        }),
        _ => Err(errors),
    }
}

/// The OCPI rules a host's own tariff must follow here (the JSON shape is already checked).
pub fn validate_tariff(t: &Tariff, currency: &str) -> Vec<FieldError> {
    let mut e = Vec::new();
    let mut err = |field: String, message: &str| e.push(FieldError::new(field, message));
    for name in t.extra.keys() {
        err(format!("ocpi.{name}"), "is not a known field");
    }
    if t.currency != currency {
        err(
            "ocpi.currency".into(),
            &format!("must be the charger's currency, {currency}"),
        );
    }
    if t.id.is_empty() || t.id.chars().count() > 36 {
        err("ocpi.id".into(), "must be 1 to 36 characters");
    }
    if t.elements.is_empty() {
        err("ocpi.elements".into(), "needs at least one element");
    }
    for (i, el) in t.elements.iter().enumerate() {
        let at = format!("ocpi.elements[{i}]");
        if el.price_components.is_empty() {
            err(
                format!("{at}.price_components"),
                "needs at least one component",
            );
        }
        for (j, c) in el.price_components.iter().enumerate() {
            let at = format!("{at}.price_components[{j}]");
            if c.kind != TariffDimensionType::Flat && c.step_size == 0 {
                err(format!("{at}.step_size"), "must be at least 1");
            }
        }
        if let Some(r) = &el.restrictions {
            let bad_pair = |lo: Option<Decimal>, hi: Option<Decimal>| matches!((lo, hi), (Some(a), Some(b)) if a > b);
            if bad_pair(r.min_kwh, r.max_kwh)
                || bad_pair(r.min_current, r.max_current)
                || bad_pair(r.min_power, r.max_power)
                || bad_pair(
                    r.min_duration.map(Decimal::from),
                    r.max_duration.map(Decimal::from),
                )
                || matches!((r.start_date, r.end_date), (Some(a), Some(b)) if a >= b)
            {
                err(
                    format!("{at}.restrictions"),
                    "a minimum is above its maximum (or the dates are reversed)",
                );
            }
        }
    }
    // prices, VAT, step sizes and restrictions within what the engine can price
    for b in bounds::tariff_breaches(t, bounds::MAX_UNIT_PRICE) {
        err(format!("ocpi.{}", b.field), &b.message);
    }
    e
}

/// The prices search shows: the ENERGY and TIME prices of the fallback element (the first
/// without restrictions that has one), else of the first element that has one.
pub fn summary_prices(t: &Tariff) -> (Option<Decimal>, Option<Decimal>) {
    let find = |kind| {
        let of = |plain: bool| {
            t.elements
                .iter()
                .filter(|e| !plain || e.restrictions.is_none())
                .flat_map(|e| &e.price_components)
                .find(|c| c.kind == kind)
                .map(|c| c.price)
        };
        of(true).or_else(|| of(false))
    };
    (
        find(TariffDimensionType::Energy),
        find(TariffDimensionType::Time),
    )
}

/// Labels of a stored simple tariff (to show multipliers as lines), if it is one.
pub fn labels(settings: Option<&SimpleSettings>, target: &Target<'_>) -> Option<Labels> {
    settings.map(|s| peak_night::to_ocpi(s, &header(target)).1)
}

//! The peak and night rules: a host's simple price settings, and the OCPI tariff they stand
//! for, one element per time window. Pure.
//!
//! The guide's rule — energy × price per kWh + hours × hourly rate, × 1.5 from 18:00 to 21:00,
//! × 0.8 from 22:00 to 06:00, then taxes — becomes one OCPI element per window, in the
//! charger's local time, with the standard prices as the fallback element:
//!
//! | element | restrictions      | components                                       |
//! |---------|-------------------|--------------------------------------------------|
//! | peak    | 18:00–21:00       | ENERGY kWh × peak, TIME rate × peak               |
//! | night   | 22:00–06:00       | ENERGY kWh × night, TIME rate × night             |
//! | standard| none              | ENERGY kWh, TIME rate, PARKING_TIME idle fee      |
//!
//! (a multiplier of 1 drops its element; a zero rate or fee drops its component). Energy is
//! billed per Wh and charging time per second (step 1), so a session inside one window costs
//! exactly the guide's formula; idle time (connected, not charging: OCPI PARKING_TIME) per
//! started minute. The minimum charge is the tariff's `min_price`.
//!
//! Prices are before tax everywhere, as OCPI prices are; in VAT countries the components carry
//! the VAT rate, so the tariff's `incl_vat` figures are what the driver pays.
//!
//! Emergency (instant) bookings: a multiplier on top, applied to the ENERGY and TIME prices of
//! whichever tariff is in force ([`emergency_variant`]) — not a stored tariff of its own, so a
//! host's price change can never leave a stale emergency variant behind.

use chrono::{DateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ocpi::{
    Price, PriceComponent, Tariff, TariffDimensionType, TariffElement, TariffRestrictions,
};
use crate::error::FieldError;

pub const PEAK_WINDOW: (u32, u32) = (18, 21);
pub const NIGHT_WINDOW: (u32, u32) = (22, 6);

fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal literal")
}

fn default_peak() -> Decimal {
    dec("1.5")
}
fn default_night() -> Decimal {
    dec("0.8")
}

/// What a host types in. Amounts are in the listing's currency, before tax.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = SimplePricing,
    description = "What a host types in, before tax, in the charger's currency. Peak is \
        18:00–21:00 and night 22:00–06:00 in the charger's time zone; a multiplier of 1 turns \
        its window off. Each amount is a number or a decimal string (answers write strings)."
)]
pub struct SimpleSettings {
    /// 0.05 to 1.00, at most 4 decimals.
    #[schema(schema_with = super::doc::price_per_kwh)]
    pub price_per_kwh: Decimal,
    /// Per hour of charging, 0 to 100, at most 2 decimals.
    #[serde(default)]
    #[schema(schema_with = super::doc::price_per_hour)]
    pub price_per_hour: Decimal,
    /// The least a session costs (before tax), 0 to 100.
    #[serde(default)]
    #[schema(schema_with = super::doc::minimum_charge)]
    pub minimum_charge: Decimal,
    /// 18:00–21:00 local; 1 to 3 (1 turns it off).
    #[serde(default = "default_peak")]
    #[schema(schema_with = super::doc::peak_multiplier)]
    pub peak_multiplier: Decimal,
    /// 22:00–06:00 local; 0.5 to 1 (1 turns it off).
    #[serde(default = "default_night")]
    #[schema(schema_with = super::doc::night_multiplier)]
    pub night_multiplier: Decimal,
    /// Per hour connected but not charging, 0 to 100.
    #[serde(default)]
    #[schema(schema_with = super::doc::idle_fee_per_hour)]
    pub idle_fee_per_hour: Decimal,
}

fn check_range(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Decimal,
    (min, max): (&str, &str),
    max_dp: u32,
) {
    let (lo, hi) = (dec(min), dec(max));
    if value < lo || value > hi {
        errors.push(FieldError::new(
            field,
            format!("must be from {min} to {max}"),
        ));
    } else if value.normalize().scale() > max_dp {
        errors.push(FieldError::new(
            field,
            format!("has more than {max_dp} decimals"),
        ));
    }
}

impl SimpleSettings {
    /// Every broken rule, fields named under `prefix` (e.g. `simple.`).
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut e = Vec::new();
        let f = |name: &str| format!("{prefix}{name}");
        check_range(
            &mut e,
            &f("price_per_kwh"),
            self.price_per_kwh,
            ("0.05", "1.00"),
            4,
        );
        check_range(
            &mut e,
            &f("price_per_hour"),
            self.price_per_hour,
            ("0", "100"),
            2,
        );
        check_range(
            &mut e,
            &f("minimum_charge"),
            self.minimum_charge,
            ("0", "100"),
            2,
        );
        check_range(
            &mut e,
            &f("peak_multiplier"),
            self.peak_multiplier,
            ("1", "3"),
            2,
        );
        check_range(
            &mut e,
            &f("night_multiplier"),
            self.night_multiplier,
            ("0.5", "1"),
            2,
        );
        check_range(
            &mut e,
            &f("idle_fee_per_hour"),
            self.idle_fee_per_hour,
            ("0", "100"),
            2,
        );
        e
    }
}

/// Which rule made an element, so a bill can show "peak ×1.5" as its own line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    Peak,
    Night,
    Standard,
}

impl Window {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Peak => "peak hours 18:00–21:00",
            Self::Night => "night 22:00–06:00",
            Self::Standard => "standard",
        }
    }
}

/// The base prices and, per tariff element, the window and multiplier that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    pub price_per_kwh: Decimal,
    pub price_per_hour: Decimal,
    pub elements: Vec<(Window, Decimal)>,
    /// Set on an emergency variant.
    pub emergency: Option<Decimal>,
}

/// Who owns the tariff and when it was made (OCPI header fields).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub id: String,
    pub currency: String,
    pub country_code: Option<String>,
    pub party_id: Option<String>,
    /// VAT percent put on every component (VAT countries), or none.
    pub vat: Option<Decimal>,
    pub last_updated: DateTime<Utc>,
}

pub const PARTY_ID: &str = "EVP";

fn hour(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).expect("a whole hour")
}

/// The OCPI tariff of `settings`, and the labels of its elements.
pub fn to_ocpi(s: &SimpleSettings, h: &Header) -> (Tariff, Labels) {
    let component = |kind, price, step_size| PriceComponent {
        kind,
        price,
        vat: h.vat,
        step_size,
    };
    let charging = |m: Decimal| {
        let mut c = vec![component(
            TariffDimensionType::Energy,
            s.price_per_kwh * m,
            1,
        )];
        if s.price_per_hour > Decimal::ZERO {
            c.push(component(
                TariffDimensionType::Time,
                s.price_per_hour * m,
                1,
            ));
        }
        c
    };
    let mut elements = Vec::new();
    let mut labels = Vec::new();
    for (window, m, (from, to)) in [
        (Window::Peak, s.peak_multiplier, PEAK_WINDOW),
        (Window::Night, s.night_multiplier, NIGHT_WINDOW),
    ] {
        if m != Decimal::ONE {
            elements.push(TariffElement {
                price_components: charging(m),
                restrictions: Some(TariffRestrictions {
                    start_time: Some(hour(from)),
                    end_time: Some(hour(to)),
                    ..TariffRestrictions::default()
                }),
            });
            labels.push((window, m));
        }
    }
    let mut standard = charging(Decimal::ONE);
    if s.idle_fee_per_hour > Decimal::ZERO {
        standard.push(component(
            TariffDimensionType::ParkingTime,
            s.idle_fee_per_hour,
            60,
        ));
    }
    elements.push(TariffElement {
        price_components: standard,
        restrictions: None,
    });
    labels.push((Window::Standard, Decimal::ONE));
    let min_price = (s.minimum_charge > Decimal::ZERO).then(|| Price {
        excl_vat: s.minimum_charge,
        incl_vat: Some(match h.vat {
            Some(v) => s.minimum_charge + s.minimum_charge * v / Decimal::ONE_HUNDRED,
            None => s.minimum_charge,
        }),
    });
    let tariff = Tariff {
        country_code: h.country_code.clone(),
        party_id: h.party_id.clone(),
        id: h.id.clone(),
        currency: h.currency.clone(),
        kind: None,
        tariff_alt_text: Vec::new(),
        tariff_alt_url: None,
        min_price,
        max_price: None,
        elements,
        start_date_time: None,
        end_date_time: None,
        energy_mix: None,
        last_updated: h.last_updated,
        extra: Default::default(),
    };
    let labels = Labels {
        price_per_kwh: s.price_per_kwh,
        price_per_hour: s.price_per_hour,
        elements: labels,
        emergency: None,
    };
    (tariff, labels)
}

/// The tariff an emergency (instant) booking pays: ENERGY and TIME prices × `multiplier`;
/// flat fees, idle fees and the minimum stay as they are.
pub fn emergency_variant(tariff: &Tariff, multiplier: Decimal) -> Tariff {
    let mut t = tariff.clone();
    for c in t
        .elements
        .iter_mut()
        .flat_map(|e| e.price_components.iter_mut())
    {
        if matches!(
            c.kind,
            TariffDimensionType::Energy | TariffDimensionType::Time
        ) {
            // a stored price beyond `bounds` saturates here and the engine then refuses it
            c.price = c.price.checked_mul(multiplier).unwrap_or(Decimal::MAX);
        }
    }
    t
}

/// Bounds of the emergency multiplier a host may set.
pub fn validate_emergency(value: Decimal, field: &str) -> Vec<FieldError> {
    let mut e = Vec::new();
    check_range(&mut e, field, value, ("1", "3"), 2);
    e
}

/// The default emergency premium of the guide: ×2.
pub fn default_emergency() -> Decimal {
    Decimal::TWO
}

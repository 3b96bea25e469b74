//! Countries: their IANA time zones (to evaluate a CDR's tariff in the location's local time
//! when no zone is given) and how consumer prices are taxed there. Pure data.
//!
//! Tax rates are the standard rates as of 2025 and are a starting table, not tax advice:
//! VAT countries price VAT-inclusive (the driver sees gross amounts, the VAT they contain is
//! shown apart); the United States and Canada price tax-exclusive (sales tax added on top).
//! US sales tax depends on the state and city, which a time zone cannot tell: it defaults to
//! 0 % and a host sets the combined local rate in the pricing settings.

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

/// How a jurisdiction taxes a charging session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = PricingTaxRule)]
pub enum TaxRule {
    /// Prices are shown with VAT included; the bill says how much VAT they contain.
    VatInclusive { percent: Decimal },
    /// Prices are shown without tax; sales tax is added as a line.
    SalesTaxExclusive { percent: Decimal },
}

impl TaxRule {
    pub fn percent(self) -> Decimal {
        match self {
            Self::VatInclusive { percent } | Self::SalesTaxExclusive { percent } => percent,
        }
    }

    pub const NONE: TaxRule = TaxRule::SalesTaxExclusive {
        percent: Decimal::ZERO,
    };
}

pub struct Country {
    /// ISO 3166-1 alpha-3, as OCPI's `CdrLocation.country`.
    pub alpha3: &'static str,
    /// ISO 3166-1 alpha-2, as OCPI's `country_code`.
    pub alpha2: &'static str,
    /// Every IANA zone in use there; the first is the main one.
    pub zones: &'static [&'static str],
    /// VAT percent ×10 (so 25.5 % is 255), or `None` for a sales-tax country.
    vat_tenths: Option<u32>,
    /// Default sales tax percent ×10 for a sales-tax country.
    sales_tax_tenths: u32,
}

impl Country {
    pub fn tax(&self) -> TaxRule {
        match self.vat_tenths {
            Some(t) => TaxRule::VatInclusive {
                percent: Decimal::new(t.into(), 1).normalize(),
            },
            None => TaxRule::SalesTaxExclusive {
                percent: Decimal::new(self.sales_tax_tenths.into(), 1).normalize(),
            },
        }
    }
}

const fn vat(
    alpha3: &'static str,
    alpha2: &'static str,
    zones: &'static [&'static str],
    tenths: u32,
) -> Country {
    Country {
        alpha3,
        alpha2,
        zones,
        vat_tenths: Some(tenths),
        sales_tax_tenths: 0,
    }
}

pub static COUNTRIES: &[Country] = &[
    vat("NLD", "NL", &["Europe/Amsterdam"], 210),
    vat("DEU", "DE", &["Europe/Berlin"], 190),
    vat("BEL", "BE", &["Europe/Brussels"], 210),
    vat("FRA", "FR", &["Europe/Paris"], 200),
    vat("GBR", "GB", &["Europe/London"], 200),
    vat("IRL", "IE", &["Europe/Dublin"], 230),
    vat("LUX", "LU", &["Europe/Luxembourg"], 170),
    vat("AUT", "AT", &["Europe/Vienna"], 200),
    vat("CHE", "CH", &["Europe/Zurich"], 81),
    vat("ITA", "IT", &["Europe/Rome"], 220),
    vat("DNK", "DK", &["Europe/Copenhagen"], 250),
    vat("NOR", "NO", &["Europe/Oslo"], 250),
    vat("SWE", "SE", &["Europe/Stockholm"], 250),
    vat("FIN", "FI", &["Europe/Helsinki"], 255),
    vat("POL", "PL", &["Europe/Warsaw"], 230),
    vat("CZE", "CZ", &["Europe/Prague"], 210),
    vat("SVK", "SK", &["Europe/Bratislava"], 230),
    vat("HUN", "HU", &["Europe/Budapest"], 270),
    vat("SVN", "SI", &["Europe/Ljubljana"], 220),
    vat("HRV", "HR", &["Europe/Zagreb"], 250),
    vat("ROU", "RO", &["Europe/Bucharest"], 190),
    vat("BGR", "BG", &["Europe/Sofia"], 200),
    vat("GRC", "GR", &["Europe/Athens"], 240),
    vat("EST", "EE", &["Europe/Tallinn"], 220),
    vat("LVA", "LV", &["Europe/Riga"], 210),
    vat("LTU", "LT", &["Europe/Vilnius"], 210),
    vat("ISL", "IS", &["Atlantic/Reykjavik"], 240),
    vat("MLT", "MT", &["Europe/Malta"], 180),
    vat(
        "ESP",
        "ES",
        &["Europe/Madrid", "Atlantic/Canary", "Africa/Ceuta"],
        210,
    ),
    vat(
        "PRT",
        "PT",
        &["Europe/Lisbon", "Atlantic/Azores", "Atlantic/Madeira"],
        230,
    ),
    vat("JPN", "JP", &["Asia/Tokyo"], 100),
    vat("KOR", "KR", &["Asia/Seoul"], 100),
    vat("SGP", "SG", &["Asia/Singapore"], 90),
    vat("NZL", "NZ", &["Pacific/Auckland", "Pacific/Chatham"], 150),
    vat(
        "AUS",
        "AU",
        &[
            "Australia/Sydney",
            "Australia/Melbourne",
            "Australia/Brisbane",
            "Australia/Adelaide",
            "Australia/Perth",
            "Australia/Hobart",
            "Australia/Darwin",
        ],
        100,
    ),
    Country {
        alpha3: "USA",
        alpha2: "US",
        zones: &[
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Phoenix",
            "America/Los_Angeles",
            "America/Anchorage",
            "Pacific/Honolulu",
            "America/Detroit",
            "America/Boise",
            "America/Indiana/Indianapolis",
        ],
        vat_tenths: None,
        sales_tax_tenths: 0,
    },
    Country {
        alpha3: "CAN",
        alpha2: "CA",
        zones: &[
            "America/Toronto",
            "America/Vancouver",
            "America/Edmonton",
            "America/Winnipeg",
            "America/Halifax",
            "America/St_Johns",
            "America/Regina",
        ],
        vat_tenths: None,
        // the federal GST; provinces add their own
        sales_tax_tenths: 50,
    },
];

pub fn by_alpha3(alpha3: &str) -> Option<&'static Country> {
    COUNTRIES
        .iter()
        .find(|c| c.alpha3.eq_ignore_ascii_case(alpha3))
}

/// The country a time zone belongs to, when the table knows it.
pub fn by_zone(tz: Tz) -> Option<&'static Country> {
    COUNTRIES.iter().find(|c| c.zones.contains(&tz.name()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error(
        "{country} spans several time zones ({zones}); pass --timezone, e.g. --timezone {first}"
    )]
    Ambiguous {
        country: String,
        zones: String,
        first: String,
    },
    #[error("no time zone is known for country `{0}`; pass --timezone (an IANA name, e.g. Europe/Amsterdam)")]
    Unknown(String),
}

/// The one time zone of a country (OCPI alpha-3), if it has only one.
pub fn single_zone(alpha3: &str) -> Result<Tz, ZoneError> {
    let country = by_alpha3(alpha3).ok_or_else(|| ZoneError::Unknown(alpha3.to_owned()))?;
    match country.zones {
        [one] => one
            .parse()
            .map_err(|_| ZoneError::Unknown(alpha3.to_owned())),
        many => Err(ZoneError::Ambiguous {
            country: country.alpha3.to_owned(),
            zones: many.join(", "),
            first: many[0].to_owned(),
        }),
    }
}

/// The tax rule of the place a charger's time zone points at; unknown places are untaxed.
pub fn tax_for_zone(tz: Tz) -> TaxRule {
    by_zone(tz).map_or(TaxRule::NONE, Country::tax)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zone_parses_and_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in COUNTRIES {
            assert!(seen.insert(c.alpha3), "{}", c.alpha3);
            for z in c.zones {
                z.parse::<Tz>().unwrap_or_else(|_| panic!("{z}"));
            }
        }
    }

    #[test]
    fn single_and_ambiguous_countries() {
        assert_eq!(single_zone("NLD").unwrap().name(), "Europe/Amsterdam");
        assert_eq!(single_zone("deu").unwrap().name(), "Europe/Berlin");
        let err = single_zone("USA").unwrap_err().to_string();
        assert!(err.contains("--timezone"), "{err}");
        assert!(matches!(single_zone("XXX"), Err(ZoneError::Unknown(_))));
    }

    #[test]
    fn taxes_follow_the_zone() {
        let nl = tax_for_zone("Europe/Amsterdam".parse().unwrap());
        assert_eq!(
            nl,
            TaxRule::VatInclusive {
                percent: Decimal::from(21)
            }
        );
        let fi = tax_for_zone("Europe/Helsinki".parse().unwrap());
        assert_eq!(fi.percent(), Decimal::new(255, 1));
        let us = tax_for_zone("America/Chicago".parse().unwrap());
        assert_eq!(us, TaxRule::NONE);
        assert_eq!(
            tax_for_zone("Antarctica/Troll".parse().unwrap()),
            TaxRule::NONE
        );
    }
}

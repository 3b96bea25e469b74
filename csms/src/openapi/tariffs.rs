//! Pricing: a charger's tariff versions (host settings or a full OCPI 2.2.1 tariff) and
//! itemized estimates. Mirrors `marketplace::tariffs::http` (bodies: `rules::PricingInput`,
//! `simple::SimpleSettings`, `ocpi::Tariff`, `quote::EstimateInput`; answers:
//! `service::{VersionView, PricingView, EstimateView}`); snake_case. Money and rates are
//! decimal strings in answers (numbers or strings in requests); inside OCPI objects they are
//! JSON numbers, as OCPI says.

use chrono::{DateTime, NaiveDate, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::route::{Access, Route};

const TAG: &str = "pricing";

/// What a host types in, before tax, in the charger's currency. Peak is 18:00–21:00 and night
/// 22:00–06:00 in the charger's time zone; a multiplier of 1 turns its window off.
#[derive(ToSchema)]
pub struct SimplePricing {
    /// 0.05 to 1.00, at most 4 decimals; billed per Wh.
    #[schema(example = "0.35")]
    pub price_per_kwh: String,
    /// Per hour of charging, 0 to 100; default 0. Billed per second.
    #[schema(example = "2.00")]
    pub price_per_hour: Option<String>,
    /// The least a session costs (OCPI `min_price`), 0 to 100; default 0.
    #[schema(example = "1.00")]
    pub minimum_charge: Option<String>,
    /// 1 to 3; default 1.5.
    #[schema(example = "1.5")]
    pub peak_multiplier: Option<String>,
    /// 0.5 to 1; default 0.8.
    #[schema(example = "0.8")]
    pub night_multiplier: Option<String>,
    /// Per hour connected but not charging (OCPI PARKING_TIME), per started minute; default 0.
    #[schema(example = "6.00")]
    pub idle_fee_per_hour: Option<String>,
}

/// OCPI 2.2.1 `Price`.
#[derive(ToSchema)]
pub struct OcpiPrice {
    pub excl_vat: f64,
    pub incl_vat: Option<f64>,
}

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OcpiDimension {
    Energy,
    Flat,
    ParkingTime,
    Time,
}

/// OCPI 2.2.1 `PriceComponent`: `price` per kWh or per hour, excl. VAT; `vat` a percentage;
/// `step_size` in Wh or seconds.
#[derive(ToSchema)]
pub struct OcpiPriceComponent {
    pub r#type: OcpiDimension,
    #[schema(example = 0.25)]
    pub price: f64,
    pub vat: Option<f64>,
    #[schema(minimum = 0, example = 1)]
    pub step_size: u32,
}

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OcpiDayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OcpiReservation {
    Reservation,
    ReservationExpires,
}

/// OCPI 2.2.1 `TariffRestrictions`, local to the charger's time zone; `min_*` inclusive,
/// `max_*` exclusive; durations in seconds since the session started.
#[derive(ToSchema)]
pub struct OcpiRestrictions {
    #[schema(pattern = "^([0-1][0-9]|2[0-3]):[0-5][0-9]$", example = "18:00")]
    pub start_time: Option<String>,
    #[schema(pattern = "^([0-1][0-9]|2[0-3]):[0-5][0-9]$", example = "21:00")]
    pub end_time: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub min_kwh: Option<f64>,
    pub max_kwh: Option<f64>,
    pub min_current: Option<f64>,
    pub max_current: Option<f64>,
    pub min_power: Option<f64>,
    pub max_power: Option<f64>,
    pub min_duration: Option<u64>,
    pub max_duration: Option<u64>,
    pub day_of_week: Option<Vec<OcpiDayOfWeek>>,
    pub reservation: Option<OcpiReservation>,
}

#[derive(ToSchema)]
pub struct OcpiTariffElement {
    pub price_components: Vec<OcpiPriceComponent>,
    pub restrictions: Option<OcpiRestrictions>,
}

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OcpiTariffType {
    AdHocPayment,
    ProfileCheap,
    ProfileFast,
    ProfileGreen,
    Regular,
}

#[derive(ToSchema)]
pub struct OcpiDisplayText {
    pub language: String,
    pub text: String,
}

/// OCPI 2.2.1 `Tariff`. Sent by a host, `currency` must be the charger's, `last_updated` is
/// set to now, and missing `country_code`/`party_id` are filled in.
#[derive(ToSchema)]
pub struct OcpiTariff {
    #[schema(example = "DE")]
    pub country_code: Option<String>,
    #[schema(example = "EVP")]
    pub party_id: Option<String>,
    #[schema(max_length = 36, example = "13")]
    pub id: String,
    #[schema(example = "EUR")]
    pub currency: String,
    pub r#type: Option<OcpiTariffType>,
    pub tariff_alt_text: Option<Vec<OcpiDisplayText>>,
    pub tariff_alt_url: Option<String>,
    pub min_price: Option<OcpiPrice>,
    pub max_price: Option<OcpiPrice>,
    pub elements: Vec<OcpiTariffElement>,
    pub start_date_time: Option<DateTime<Utc>>,
    pub end_date_time: Option<DateTime<Utc>>,
    /// OCPI `EnergyMix`, kept as sent.
    #[schema(value_type = Option<Object>)]
    pub energy_mix: Option<serde_json::Value>,
    pub last_updated: DateTime<Utc>,
}

/// Exactly one of `simple` and `ocpi`. Each call makes a new version in force from now; the
/// listing's `price_per_kwh`/`price_per_hour` (search) follow it.
#[derive(ToSchema)]
pub struct PricingBody {
    pub simple: Option<SimplePricing>,
    pub ocpi: Option<OcpiTariff>,
    /// Instant (emergency) bookings pay ENERGY and TIME × this; 1 to 3, default 2.
    #[schema(example = "2")]
    pub emergency_multiplier: Option<String>,
    /// Only where sales tax applies (e.g. the United States): the combined local rate, 0 to
    /// 25. VAT countries' rates come from the charger's time zone.
    #[schema(example = "8.875")]
    pub sales_tax_percent: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum TaxKind {
    VatInclusive,
    SalesTaxExclusive,
}

#[derive(ToSchema)]
pub struct TaxRule {
    pub kind: TaxKind,
    #[schema(example = "21")]
    pub percent: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum PricingSource {
    Simple,
    Ocpi,
}

#[derive(ToSchema)]
pub struct TariffVersion {
    pub id: Uuid,
    /// 1, 2, ... per charger.
    pub version: i32,
    /// Sessions that start at or after this (and before the next version) are priced with it.
    pub valid_from: DateTime<Utc>,
    pub source: PricingSource,
    /// The host's settings when `source` is `simple`.
    #[schema(required)]
    pub settings: Option<SimplePricing>,
    /// What the engine prices with (OCPI 2.2.1).
    pub tariff: OcpiTariff,
    pub emergency_multiplier: String,
    #[schema(required)]
    pub sales_tax_percent: Option<String>,
    pub tax: TaxRule,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct ChargerPricing {
    pub charger_id: Uuid,
    pub currency: String,
    pub time_zone: String,
    /// The version in force now; `null` before the host sets pricing.
    #[schema(required)]
    pub current: Option<TariffVersion>,
    /// Every version, newest first.
    pub history: Vec<TariffVersion>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Plan {
    Basic,
    Premium,
    Pro,
}

#[derive(ToSchema)]
pub struct ChargerSubscriptionBody {
    /// Monthly fair-use cap, kWh.
    #[schema(example = "300")]
    pub fair_use_kwh: String,
    /// kWh already used this month.
    #[schema(example = "120")]
    pub used_kwh: String,
}

/// A planned session: charging evenly for `duration_minutes` from `start_time`, then idle.
#[derive(ToSchema)]
pub struct EstimateBody {
    pub charger_id: Uuid,
    pub start_time: DateTime<Utc>,
    #[schema(minimum = 1, maximum = 10080, example = 90)]
    pub duration_minutes: i64,
    /// 0 to 1000.
    #[schema(example = "20")]
    pub estimated_kwh: String,
    /// An instant booking (× the host's emergency multiplier); default `false`.
    pub emergency: Option<bool>,
    /// Minutes connected after charging (idle fee); default 0.
    #[schema(minimum = 0, maximum = 1440)]
    pub idle_minutes: Option<i64>,
    /// Price with this plan (Premium 10 % off, Pro 20 %) instead of the caller's. Default:
    /// the signed-in driver's plan at `start_time` (and no insurance fee under insurance
    /// coverage); `basic` for anonymous callers.
    pub plan: Option<Plan>,
    /// kWh left on the driver's prepaid package; they are used first.
    #[schema(example = "15")]
    pub prepaid_kwh: Option<String>,
    pub charger_subscription: Option<ChargerSubscriptionBody>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum LineKind {
    Energy,
    Time,
    Multiplier,
    Parking,
    Flat,
    Reservation,
    MinimumCharge,
    MaximumPrice,
    Subscription,
    Package,
    Discount,
    Fee,
    Tax,
}

/// One line; in VAT countries charging lines are VAT-inclusive.
#[derive(ToSchema)]
pub struct PricingLine {
    pub kind: LineKind,
    #[schema(example = "Energy: peak hours 18:00–21:00 ×1.5")]
    pub description: String,
    #[schema(required)]
    pub quantity: Option<String>,
    /// `kWh`, `h` or `session`.
    #[schema(required)]
    pub unit: Option<String>,
    #[schema(required)]
    pub unit_price: Option<String>,
    /// Rounded once to the currency's minor unit; negative for discounts.
    pub amount: String,
}

#[derive(ToSchema)]
pub struct PricingTax {
    /// `vat_included` (already inside the lines) or `sales_tax` (a line of its own).
    pub kind: String,
    pub percent: String,
    pub taxable_amount: String,
    pub tax_amount: String,
}

#[derive(ToSchema)]
pub struct TariffRef {
    pub id: Uuid,
    pub version: i32,
}

/// OCPI CDR totals of the planned session, before the driver's extras.
#[derive(ToSchema)]
pub struct OcpiTotals {
    pub currency: String,
    pub total_cost: OcpiPrice,
    pub total_fixed_cost: OcpiPrice,
    pub total_energy_cost: OcpiPrice,
    pub total_time_cost: OcpiPrice,
    pub total_parking_cost: OcpiPrice,
    pub total_reservation_cost: OcpiPrice,
    pub total_energy: f64,
    pub total_time: f64,
    pub total_parking_time: f64,
}

#[derive(ToSchema)]
pub struct Estimate {
    pub charger_id: Uuid,
    pub currency: String,
    pub time_zone: String,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub emergency: bool,
    pub plan: Plan,
    /// The tariff version used; `null` when the charger only has summary prices.
    #[schema(required)]
    pub tariff: Option<TariffRef>,
    pub lines: Vec<PricingLine>,
    /// The sum of the lines.
    pub total: String,
    pub tax: PricingTax,
    pub ocpi_totals: OcpiTotals,
}

fn write(route: Route) -> Route {
    route
        .access(Access::AnyUser)
        .describe(
            "Only the listing's host or an admin. Each call appends a version in force from \
             now (history is never rewritten); the listing's price summary follows.",
        )
        .uuid_param("id", "Listing id")
        .body::<PricingBody>()
        .not_found("listing")
        .problem(403, "`forbidden`: a listed charger of another host")
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/api/chargers/{id}/pricing",
            TAG,
            "A charger's pricing and its history",
        )
        .access(Access::Optional(
            "without one (or for another host's charger) only listed chargers' pricing is visible",
        ))
        .uuid_param("id", "Listing id")
        .ok::<ChargerPricing>(200, "The version in force and every version, newest first")
        .not_found("listing"),
        write(Route::post(
            "/api/chargers/{id}/pricing",
            TAG,
            "Set pricing (new version)",
        ))
        .ok::<TariffVersion>(201, "The new version"),
        write(Route::put(
            "/api/chargers/{id}/pricing",
            TAG,
            "Set pricing (new version), as POST",
        ))
        .ok::<TariffVersion>(200, "The new version"),
        Route::post("/api/pricing/estimate", TAG, "Itemized price estimate")
            .access(Access::Optional(
                "without one only listed chargers can be estimated; hosts may estimate their own",
            ))
            .describe(
                "The tariff in force at `start_time`, evaluated in the charger's time zone \
                 (peak/night windows split the session), then the plan discount, prepaid \
                 package, charger subscription, the $0.50 insurance fee and tax.",
            )
            .body::<EstimateBody>()
            .ok::<Estimate>(200, "Lines and their total")
            .not_found("charger")
            .conflict("`no_pricing`: the charger has no prices yet"),
    ]
}

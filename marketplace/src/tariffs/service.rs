//! Tariff use cases: a host sets pricing (a new version each time), anyone who may see a
//! charger reads its pricing and has estimates made (`sessions::estimate` adds the driver's
//! subscriptions), and session billing finds the tariff in force when a session started. One
//! transaction per use case.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::bill::{self as billing, Bill, Extras, LineItem, Plan, TaxSummary};
use super::engine::{self, OcpiTotals, PriceReport};
use super::model::Session;
use super::ocpi::Tariff;
use super::peak_night::{self, Labels, SimpleSettings};
use super::quote::{self, EstimateInput, Priced, TariffRef};
use super::rules::{self, PricingInput, Target};
use super::store::{self, ListingFacts, NewVersion, Source, TariffVersion};
use super::zones::TaxRule;
use crate::accounts::{AuthUser, Role};
use crate::error::Error;

const NOT_FOUND: Error = Error::NotFound("listing");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    None,
    Read,
    Write,
}

/// As listings: the host and admins always; others only while the charger is listed.
fn access(caller: Option<&AuthUser>, l: &ListingFacts) -> Access {
    match caller {
        Some(u) if u.role == Role::Admin || u.id == l.host_id => Access::Write,
        _ if l.status == "listed" => Access::Read,
        _ => Access::None,
    }
}

fn zone(l: &ListingFacts) -> Result<Tz, Error> {
    l.time_zone
        .parse()
        .map_err(|_| Error::Internal(format!("listing {}: bad time zone {}", l.id, l.time_zone)))
}

/// One tariff version as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = TariffVersion)]
pub struct VersionView {
    pub id: Uuid,
    /// 1, 2, ... per charger.
    #[schema(example = 1)]
    pub version: i32,
    /// Sessions that start at or after this (and before the next version) are priced with it.
    pub valid_from: DateTime<Utc>,
    pub source: Source,
    /// The host's settings when `source` is `simple`.
    #[schema(required = true)]
    pub settings: Option<SimpleSettings>,
    /// What the engine prices with (OCPI 2.2.1).
    pub tariff: Tariff,
    #[schema(example = "2")]
    pub emergency_multiplier: Decimal,
    #[schema(required = true, example = "8.875")]
    pub sales_tax_percent: Option<Decimal>,
    /// The tax the charger's sessions pay (its country's, or the host's sales tax rate).
    pub tax: TaxRule,
    pub created_at: DateTime<Utc>,
}

fn view(v: TariffVersion, tz: Tz) -> VersionView {
    VersionView {
        tax: rules::tax_rule(tz, v.sales_tax_percent),
        id: v.id,
        version: v.version,
        valid_from: v.valid_from,
        source: v.source,
        settings: v.settings,
        tariff: v.tariff,
        emergency_multiplier: v.emergency_multiplier,
        sales_tax_percent: v.sales_tax_percent,
        created_at: v.created_at,
    }
}

/// A listing's pricing: the version in force and every version, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = ChargerPricing)]
pub struct PricingView {
    pub charger_id: Uuid,
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(example = "Europe/Amsterdam")]
    pub time_zone: String,
    /// The version in force now; `null` before the host sets pricing.
    #[schema(required = true)]
    pub current: Option<VersionView>,
    /// Every version, newest first.
    pub history: Vec<VersionView>,
}

/// Sets a listing's pricing: validates, stores a new version in force from now, and keeps the
/// listing's price summary (search) in step — all in one transaction under the listing's lock.
pub async fn set_pricing(
    pool: &PgPool,
    caller: &AuthUser,
    listing_id: Uuid,
    input: PricingInput,
) -> Result<VersionView, Error> {
    let mut tx = pool.begin().await?;
    let listing = store::listing(&mut tx, listing_id, true)
        .await?
        .ok_or(NOT_FOUND)?;
    match access(Some(caller), &listing) {
        Access::None => return Err(NOT_FOUND),
        Access::Read => return Err(Error::Forbidden),
        Access::Write => {}
    }
    let tz = zone(&listing)?;
    let id = Uuid::now_v7();
    let target = Target {
        tariff_id: id.to_string(),
        currency: &listing.currency,
        time_zone: tz,
        now: Utc::now(),
    };
    let pricing = rules::validate(input, &target).map_err(Error::Validation)?;
    let version = store::insert_version(
        &mut tx,
        &NewVersion {
            id,
            listing_id,
            source: pricing.source,
            settings: pricing.settings.as_ref(),
            tariff: &pricing.tariff,
            emergency_multiplier: pricing.emergency_multiplier,
            sales_tax_percent: pricing.sales_tax_percent,
            created_by: caller.id,
        },
    )
    .await?;
    store::set_listing_summary(&mut tx, listing_id, pricing.summary.0, pricing.summary.1).await?;
    tx.commit().await?;
    Ok(view(version, tz))
}

pub async fn pricing(
    pool: &PgPool,
    caller: Option<&AuthUser>,
    listing_id: Uuid,
) -> Result<PricingView, Error> {
    let mut conn = pool.acquire().await?;
    let listing = visible(&mut conn, caller, listing_id).await?;
    let tz = zone(&listing)?;
    let history: Vec<VersionView> = store::versions(&mut conn, listing_id)
        .await?
        .into_iter()
        .map(|v| view(v, tz))
        .collect();
    let now = Utc::now();
    Ok(PricingView {
        charger_id: listing_id,
        currency: listing.currency,
        time_zone: listing.time_zone,
        current: history.iter().find(|v| v.valid_from <= now).cloned(),
        history,
    })
}

async fn visible(
    conn: &mut PgConnection,
    caller: Option<&AuthUser>,
    listing_id: Uuid,
) -> Result<ListingFacts, Error> {
    store::listing(conn, listing_id, false)
        .await?
        .filter(|l| access(caller, l) != Access::None)
        .ok_or(NOT_FOUND)
}

/// The tariff version of a listing in force at `at` (a session's start), if it has one.
pub async fn tariff_in_force(
    pool: &PgPool,
    listing_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<TariffVersion>, Error> {
    store::in_force(&mut *pool.acquire().await?, listing_id, at).await
}

/// Everything needed to price a session of a listing that starts at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingContext {
    /// `None`: the listing has no tariff version; its summary prices stand in.
    pub version: Option<TariffRef>,
    pub tariff: Tariff,
    pub labels: Option<Labels>,
    pub time_zone: Tz,
    pub tax: TaxRule,
    pub emergency_multiplier: Decimal,
    pub currency: String,
}

impl PricingContext {
    /// What the quote engine prices with.
    pub fn priced(&self) -> Priced<'_> {
        Priced {
            tariff: &self.tariff,
            labels: self.labels.clone(),
            time_zone: self.time_zone,
            tax: self.tax,
            emergency_multiplier: self.emergency_multiplier,
        }
    }
}

/// The pricing in force at `at` at a listing, in the caller's transaction (sessions: what a
/// session holds, whether a charger can be billed at all); 404 `charger` when there is no
/// such listing.
pub async fn pricing_at(
    conn: &mut PgConnection,
    listing_id: Uuid,
    at: DateTime<Utc>,
) -> Result<PricingContext, Error> {
    let listing = store::listing(conn, listing_id, false)
        .await?
        .ok_or(Error::NotFound("charger"))?;
    pricing_context(conn, &listing, at).await
}

/// The tariff in force at `at` with its labels, zone and tax rule; a listing that never had
/// a tariff is priced from its summary columns with the guide's default multipliers.
pub async fn pricing_context(
    conn: &mut PgConnection,
    listing: &ListingFacts,
    at: DateTime<Utc>,
) -> Result<PricingContext, Error> {
    let tz = zone(listing)?;
    let target = |id: String| Target {
        tariff_id: id,
        currency: &listing.currency,
        time_zone: tz,
        now: at,
    };
    if let Some(v) = store::in_force(conn, listing.id, at).await? {
        return Ok(PricingContext {
            labels: rules::labels(v.settings.as_ref(), &target(v.id.to_string())),
            version: Some(TariffRef {
                id: v.id,
                version: v.version,
            }),
            tax: rules::tax_rule(tz, v.sales_tax_percent),
            emergency_multiplier: v.emergency_multiplier,
            currency: v.currency,
            tariff: v.tariff,
            time_zone: tz,
        });
    }
    let kwh = listing
        .price_per_kwh
        .as_deref()
        .and_then(|t| t.parse().ok());
    let Some(kwh) = kwh else {
        return Err(Error::Conflict {
            code: "no_pricing",
            detail: "the charger has no pricing yet".into(),
        });
    };
    let hour = listing
        .price_per_hour
        .as_deref()
        .and_then(|t| t.parse().ok());
    let settings = rules::settings_from_summary(kwh, hour);
    let (tariff, labels) =
        peak_night::to_ocpi(&settings, &rules::header(&target(listing.id.to_string())));
    Ok(PricingContext {
        version: None,
        tariff,
        labels: Some(labels),
        time_zone: tz,
        tax: rules::tax_rule(tz, None),
        emergency_multiplier: peak_night::default_emergency(),
        currency: listing.currency.clone(),
    })
}

/// An itemized estimate.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = PricingEstimate)]
pub struct EstimateView {
    pub charger_id: Uuid,
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(example = "Europe/Amsterdam")]
    pub time_zone: String,
    pub start_time: DateTime<Utc>,
    /// When the planned session ends: after charging and idling.
    pub end_time: DateTime<Utc>,
    pub emergency: bool,
    /// The plan it was priced with.
    pub plan: Plan,
    /// The version that priced it; `null` when the charger has only summary prices.
    #[schema(required = true)]
    pub tariff: Option<TariffRef>,
    pub lines: Vec<LineItem>,
    /// The sum of the lines.
    #[schema(example = "7.88")]
    pub total: Decimal,
    pub tax: TaxSummary,
    /// OCPI CDR totals of the planned session, before the driver's extras.
    pub ocpi_totals: OcpiTotals,
}

/// Prices a planned session at a charger the caller may see. `benefits` are what the
/// signed-in driver's subscriptions give at the planned start (none for a guest): the caller
/// looks them up (`sessions::estimate`), so that pricing never imports subscriptions.
pub async fn estimate(
    pool: &PgPool,
    caller: Option<&AuthUser>,
    input: EstimateInput,
    benefits: Extras,
) -> Result<EstimateView, Error> {
    let errors = input.validate();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let mut conn = pool.acquire().await?;
    let listing = visible(&mut conn, caller, input.charger_id)
        .await
        .map_err(|e| match e {
            Error::NotFound(_) => Error::NotFound("charger"),
            other => other,
        })?;
    let ctx = pricing_context(&mut conn, &listing, input.start_time).await?;
    let priced = ctx.priced();
    // the input is validated; what is left is a stored tariff the bounds refuse: the
    // estimate cannot be made, which is no server fault either
    let (report, bill) = quote::quote(priced, &input, &benefits).map_err(|e| {
        tracing::warn!(listing = %listing.id, error = %e, "estimate refused by the engine");
        Error::invalid(
            "charger_id",
            format!("this charger's tariff cannot price it: {e}"),
        )
    })?;
    let session = input.session();
    Ok(EstimateView {
        charger_id: listing.id,
        currency: bill.currency,
        time_zone: listing.time_zone,
        start_time: session.start,
        end_time: session.end,
        emergency: input.emergency,
        plan: input.plan.unwrap_or(benefits.plan),
        tariff: ctx.version,
        lines: bill.lines,
        total: bill.total,
        tax: bill.tax,
        ocpi_totals: report.totals,
    })
}

/// Prices and bills a finished (or running) session of a listing with the tariff in force
/// when it started: what session billing calls when a transaction ends, and for the cost so
/// far. `extras.tax` is replaced by the charger's own tax rule.
pub async fn bill_session(
    pool: &PgPool,
    listing_id: Uuid,
    session: &Session,
    emergency: bool,
    mut extras: Extras,
) -> Result<(PricingContext, PriceReport, Bill), Error> {
    let mut conn = pool.acquire().await?;
    let listing = store::listing(&mut conn, listing_id, false)
        .await?
        .ok_or(NOT_FOUND)?;
    let mut ctx = pricing_context(&mut conn, &listing, session.start).await?;
    let tariff = if emergency {
        if let Some(l) = ctx.labels.as_mut() {
            l.emergency = Some(ctx.emergency_multiplier);
        }
        peak_night::emergency_variant(&ctx.tariff, ctx.emergency_multiplier)
    } else {
        ctx.tariff.clone()
    };
    let report = engine::price(&tariff, session, ctx.time_zone)
        .map_err(|e| Error::invalid("session", e.to_string()))?;
    extras.tax = ctx.tax;
    let bill = billing::bill(&report, ctx.labels.as_ref(), &extras);
    Ok((ctx, report, bill))
}

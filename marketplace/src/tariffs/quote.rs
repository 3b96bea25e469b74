//! A price estimate before booking: a planned session priced with the charger's tariff, then
//! billed with the driver's extras. Pure.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::bill::{self, Bill, ChargerSubscription, Extras, Plan, PrepaidPackage};
use super::bounds::MAX_ACCOUNT_KWH;
use super::engine::{self, PriceError, PriceReport};
use super::model::{Period, Session};
use super::ocpi::Tariff;
use super::peak_night::{self, Labels};
use super::zones::TaxRule;
use crate::error::FieldError;

/// `POST /api/pricing/estimate`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    as = EstimateBody,
    description = "A planned session: charging evenly for `duration_minutes` from `start_time`, \
        then idle for `idle_minutes`."
)]
pub struct EstimateInput {
    /// The listing.
    pub charger_id: Uuid,
    #[schema(example = "2031-01-01T18:30:00Z")]
    pub start_time: DateTime<Utc>,
    /// Charging time, 1 to 10080 (a week).
    #[schema(minimum = 1, maximum = 10080, example = 90)]
    pub duration_minutes: i64,
    /// kWh expected over that time, 0 to 1000.
    #[schema(schema_with = super::doc::estimated_kwh)]
    pub estimated_kwh: Decimal,
    /// An instant booking (× the host's emergency multiplier); default `false`.
    #[serde(default)]
    pub emergency: bool,
    /// Minutes connected after charging (idle fee), 0 to 1440; default 0.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1440, example = 0)]
    pub idle_minutes: i64,
    /// Price with this plan (Premium 10 % off, Pro 20 %) instead of the caller's. Default:
    /// the signed-in driver's plan at `start_time` (and no insurance fee under insurance
    /// coverage); `basic` for anonymous callers.
    #[serde(default)]
    pub plan: Option<Plan>,
    /// kWh left on the driver's prepaid package, if any.
    #[schema(schema_with = super::doc::prepaid_kwh)]
    pub prepaid_kwh: Option<Decimal>,
    /// The driver's subscription to this charger, if any.
    pub charger_subscription: Option<ChargerSubscription>,
}

impl EstimateInput {
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !(1..=10_080).contains(&self.duration_minutes) {
            e.push(FieldError::new(
                "duration_minutes",
                "must be from 1 to 10080",
            ));
        }
        if self.estimated_kwh < Decimal::ZERO || self.estimated_kwh > Decimal::from(1000) {
            e.push(FieldError::new("estimated_kwh", "must be from 0 to 1000"));
        }
        if !(0..=1440).contains(&self.idle_minutes) {
            e.push(FieldError::new("idle_minutes", "must be from 0 to 1440"));
        }
        let account_kwh = |k: Decimal| Decimal::ZERO <= k && k <= MAX_ACCOUNT_KWH;
        if self.prepaid_kwh.is_some_and(|k| !account_kwh(k)) {
            e.push(FieldError::new(
                "prepaid_kwh",
                format!("must be from 0 to {MAX_ACCOUNT_KWH}"),
            ));
        }
        if let Some(s) = self.charger_subscription {
            for (name, kwh) in [("fair_use_kwh", s.fair_use_kwh), ("used_kwh", s.used_kwh)] {
                if !account_kwh(kwh) {
                    e.push(FieldError::new(
                        format!("charger_subscription.{name}"),
                        format!("must be from 0 to {MAX_ACCOUNT_KWH}"),
                    ));
                }
            }
        }
        e
    }

    /// The planned session: charging evenly for the duration, then idle. Total on any
    /// input: minutes chrono cannot add end the session at chrono's last instant, which the
    /// engine then refuses as too long (`validate` already refused them).
    pub fn session(&self) -> Session {
        let after = |at: DateTime<Utc>, minutes: i64| {
            Duration::try_minutes(minutes)
                .and_then(|d| at.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        let charging_end = after(self.start_time, self.duration_minutes);
        let mut periods = vec![Period {
            start: self.start_time,
            energy_kwh: self.estimated_kwh,
            charging_hours: Decimal::from(self.duration_minutes) / Decimal::from(60),
            ..Period::default()
        }];
        if self.idle_minutes > 0 {
            periods.push(Period {
                start: charging_end,
                parking_hours: Decimal::from(self.idle_minutes) / Decimal::from(60),
                ..Period::default()
            });
        }
        Session {
            start: self.start_time,
            end: after(charging_end, self.idle_minutes),
            periods,
        }
    }
}

/// The tariff a charger prices with, and how to present it.
pub struct Priced<'a> {
    pub tariff: &'a Tariff,
    pub labels: Option<Labels>,
    pub time_zone: Tz,
    pub tax: TaxRule,
    pub emergency_multiplier: Decimal,
}

/// Prices and bills the planned session with the driver's `benefits` (plan and insurance fee
/// as the subscriptions give them; `input.plan`, when given, overrides the plan).
pub fn quote(
    p: Priced<'_>,
    input: &EstimateInput,
    benefits: &Extras,
) -> Result<(PriceReport, Bill), PriceError> {
    let mut labels = p.labels;
    let emergency_tariff;
    let tariff = if input.emergency {
        emergency_tariff = peak_night::emergency_variant(p.tariff, p.emergency_multiplier);
        if let Some(l) = labels.as_mut() {
            l.emergency = Some(p.emergency_multiplier);
        }
        &emergency_tariff
    } else {
        p.tariff
    };
    let report = engine::price(tariff, &input.session(), p.time_zone)?;
    let extras = Extras {
        plan: input.plan.unwrap_or(benefits.plan),
        insurance_fee: benefits.insurance_fee,
        subscription: input.charger_subscription,
        package: input
            .prepaid_kwh
            .map(|remaining_kwh| PrepaidPackage { remaining_kwh }),
        tax: p.tax,
        ..Extras::default()
    };
    let bill = bill::bill(&report, labels.as_ref(), &extras);
    Ok((report, bill))
}

/// Which stored version priced an estimate.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TariffRef {
    pub id: Uuid,
    #[schema(example = 3)]
    pub version: i32,
}

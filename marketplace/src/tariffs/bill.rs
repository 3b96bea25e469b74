//! The itemized bill on top of a priced session: multipliers shown apart, a charger
//! subscription, a prepaid package, the driver's plan discount, the insurance fee, tax, and the
//! platform / host split. Pure.
//!
//! Order and rules (decisions where the guide is silent):
//! 1. Tariff lines: energy, charging time, idle/parking, flat and reservation fees; for a
//!    simple-settings tariff the base price and each multiplier (peak, night, emergency) are
//!    separate lines. Then `min_price`/`max_price` as an adjustment line.
//! 2. A charger subscription covers the session's first kWh up to what is left of its monthly
//!    fair-use cap, and the charging time until that point; idle and flat fees stay due.
//! 3. A prepaid package covers the next kWh (energy only) until it runs out; it was paid when
//!    bought ([`package_price`]: 10 % off), so the kWh it covers are not charged again.
//! 4. The plan discount (Premium 10 %, Pro 20 %) applies to what is left of the tariff lines.
//! 5. The insurance fee ($0.50) is added per transaction; it is neither taxed nor discounted.
//! 6. Tax: in VAT countries every charging line is shown VAT-inclusive and the bill states the
//!    VAT they contain; elsewhere sales tax is a line on top of the charging lines.
//! 7. Split: the platform's commission is 20 % of the charging amount before tax, rounded
//!    down to the minor unit; the host gets the rest (so the rounding remainder is theirs).
//!    The insurance fee is the platform's damage reserve; tax is remitted.
//!
//! Every line is rounded once (half-up, to the minor unit) and the total is the sum of the
//! lines; commission + host share + insurance + tax = total, exactly.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::engine::{Charge, ChargeKind, PriceReport};
use super::lines::tariff_lines;
pub use super::lines::LineKind;
use super::model::{percent_of, round_money};
use super::peak_night::Labels;
use super::zones::TaxRule;
use crate::money::minor_unit_digits;

/// A driver's subscription plan (issue 7 stores them; until then the caller says which).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(
    as = PricingPlan,
    description = "A driver's plan: `premium` takes 10 % off charging, `pro` 20 %."
)]
pub enum Plan {
    #[default]
    Basic,
    Premium,
    Pro,
}

impl Plan {
    pub fn discount_percent(self) -> Decimal {
        match self {
            Self::Basic => Decimal::ZERO,
            Self::Premium => Decimal::TEN,
            Self::Pro => Decimal::from(20),
        }
    }
}

/// Prepaid kWh still unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrepaidPackage {
    pub remaining_kwh: Decimal,
}

/// "Buy 100 kWh, save 10 %".
pub const PACKAGE_SAVING_PERCENT: u32 = 10;

/// What a package of `kwh` costs at `price_per_kwh`: 10 % off, rounded once.
pub fn package_price(kwh: Decimal, price_per_kwh: Decimal, currency: &str) -> Decimal {
    let full = kwh * price_per_kwh;
    round_money(
        full - percent_of(full, PACKAGE_SAVING_PERCENT.into()),
        currency,
    )
}

/// A monthly subscription to one charger: unlimited charging up to a fair-use cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChargerSubscriptionBody)]
pub struct ChargerSubscription {
    #[schema(schema_with = super::doc::fair_use_kwh)]
    pub fair_use_kwh: Decimal,
    /// kWh already used this month.
    #[schema(schema_with = super::doc::used_kwh)]
    pub used_kwh: Decimal,
}

/// The guide's figures: $49 a month for a charger subscription.
pub const CHARGER_SUBSCRIPTION_MONTHLY: u32 = 49;

#[derive(Debug, Clone, PartialEq)]
pub struct Extras {
    pub plan: Plan,
    pub subscription: Option<ChargerSubscription>,
    pub package: Option<PrepaidPackage>,
    pub insurance_fee: Decimal,
    pub tax: TaxRule,
    pub commission_percent: Decimal,
}

impl Default for Extras {
    fn default() -> Self {
        Self {
            plan: Plan::Basic,
            subscription: None,
            package: None,
            insurance_fee: Decimal::new(50, 2),
            tax: TaxRule::NONE,
            commission_percent: Decimal::from(20),
        }
    }
}

/// One line of a bill; in VAT countries charging lines are VAT-inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = PricingLine)]
pub struct LineItem {
    pub kind: LineKind,
    #[schema(example = "Energy: peak hours 18:00–21:00 ×1.5")]
    pub description: String,
    #[schema(required = true, example = "12.5")]
    pub quantity: Option<Decimal>,
    /// `kWh`, `h` or `session`.
    #[schema(value_type = Option<String>, required = true, example = "kWh")]
    pub unit: Option<&'static str>,
    #[schema(required = true, example = "0.35")]
    pub unit_price: Option<Decimal>,
    /// Rounded once to the currency's minor unit; negative for discounts.
    #[schema(example = "4.38")]
    pub amount: Decimal,
}

/// The tax a bill states.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = PricingTax)]
pub struct TaxSummary {
    /// `vat_included` (already inside the lines) or `sales_tax` (a line of its own).
    #[schema(value_type = String, example = "vat_included")]
    pub kind: &'static str,
    #[schema(example = "21")]
    pub percent: Decimal,
    /// What the tax is computed on (gross for VAT, net for sales tax).
    pub taxable_amount: Decimal,
    pub tax_amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Split {
    /// The charging amount before tax: what the commission is taken from.
    pub commission_base: Decimal,
    pub platform_commission: Decimal,
    pub host_share: Decimal,
    pub insurance_reserve: Decimal,
    pub tax: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bill {
    pub currency: String,
    pub lines: Vec<LineItem>,
    pub total: Decimal,
    pub tax: TaxSummary,
    pub split: Split,
    pub subscription_kwh_used: Decimal,
    pub package_kwh_used: Decimal,
    pub package_kwh_left: Option<Decimal>,
}

/// Builds the bill of a priced session. `labels` come with a simple-settings tariff.
pub fn bill(report: &PriceReport, labels: Option<&Labels>, extras: &Extras) -> Bill {
    let currency = report.totals.currency.clone();
    let (gross, vat_percent) = match extras.tax {
        TaxRule::VatInclusive { percent } => {
            (Decimal::ONE + percent / Decimal::ONE_HUNDRED, percent)
        }
        TaxRule::SalesTaxExclusive { .. } => (Decimal::ONE, Decimal::ZERO),
    };
    let mut lines = Vec::new();
    let mut push = |kind,
                    description: String,
                    qty: Option<(Decimal, &'static str)>,
                    unit_price: Option<Decimal>,
                    net: Decimal| {
        lines.push(LineItem {
            kind,
            description,
            quantity: qty.map(|(q, _)| q.round_dp(4).normalize()),
            unit: qty.map(|(_, u)| u),
            unit_price: unit_price.map(|p| (p * gross).normalize()),
            amount: round_money(net * gross, &currency),
        });
    };

    tariff_lines(&report.charges, labels, &mut push);
    let adjustment = report.total_excl - report.subtotal_excl;
    if adjustment > Decimal::ZERO {
        push(
            LineKind::MinimumCharge,
            "Minimum charge".into(),
            None,
            None,
            adjustment,
        );
    } else if adjustment < Decimal::ZERO {
        push(
            LineKind::MaximumPrice,
            "Price cap".into(),
            None,
            None,
            adjustment,
        );
    }

    // Coverage: subscription first, then the package, never more than the session costs.
    let mut room = report.total_excl.max(Decimal::ZERO);
    let energy: Vec<&Charge> = report
        .charges
        .iter()
        .filter(|c| c.kind == ChargeKind::Energy)
        .collect();
    let mut sub_kwh = Decimal::ZERO;
    if let Some(sub) = extras.subscription {
        let cap_left = (sub.fair_use_kwh - sub.used_kwh).max(Decimal::ZERO);
        let (kwh, energy_value, until) = cover(&energy, Decimal::ZERO, cap_left);
        let time_value: Decimal = report
            .charges
            .iter()
            .filter(|c| c.kind == ChargeKind::Time)
            .map(|c| c.cost_excl() * share_before(c, until))
            .sum();
        let value = (energy_value + time_value).min(room);
        room -= value;
        sub_kwh = kwh;
        if kwh > Decimal::ZERO || value > Decimal::ZERO {
            let text = format!(
                "Charger subscription (fair use: {} of {} kWh left this month)",
                cap_left.normalize(),
                sub.fair_use_kwh.normalize()
            );
            push(
                LineKind::Subscription,
                text,
                Some((kwh, "kWh")),
                None,
                -value,
            );
        }
    }
    let mut pkg_kwh = Decimal::ZERO;
    let mut pkg_left = None;
    if let Some(pkg) = extras.package {
        let left = pkg.remaining_kwh.max(Decimal::ZERO);
        let (kwh, value, _) = cover(&energy, sub_kwh, left);
        let value = value.min(room);
        room -= value;
        pkg_kwh = kwh;
        pkg_left = Some(left - kwh);
        if kwh > Decimal::ZERO {
            let text = format!(
                "Prepaid package ({} kWh left after this session)",
                (left - kwh).normalize()
            );
            push(LineKind::Package, text, Some((kwh, "kWh")), None, -value);
        }
    }
    let percent = extras.plan.discount_percent();
    if percent > Decimal::ZERO {
        let text = format!("{:?} plan discount {}%", extras.plan, percent);
        push(
            LineKind::Discount,
            text,
            None,
            None,
            -percent_of(room, percent),
        );
    }

    // Each line is rounded on its own, so coverage valued from exact amounts can exceed the
    // rounded lines it covers by a cent: the last coverage line gives that back, and a
    // session never charges less than nothing.
    let rounded: Decimal = lines.iter().map(|l| l.amount).sum();
    if rounded < Decimal::ZERO {
        if let Some(last) = lines.iter_mut().rev().find(|l| {
            matches!(
                l.kind,
                LineKind::Subscription | LineKind::Package | LineKind::Discount
            ) && l.amount < Decimal::ZERO
        }) {
            last.amount = (last.amount - rounded).min(Decimal::ZERO);
        }
    }
    let charging: Decimal = lines.iter().map(|l| l.amount).sum();
    let mut summary = TaxSummary {
        kind: "vat_included",
        percent: vat_percent,
        taxable_amount: charging,
        tax_amount: Decimal::ZERO,
    };
    let commission_base = match extras.tax {
        TaxRule::VatInclusive { percent } => {
            summary.tax_amount = round_money(
                charging * percent / (Decimal::ONE_HUNDRED + percent),
                &currency,
            );
            charging - summary.tax_amount
        }
        TaxRule::SalesTaxExclusive { percent } => {
            summary.kind = "sales_tax";
            summary.percent = percent;
            summary.tax_amount = round_money(percent_of(charging, percent), &currency);
            charging
        }
    };
    let insurance = round_money(extras.insurance_fee, &currency);
    if insurance > Decimal::ZERO {
        lines.push(LineItem {
            kind: LineKind::Fee,
            description: "Insurance fee (damage reserve)".into(),
            quantity: Some(Decimal::ONE),
            unit: Some("session"),
            unit_price: Some(insurance),
            amount: insurance,
        });
    }
    if let TaxRule::SalesTaxExclusive { percent } = extras.tax {
        if percent > Decimal::ZERO {
            lines.push(LineItem {
                kind: LineKind::Tax,
                description: format!("Sales tax {}%", percent.normalize()),
                quantity: None,
                unit: None,
                unit_price: None,
                amount: summary.tax_amount,
            });
        }
    }
    let total = lines.iter().map(|l| l.amount).sum();
    let platform_commission = floor_money(
        percent_of(commission_base, extras.commission_percent),
        &currency,
    );
    let split = Split {
        commission_base,
        platform_commission,
        host_share: commission_base - platform_commission,
        insurance_reserve: insurance,
        tax: summary.tax_amount,
    };
    Bill {
        currency,
        lines,
        total,
        tax: summary,
        split,
        subscription_kwh_used: sub_kwh,
        package_kwh_used: pkg_kwh,
        package_kwh_left: pkg_left,
    }
}

/// Rounds toward zero at the minor unit: the platform never rounds in its own favour.
fn floor_money(amount: Decimal, currency: &str) -> Decimal {
    if amount.is_sign_negative() {
        return Decimal::ZERO;
    }
    amount.round_dp_with_strategy(minor_unit_digits(currency), RoundingStrategy::ToZero)
}

/// Covers up to `kwh` of the energy charges after skipping the first `skip` kWh: the kWh
/// covered, their value (excl. VAT) and the instant coverage stopped (`None`: never did).
fn cover(
    energy: &[&Charge],
    skip: Decimal,
    kwh: Decimal,
) -> (Decimal, Decimal, Option<DateTime<Utc>>) {
    let (mut skip, mut left) = (skip, kwh);
    let (mut covered, mut value) = (Decimal::ZERO, Decimal::ZERO);
    for c in energy {
        let skipped = skip.min(c.volume);
        skip -= skipped;
        let available = c.volume - skipped;
        let take = left.min(available);
        covered += take;
        value += take * c.price;
        left -= take;
        if take < available {
            let reached = (skipped + take) / c.volume;
            let ms = Decimal::from((c.to - c.from).num_milliseconds()) * reached;
            // reached ≤ 1: the instant lies inside the charge
            let at = chrono::Duration::try_milliseconds(ms.round().try_into().unwrap_or(0))
                .and_then(|d| c.from.checked_add_signed(d))
                .unwrap_or(c.to);
            return (covered, value, Some(at));
        }
    }
    (covered, value, None)
}

/// The part of a time charge that lies before `until` (all of it when `None`).
fn share_before(c: &Charge, until: Option<DateTime<Utc>>) -> Decimal {
    let Some(until) = until else {
        return Decimal::ONE;
    };
    let span = (c.to - c.from).num_milliseconds();
    if span <= 0 {
        return if c.from < until {
            Decimal::ONE
        } else {
            Decimal::ZERO
        };
    }
    let before = (until - c.from).num_milliseconds().clamp(0, span);
    Decimal::from(before) / Decimal::from(span)
}

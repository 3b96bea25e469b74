//! Products, subscriptions and charges as the rules see them. Pure.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::ledger::model::{AccountKind, Minor};
use crate::tariffs::Plan;

text_enum!(
    /// A subscriber holds at most one live subscription per group (per listing for featured
    /// listings); changing plan is changing product within the group.
    #[schema(as = SubscriptionGroup, rename_all = "snake_case")]
    Group {
        DriverPlan = "driver_plan",
        Insurance = "insurance",
        FeaturedListing = "featured_listing",
        AvailabilityApi = "availability_api",
        Analytics = "analytics",
    }
);

impl Group {
    /// Where the fees go: insurance coverage funds the damage reserve; the rest is revenue.
    pub fn revenue_account(self) -> AccountKind {
        match self {
            Self::Insurance => AccountKind::InsuranceReserve,
            _ => AccountKind::PlatformSubscriptions,
        }
    }
}

text_enum!(
    /// Who may subscribe: `driver` (anyone) or `host` (hosts only).
    #[schema(as = ProductAudience, rename_all = "snake_case")]
    Audience { Driver = "driver", Host = "host" }
);

/// A named tax rate a charge is made at: `VAT`, 21.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxRate {
    pub name: String,
    pub percent: rust_decimal::Decimal,
}

/// The free driver plan: nobody subscribes to it, it is what a driver without a plan has.
pub const BASIC: &str = "basic";

/// A product of the catalogue with its price in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub code: String,
    pub name: String,
    pub audience: Audience,
    pub group: Group,
    pub discount_percent: i16,
    pub priority_booking: bool,
}

impl Product {
    /// The bill engine's plan for a driver-plan product (Basic for anything else).
    pub fn plan(&self) -> Plan {
        plan_of(&self.code)
    }
}

pub fn plan_of(code: &str) -> Plan {
    match code {
        "premium" => Plan::Premium,
        "pro" => Plan::Pro,
        _ => Plan::Basic,
    }
}

text_enum!(
    /// `past_due`: a renewal failed; it is retried on the dunning schedule and the benefits
    /// continue.
    #[schema(as = SubscriptionStatus, rename_all = "snake_case")]
    Status {
        Active = "active",
        PastDue = "past_due",
        Ended = "ended",
    }
);

text_enum!(
    /// `cancelled`: at the period end the subscriber asked for (or at once when past due);
    /// `unpaid`: every dunning retry failed; `replaced`: the product it was for is gone (a
    /// deleted listing).
    #[schema(as = SubscriptionEndReason, rename_all = "snake_case")]
    EndReason {
        Cancelled = "cancelled",
        Unpaid = "unpaid",
        Replaced = "replaced",
    }
);

text_enum!(
    /// `proration`: the net of a change that costs more; `proration_credit`: the net of a
    /// change that costs less, money back to the wallet.
    #[schema(as = SubscriptionChargeKind, rename_all = "snake_case")]
    ChargeKind {
        Initial = "initial",
        Renewal = "renewal",
        Proration = "proration",
        ProrationCredit = "proration_credit",
    }
);

text_enum!(
    /// `failed`: a renewal the wallet could not cover; nothing moved.
    #[schema(as = SubscriptionChargeStatus, rename_all = "snake_case")]
    ChargeStatus { Paid = "paid", Failed = "failed" }
);

/// Retries of a failed renewal, after the first failure: 1, 3 and 7 days. After the last
/// one fails the subscription ends (unpaid).
pub const RETRY_AFTER_DAYS: [i64; 3] = [1, 3, 7];

/// When to try a past-due renewal again, after `failed` attempts (the first renewal attempt
/// included) failed; `None` once the retries are used up.
pub fn next_attempt(past_due_since: DateTime<Utc>, failed: u32) -> Option<DateTime<Utc>> {
    let index = usize::try_from(failed).ok()?.checked_sub(1)?;
    RETRY_AFTER_DAYS
        .get(index)
        .map(|days| past_due_since + Duration::days(*days))
}

/// The posting key of a charge: one posting per (subscription, period start, kind, attempt),
/// the same as the charges' unique key, so a retried job posts nothing twice.
pub fn posting_key(
    subscription: Uuid,
    period_start: DateTime<Utc>,
    kind: ChargeKind,
    attempt: i16,
) -> String {
    format!(
        "subscription:{subscription}:{}:{}:{attempt}",
        period_start.timestamp_micros(),
        kind.as_str()
    )
}

/// What a priced change of product moves, from the subscriber's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    Charge(Minor),
    Credit(Minor),
    Nothing,
}

impl Net {
    pub fn of(amount: Minor) -> Self {
        match amount {
            a if a > 0 => Self::Charge(a),
            a if a < 0 => Self::Credit(-a),
            _ => Self::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_round_trip() {
        for g in [
            Group::DriverPlan,
            Group::Insurance,
            Group::FeaturedListing,
            Group::AvailabilityApi,
            Group::Analytics,
        ] {
            assert_eq!(g.as_str().parse::<Group>(), Ok(g));
        }
        for k in [
            ChargeKind::Initial,
            ChargeKind::Renewal,
            ChargeKind::Proration,
            ChargeKind::ProrationCredit,
        ] {
            assert_eq!(k.as_str().parse::<ChargeKind>(), Ok(k));
        }
        assert!("gold".parse::<Status>().is_err());
    }

    #[test]
    fn retries_after_one_three_and_seven_days() {
        let t = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(next_attempt(t, 0), None);
        assert_eq!(next_attempt(t, 1), Some(t + Duration::days(1)));
        assert_eq!(next_attempt(t, 2), Some(t + Duration::days(3)));
        assert_eq!(next_attempt(t, 3), Some(t + Duration::days(7)));
        assert_eq!(next_attempt(t, 4), None);
    }

    #[test]
    fn plans_and_revenue() {
        assert_eq!(plan_of("pro"), Plan::Pro);
        assert_eq!(plan_of("analytics"), Plan::Basic);
        assert_eq!(
            Group::Insurance.revenue_account(),
            AccountKind::InsuranceReserve
        );
        assert_eq!(Net::of(-5), Net::Credit(5));
        assert_eq!(Net::of(0), Net::Nothing);
    }
}

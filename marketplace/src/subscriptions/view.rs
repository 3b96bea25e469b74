//! What clients read: products, subscriptions with their charges (snake_case; amounts in
//! minor units beside their currency).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{Audience, ChargeKind, ChargeStatus, EndReason, Group, Product, Status};
use super::store::{InvoiceCharge, Subscription};
use crate::ledger::model::Minor;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SubscriptionPrice)]
pub struct PriceView {
    #[schema(example = "EUR")]
    pub currency: String,
    /// A month, in minor units.
    #[schema(minimum = 0, example = 999)]
    pub amount_cents: Minor,
}

/// A product of the catalogue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SubscriptionProduct)]
pub struct ProductView {
    /// `basic` (free, what a driver without a plan has), `premium`, `pro`, `insurance`,
    /// `featured_listing`, `availability_api`, `analytics`.
    #[schema(example = "premium")]
    pub code: String,
    #[schema(example = "Premium")]
    pub name: String,
    pub audience: Audience,
    /// One live subscription per group (per charger for `featured_listing`).
    pub group: Group,
    /// Off the charging lines of session bills.
    #[schema(minimum = 0, maximum = 100, example = 10)]
    pub discount_percent: i16,
    /// Pro: may book 7 days beyond a charger's advance window; pending bookings hold their
    /// slot 30 minutes instead of 10.
    pub priority_booking: bool,
    /// Monthly, per currency.
    pub prices: Vec<PriceView>,
}

impl ProductView {
    pub fn new(p: Product, prices: Vec<(String, Minor)>) -> Self {
        Self {
            code: p.code,
            name: p.name,
            audience: p.audience,
            group: p.group,
            discount_percent: p.discount_percent,
            priority_booking: p.priority_booking,
            prices: prices
                .into_iter()
                .map(|(currency, amount_cents)| PriceView {
                    currency,
                    amount_cents,
                })
                .collect(),
        }
    }
}

/// A charge of a subscription (or a credit back to the wallet).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SubscriptionCharge)]
pub struct ChargeView {
    pub id: Uuid,
    /// `initial`, `renewal`, `proration` (a change that costs more), `proration_credit`
    /// (a change that costs less: credited back to the wallet).
    #[schema(value_type = ChargeKind)]
    pub kind: String,
    /// `paid`, or `failed` (a renewal the wallet could not cover; nothing moved).
    #[schema(value_type = ChargeStatus)]
    pub status: String,
    /// The product paid for.
    #[schema(example = "premium")]
    pub product: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// Paid (or, for `proration_credit`, credited back to the wallet).
    #[schema(minimum = 1, example = 999)]
    pub amount_cents: Minor,
    /// The VAT `amount_cents` includes (0 untaxed: insurance coverage, a currency the
    /// platform charges no VAT in).
    #[schema(example = 173)]
    pub tax_cents: Minor,
    #[schema(example = "EUR")]
    pub currency: String,
    /// 1 for a first try; a past-due renewal's retries count up.
    #[schema(minimum = 1)]
    pub attempt: i16,
    /// The wallet transaction (ledger posting); `null` for a failed attempt.
    #[schema(required)]
    pub transaction_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<InvoiceCharge> for ChargeView {
    fn from(c: InvoiceCharge) -> Self {
        Self {
            id: c.id,
            kind: c.kind,
            status: c.status,
            product: c.product_code,
            period_start: c.period_start,
            period_end: c.period_end,
            amount_cents: c.amount_minor,
            tax_cents: c.tax_minor,
            currency: c.currency,
            attempt: c.attempt,
            transaction_id: c.ledger_posting_id,
            created_at: c.created_at,
        }
    }
}

/// A subscription with its charges.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Subscription)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub user_id: Uuid,
    #[schema(example = "premium")]
    pub product: String,
    #[schema(example = "Premium")]
    pub product_name: String,
    #[schema(value_type = Group)]
    pub group: String,
    /// The featured charger (`featured_listing` only).
    #[schema(required)]
    pub listing_id: Option<Uuid>,
    /// `active`, `past_due` (a renewal is unpaid: retried after 1, 3 and 7 days, benefits
    /// continue) or `ended`.
    #[schema(value_type = Status)]
    pub status: String,
    /// Set when `ended`.
    #[schema(required, value_type = Option<EndReason>)]
    pub end_reason: Option<String>,
    #[schema(example = "EUR")]
    pub currency: String,
    /// What the current product costs a month.
    #[schema(minimum = 0, example = 999)]
    pub price_cents: Minor,
    pub current_period_start: DateTime<Utc>,
    /// The next renewal (or the end, when cancelled).
    pub current_period_end: DateTime<Utc>,
    /// Ends at `current_period_end` instead of renewing.
    pub cancel_at_period_end: bool,
    #[schema(required)]
    pub past_due_since: Option<DateTime<Utc>>,
    /// The next try of a past-due renewal.
    #[schema(required)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Oldest first.
    pub charges: Vec<ChargeView>,
}

impl SubscriptionView {
    pub fn new(s: Subscription, product_name: String, charges: Vec<ChargeView>) -> Self {
        Self {
            id: s.id,
            user_id: s.user_id,
            product: s.product_code,
            product_name,
            group: s.product_group,
            listing_id: s.listing_id,
            status: s.status,
            end_reason: s.end_reason,
            currency: s.currency.trim().to_owned(),
            price_cents: s.price_minor,
            current_period_start: s.current_period_start,
            current_period_end: s.current_period_end,
            cancel_at_period_end: s.cancel_at_period_end,
            past_due_since: s.past_due_since,
            next_attempt_at: s.next_attempt_at,
            ended_at: s.ended_at,
            created_at: s.created_at,
            charges,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionList {
    /// Live ones first, newest first.
    pub items: Vec<SubscriptionView>,
}

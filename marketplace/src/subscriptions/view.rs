//! What clients read: products, subscriptions with their charges (snake_case; amounts in
//! minor units beside their currency).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{Audience, Group, Product};
use super::store::{InvoiceCharge, Subscription};
use crate::ledger::model::Minor;

#[derive(Debug, Clone, Serialize)]
pub struct PriceView {
    pub currency: String,
    pub amount_cents: Minor,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub code: String,
    pub name: String,
    pub audience: Audience,
    pub group: Group,
    pub discount_percent: i16,
    pub priority_booking: bool,
    /// Monthly.
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

#[derive(Debug, Clone, Serialize)]
pub struct ChargeView {
    pub id: Uuid,
    pub kind: String,
    pub status: String,
    pub product: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// Paid (or, for `proration_credit`, credited back to the wallet).
    pub amount_cents: Minor,
    /// The VAT `amount_cents` includes.
    pub tax_cents: Minor,
    pub currency: String,
    pub attempt: i16,
    /// The wallet transaction (ledger posting); `null` for a failed attempt.
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

#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub product: String,
    pub product_name: String,
    pub group: String,
    pub listing_id: Option<Uuid>,
    pub status: String,
    pub end_reason: Option<String>,
    pub currency: String,
    /// What the current product costs a month.
    pub price_cents: Minor,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    /// Ends at `current_period_end` instead of renewing.
    pub cancel_at_period_end: bool,
    pub past_due_since: Option<DateTime<Utc>>,
    /// The next try of a past-due renewal.
    pub next_attempt_at: Option<DateTime<Utc>>,
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

#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionList {
    pub items: Vec<SubscriptionView>,
}

//! What clients read: saved cards, payments, refunds and the host's payout account, amounts
//! in minor units (`*_cents`) with the currency beside them. snake_case.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{Method, Purpose, RefundDestination};
use super::provider::{CaptureMethod, IntentStatus, RefundStatus};
use super::store::{AccountRow, MethodRow, PaymentRow, RefundRow};
use crate::ledger::model::Minor;

/// A saved card: brand, last four digits and expiry only (the provider keeps the card).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PaymentMethod)]
pub struct MethodView {
    pub id: Uuid,
    /// `card`: the only kind so far.
    #[serde(rename = "type")]
    #[schema(example = "card")]
    pub kind: &'static str,
    #[schema(example = "visa")]
    pub brand: String,
    #[schema(pattern = "^[0-9]{4}$", example = "4242")]
    pub last4: String,
    #[schema(minimum = 1, maximum = 12, example = 12)]
    pub exp_month: i16,
    #[schema(example = 2034)]
    pub exp_year: i16,
    pub is_default: bool,
    /// The provider that keeps it: `stripe` or `local`.
    #[schema(example = "stripe")]
    pub provider: String,
    pub created_at: DateTime<Utc>,
}

impl From<MethodRow> for MethodView {
    fn from(m: MethodRow) -> Self {
        Self {
            id: m.id,
            kind: "card",
            brand: m.brand,
            last4: m.last4,
            exp_month: m.exp_month,
            exp_year: m.exp_year,
            is_default: m.is_default,
            provider: m.provider,
            created_at: m.created_at,
        }
    }
}

/// What the customer must do next: complete 3-D Secure in the app (the provider's SDK takes
/// the `client_secret`), then `POST /api/payments/{id}/confirm`. With the local provider the
/// confirm alone completes the simulated challenge.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = NextAction)]
pub struct NextActionView {
    /// `three_d_secure`.
    #[serde(rename = "type")]
    #[schema(example = "three_d_secure")]
    pub kind: &'static str,
    /// The provider's own name for it (`use_stripe_sdk`, `redirect_to_url`,
    /// `local_three_d_secure`).
    #[schema(example = "use_stripe_sdk")]
    pub provider_type: String,
    #[schema(required)]
    pub client_secret: Option<String>,
    #[schema(required)]
    pub redirect_url: Option<String>,
}

/// Why the card was declined (or the provider refused the payment).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PaymentFailure)]
pub struct FailureView {
    /// `card_declined`, `expired_card`, ... (the provider's code).
    #[schema(example = "card_declined")]
    pub code: String,
    /// The issuer's reason: `generic_decline`, `insufficient_funds`, ...
    #[schema(required, example = "insufficient_funds")]
    pub decline_code: Option<String>,
    pub message: String,
}

/// A payment of a booking, a session's bill or a wallet top-up, by card or wallet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Payment)]
pub struct PaymentView {
    pub id: Uuid,
    #[schema(value_type = Purpose)]
    pub purpose: String,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    #[schema(required)]
    pub session_id: Option<Uuid>,
    #[schema(value_type = Method)]
    pub method: String,
    /// The saved card (card payments).
    #[schema(required)]
    pub payment_method_id: Option<Uuid>,
    #[schema(example = 1250)]
    pub amount_cents: Minor,
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(value_type = CaptureMethod)]
    pub capture_method: String,
    #[schema(value_type = IntentStatus)]
    pub status: String,
    /// Authorized, not captured yet.
    pub amount_capturable_cents: Minor,
    /// Taken from the card (or the wallet).
    pub amount_received_cents: Minor,
    pub amount_refunded_cents: Minor,
    /// Set when `requires_action` (3-D Secure).
    #[schema(required)]
    pub next_action: Option<NextActionView>,
    /// Set when the card was declined (`failed`).
    #[schema(required)]
    pub failure: Option<FailureView>,
    /// `wallet`, or the card provider (`stripe`, `local`).
    #[schema(example = "stripe")]
    pub provider: String,
    #[schema(required)]
    pub provider_payment_id: Option<String>,
    /// The host's connected account for a destination charge, and what the platform keeps.
    #[schema(required)]
    pub destination_account: Option<String>,
    #[schema(required)]
    pub application_fee_cents: Option<Minor>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PaymentRow> for PaymentView {
    fn from(p: PaymentRow) -> Self {
        let next_action = (p.status == "requires_action").then(|| NextActionView {
            kind: "three_d_secure",
            provider_type: p.next_action.clone().unwrap_or_default(),
            client_secret: p.client_secret.clone(),
            redirect_url: p.next_action_url.clone(),
        });
        let failure = p.failure_code.clone().map(|code| FailureView {
            code,
            decline_code: p.decline_code.clone(),
            message: p.failure_message.clone().unwrap_or_default(),
        });
        Self {
            id: p.id,
            purpose: p.purpose,
            booking_id: p.booking_id,
            session_id: p.session_id,
            method: p.method,
            payment_method_id: p.payment_method_id,
            amount_cents: p.amount_minor,
            currency: p.currency,
            capture_method: p.capture_method,
            status: p.status,
            amount_capturable_cents: p.amount_capturable,
            amount_received_cents: p.amount_received,
            amount_refunded_cents: p.amount_refunded,
            next_action,
            failure,
            provider: p.provider,
            provider_payment_id: p.provider_payment_id,
            destination_account: p.destination_account,
            application_fee_cents: p.application_fee_minor,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A page of payments, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentPage {
    pub items: Vec<PaymentView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// Money given back from a payment, to the card or into the wallet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PaymentRefund)]
pub struct RefundView {
    pub id: Uuid,
    pub payment_id: Uuid,
    #[schema(minimum = 1, example = 600)]
    pub amount_cents: Minor,
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(value_type = RefundDestination)]
    pub destination: String,
    /// `policy` (the booking's refund decision), `admin`, or `provider` (made at the
    /// provider and reported by a webhook).
    #[schema(pattern = "^(policy|admin|provider)$", example = "policy")]
    pub basis: String,
    #[schema(value_type = RefundStatus)]
    pub status: String,
    pub reason: String,
    #[schema(required)]
    pub provider_refund_id: Option<String>,
    #[schema(required)]
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<RefundRow> for RefundView {
    fn from(r: RefundRow) -> Self {
        Self {
            id: r.id,
            payment_id: r.payment_id,
            amount_cents: r.amount_minor,
            currency: r.currency,
            destination: r.destination,
            basis: r.basis,
            status: r.status,
            reason: r.reason,
            provider_refund_id: r.provider_refund_id,
            failure_reason: r.failure_reason,
            created_at: r.created_at,
        }
    }
}

/// A host's connected account at the payment provider (Stripe Connect Express), where
/// their share of card payments and transfers is paid.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PayoutAccount)]
pub struct PayoutAccountView {
    #[schema(example = "stripe")]
    pub provider: String,
    #[schema(example = "acct_1QxHf3Ph9XwQ2mZk")]
    pub account_id: String,
    #[schema(required, example = "NL")]
    pub country: Option<String>,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    /// Where the host completes onboarding (single use, expires); only in the answer to
    /// `POST /api/host/payout-account`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub onboarding_url: Option<String>,
    /// When the onboarding link expires; only with `onboarding_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub onboarding_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<AccountRow> for PayoutAccountView {
    fn from(a: AccountRow) -> Self {
        Self {
            provider: a.provider,
            account_id: a.provider_account_id,
            country: a.country,
            charges_enabled: a.charges_enabled,
            payouts_enabled: a.payouts_enabled,
            details_submitted: a.details_submitted,
            onboarding_url: None,
            onboarding_expires_at: None,
            created_at: a.created_at,
        }
    }
}

/// The answer to a webhook delivery.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookAck {
    pub received: bool,
    /// A redelivery of an event already processed: nothing changed.
    pub duplicate: bool,
    /// `applied`, `unknown_object` (not one of ours), `ignored` (a type we do not act on) or
    /// `duplicate`.
    #[schema(
        pattern = "^(applied|unknown_object|ignored|duplicate)$",
        example = "applied"
    )]
    pub outcome: String,
}

/// A transfer of what the platform owed a host to the host's connected account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Transfer)]
pub struct TransferView {
    pub id: Uuid,
    #[schema(example = 800)]
    pub amount_cents: Minor,
    #[schema(example = "EUR")]
    pub currency: String,
    /// `pending` (asked, not settled yet), `paid` or `failed` (refused; nothing moved, the
    /// next run decides afresh).
    #[schema(pattern = "^(pending|paid|failed)$", example = "paid")]
    pub status: String,
    #[schema(example = "acct_1QxHf3Ph9XwQ2mZk")]
    pub destination_account: String,
    #[schema(required, example = "tr_1QxHf3Ph9XwQ2mZk")]
    pub provider_transfer_id: Option<String>,
    #[schema(required)]
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<crate::payments::store::transfers::TransferRow> for TransferView {
    fn from(t: crate::payments::store::transfers::TransferRow) -> Self {
        Self {
            id: t.id,
            amount_cents: t.amount_minor,
            currency: t.currency.trim().to_owned(),
            status: t.status,
            destination_account: t.destination_account,
            provider_transfer_id: t.provider_transfer_id,
            failure: t.failure,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A page of transfers, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransferPage {
    pub items: Vec<TransferView>,
    pub limit: i64,
    pub offset: i64,
}

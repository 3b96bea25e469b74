//! The `PaymentProvider` port: what the marketplace needs from a card processor, in its own
//! terms. The CSMS plugs in the Stripe adapter (the `stripe-adapter` crate) when a key is
//! configured, else the [`super::local::LocalProvider`] (Stripe test mode without a network).
//!
//! Every call that changes something takes an idempotency key: the provider answers a retry
//! with the same key as the first call, so a request cut off by a timeout can be sent again
//! without paying twice. The service derives the keys from our own ids.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ledger::model::Minor;

pub type ProviderFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// Why a provider call failed. A declined payment is not an error: it is a
/// [`PaymentState`] with [`IntentStatus::Failed`] and a [`Decline`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the request itself (Stripe's `invalid_request_error`): an unknown
    /// id, an amount above what can be captured or refunded, a state that does not allow it.
    #[error("invalid request ({}): {message}", param.as_deref().unwrap_or("-"))]
    InvalidRequest {
        code: Option<String>,
        param: Option<String>,
        message: String,
    },
    /// A card that cannot be saved (Stripe's `card_error` outside a payment): a wrong number,
    /// an expired card, a live card in test mode.
    #[error("card error ({code}): {message}")]
    Card {
        code: String,
        decline_code: Option<String>,
        message: String,
    },
    /// The provider does not accept our credentials (a wrong or revoked secret key).
    #[error("authentication with the provider failed: {0}")]
    Auth(String),
    /// Network trouble, a timeout, a 5xx or a rate limit: the same call with the same
    /// idempotency key may be tried again.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// An answer we could not read.
    #[error("unexpected provider answer: {0}")]
    Unexpected(String),
    /// This server has no payment provider (production mode without a Stripe key).
    #[error("no payment provider is configured")]
    NotConfigured,
}

/// A customer at the provider: where payment methods are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer<'a> {
    pub user_id: Uuid,
    pub email: &'a str,
    pub idempotency_key: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
}

/// What a driver saves as a payment method.
#[derive(Clone, PartialEq, Eq)]
pub enum MethodSource {
    /// A payment method the app tokenized with the provider's SDK (Stripe: `pm_...`); the
    /// card number never reaches us.
    Token(String),
    /// A test card number, for the local provider (and Stripe test mode, which maps it to
    /// the matching test payment method). Never stored, never logged.
    TestCard {
        number: String,
        exp_month: u32,
        exp_year: i32,
    },
}

impl fmt::Debug for MethodSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(t) => f.debug_tuple("Token").field(t).finish(),
            Self::TestCard { number, .. } => f
                .debug_struct("TestCard")
                .field("last4", &number.get(number.len().saturating_sub(4)..))
                .finish_non_exhaustive(),
        }
    }
}

/// A saved card as the provider describes it: brand and last four digits only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardMethod {
    pub id: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
}

text_enum! {
    /// `automatic`: the money is taken at once; `manual`: the amount is authorized (held on
    /// the card) and captured later, at most what was authorized.
    #[schema(rename_all = "snake_case")]
    CaptureMethod { Automatic = "automatic", Manual = "manual" }
}

/// A Connect destination charge: the money goes to the host's connected account, less
/// `application_fee` that stays with the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub account: String,
    pub application_fee: Minor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment<'a> {
    /// Minor units of `currency`.
    pub amount: Minor,
    /// ISO 4217, upper case (the provider adapter converts as it needs).
    pub currency: &'a str,
    pub customer: &'a str,
    pub payment_method: &'a str,
    pub capture: CaptureMethod,
    pub destination: Option<Destination>,
    pub description: Option<String>,
    /// Our ids (payment, user, booking or session), for the provider's dashboard and for
    /// webhooks that arrive before we stored the provider's id.
    pub metadata: BTreeMap<String, String>,
    pub idempotency_key: &'a str,
}

text_enum! {
    /// A payment's state, ours and the provider's (Stripe's PaymentIntent statuses, with
    /// `requires_payment_method` after an attempt read as `failed`).
    #[schema(as = PaymentStatus, rename_all = "snake_case")]
    IntentStatus {
        Processing = "processing",
        RequiresAction = "requires_action",
        RequiresCapture = "requires_capture",
        Succeeded = "succeeded",
        Canceled = "canceled",
        Failed = "failed",
    }
}

/// What the customer must do before the payment can go on: 3-D Secure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextAction {
    /// The provider's kind (`use_stripe_sdk`, `redirect_to_url`, `local_three_d_secure`).
    pub kind: String,
    /// For `redirect_to_url`: where to send the customer.
    pub redirect_url: Option<String>,
}

/// Why the card was declined (Stripe: `last_payment_error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decline {
    /// `card_declined`, `expired_card`, `incorrect_cvc`, `authentication_required`, ...
    pub code: String,
    /// The issuer's reason: `generic_decline`, `insufficient_funds`, ...
    pub decline_code: Option<String>,
    pub message: String,
}

/// A payment (Stripe: a PaymentIntent) as the provider has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentState {
    pub id: String,
    pub status: IntentStatus,
    pub amount: Minor,
    /// Authorized and not captured yet.
    pub amount_capturable: Minor,
    /// Captured.
    pub amount_received: Minor,
    pub currency: String,
    /// For the app's SDK to complete a next action.
    pub client_secret: Option<String>,
    pub next_action: Option<NextAction>,
    pub decline: Option<Decline>,
    /// Our ids, as sent.
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund<'a> {
    /// The provider's payment id.
    pub payment: &'a str,
    /// `None`: everything not refunded yet.
    pub amount: Option<Minor>,
    pub metadata: BTreeMap<String, String>,
    pub idempotency_key: &'a str,
}

text_enum! {
    /// Where a refund stands at the provider (a refund into the wallet is `succeeded` at once).
    #[schema(as = PaymentRefundStatus, rename_all = "snake_case")]
    RefundStatus {
        Pending = "pending",
        RequiresAction = "requires_action",
        Succeeded = "succeeded",
        Failed = "failed",
        Canceled = "canceled",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundState {
    pub id: String,
    pub payment: Option<String>,
    pub amount: Minor,
    pub currency: String,
    pub status: RefundStatus,
    pub failure_reason: Option<String>,
}

/// A host's account for being paid (Stripe Connect, an Express account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount<'a> {
    pub host_id: Uuid,
    pub email: &'a str,
    /// ISO 3166-1 alpha-2; `None` lets the provider ask during onboarding.
    pub country: Option<&'a str>,
    pub idempotency_key: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub id: String,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
}

/// Where the host completes onboarding (single use, short-lived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequest<'a> {
    pub account: &'a str,
    /// Where the provider sends the host when the link expired or was used.
    pub refresh_url: &'a str,
    /// Where the provider sends the host when onboarding is left (done or not).
    pub return_url: &'a str,
    pub idempotency_key: &'a str,
}

/// Money from the platform's balance to a host's connected account: what the platform owes
/// the host for sessions paid from wallets (a Stripe Transfer). Done when created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransfer<'a> {
    /// The connected account.
    pub destination: &'a str,
    pub amount: Minor,
    pub currency: &'a str,
    pub metadata: BTreeMap<String, String>,
    pub idempotency_key: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferState {
    pub id: String,
    pub amount: Minor,
    pub currency: String,
    /// What was taken back since (a reversal); 0 normally.
    pub amount_reversed: Minor,
}

/// Money from a connected account's balance to the host's bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayout<'a> {
    pub account: &'a str,
    pub amount: Minor,
    pub currency: &'a str,
    pub metadata: BTreeMap<String, String>,
    pub idempotency_key: &'a str,
}

text_enum! {
    PayoutStatus {
        Pending = "pending",
        InTransit = "in_transit",
        Paid = "paid",
        Failed = "failed",
        Canceled = "canceled",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutState {
    pub id: String,
    pub amount: Minor,
    pub currency: String,
    pub status: PayoutStatus,
    pub arrival_date: Option<DateTime<Utc>>,
    pub failure_code: Option<String>,
}

/// A card processor. Object-safe so the crate's `ApiContext` can hold any.
pub trait PaymentProvider: Send + Sync {
    /// `stripe` or `local`: stored with every provider id we keep.
    fn name(&self) -> &'static str;

    /// False only for [`super::Unconfigured`]: routes that need a card processor answer
    /// `503 payments_not_configured` before they write anything.
    fn configured(&self) -> bool {
        true
    }

    fn create_customer<'a>(&'a self, customer: &'a NewCustomer<'a>)
        -> ProviderFuture<'a, Customer>;

    /// Saves a payment method on the customer.
    fn attach_method<'a>(
        &'a self,
        customer: &'a str,
        source: &'a MethodSource,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, CardMethod>;

    /// The customer's saved cards.
    fn list_methods<'a>(&'a self, customer: &'a str) -> ProviderFuture<'a, Vec<CardMethod>>;

    fn detach_method<'a>(
        &'a self,
        method: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, ()>;

    /// Creates and confirms a payment with a saved method (off the customer's screen, so a
    /// card that needs 3-D Secure answers `requires_action`).
    fn create_payment<'a>(
        &'a self,
        payment: &'a NewPayment<'a>,
    ) -> ProviderFuture<'a, PaymentState>;

    /// The payment as the provider has it now.
    fn get_payment<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, PaymentState>;

    /// After the customer completed the next action (3-D Secure) in the app: the payment as
    /// it stands then. Stripe completes the action between the app and Stripe, so this reads
    /// the payment; the local provider has no app to ask and completes its simulated
    /// challenge here.
    fn complete_action<'a>(
        &'a self,
        id: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, PaymentState>;

    /// Captures an authorized payment: `amount` at most what was authorized (`None`: all);
    /// the rest of the authorization is released.
    fn capture_payment<'a>(
        &'a self,
        id: &'a str,
        amount: Option<Minor>,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, PaymentState>;

    /// How long an authorization (a manual-capture payment) may wait for its capture before
    /// the provider lets it lapse. Stripe: 7 days for online card payments.
    fn authorization_validity(&self) -> chrono::Duration {
        chrono::Duration::days(7)
    }

    /// Cancels a payment not captured yet (releases an authorization).
    fn cancel_payment<'a>(
        &'a self,
        id: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, PaymentState>;

    fn refund<'a>(&'a self, refund: &'a NewRefund<'a>) -> ProviderFuture<'a, RefundState>;

    fn create_account<'a>(
        &'a self,
        account: &'a NewAccount<'a>,
    ) -> ProviderFuture<'a, AccountState>;

    fn get_account<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, AccountState>;

    fn onboarding_link<'a>(
        &'a self,
        link: &'a LinkRequest<'a>,
    ) -> ProviderFuture<'a, OnboardingLink>;

    /// A payout from the connected account's balance (sent as that account).
    fn create_payout<'a>(&'a self, payout: &'a NewPayout<'a>) -> ProviderFuture<'a, PayoutState>;

    /// A transfer from the platform's balance to a connected account.
    fn create_transfer<'a>(
        &'a self,
        transfer: &'a NewTransfer<'a>,
    ) -> ProviderFuture<'a, TransferState>;
}

//! The Stripe payment provider: `marketplace::payments::PaymentProvider` over async-stripe
//! 1.0 (the per-API crates: `async-stripe-core` for customers, PaymentIntents, refunds and
//! payouts, `async-stripe-payment` for payment methods, `async-stripe-connect` for Connect
//! accounts, onboarding links and transfers).
//!
//! A crate of its own because async-stripe's generated code is large (the shared types
//! alone are 11 MB of source): compiled once here, it never slows the `csms` crate's rebuilds.
//!
//! - Requests are what Stripe expects: form-encoded bodies, `Authorization: Bearer <key>`,
//!   an `Idempotency-Key` header on every POST (derived by the caller from our ids), and
//!   `Stripe-Account` for calls made as a connected account (payouts). Transfers are made as
//!   the platform (no `Stripe-Account`): they move money from the platform's balance to a
//!   connected account.
//! - Payments are created and confirmed in one call with the saved card, card methods only
//!   and no redirects (`automatic_payment_methods[allow_redirects]=never`), so a card that
//!   needs 3-D Secure answers `requires_action` with a client secret for the app's SDK.
//! - A declined card is Stripe's HTTP 402 `card_error` carrying the PaymentIntent: it is
//!   answered as that PaymentIntent (status `failed` with the decline), not as an error.
//! - Test mode (an `sk_test_` key) takes Stripe's test card numbers and sends the matching
//!   test PaymentMethod (`pm_card_visa`, ...), since Stripe does not take raw numbers; with a
//!   live key only tokens from the app's SDK are accepted.
//! - TLS is rustls on the process-wide CryptoProvider, which `main` must install first.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use marketplace::ledger::model::Minor;
use marketplace::payments::model;
use marketplace::payments::provider::{
    AccountState, CaptureMethod, CardMethod, Customer, Decline, IntentStatus, LinkRequest,
    MethodSource, NewAccount, NewCustomer, NewPayment, NewPayout, NewRefund, NewTransfer,
    NextAction, OnboardingLink, PaymentProvider, PaymentState, PayoutState, PayoutStatus,
    ProviderError, ProviderFuture, RefundState, RefundStatus, TransferState,
};
use stripe::{ApiErrors, ApiErrorsType, Client, ClientBuilder, IdempotencyKey, RequestStrategy};
use stripe::{StripeError, StripeRequest};
use stripe_connect::account::{
    CreateAccount, CreateAccountCapabilities, CreateAccountCapabilitiesCardPayments,
    CreateAccountCapabilitiesTransfers, CreateAccountType, RetrieveAccount,
};
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};
use stripe_connect::transfer::CreateTransfer;
use stripe_core::customer::CreateCustomer;
use stripe_core::payment_intent::{
    CancelPaymentIntent, CapturePaymentIntent, CreatePaymentIntent,
    CreatePaymentIntentAutomaticPaymentMethods,
    CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects, CreatePaymentIntentTransferData,
    RetrievePaymentIntent,
};
use stripe_core::payout::CreatePayout;
use stripe_core::refund::CreateRefund;
use stripe_payment::payment_method::{
    AttachPaymentMethod, DetachPaymentMethod, ListPaymentMethod, ListPaymentMethodType,
};
use stripe_shared::{AccountId, PaymentIntent, PaymentIntentCaptureMethod, PaymentIntentStatus};
use stripe_types::Currency;

pub const NAME: &str = "stripe";

/// Each HTTP attempt gets this long; the caller retries with the same idempotency key.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct StripeProvider {
    client: Client,
    test_mode: bool,
}

impl StripeProvider {
    /// `api_base` replaces `https://api.stripe.com/` (a test double, stripe-mock).
    pub fn new(secret_key: &str, api_base: Option<&str>) -> Result<Self, String> {
        let mut builder = ClientBuilder::new(secret_key).timeout(TIMEOUT).app_info(
            "ev-charging-platform",
            Some(env!("CARGO_PKG_VERSION").into()),
            None,
        );
        if let Some(base) = api_base {
            // the client joins `{base}v1/...`: the base must end with a slash
            let base = if base.ends_with('/') {
                base.to_owned()
            } else {
                format!("{base}/")
            };
            builder = builder.url(base);
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        let test_mode = secret_key.starts_with("sk_test_") || secret_key.starts_with("rk_test_");
        Ok(Self { client, test_mode })
    }

    pub fn test_mode(&self) -> bool {
        self.test_mode
    }

    /// Sends one request: with an `Idempotency-Key` header when a key is given (every POST
    /// gets one), as the connected `account` when given (`Stripe-Account`).
    async fn send_raw<R>(
        &self,
        request: &R,
        idempotency_key: Option<&str>,
        account: Option<&str>,
    ) -> Result<R::Output, StripeError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let mut req = request.customize();
        if let Some(key) = idempotency_key {
            let key =
                IdempotencyKey::new(key).map_err(|e| StripeError::ConfigError(e.to_string()))?;
            req = req.request_strategy(RequestStrategy::Idempotent(key));
        }
        if let Some(account) = account {
            req = req.account_id(AccountId::from(account));
        }
        req.send(&self.client).await
    }

    async fn send<R>(
        &self,
        request: &R,
        idempotency_key: Option<&str>,
        account: Option<&str>,
    ) -> Result<R::Output, ProviderError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        self.send_raw(request, idempotency_key, account)
            .await
            .map_err(error)
    }

    fn source_id(&self, source: &MethodSource) -> Result<String, ProviderError> {
        match source {
            MethodSource::Token(token) => Ok(token.clone()),
            MethodSource::TestCard { number, .. } if self.test_mode => model::test_card(number)
                .map(|c| c.stripe_token.to_owned())
                .ok_or_else(|| ProviderError::Card {
                    code: "card_declined".into(),
                    decline_code: Some("test_mode_live_card".into()),
                    message: "Stripe's test mode takes its test card numbers only, such as \
                              4242 4242 4242 4242."
                        .into(),
                }),
            MethodSource::TestCard { .. } => Err(ProviderError::Card {
                code: "card_number_not_accepted".into(),
                decline_code: None,
                message: "card numbers are not accepted: send the payment method (`token`) \
                          the app made with Stripe's SDK"
                    .into(),
            }),
        }
    }
}

fn error(err: StripeError) -> ProviderError {
    match err {
        StripeError::Stripe(e, status) => api_error(&e, status),
        StripeError::ClientError(m) => ProviderError::Unavailable(m),
        StripeError::Timeout => ProviderError::Unavailable("timeout".into()),
        StripeError::JSONDeserialize(m) | StripeError::ConfigError(m) => {
            ProviderError::Unexpected(m)
        }
    }
}

fn api_error(e: &ApiErrors, status: u16) -> ProviderError {
    let message = e
        .message
        .clone()
        .unwrap_or_else(|| format!("HTTP {status}"));
    let code = e.code.as_ref().map(|c| c.as_str().to_owned());
    match (status, &e.type_) {
        (401 | 403, _) => ProviderError::Auth(message),
        (429 | 500.., _) | (_, ApiErrorsType::ApiError) => ProviderError::Unavailable(message),
        (_, ApiErrorsType::CardError) => ProviderError::Card {
            code: code.unwrap_or_else(|| "card_error".into()),
            decline_code: e.decline_code.clone(),
            message,
        },
        _ => ProviderError::InvalidRequest {
            code,
            param: e.param.clone(),
            message,
        },
    }
}

fn currency(code: &str) -> Currency {
    // infallible: an unknown code is kept as it is
    Currency::from_str(&code.to_ascii_lowercase()).unwrap_or_else(|never| match never {})
}

fn metadata(m: &BTreeMap<String, String>) -> HashMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn status(s: &PaymentIntentStatus) -> IntentStatus {
    match s {
        PaymentIntentStatus::Succeeded => IntentStatus::Succeeded,
        PaymentIntentStatus::RequiresCapture => IntentStatus::RequiresCapture,
        PaymentIntentStatus::RequiresAction => IntentStatus::RequiresAction,
        PaymentIntentStatus::Canceled => IntentStatus::Canceled,
        // after an attempt, `requires_payment_method` is a declined card
        PaymentIntentStatus::RequiresPaymentMethod => IntentStatus::Failed,
        _ => IntentStatus::Processing,
    }
}

fn decline(e: &ApiErrors) -> Decline {
    Decline {
        code: e
            .code
            .as_ref()
            .map_or_else(|| "card_declined".to_owned(), |c| c.as_str().to_owned()),
        decline_code: e.decline_code.clone(),
        message: e
            .message
            .clone()
            .unwrap_or_else(|| "The payment was declined.".into()),
    }
}

fn payment_state(pi: &PaymentIntent) -> PaymentState {
    let status = status(&pi.status);
    PaymentState {
        id: pi.id.as_str().to_owned(),
        status,
        amount: pi.amount,
        amount_capturable: pi.amount_capturable,
        amount_received: pi.amount_received,
        currency: pi.currency.to_string(),
        client_secret: pi.client_secret.clone(),
        next_action: pi.next_action.as_ref().map(|a| NextAction {
            kind: a.type_.clone(),
            redirect_url: a.redirect_to_url.as_ref().and_then(|r| r.url.clone()),
        }),
        decline: pi
            .last_payment_error
            .as_deref()
            .filter(|_| status == IntentStatus::Failed)
            .map(decline),
        metadata: pi
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn card_method(pm: &stripe_shared::PaymentMethod) -> Result<CardMethod, ProviderError> {
    let card = pm
        .card
        .as_ref()
        .ok_or_else(|| ProviderError::InvalidRequest {
            code: Some("payment_method_not_card".into()),
            param: Some("payment_method".into()),
            message: format!("payment method {} is not a card", pm.id.as_str()),
        })?;
    let exp_month = u32::try_from(card.exp_month)
        .map_err(|_| ProviderError::Unexpected("card exp_month".into()))?;
    let exp_year = i32::try_from(card.exp_year)
        .map_err(|_| ProviderError::Unexpected("card exp_year".into()))?;
    Ok(CardMethod {
        id: pm.id.as_str().to_owned(),
        brand: card.brand.clone(),
        last4: card.last4.clone(),
        exp_month,
        exp_year,
    })
}

fn refund_state(r: &stripe_shared::Refund) -> RefundState {
    let status = match r.status.as_deref() {
        Some("succeeded") => RefundStatus::Succeeded,
        Some("failed") => RefundStatus::Failed,
        Some("canceled") => RefundStatus::Canceled,
        Some("requires_action") => RefundStatus::RequiresAction,
        _ => RefundStatus::Pending,
    };
    RefundState {
        id: r.id.as_str().to_owned(),
        payment: r
            .payment_intent
            .as_ref()
            .map(|p| p.id().as_str().to_owned()),
        amount: r.amount,
        currency: r.currency.to_string(),
        status,
        failure_reason: r.failure_reason.clone(),
    }
}

fn account_state(a: &stripe_shared::Account) -> AccountState {
    AccountState {
        id: a.id.as_str().to_owned(),
        charges_enabled: a.charges_enabled.unwrap_or(false),
        payouts_enabled: a.payouts_enabled.unwrap_or(false),
        details_submitted: a.details_submitted.unwrap_or(false),
    }
}

fn payout_state(p: &stripe_shared::Payout) -> PayoutState {
    let status = match p.status.as_str() {
        "paid" => PayoutStatus::Paid,
        "failed" => PayoutStatus::Failed,
        "canceled" => PayoutStatus::Canceled,
        "in_transit" => PayoutStatus::InTransit,
        _ => PayoutStatus::Pending,
    };
    PayoutState {
        id: p.id.as_str().to_owned(),
        amount: p.amount,
        currency: p.currency.to_string(),
        status,
        arrival_date: Utc.timestamp_opt(p.arrival_date, 0).single(),
        failure_code: p.failure_code.clone(),
    }
}

fn transfer_state(t: &stripe_shared::Transfer) -> TransferState {
    TransferState {
        id: t.id.as_str().to_owned(),
        amount: t.amount,
        currency: t.currency.to_string(),
        amount_reversed: t.amount_reversed,
    }
}

impl StripeProvider {
    async fn create_payment_now(&self, p: &NewPayment<'_>) -> Result<PaymentState, ProviderError> {
        let mut req = CreatePaymentIntent::new(p.amount, currency(p.currency))
            .customer(p.customer)
            .payment_method(p.payment_method)
            .confirm(true)
            .capture_method(match p.capture {
                CaptureMethod::Automatic => PaymentIntentCaptureMethod::Automatic,
                CaptureMethod::Manual => PaymentIntentCaptureMethod::Manual,
            })
            .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods {
                allow_redirects: Some(
                    CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects::Never,
                ),
                enabled: true,
            })
            .metadata(metadata(&p.metadata));
        if let Some(d) = &p.description {
            req = req.description(d.clone());
        }
        if let Some(dest) = &p.destination {
            req = req
                .application_fee_amount(dest.application_fee)
                .transfer_data(CreatePaymentIntentTransferData::new(dest.account.clone()));
        }
        match self.send_raw(&req, Some(p.idempotency_key), None).await {
            Ok(pi) => Ok(payment_state(&pi)),
            // a declined card: HTTP 402 with the PaymentIntent (now requires_payment_method)
            // inside the error
            Err(StripeError::Stripe(e, _)) if e.payment_intent.is_some() => {
                let mut state = e
                    .payment_intent
                    .as_ref()
                    .map(payment_state)
                    .ok_or_else(|| {
                        ProviderError::Unexpected("declined without an intent".into())
                    })?;
                if state.status == IntentStatus::Failed && state.decline.is_none() {
                    state.decline = Some(decline(&e));
                }
                Ok(state)
            }
            Err(err) => Err(error(err)),
        }
    }
}

impl PaymentProvider for StripeProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn create_customer<'a>(&'a self, c: &'a NewCustomer<'a>) -> ProviderFuture<'a, Customer> {
        Box::pin(async move {
            let req = CreateCustomer::new()
                .email(c.email)
                .metadata(HashMap::from([(
                    "user_id".to_owned(),
                    c.user_id.to_string(),
                )]));
            let customer = self.send(&req, Some(c.idempotency_key), None).await?;
            Ok(Customer {
                id: customer.id.as_str().to_owned(),
            })
        })
    }

    fn attach_method<'a>(
        &'a self,
        customer: &'a str,
        source: &'a MethodSource,
        key: &'a str,
    ) -> ProviderFuture<'a, CardMethod> {
        Box::pin(async move {
            let id = self.source_id(source)?;
            let req = AttachPaymentMethod::new(id.as_str()).customer(customer);
            let pm = self.send(&req, Some(key), None).await?;
            card_method(&pm)
        })
    }

    fn list_methods<'a>(&'a self, customer: &'a str) -> ProviderFuture<'a, Vec<CardMethod>> {
        Box::pin(async move {
            let req = ListPaymentMethod::new()
                .customer(customer)
                .type_(ListPaymentMethodType::Card)
                .limit(100);
            let list = self.send(&req, None, None).await?;
            list.data.iter().map(card_method).collect()
        })
    }

    fn detach_method<'a>(&'a self, method: &'a str, key: &'a str) -> ProviderFuture<'a, ()> {
        Box::pin(async move {
            self.send(&DetachPaymentMethod::new(method), Some(key), None)
                .await
                .map(|_| ())
        })
    }

    fn create_payment<'a>(&'a self, p: &'a NewPayment<'a>) -> ProviderFuture<'a, PaymentState> {
        Box::pin(self.create_payment_now(p))
    }

    fn get_payment<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, PaymentState> {
        Box::pin(async move {
            let pi = self
                .send(&RetrievePaymentIntent::new(id), None, None)
                .await?;
            Ok(payment_state(&pi))
        })
    }

    fn complete_action<'a>(
        &'a self,
        id: &'a str,
        _key: &'a str,
    ) -> ProviderFuture<'a, PaymentState> {
        // the app completed 3-D Secure with Stripe directly: read where that left the payment
        self.get_payment(id)
    }

    fn capture_payment<'a>(
        &'a self,
        id: &'a str,
        amount: Option<Minor>,
        key: &'a str,
    ) -> ProviderFuture<'a, PaymentState> {
        Box::pin(async move {
            let mut req = CapturePaymentIntent::new(id);
            if let Some(a) = amount {
                req = req.amount_to_capture(a);
            }
            let pi = self.send(&req, Some(key), None).await?;
            Ok(payment_state(&pi))
        })
    }

    fn cancel_payment<'a>(&'a self, id: &'a str, key: &'a str) -> ProviderFuture<'a, PaymentState> {
        Box::pin(async move {
            let pi = self
                .send(&CancelPaymentIntent::new(id), Some(key), None)
                .await?;
            Ok(payment_state(&pi))
        })
    }

    fn refund<'a>(&'a self, r: &'a NewRefund<'a>) -> ProviderFuture<'a, RefundState> {
        Box::pin(async move {
            let mut req = CreateRefund::new()
                .payment_intent(r.payment)
                .metadata(metadata(&r.metadata));
            if let Some(a) = r.amount {
                req = req.amount(a);
            }
            let refund = self.send(&req, Some(r.idempotency_key), None).await?;
            Ok(refund_state(&refund))
        })
    }

    fn create_account<'a>(&'a self, a: &'a NewAccount<'a>) -> ProviderFuture<'a, AccountState> {
        Box::pin(async move {
            let mut caps = CreateAccountCapabilities::new();
            caps.card_payments = Some(CreateAccountCapabilitiesCardPayments {
                requested: Some(true),
            });
            caps.transfers = Some(CreateAccountCapabilitiesTransfers {
                requested: Some(true),
            });
            let mut req = CreateAccount::new()
                .type_(CreateAccountType::Express)
                .email(a.email)
                .capabilities(caps)
                .metadata(HashMap::from([(
                    "host_id".to_owned(),
                    a.host_id.to_string(),
                )]));
            if let Some(country) = a.country {
                req = req.country(country);
            }
            let account = self.send(&req, Some(a.idempotency_key), None).await?;
            Ok(account_state(&account))
        })
    }

    fn get_account<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, AccountState> {
        Box::pin(async move {
            let account = self.send(&RetrieveAccount::new(id), None, None).await?;
            Ok(account_state(&account))
        })
    }

    fn onboarding_link<'a>(
        &'a self,
        link: &'a LinkRequest<'a>,
    ) -> ProviderFuture<'a, OnboardingLink> {
        Box::pin(async move {
            let req =
                CreateAccountLink::new(link.account, CreateAccountLinkType::AccountOnboarding)
                    .refresh_url(link.refresh_url)
                    .return_url(link.return_url);
            let made = self.send(&req, Some(link.idempotency_key), None).await?;
            Ok(OnboardingLink {
                url: made.url,
                expires_at: Utc
                    .timestamp_opt(made.expires_at, 0)
                    .single()
                    .ok_or_else(|| ProviderError::Unexpected("account link expiry".into()))?,
            })
        })
    }

    fn create_payout<'a>(&'a self, p: &'a NewPayout<'a>) -> ProviderFuture<'a, PayoutState> {
        Box::pin(async move {
            let req =
                CreatePayout::new(p.amount, currency(p.currency)).metadata(metadata(&p.metadata));
            // the payout is made by the connected account, from its own balance
            let payout = self
                .send(&req, Some(p.idempotency_key), Some(p.account))
                .await?;
            Ok(payout_state(&payout))
        })
    }

    fn create_transfer<'a>(&'a self, t: &'a NewTransfer<'a>) -> ProviderFuture<'a, TransferState> {
        Box::pin(async move {
            let req = CreateTransfer::new(currency(t.currency), t.destination)
                .amount(t.amount)
                .metadata(metadata(&t.metadata));
            // made by the platform, from its own balance: no `Stripe-Account`
            let transfer = self.send(&req, Some(t.idempotency_key), None).await?;
            Ok(transfer_state(&transfer))
        })
    }
}

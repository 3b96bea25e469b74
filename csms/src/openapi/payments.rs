//! Payments: saved cards, paying bookings, charging sessions and wallet top-ups by card or
//! wallet, refunds, the Stripe webhook, hosts' payout accounts. Mirrors
//! `marketplace::payments::http` (answers: `payments::view`); snake_case, money in integer
//! minor units (`*_cents`).

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::route::{integer, Access, Route, HOST};

const TAG: &str = "payments";

/// `POST /api/payment-methods`: either `token` (a payment method the app made with the
/// provider's SDK, e.g. Stripe's `pm_...`; the card number never reaches the platform), or a
/// test card (`card_number`, `exp_month`, `exp_year`, optional `cvc`) with the local
/// provider and in Stripe test mode: 4242 4242 4242 4242 succeeds, 5555 5555 5555 4444
/// succeeds (Mastercard), 4000 0000 0000 0002 is declined (`card_declined`),
/// 4000 0000 0000 9995 has insufficient funds, 4000 0000 0000 0069 is expired,
/// 4000 0025 0000 3155 needs 3-D Secure. Only brand and last four digits are kept.
#[derive(ToSchema)]
pub struct PaymentMethodBody {
    #[schema(example = "pm_1QxHc2LkdIwHu7ixJ5r0aBcD")]
    pub token: Option<String>,
    #[schema(example = "4242424242424242")]
    pub card_number: Option<String>,
    #[schema(minimum = 1, maximum = 12, example = 12)]
    pub exp_month: Option<u32>,
    #[schema(example = 2034)]
    pub exp_year: Option<i32>,
    #[schema(example = "123")]
    pub cvc: Option<String>,
    /// Make it the default card; the first card always is. Default `false`.
    pub make_default: Option<bool>,
}

#[derive(ToSchema)]
pub struct PaymentMethod {
    pub id: Uuid,
    /// `card`.
    #[schema(example = "card")]
    pub r#type: String,
    #[schema(example = "visa")]
    pub brand: String,
    #[schema(example = "4242")]
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
    pub is_default: bool,
    /// `stripe` or `local`.
    pub provider: String,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Purpose {
    Booking,
    Session,
    Topup,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum PayMethod {
    Card,
    Wallet,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CaptureMethod {
    Automatic,
    Manual,
}

/// `POST /api/payments`. `booking`: `booking_id` (the caller's pending, confirmed, checked-in
/// or charging booking; by wallet it must be confirmed); `session`: `session_id` (the
/// caller's billed session); `topup`: `amount_cents` (100 to 100000) and `currency`, by card.
#[derive(ToSchema)]
pub struct PayBody {
    pub purpose: Purpose,
    pub booking_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    #[schema(minimum = 100, maximum = 100000, example = 2500)]
    pub amount_cents: Option<i64>,
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    pub method: PayMethod,
    /// Cards: the card (default: the caller's default card).
    pub payment_method_id: Option<Uuid>,
    /// Cards: `automatic` (default) takes the money now; `manual` authorizes it and
    /// `POST /api/payments/{id}/capture` takes at most that later.
    pub capture: Option<CaptureMethod>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum PaymentStatus {
    Processing,
    RequiresAction,
    RequiresCapture,
    Succeeded,
    Canceled,
    Failed,
}

/// 3-D Secure to complete in the app (the provider's SDK takes the `client_secret`), then
/// `POST /api/payments/{id}/confirm`. With the local provider the confirm alone completes
/// the simulated challenge.
#[derive(ToSchema)]
pub struct NextAction {
    /// `three_d_secure`.
    #[schema(example = "three_d_secure")]
    pub r#type: String,
    #[schema(example = "use_stripe_sdk")]
    pub provider_type: String,
    #[schema(required)]
    pub client_secret: Option<String>,
    #[schema(required)]
    pub redirect_url: Option<String>,
}

/// Why the card was declined (or the provider refused the payment).
#[derive(ToSchema)]
pub struct PaymentFailure {
    #[schema(example = "card_declined")]
    pub code: String,
    #[schema(required, example = "insufficient_funds")]
    pub decline_code: Option<String>,
    pub message: String,
}

#[derive(ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub purpose: Purpose,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    #[schema(required)]
    pub session_id: Option<Uuid>,
    pub method: PayMethod,
    #[schema(required)]
    pub payment_method_id: Option<Uuid>,
    #[schema(example = 1250)]
    pub amount_cents: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    pub capture_method: CaptureMethod,
    pub status: PaymentStatus,
    pub amount_capturable_cents: i64,
    pub amount_received_cents: i64,
    pub amount_refunded_cents: i64,
    #[schema(required)]
    pub next_action: Option<NextAction>,
    /// Set when `failed`.
    #[schema(required)]
    pub failure: Option<PaymentFailure>,
    /// `wallet`, `stripe` or `local`.
    pub provider: String,
    #[schema(required)]
    pub provider_payment_id: Option<String>,
    /// A Connect destination charge: the host's account, and what the platform keeps.
    #[schema(required)]
    pub destination_account: Option<String>,
    #[schema(required)]
    pub application_fee_cents: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct PaymentPage {
    pub items: Vec<Payment>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// `POST /api/payments/{id}/capture`; the body may be left out (captures everything
/// authorized).
#[derive(ToSchema)]
pub struct CaptureBody {
    #[schema(minimum = 1, example = 1000)]
    pub amount_cents: Option<i64>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum RefundDestination {
    OriginalMethod,
    Wallet,
}

/// `POST /api/refunds`.
#[derive(ToSchema)]
pub struct RefundBody {
    pub payment_id: Uuid,
    /// Default: all that may be refunded (a driver: what the booking's policy decided).
    #[schema(minimum = 1, example = 600)]
    pub amount_cents: Option<i64>,
    /// Default `original_method`. `wallet` is for admins.
    pub destination: Option<RefundDestination>,
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(ToSchema)]
pub struct PaymentRefund {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub amount_cents: i64,
    pub currency: String,
    pub destination: RefundDestination,
    /// `policy`, `admin` or `provider` (made at the provider, reported by a webhook).
    #[schema(example = "policy")]
    pub basis: String,
    /// `pending`, `requires_action`, `succeeded`, `failed`, `canceled`.
    #[schema(example = "succeeded")]
    pub status: String,
    pub reason: String,
    #[schema(required)]
    pub provider_refund_id: Option<String>,
    #[schema(required)]
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What the platform owed a host, transferred to their connected account.
#[derive(ToSchema)]
pub struct Transfer {
    pub id: Uuid,
    #[schema(example = 800)]
    pub amount_cents: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    /// `pending` (asked, not settled yet), `paid`, or `failed` (refused; nothing moved, the
    /// next run decides afresh).
    #[schema(example = "paid")]
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

#[derive(ToSchema)]
pub struct TransferPage {
    pub items: Vec<Transfer>,
    pub limit: i64,
    pub offset: i64,
}

/// `POST /api/host/payout-account`.
#[derive(ToSchema)]
pub struct PayoutAccountBody {
    /// Where the provider sends the host back after onboarding.
    #[schema(example = "https://app.example.com/host/payouts/done")]
    pub return_url: String,
    /// Where the provider sends the host when the link expired (ask for a new one there).
    #[schema(example = "https://app.example.com/host/payouts/refresh")]
    pub refresh_url: String,
    /// ISO 3166-1 alpha-2; default: asked during onboarding.
    #[schema(example = "NL")]
    pub country: Option<String>,
}

#[derive(ToSchema)]
pub struct PayoutAccount {
    pub provider: String,
    #[schema(example = "acct_1QxHf3Ph9XwQ2mZk")]
    pub account_id: String,
    #[schema(required)]
    pub country: Option<String>,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    /// Only in the answer to the POST: single use, expires.
    pub onboarding_url: Option<String>,
    pub onboarding_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct WebhookAck {
    pub received: bool,
    /// A redelivery of an event already processed: nothing changed.
    pub duplicate: bool,
    /// `applied`, `unknown_object`, `ignored` or `duplicate`.
    pub outcome: String,
}

const KEY: &str = " Send an `Idempotency-Key` header (1 to 255 visible ASCII characters) to retry \
    safely: a retry with the same key and body answers the first result again (with \
    `Idempotent-Replayed: true`); the same key with another body is a 422.";

fn payment(route: Route) -> Route {
    route
        .access(Access::AnyUser)
        .describe("The payment's payer, or an admin.")
        .uuid_param("id", "Payment id")
        .not_found("payment")
        .ok::<Payment>(200, "The payment as it is now")
}

fn provider_errors(route: Route) -> Route {
    route
        .problem(
            502,
            "`provider_error`: the payment provider refused the platform's credentials or \
             answered nonsense",
        )
        .problem(
            503,
            "The payment provider did not answer: retry with the same Idempotency-Key",
        )
}

pub fn routes() -> Vec<Route> {
    vec![
        provider_errors(
            Route::post("/api/payment-methods", TAG, "Save a card")
                .access(Access::AnyUser)
                .describe(
                    "Attaches the card to the caller's customer at the payment provider. A \
                     card the provider refuses is a 422 on `card_number` (or `token`).",
                )
                .body::<PaymentMethodBody>()
                .ok::<PaymentMethod>(201, "Saved")
                .conflict("`payment_method_taken`: the token is saved by another user"),
        ),
        Route::get("/api/payment-methods", TAG, "My cards")
            .access(Access::AnyUser)
            .ok_array::<PaymentMethod>(200, "The default card first, then newest first"),
        provider_errors(
            Route::delete("/api/payment-methods/{id}", TAG, "Remove a card")
                .access(Access::AnyUser)
                .uuid_param("id", "Payment method id")
                .describe(
                    "Detached at the provider; when it was the default, the newest other \
                     card becomes it.",
                )
                .empty(204, "Removed")
                .not_found("payment method"),
        ),
        Route::post(
            "/api/payment-methods/{id}/default",
            TAG,
            "Make a card the default",
        )
        .access(Access::AnyUser)
        .uuid_param("id", "Payment method id")
        .ok::<PaymentMethod>(200, "The card, now the default")
        .not_found("payment method"),
        provider_errors(
            Route::post("/api/payments", TAG, "Pay a booking, a session or a top-up")
                .access(Access::AnyUser)
                .describe(&format!(
                    "By wallet: a booking's amount is held on the wallet (the session's bill \
                     takes it); a session's bill is paid from the booking's hold and the \
                     wallet. By card: the provider takes (or with `capture: manual` \
                     authorizes) the amount; money received goes into the wallet and is held \
                     for the booking or taken by the session's bill (a session paid by card \
                     pays what hold and wallet do not cover). A session's card payment of the \
                     whole bill to a host with a payout account is a Connect destination \
                     charge (`application_fee_cents`: all but the host's share). A declined \
                     card is not an error: the payment answers `failed` with `failure`; \
                     `requires_action` means 3-D Secure (see `next_action`).{KEY}"
                ))
                .body::<PayBody>()
                .ok::<Payment>(201, "The payment (or the replayed first one)")
                .not_found("booking or session (or not the caller's)")
                .conflict(
                    "`already_paid`; `booking_not_payable` (its status); \
                     `booking_not_confirmed` (by wallet); `nothing_to_pay`; \
                     `session_not_billed`; `covered_by_wallet` (pay the session by wallet); \
                     `insufficient_funds` (wallet); `provider_refused`; \
                     `idempotency_key_in_use`",
                ),
        ),
        Route::get("/api/payments", TAG, "My payments")
            .access(Access::AnyUser)
            .query("limit", "Page size", integer(1, Some(100), Some(20)))
            .query("offset", "Rows to skip", integer(0, None, Some(0)))
            .ok::<PaymentPage>(200, "Newest first")
            .problem(
                422,
                "An unknown or out-of-range parameter (named in `errors`)",
            ),
        payment(Route::get("/api/payments/{id}", TAG, "One payment")),
        provider_errors(
            payment(Route::post(
                "/api/payments/{id}/confirm",
                TAG,
                "After 3-D Secure",
            ))
            .describe(
                " Reads the payment back from the provider once the app completed 3-D \
                 Secure; the local provider completes its simulated challenge here.",
            )
            .conflict("`not_a_card_payment`; `provider_changed`; `payment_processing`"),
        ),
        provider_errors(
            payment(Route::post(
                "/api/payments/{id}/capture",
                TAG,
                "Capture an authorization",
            ))
            .describe(" At most what is authorized; the rest is released.")
            .body::<CaptureBody>()
            .conflict(
                "`not_capturable`; `not_a_card_payment`; `provider_refused`; `settling` (the \
                 platform is already capturing or releasing it for its bill or booking)",
            ),
        ),
        provider_errors(
            payment(Route::post(
                "/api/payments/{id}/cancel",
                TAG,
                "Cancel a card payment not captured",
            ))
            .conflict(
                "`not_cancelable` (captured payments are refunded instead); `settling` (the \
                 platform is already capturing or releasing it)",
            ),
        ),
        provider_errors(
            Route::post("/api/refunds", TAG, "Refund a payment")
                .access(Access::AnyUser)
                .describe(&format!(
                    "Admins refund any payment up to what was received and not refunded, to \
                     the card or into the wallet. A driver gets, back to the card, what the \
                     booking's refund policy decided when it was cancelled (the ledger put it \
                     into the wallet then; this moves it to the card).{KEY}"
                ))
                .body::<RefundBody>()
                .ok::<PaymentRefund>(201, "The refund (or the replayed first one)")
                .not_found("payment")
                .problem(
                    403,
                    "`forbidden`: a driver asking for a refund into the wallet",
                )
                .conflict(
                    "`no_refund_due`; `already_refunded`; `nothing_to_refund`; \
                     `insufficient_funds` (the money is no longer in the wallet); \
                     `provider_changed`; `provider_refused`",
                ),
        ),
        Route::post("/api/webhooks/stripe", TAG, "Stripe webhook endpoint")
            .describe(
                "For Stripe only. The raw body must carry a valid `Stripe-Signature` \
                 (HMAC-SHA256 with the endpoint's secret over `{t}.{body}`, at most 300 s \
                 old). Each event is processed once, in one transaction; a redelivery answers \
                 200 with `duplicate: true`. Events are applied by the state of their object, \
                 so their order does not matter.",
            )
            .ok::<WebhookAck>(200, "Received")
            .problem(
                400,
                "`missing_signature`, `malformed_signature`, `invalid_signature`, \
                 `stale_signature`, `malformed_event`",
            )
            .problem(404, "No webhook secret is configured"),
        provider_errors(
            Route::post(
                "/api/host/payout-account",
                TAG,
                "Open my payout account (Stripe Connect)",
            )
            .access(HOST)
            .describe(
                "Opens the caller's Express account on first use and answers it with a \
                 fresh onboarding link. With the local provider the account is enabled at \
                 once and the link is the return URL.",
            )
            .body::<PayoutAccountBody>()
            .ok::<PayoutAccount>(200, "The account and its onboarding link"),
        ),
        Route::get("/api/host/payout-account", TAG, "My payout account")
            .access(HOST)
            .ok::<PayoutAccount>(200, "The account, refreshed while onboarding is incomplete")
            .not_found("payout account"),
        Route::get("/api/host/transfers", TAG, "What I was paid as a host")
            .access(HOST)
            .describe(
                "What sessions paid from wallets earned the caller (their 80 % share, in \
                 `host_payable`) is transferred to their payout account by a periodic run \
                 (`--host-transfers-secs`, hourly by default) once it reaches 1.00; sessions \
                 paid by card to a connected host are paid by the provider at once \
                 (destination charges) and are not listed here.",
            )
            .query("limit", "Page size", integer(1, Some(100), Some(20)))
            .query("offset", "Rows to skip", integer(0, None, Some(0)))
            .ok::<TransferPage>(200, "Newest first")
            .problem(
                422,
                "An unknown or out-of-range parameter (named in `errors`)",
            ),
    ]
}

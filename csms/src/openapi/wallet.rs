//! Wallet: a driver's money (balance, holds for bookings, history, low-balance setting) and
//! the admins' view of the ledger's accounts. Mirrors `marketplace::ledger::http` (answers:
//! `ledger::view`); snake_case; amounts in minor units (`*_cents`) beside their currency.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::route::{date_time, integer, one_of, uuid, Access, Route, ADMIN};

const TAG: &str = "wallet";

const POSTING_KINDS: &[&str] = &[
    "topup",
    "hold",
    "release",
    "capture",
    "refund",
    "settlement",
    "adjustment",
    "reversal",
    "subscription",
];

const ACCOUNT_KINDS: &[&str] = &[
    "driver_wallet",
    "driver_hold",
    "driver_receivable",
    "host_payable",
    "platform_commission",
    "insurance_reserve",
    "tax_payable",
    "provider_clearing",
    "platform_refunds",
    "platform_subscriptions",
];

/// `POST /api/wallet/topup`.
#[derive(ToSchema)]
pub struct TopupBody {
    /// Minor units: 100 to 100000 (1.00 to 1,000.00 of a two-decimal currency).
    #[schema(minimum = 100, maximum = 100000, example = 2000)]
    pub amount_cents: i64,
    /// ISO 4217, capitals.
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: String,
    /// `card` (the caller's default saved card), the id of a saved card, or `local_test`
    /// (the development provider, which credits at once like a Stripe test-mode payment that
    /// succeeded).
    #[schema(example = "card")]
    pub payment_method: String,
}

/// Money set aside for a booking (taken from the balance when the booking was confirmed) or
/// for a charging session no booking pays for (when it started; topped up while it charges).
#[derive(ToSchema)]
pub struct WalletHold {
    pub id: Uuid,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    #[schema(required)]
    pub session_id: Option<Uuid>,
    #[schema(example = 500)]
    pub amount_cents: i64,
    /// What is still held.
    #[schema(example = 500)]
    pub remaining_cents: i64,
    pub created_at: DateTime<Utc>,
}

/// A driver's money in one currency.
#[derive(ToSchema)]
pub struct CurrencyWallet {
    #[schema(example = "EUR")]
    pub currency: String,
    /// What may be spent now.
    #[schema(minimum = 0, example = 1500)]
    pub balance_cents: i64,
    /// Set aside for bookings (not part of the balance).
    #[schema(minimum = 0, example = 500)]
    pub held_cents: i64,
    /// Owed: a charge beyond hold and balance. The next top-up pays it off first.
    #[schema(minimum = 0, example = 0)]
    pub outstanding_cents: i64,
    /// The balance is below the driver's low-balance threshold.
    pub low_balance: bool,
    pub holds: Vec<WalletHold>,
}

#[derive(ToSchema)]
pub struct Wallet {
    /// One per currency used; empty before the first top-up.
    pub wallets: Vec<CurrencyWallet>,
    #[schema(required)]
    pub low_balance_threshold_cents: Option<i64>,
}

/// A money movement as the driver sees it.
#[derive(ToSchema)]
pub struct WalletTransaction {
    pub id: Uuid,
    /// `topup`, `hold` (balance → held, on confirming a booking), `release`, `capture` (a
    /// bill or fee paid: held, then balance, then owed), `refund` (a cancelled booking's
    /// hold back by the refund policy), `settlement` (a debt paid off), `adjustment` (a
    /// corrected bill), `reversal`, `subscription` (a subscription fee, or a prorated credit
    /// back).
    #[schema(example = "topup")]
    pub kind: String,
    #[schema(example = "EUR")]
    pub currency: String,
    /// The balance's change (negative: money left it).
    #[schema(example = 2000)]
    pub amount_cents: i64,
    /// What is held: its change.
    pub held_cents: i64,
    /// What is owed: its change (positive: more is owed).
    pub outstanding_cents: i64,
    pub description: String,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    #[schema(required)]
    pub session_id: Option<Uuid>,
    #[schema(required)]
    pub hold_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct WalletTransactionPage {
    pub items: Vec<WalletTransaction>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(ToSchema)]
pub struct TopupAnswer {
    /// The ledger transaction: always for `local_test`; null for a card (see `payment`, and
    /// the wallet's history once the money is in).
    #[schema(required)]
    pub transaction: Option<WalletTransaction>,
    /// A card top-up's payment: `succeeded` (in the wallet), `requires_action` (3-D Secure:
    /// `POST /api/payments/{id}/confirm`), or `failed` with the card's reason.
    #[schema(required)]
    pub payment: Option<super::payments::Payment>,
    /// The wallet of the top-up's currency, as it is now (null before its first money).
    #[schema(required)]
    pub wallet: Option<CurrencyWallet>,
}

/// `PUT /api/wallet/settings` and its answer.
#[derive(ToSchema)]
pub struct WalletSettings {
    /// Minor units, 0 to 1000000; `null` (or left out) turns the alert off.
    #[schema(minimum = 0, maximum = 1000000, example = 1000)]
    pub low_balance_threshold_cents: Option<i64>,
}

/// A ledger account. Sign convention: an entry is what flows INTO the account (credit
/// positive, debit negative); each posting sums to zero, so all accounts of a currency do.
#[derive(ToSchema)]
pub struct LedgerAccount {
    pub id: Uuid,
    #[schema(example = "driver_wallet")]
    pub kind: String,
    /// The user whose account it is; `null` for the platform's.
    #[schema(required)]
    pub owner_id: Option<Uuid>,
    #[schema(example = "EUR")]
    pub currency: String,
    /// The sum of its entries.
    pub balance_cents: i64,
    /// Wallets and holds: the cached balance the never-negative CHECK guards.
    #[schema(required)]
    pub cached_balance_cents: Option<i64>,
    pub entry_count: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct LedgerEntry {
    pub posting_id: Uuid,
    #[schema(example = "capture")]
    pub kind: String,
    pub amount_cents: i64,
    pub description: String,
    /// Who asked for it; `null` for the system.
    #[schema(required)]
    pub user_id: Option<Uuid>,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    #[schema(required)]
    pub session_id: Option<Uuid>,
    #[schema(required)]
    pub hold_id: Option<Uuid>,
    /// `<provider>:<id>` of the payment a top-up came from.
    #[schema(required)]
    pub provider_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An account with a page of its entries, newest first.
#[derive(ToSchema)]
pub struct LedgerAccountDetail {
    pub id: Uuid,
    pub kind: String,
    #[schema(required)]
    pub owner_id: Option<Uuid>,
    pub currency: String,
    pub balance_cents: i64,
    #[schema(required)]
    pub cached_balance_cents: Option<i64>,
    pub entry_count: i64,
    pub created_at: DateTime<Utc>,
    pub entries: Vec<LedgerEntry>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(ToSchema)]
pub struct LedgerAccountPage {
    pub items: Vec<LedgerAccount>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

fn paged(route: Route) -> Route {
    route
        .query("limit", "Page size", integer(1, Some(100), Some(20)))
        .query("offset", "Rows to skip", integer(0, None, Some(0)))
        .problem(
            422,
            "A query parameter is unknown or out of range (named in `errors`)",
        )
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/wallet", TAG, "My wallet")
            .access(Access::AnyUser)
            .describe(
                "The caller's balance, what is held for bookings and what is owed, per \
                 currency, with the open holds. Confirming a booking holds its amount when \
                 the balance covers it (otherwise it is confirmed without a hold until card \
                 payments exist); cancelling gives the hold back by the listing's refund \
                 policy; the session's bill is taken from the hold first.",
            )
            .ok::<Wallet>(200, "The wallet"),
        Route::post("/api/wallet/topup", TAG, "Top up")
            .access(Access::AnyUser)
            .describe(
                "Adds money through a payment method. A card (`card` for the default one, or a \
                 saved card's id) is charged through the payment provider as a top-up \
                 payment; the money is in the wallet once the provider has it (at once, after \
                 3-D Secure, or by webhook). `local_test` (the development provider) credits \
                 at once. Send an `Idempotency-Key` header to retry safely: a retry with the \
                 same key and body moves nothing and answers the same transaction or payment \
                 (with `Idempotent-Replayed: true`; the wallet as it is now); the same key \
                 with another body is a 422. Anything owed is paid off first.",
            )
            .body::<TopupBody>()
            .ok::<TopupAnswer>(201, "Topped up (or the replayed first transaction)"),
        paged(
            Route::get("/api/wallet/transactions", TAG, "My wallet's history")
                .access(Access::AnyUser)
                .describe("Every movement of the caller's money, newest first.")
                .query(
                    "kind",
                    "Only these kinds (comma-separated, or the parameter repeated)",
                    one_of(POSTING_KINDS),
                )
                .query(
                    "currency",
                    "Only this currency (ISO 4217)",
                    super::route::string(),
                )
                .query("from", "Only from this instant (inclusive)", date_time())
                .query("to", "Only before this instant", date_time()),
        )
        .ok::<WalletTransactionPage>(200, "A page of transactions"),
        Route::get("/api/wallet/settings", TAG, "My wallet settings")
            .access(Access::AnyUser)
            .ok::<WalletSettings>(200, "The settings"),
        Route::put("/api/wallet/settings", TAG, "Set my wallet settings")
            .access(Access::AnyUser)
            .describe(
                "Below the low-balance threshold the wallet shows `low_balance` (and the \
                 notifications send an alert).",
            )
            .body::<WalletSettings>()
            .ok::<WalletSettings>(200, "The settings now"),
        paged(
            Route::get("/api/admin/ledger/accounts", TAG, "Ledger accounts")
                .access(ADMIN)
                .describe("Every account of the ledger, by kind, owner and currency.")
                .query("kind", "Only this kind", one_of(ACCOUNT_KINDS))
                .query("owner_id", "Only this user's", uuid())
                .query(
                    "currency",
                    "Only this currency (ISO 4217)",
                    super::route::string(),
                ),
        )
        .ok::<LedgerAccountPage>(200, "A page of accounts with their balances"),
        paged(
            Route::get("/api/admin/ledger/accounts/{id}", TAG, "A ledger account")
                .access(ADMIN)
                .uuid_param("id", "Account id")
                .describe("The account, its balance and a page of its entries, newest first."),
        )
        .ok::<LedgerAccountDetail>(200, "The account")
        .not_found("account"),
    ]
}

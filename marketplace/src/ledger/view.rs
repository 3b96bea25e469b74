//! What clients read: wallets, holds, transactions and (for admins) accounts, in minor
//! units (`*_cents`, as bookings name them) with the currency beside them. snake_case.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::Minor;
use super::store::history::{AccountRow, EntryRow, TransactionRow};
use super::store::holds::Hold;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WalletHold)]
pub struct HoldView {
    pub id: Uuid,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    /// The charging session it secures (a session no booking pays for).
    #[schema(required)]
    pub session_id: Option<Uuid>,
    pub amount_cents: Minor,
    /// What is still held (a capture or a partial release lowers it).
    pub remaining_cents: Minor,
    pub created_at: DateTime<Utc>,
}

impl From<Hold> for HoldView {
    fn from(h: Hold) -> Self {
        Self {
            id: h.id,
            booking_id: h.booking_id,
            session_id: h.session_id,
            amount_cents: h.amount_minor,
            remaining_cents: h.remaining_minor,
            created_at: h.created_at,
        }
    }
}

/// A driver's money in one currency.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CurrencyWallet {
    #[schema(example = "EUR")]
    pub currency: String,
    /// What the driver may spend now.
    pub balance_cents: Minor,
    /// Set aside for bookings and charging sessions (not part of the balance).
    pub held_cents: Minor,
    /// What the driver owes (a bill that exceeded hold and balance); the next top-up pays
    /// it off first.
    pub outstanding_cents: Minor,
    /// The balance is below the driver's low-balance threshold.
    pub low_balance: bool,
    pub holds: Vec<HoldView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WalletView {
    /// One per currency the driver has used; empty before the first top-up.
    pub wallets: Vec<CurrencyWallet>,
    pub low_balance_threshold_cents: Option<Minor>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub low_balance_threshold_cents: Option<Minor>,
}

/// A posting as its driver sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WalletTransaction)]
pub struct TransactionView {
    pub id: Uuid,
    /// `topup`, `hold`, `release`, `capture`, `refund`, `settlement`, `adjustment`,
    /// `reversal`.
    #[schema(example = "topup")]
    pub kind: String,
    #[schema(example = "EUR")]
    pub currency: String,
    /// The change to the wallet's balance (negative: money left it).
    pub amount_cents: Minor,
    /// The change to what is held.
    pub held_cents: Minor,
    /// The change to what the driver owes (positive: they came to owe more).
    pub outstanding_cents: Minor,
    pub description: String,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    #[schema(required)]
    pub session_id: Option<Uuid>,
    #[schema(required)]
    pub hold_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<TransactionRow> for TransactionView {
    fn from(r: TransactionRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            currency: r.currency,
            amount_cents: r.wallet_minor,
            held_cents: r.held_minor,
            outstanding_cents: -r.receivable_minor,
            description: r.memo,
            booking_id: r.booking_id,
            session_id: r.session_id,
            hold_id: r.hold_id,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TransactionPage {
    pub items: Vec<TransactionView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// The answer of a top-up: the posting, and the wallet after it.
#[derive(Debug, Clone, Serialize)]
pub struct TopupView {
    pub transaction: TransactionView,
    pub wallet: CurrencyWallet,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    pub posting_id: Uuid,
    pub kind: String,
    /// Into the account (credit) when positive, out of it (debit) when negative.
    pub amount_cents: Minor,
    pub description: String,
    pub user_id: Option<Uuid>,
    pub booking_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub hold_id: Option<Uuid>,
    pub provider_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<EntryRow> for EntryView {
    fn from(e: EntryRow) -> Self {
        Self {
            posting_id: e.posting_id,
            kind: e.kind,
            amount_cents: e.amount_minor,
            description: e.memo,
            user_id: e.user_id,
            booking_id: e.booking_id,
            session_id: e.session_id,
            hold_id: e.hold_id,
            provider_event_id: e.provider_event_id,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub id: Uuid,
    pub kind: String,
    pub owner_id: Option<Uuid>,
    pub currency: String,
    /// The sum of its entries (see the sign convention in the ledger's documentation).
    pub balance_cents: Minor,
    /// Drivers' wallets and holds: the cached balance (equal to `balance_cents` unless the
    /// ledger is broken; `csms ledger reconcile` checks it).
    pub cached_balance_cents: Option<Minor>,
    pub entry_count: i64,
    /// Drivers' accounts: disputes (chargebacks) of the driver's payments in this currency
    /// that are still open at the provider.
    pub open_disputes: i64,
    pub created_at: DateTime<Utc>,
}

impl From<AccountRow> for AccountView {
    fn from(a: AccountRow) -> Self {
        Self {
            id: a.id,
            kind: a.kind,
            owner_id: a.owner_id,
            currency: a.currency,
            balance_cents: a.balance_minor,
            cached_balance_cents: a.cached_balance_minor,
            open_disputes: a.open_disputes,
            entry_count: a.entry_count,
            created_at: a.created_at,
        }
    }
}

/// An account with a page of its entries, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct AccountDetail {
    #[serde(flatten)]
    pub account: AccountView,
    pub entries: Vec<EntryView>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountPage {
    pub items: Vec<AccountView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

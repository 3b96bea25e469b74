//! Accounts, postings and balanced entries. Pure.
//!
//! Sign convention (the same as the database's): an entry's amount is what flows INTO its
//! account — a credit is positive, a debit negative — and a posting's entries sum to zero.
//! Balances are sums of entries, so the accounts the platform owes or earns (wallets, holds,
//! host payables, commission, insurance reserve, tax payable) are positive, and the accounts
//! money comes from (provider clearing, refunds expense, a driver's receivable) negative. The
//! sum of all accounts of a currency is zero.

use std::collections::BTreeMap;

use uuid::Uuid;

pub use crate::money::Minor;

text_enum!(
    /// What an account is for; one account per (kind, owner, currency).
    #[schema(as = LedgerAccountKind)]
    AccountKind {
        /// What a driver may spend (positive).
        DriverWallet = "driver_wallet",
        /// A driver's money set aside for bookings (positive); see `ledger_holds`.
        DriverHold = "driver_hold",
        /// What a driver owes when a bill exceeded hold and wallet (negative while owed).
        DriverReceivable = "driver_receivable",
        /// What the platform owes a host (positive): transfers pay it out.
        HostPayable = "host_payable",
        /// A host's share of what a driver still owes (positive): it becomes payable as
        /// the driver pays (see `ledger_pending_shares`).
        HostPending = "host_pending",
        /// The platform's 20 % commission (revenue, positive).
        PlatformCommission = "platform_commission",
        /// The per-transaction insurance fee, reserved for damage claims (positive).
        InsuranceReserve = "insurance_reserve",
        /// Tax collected, to be remitted (positive).
        TaxPayable = "tax_payable",
        /// Money payment providers collected for us (negative: the mirror of what came in).
        ProviderClearing = "provider_clearing",
        /// What the platform paid back at its own cost (goodwill refunds; negative).
        PlatformRefunds = "platform_refunds",
        /// Subscription fees: plans and hosts' products (revenue, positive).
        PlatformSubscriptions = "platform_subscriptions",
        /// What payment providers charged the platform for their work, such as a dispute's
        /// fee (an expense, negative).
        ProviderFees = "provider_fees",
    }
);

impl AccountKind {
    /// A user's account (the `owner_id` is set) rather than one of the platform's.
    pub fn has_owner(self) -> bool {
        matches!(
            self,
            Self::DriverWallet
                | Self::DriverHold
                | Self::DriverReceivable
                | Self::HostPayable
                | Self::HostPending
        )
    }

    /// Balances cached in `wallet_balances`, with a CHECK that they never go negative.
    pub fn never_negative(self) -> bool {
        matches!(self, Self::DriverWallet | Self::DriverHold)
    }
}

/// An account by what it is, before it has an id: a kind and, for users' accounts, the
/// owner. The currency is the posting's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountRef {
    pub kind: AccountKind,
    pub owner: Option<Uuid>,
}

impl AccountRef {
    pub fn wallet(driver: Uuid) -> Self {
        Self::owned(AccountKind::DriverWallet, driver)
    }
    pub fn hold(driver: Uuid) -> Self {
        Self::owned(AccountKind::DriverHold, driver)
    }
    pub fn receivable(driver: Uuid) -> Self {
        Self::owned(AccountKind::DriverReceivable, driver)
    }
    pub fn host(host: Uuid) -> Self {
        Self::owned(AccountKind::HostPayable, host)
    }
    pub fn host_pending(host: Uuid) -> Self {
        Self::owned(AccountKind::HostPending, host)
    }
    /// One of the platform's own accounts (no owner).
    pub fn platform(kind: AccountKind) -> Self {
        debug_assert!(!kind.has_owner());
        Self { kind, owner: None }
    }
    fn owned(kind: AccountKind, owner: Uuid) -> Self {
        Self {
            kind,
            owner: Some(owner),
        }
    }
}

text_enum!(
    /// What a posting does; the ledger's history is filtered by it.
    #[schema(as = LedgerPostingKind)]
    PostingKind {
        /// Money in from a payment provider: provider clearing → wallet.
        Topup = "topup",
        /// Wallet → hold, for a booking.
        Hold = "hold",
        /// Hold → wallet: what a hold no longer needs.
        Release = "release",
        /// A bill or fee paid (hold, then wallet, then on account) and split between host,
        /// platform, insurance reserve and tax; the rest of the hold goes back to the wallet.
        Capture = "capture",
        /// A booking's cancellation refund (hold → wallet, the kept fee split), or money back
        /// after a capture.
        Refund = "refund",
        /// Wallet → receivable: paying off what the driver owed.
        Settlement = "settlement",
        /// The difference a corrected bill makes.
        Adjustment = "adjustment",
        /// The exact negation of an earlier posting.
        Reversal = "reversal",
        /// A subscription fee from the wallet, or a prorated credit back to it.
        Subscription = "subscription",
        /// Host pending → host payable: the driver paid what the host's share waited for.
        ShareRelease = "share_release",
    }
);

/// Who and what caused a posting, kept in its columns for the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cause {
    /// The user who asked for it (driver, host, admin); `None` for the system.
    pub user_id: Option<Uuid>,
    pub booking_id: Option<Uuid>,
    pub booking_refund_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub session_bill_id: Option<Uuid>,
    /// A payment provider's event or payment, as `<provider>:<id>`.
    pub provider_event_id: Option<String>,
}

/// One side of a movement before merging: `amount` flows into `account`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    pub account: AccountRef,
    pub amount: Minor,
}

impl Leg {
    pub fn new(account: AccountRef, amount: Minor) -> Self {
        Self { account, amount }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("the entries sum to {0}, not zero")]
    Unbalanced(i128),
    #[error("a posting moves money between at least two accounts")]
    TooFewEntries,
    #[error("an amount does not fit in 64 bits")]
    Overflow,
    #[error("amounts must be positive")]
    NotPositive,
    #[error("insufficient funds: {available} available, {needed} needed")]
    InsufficientFunds { available: Minor, needed: Minor },
    #[error("the tax {tax} is not part of the amount {amount}")]
    TaxOutOfRange { tax: Minor, amount: Minor },
}

/// A posting's entries: one per account (legs on the same account merged), none zero, at
/// least two, summing to zero, in account order. Only [`Entries::balance`] makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entries(Vec<Leg>);

impl Entries {
    pub fn balance(legs: impl IntoIterator<Item = Leg>) -> Result<Self, LedgerError> {
        let mut merged: BTreeMap<AccountRef, i128> = BTreeMap::new();
        for leg in legs {
            *merged.entry(leg.account).or_default() += i128::from(leg.amount);
        }
        let sum: i128 = merged.values().sum();
        if sum != 0 {
            return Err(LedgerError::Unbalanced(sum));
        }
        let legs = merged
            .into_iter()
            .filter(|(_, amount)| *amount != 0)
            .map(|(account, amount)| {
                Minor::try_from(amount)
                    .map(|amount| Leg { account, amount })
                    .map_err(|_| LedgerError::Overflow)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if legs.len() < 2 {
            return Err(LedgerError::TooFewEntries);
        }
        Ok(Self(legs))
    }

    pub fn legs(&self) -> &[Leg] {
        &self.0
    }

    /// What this posting does to one account (0 when it does not touch it).
    pub fn on(&self, account: AccountRef) -> Minor {
        self.0
            .iter()
            .find(|l| l.account == account)
            .map_or(0, |l| l.amount)
    }

    /// The reversing posting's entries: every amount negated.
    pub fn reversed(&self) -> Self {
        Self(
            self.0
                .iter()
                .map(|l| Leg::new(l.account, -l.amount))
                .collect(),
        )
    }
}

/// The platform's commission on charging and fees, in percent.
pub const COMMISSION_PERCENT: Minor = 20;

/// The 20/80 split of `amount`: the commission is rounded toward zero (the platform never
/// rounds in its favour), the host gets the rest, rounding remainder included — the rule of
/// `tariffs::bill`, in integers.
pub fn split_commission(amount: Minor) -> (Minor, Minor) {
    let commission = amount / 100 * COMMISSION_PERCENT + amount % 100 * COMMISSION_PERCENT / 100;
    (commission, amount - commission)
}

/// What a bill or fee is made of, once paid: each part goes to its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Charge {
    pub host: Uuid,
    pub host_share: Minor,
    pub commission: Minor,
    pub insurance: Minor,
    pub tax: Minor,
}

impl Charge {
    /// A booking fee (a kept cancellation share, a no-show, a reservation not charged on):
    /// the 20/80 split, no insurance fee (no transaction took place) and no tax line.
    pub fn fee(host: Uuid, amount: Minor) -> Self {
        let (commission, host_share) = split_commission(amount);
        Self {
            host,
            host_share,
            commission,
            insurance: 0,
            tax: 0,
        }
    }

    pub fn total(&self) -> Minor {
        self.host_share + self.commission + self.insurance + self.tax
    }

    /// The parts flowing into their accounts (zero parts are dropped when balanced).
    pub fn credits(&self) -> [Leg; 4] {
        [
            Leg::new(AccountRef::host(self.host), self.host_share),
            Leg::new(
                AccountRef::platform(AccountKind::PlatformCommission),
                self.commission,
            ),
            Leg::new(
                AccountRef::platform(AccountKind::InsuranceReserve),
                self.insurance,
            ),
            Leg::new(AccountRef::platform(AccountKind::TaxPayable), self.tax),
        ]
    }

    /// `self - earlier`, part by part (a corrected bill against the one posted).
    pub fn minus(&self, earlier: &Charge) -> Charge {
        Charge {
            host: self.host,
            host_share: self.host_share - earlier.host_share,
            commission: self.commission - earlier.commission,
            insurance: self.insurance - earlier.insurance,
            tax: self.tax - earlier.tax,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_merges_and_drops_zeros() {
        let d = Uuid::now_v7();
        let e = Entries::balance([
            Leg::new(AccountRef::wallet(d), 100),
            Leg::new(AccountRef::wallet(d), -30),
            Leg::new(AccountRef::hold(d), 0),
            Leg::new(AccountRef::platform(AccountKind::ProviderClearing), -70),
        ])
        .unwrap();
        assert_eq!(e.legs().len(), 2);
        assert_eq!(e.on(AccountRef::wallet(d)), 70);
        assert_eq!(e.reversed().on(AccountRef::wallet(d)), -70);
    }

    #[test]
    fn unbalanced_or_empty_is_refused() {
        let d = Uuid::now_v7();
        assert_eq!(
            Entries::balance([Leg::new(AccountRef::wallet(d), 1)]),
            Err(LedgerError::Unbalanced(1))
        );
        assert_eq!(
            Entries::balance([
                Leg::new(AccountRef::wallet(d), 5),
                Leg::new(AccountRef::wallet(d), -5)
            ]),
            Err(LedgerError::TooFewEntries)
        );
        assert_eq!(
            Entries::balance([
                Leg::new(AccountRef::wallet(d), Minor::MAX),
                Leg::new(AccountRef::wallet(d), Minor::MAX),
                Leg::new(AccountRef::hold(d), Minor::MIN),
                Leg::new(AccountRef::hold(d), Minor::MIN + 2),
            ]),
            Err(LedgerError::Overflow)
        );
    }

    #[test]
    fn split_rounds_the_commission_down() {
        assert_eq!(split_commission(1000), (200, 800));
        assert_eq!(split_commission(999), (199, 800));
        assert_eq!(split_commission(4), (0, 4));
        assert_eq!(split_commission(0), (0, 0));
        assert_eq!(split_commission(Minor::MAX).0, Minor::MAX / 5);
    }

    #[test]
    fn names_round_trip() {
        for &k in AccountKind::ALL {
            assert_eq!(k.as_str().parse::<AccountKind>(), Ok(k));
        }
        for &k in PostingKind::ALL {
            assert_eq!(k.as_str().parse::<PostingKind>(), Ok(k));
        }
    }
}

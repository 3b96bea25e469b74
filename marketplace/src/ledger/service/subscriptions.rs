//! Subscription money: a fee taken from the subscriber's wallet into the platform's
//! subscription revenue (insurance coverage into the insurance reserve), the VAT it holds
//! into tax payable, or a prorated credit flowing back the same ways. In the caller's transaction, which has locked the subscription row:
//! the subscriptions module decides, this only moves the money.
//!
//! Unlike a session bill, a fee is never put on account: a wallet that cannot cover it is
//! refused (409 `insufficient_funds`), which is what starts dunning on a renewal.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{planned, write};
use crate::error::Error;
use crate::ledger::model::{
    AccountKind, AccountRef, Cause, Entries, LedgerError, Leg, Minor, PostingKind,
};
use crate::ledger::store::{self, NewPosting, Posted};

/// Which way a subscription posting moves money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Wallet → revenue.
    Fee,
    /// Revenue → wallet (a downgrade's unused time).
    Credit,
}

/// The entries of a subscription posting: `amount` in all, `tax` of it VAT. Pure. A fee the
/// wallet does not cover is refused.
pub fn plan_subscription(
    subscriber: Uuid,
    revenue: AccountKind,
    direction: Direction,
    wallet: Minor,
    amount: Minor,
    tax: Minor,
) -> Result<Entries, LedgerError> {
    if amount <= 0 {
        return Err(LedgerError::NotPositive);
    }
    if !(0..=amount).contains(&tax) {
        return Err(LedgerError::TaxOutOfRange { tax, amount });
    }
    let into_wallet = match direction {
        Direction::Fee => {
            if wallet < amount {
                return Err(LedgerError::InsufficientFunds {
                    available: wallet,
                    needed: amount,
                });
            }
            -amount
        }
        Direction::Credit => amount,
    };
    let tax = into_wallet.signum() * tax;
    Entries::balance([
        Leg::new(AccountRef::wallet(subscriber), into_wallet),
        Leg::new(AccountRef::platform(revenue), -into_wallet + tax),
        Leg::new(AccountRef::platform(AccountKind::TaxPayable), -tax),
    ])
}

/// One subscription posting to write.
#[derive(Debug, Clone)]
pub struct SubscriptionPosting<'a> {
    pub subscriber: Uuid,
    /// `platform_subscriptions`, or `insurance_reserve` for insurance coverage.
    pub revenue: AccountKind,
    pub direction: Direction,
    pub amount: Minor,
    /// The VAT `amount` holds.
    pub tax: Minor,
    pub currency: &'a str,
    /// Derived from the charge it pays (one posting per charge, however often retried).
    pub key: String,
    pub memo: String,
    /// Who asked (the subscriber); `None` for the renewal job.
    pub actor: Option<Uuid>,
}

/// Posts a subscription fee or credit; answers the posting's id (the existing one for a
/// retried key).
pub async fn post_subscription(
    conn: &mut PgConnection,
    p: &SubscriptionPosting<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let lock = store::lock_driver(conn, p.subscriber, p.currency).await?;
    let entries = plan_subscription(
        p.subscriber,
        p.revenue,
        p.direction,
        lock.wallet,
        p.amount,
        p.tax,
    )
    .map_err(planned)?;
    let posting = NewPosting::new(PostingKind::Subscription, p.currency, p.key.clone(), now)
        .memo(p.memo.clone())
        .cause(Cause {
            user_id: p.actor,
            ..Cause::default()
        });
    Ok(match write(conn, &posting, &entries).await? {
        Posted::New(id) | Posted::Existing(id) => id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_leaves_the_wallet_and_a_credit_comes_back() {
        let u = Uuid::now_v7();
        let revenue = AccountRef::platform(AccountKind::PlatformSubscriptions);
        let fee = plan_subscription(
            u,
            AccountKind::PlatformSubscriptions,
            Direction::Fee,
            1000,
            999,
            173,
        )
        .unwrap();
        let tax = AccountRef::platform(AccountKind::TaxPayable);
        assert_eq!(fee.on(AccountRef::wallet(u)), -999);
        assert_eq!(fee.on(revenue), 826);
        assert_eq!(fee.on(tax), 173);
        let credit = plan_subscription(
            u,
            AccountKind::PlatformSubscriptions,
            Direction::Credit,
            0,
            250,
            43,
        )
        .unwrap();
        assert_eq!(credit.on(AccountRef::wallet(u)), 250);
        assert_eq!(credit.on(revenue), -207);
        assert_eq!(credit.on(tax), -43);
        // untaxed: no tax entry at all
        let plain = plan_subscription(
            u,
            AccountKind::InsuranceReserve,
            Direction::Fee,
            499,
            499,
            0,
        )
        .unwrap();
        assert_eq!(plain.legs().len(), 2);
    }

    #[test]
    fn a_fee_the_wallet_cannot_cover_is_refused() {
        let u = Uuid::now_v7();
        assert_eq!(
            plan_subscription(
                u,
                AccountKind::InsuranceReserve,
                Direction::Fee,
                498,
                499,
                0
            ),
            Err(LedgerError::InsufficientFunds {
                available: 498,
                needed: 499
            })
        );
        assert_eq!(
            plan_subscription(u, AccountKind::InsuranceReserve, Direction::Fee, 498, 0, 0),
            Err(LedgerError::NotPositive)
        );
        assert_eq!(
            plan_subscription(
                u,
                AccountKind::PlatformSubscriptions,
                Direction::Fee,
                999,
                99,
                100
            ),
            Err(LedgerError::TaxOutOfRange {
                tax: 100,
                amount: 99
            })
        );
    }
}

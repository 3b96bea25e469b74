//! Card authorizations settled automatically: what becomes of a manual-capture card payment
//! once what it guarantees is decided. Pure; the facts come from the service
//! (`service::authorizations`), which reads them from the bookings', sessions' and ledger's
//! tables.
//!
//! - Its session's bill is posted: capture what the bill left the driver owing (the bill is
//!   taken from the booking's hold and the wallet first, as a wallet payment would be), at
//!   most what is authorized and what the driver still owes; the rest is released.
//! - Its booking ended without charging: capture the fee the refund policy keeps (a late
//!   cancellation's share, a no-show's or an unused booking's price) less what the ledger
//!   already kept from a hold; nothing kept releases the authorization.
//! - Nothing claimed it before the provider lets it lapse (Stripe: 7 days): release it
//!   ourselves, so the driver's card is freed and our records say why.

use chrono::{DateTime, Duration, Utc};

use crate::ledger::model::Minor;

text_enum! {
    /// What the platform does with an authorization.
    Action { Capture = "capture", Cancel = "cancel" }
}

text_enum! {
    /// Why: `bill` and `fee` capture, `released` and `stale` cancel.
    Reason { Bill = "bill", Fee = "fee", Released = "released", Stale = "stale" }
}

/// What claims an authorization, as of now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nothing is decided yet (the booking is live, the bill not posted).
    Open,
    /// The bills are posted: `on_account` is what they left the driver owing, `debt` what the
    /// driver owes now in that currency (a top-up since may have paid part of it).
    Billed { on_account: Minor, debt: Minor },
    /// The booking ended without charging: the fee kept that the ledger has not taken yet.
    Ended { fee: Minor },
}

/// The platform's decision on one authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// What is captured; 0 for a cancel.
    pub amount: Minor,
    pub reason: Reason,
}

impl Decision {
    fn capture(amount: Minor, reason: Reason) -> Self {
        Self {
            action: Action::Capture,
            amount,
            reason,
        }
    }

    fn cancel(reason: Reason) -> Self {
        Self {
            action: Action::Cancel,
            amount: 0,
            reason,
        }
    }
}

/// Decides on an authorization of `capturable` made at `authorized_at`, which the provider
/// keeps for `validity`. `None`: leave it for now.
pub fn decide(
    claim: &Claim,
    capturable: Minor,
    authorized_at: DateTime<Utc>,
    validity: Duration,
    now: DateTime<Utc>,
) -> Option<Decision> {
    let claimed = |amount: Minor, reason| {
        let amount = amount.min(capturable);
        Some(if amount > 0 {
            Decision::capture(amount, reason)
        } else {
            Decision::cancel(Reason::Released)
        })
    };
    match *claim {
        Claim::Billed { on_account, debt } => claimed(on_account.min(debt), Reason::Bill),
        Claim::Ended { fee } => claimed(fee, Reason::Fee),
        Claim::Open if now - authorized_at >= validity => Some(Decision::cancel(Reason::Stale)),
        Claim::Open => None,
    }
}

/// The fee a booking that ended without charging keeps: what it cost (`due`: nothing when it
/// was never confirmed) less what the policy refunds and what the ledger already took from
/// a hold for it.
pub fn kept_fee(due: Minor, refunded: Minor, kept_by_ledger: Minor) -> Minor {
    (due - refunded.max(0) - kept_by_ledger.max(0)).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 4, 8, 0, 0).unwrap()
    }

    fn decide_now(claim: Claim, capturable: Minor) -> Option<Decision> {
        decide(&claim, capturable, t0(), Duration::days(7), t0())
    }

    #[test]
    fn a_bill_takes_what_it_left_owing_at_most_the_authorization() {
        let d = decide_now(
            Claim::Billed {
                on_account: 300,
                debt: 300,
            },
            500,
        );
        assert_eq!(d, Some(Decision::capture(300, Reason::Bill)));
        let over = Claim::Billed {
            on_account: 1050,
            debt: 1050,
        };
        assert_eq!(
            decide_now(over, 500),
            Some(Decision::capture(500, Reason::Bill))
        );
    }

    #[test]
    fn a_bill_paid_meanwhile_or_covered_releases() {
        let paid = Claim::Billed {
            on_account: 300,
            debt: 0,
        };
        assert_eq!(
            decide_now(paid, 500),
            Some(Decision::cancel(Reason::Released))
        );
        let covered = Claim::Billed {
            on_account: 0,
            debt: 700,
        };
        assert_eq!(
            decide_now(covered, 500),
            Some(Decision::cancel(Reason::Released))
        );
    }

    #[test]
    fn an_ended_booking_captures_the_kept_fee_or_releases() {
        assert_eq!(
            decide_now(Claim::Ended { fee: 250 }, 500),
            Some(Decision::capture(250, Reason::Fee))
        );
        assert_eq!(
            decide_now(Claim::Ended { fee: 0 }, 500),
            Some(Decision::cancel(Reason::Released))
        );
    }

    #[test]
    fn an_open_authorization_waits_until_it_would_lapse() {
        let week = Duration::days(7);
        let at = |d: Duration| decide(&Claim::Open, 500, t0(), week, t0() + d);
        assert_eq!(at(Duration::days(6)), None);
        assert_eq!(at(week - Duration::seconds(1)), None);
        assert_eq!(at(week), Some(Decision::cancel(Reason::Stale)));
        // a claim wins over staleness: the money owed is taken while it still can be
        let late = decide(&Claim::Ended { fee: 100 }, 500, t0(), week, t0() + week);
        assert_eq!(late, Some(Decision::capture(100, Reason::Fee)));
    }

    #[test]
    fn the_fee_is_what_the_policy_keeps_less_what_a_hold_gave() {
        assert_eq!(kept_fee(500, 500, 0), 0);
        assert_eq!(kept_fee(500, 250, 0), 250);
        assert_eq!(kept_fee(500, 250, 250), 0);
        assert_eq!(kept_fee(500, 0, 100), 400);
        assert_eq!(kept_fee(0, 0, 0), 0, "never confirmed: nothing owed");
    }

    proptest! {
        /// Never more than authorized, never a capture of nothing, and a capture only for
        /// money really claimed.
        #[test]
        fn captures_stay_within_the_authorization_and_the_claim(
            capturable in 1i64..100_000,
            on_account in -1_000i64..200_000,
            debt in 0i64..200_000,
            fee in -1_000i64..200_000,
            billed in any::<bool>(),
        ) {
            let claim = if billed {
                Claim::Billed { on_account, debt }
            } else {
                Claim::Ended { fee }
            };
            let d = decide_now(claim, capturable).unwrap();
            let claimed = if billed { on_account.min(debt) } else { fee };
            match d.action {
                Action::Capture => {
                    prop_assert!(d.amount >= 1 && d.amount <= capturable);
                    prop_assert!(d.amount <= claimed);
                    prop_assert!(d.amount == claimed.min(capturable));
                }
                Action::Cancel => {
                    prop_assert_eq!(d.amount, 0);
                    prop_assert!(claimed <= 0);
                }
            }
        }
    }
}

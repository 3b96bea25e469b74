//! The rules of each money movement, as entries planned from the balances the service read
//! (under the driver's wallet lock). Pure: the property tests run them against an in-memory
//! book, the service against the database.
//!
//! A driver's money, in the order it is used: the hold of the booking being paid, then the
//! wallet; what neither covers is owed (the receivable), for bills only — a hold or a payment
//! the wallet cannot cover is refused. Money back to a driver first pays off what they owe.

use uuid::Uuid;

use super::model::{AccountKind, AccountRef, Charge, Entries, LedgerError, Leg, Minor};

/// What the service read for one driver and currency before planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Funds {
    /// The wallet's balance (never negative).
    pub wallet: Minor,
    /// What is left of the hold being captured or released (0 without one).
    pub hold: Minor,
    /// What the driver owes (never negative; the receivable's balance negated).
    pub debt: Minor,
}

fn positive(amount: Minor) -> Result<Minor, LedgerError> {
    if amount > 0 {
        Ok(amount)
    } else {
        Err(LedgerError::NotPositive)
    }
}

/// Money in from a payment provider, into the wallet.
pub fn topup(driver: Uuid, amount: Minor) -> Result<Entries, LedgerError> {
    let amount = positive(amount)?;
    Entries::balance([
        Leg::new(AccountRef::platform(AccountKind::ProviderClearing), -amount),
        Leg::new(AccountRef::wallet(driver), amount),
    ])
}

/// Sets `amount` of the wallet aside; refused when the wallet does not cover it.
pub fn hold(driver: Uuid, funds: Funds, amount: Minor) -> Result<Entries, LedgerError> {
    let amount = positive(amount)?;
    if funds.wallet < amount {
        return Err(LedgerError::InsufficientFunds {
            available: funds.wallet,
            needed: amount,
        });
    }
    Entries::balance([
        Leg::new(AccountRef::wallet(driver), -amount),
        Leg::new(AccountRef::hold(driver), amount),
    ])
}

/// Gives `amount` of a hold back to the wallet (never more than is left of it).
pub fn release(driver: Uuid, funds: Funds, amount: Minor) -> Result<Entries, LedgerError> {
    let amount = positive(amount)?;
    if funds.hold < amount {
        return Err(LedgerError::InsufficientFunds {
            available: funds.hold,
            needed: amount,
        });
    }
    Entries::balance([
        Leg::new(AccountRef::hold(driver), -amount),
        Leg::new(AccountRef::wallet(driver), amount),
    ])
}

/// Money to a driver: it pays off what they owe first, the rest goes to the wallet.
fn credit_driver(driver: Uuid, debt: Minor, amount: Minor) -> [Leg; 2] {
    let paid_off = amount.min(debt).max(0);
    [
        Leg::new(AccountRef::receivable(driver), paid_off),
        Leg::new(AccountRef::wallet(driver), amount - paid_off),
    ]
}

/// Money from a driver for something consumed: the wallet first, the rest on account.
fn debit_driver(driver: Uuid, wallet: Minor, amount: Minor) -> [Leg; 2] {
    let from_wallet = amount.min(wallet).max(0);
    [
        Leg::new(AccountRef::wallet(driver), -from_wallet),
        Leg::new(AccountRef::receivable(driver), -(amount - from_wallet)),
    ]
}

/// How a capture was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub entries: Entries,
    pub from_hold: Minor,
    pub from_wallet: Minor,
    /// What neither covered: now owed by the driver.
    pub on_account: Minor,
    /// The rest of the hold, back in the wallet.
    pub released: Minor,
    /// The host's share of `on_account`: in host pending, not payable, until the driver pays.
    pub withheld: Minor,
}

/// The host's part of `owed` out of a charge of `total` of which `share` is the host's,
/// rounded up so that a host is never credited a cent nobody collected.
pub fn withheld(share: Minor, total: Minor, owed: Minor) -> Minor {
    if share <= 0 || owed <= 0 || total <= 0 {
        return 0;
    }
    if owed >= total {
        return share;
    }
    let (share, total, owed) = (i128::from(share), i128::from(total), i128::from(owed));
    let part = (share * owed + total - 1) / total;
    Minor::try_from(part.min(share)).unwrap_or(Minor::MAX)
}

/// A charge's parts into their accounts, the host's `withheld` of it into host pending.
fn credits_withholding(charge: &Charge, withheld: Minor) -> [Leg; 5] {
    let [host, commission, insurance, tax] = charge.credits();
    [
        Leg::new(host.account, host.amount - withheld),
        Leg::new(AccountRef::host_pending(charge.host), withheld),
        commission,
        insurance,
        tax,
    ]
}

/// Pays `charge` from the hold (all of what is left of it is used up: what the charge does
/// not need goes back to the wallet), then the wallet, then on account; split atomically,
/// the host's share of what went on account withheld. `None` when nothing moves (an empty
/// charge and no hold).
pub fn capture(
    driver: Uuid,
    funds: Funds,
    charge: &Charge,
) -> Result<Option<Capture>, LedgerError> {
    let total = charge.total();
    if total < 0 {
        return Err(LedgerError::NotPositive);
    }
    let from_hold = total.min(funds.hold);
    let rest = total - from_hold;
    let from_wallet = rest.min(funds.wallet);
    let on_account = rest - from_wallet;
    let released = funds.hold - from_hold;
    let withheld = withheld(charge.host_share, total, on_account);
    let mut legs = vec![
        Leg::new(AccountRef::hold(driver), -funds.hold),
        Leg::new(AccountRef::wallet(driver), released - from_wallet),
        Leg::new(AccountRef::receivable(driver), -on_account),
    ];
    legs.extend(credits_withholding(charge, withheld));
    let entries = match Entries::balance(legs) {
        Ok(e) => e,
        Err(LedgerError::TooFewEntries) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Capture {
        entries,
        from_hold,
        from_wallet,
        on_account,
        released,
        withheld,
    }))
}

/// A cancelled booking's hold, settled by the refund decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRefund {
    pub entries: Entries,
    /// Back to the driver (the wallet, after any debt).
    pub refunded: Minor,
    /// Kept as a cancellation fee, split 20/80.
    pub kept: Minor,
}

/// The driver owed `due` for the booking and gets `refund` of it back; `funds.hold` is what
/// is held for it. The fee kept is `due - refund`, never more than the hold (nothing else is
/// taken); everything else held goes back. `None` when the hold is empty.
pub fn refund_hold(
    driver: Uuid,
    host: Uuid,
    funds: Funds,
    due: Minor,
    refund: Minor,
) -> Result<Option<HoldRefund>, LedgerError> {
    if funds.hold <= 0 {
        return Ok(None);
    }
    let kept = (due - refund.max(0)).clamp(0, funds.hold);
    let refunded = funds.hold - kept;
    let mut legs = vec![Leg::new(AccountRef::hold(driver), -funds.hold)];
    legs.extend(credit_driver(driver, funds.debt, refunded));
    legs.extend(Charge::fee(host, kept).credits());
    Ok(Some(HoldRefund {
        entries: Entries::balance(legs)?,
        refunded,
        kept,
    }))
}

/// A corrected bill's posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjusted {
    pub entries: Entries,
    /// A rise the wallet did not cover: now owed.
    pub on_account: Minor,
    /// The host's share of `on_account`, withheld (a rise).
    pub withheld: Minor,
    /// A fall: what it took back from the host's withheld share of this bill rather than
    /// from the payable, and what it cancelled of the driver's debt.
    pub unwithheld: Minor,
    pub debt_cancelled: Minor,
}

/// A corrected bill: each part moves by `delta` (new minus posted); the driver pays a rise
/// (wallet, then on account, the host's share of that withheld) or gets a fall back (debt
/// first, then wallet). A fall takes the host's part from what is still withheld of this
/// bill (`withheld`) before the payable. `None` when nothing changes.
pub fn adjust(
    driver: Uuid,
    funds: Funds,
    delta: &Charge,
    withheld_now: Minor,
) -> Result<Option<Adjusted>, LedgerError> {
    let total = delta.total();
    let (mut on_account, mut held, mut unheld, mut cancelled) = (0, 0, 0, 0);
    let mut legs: Vec<Leg>;
    if total >= 0 {
        let [wallet, receivable] = debit_driver(driver, funds.wallet, total);
        on_account = -receivable.amount;
        held = withheld(delta.host_share, total, on_account);
        legs = credits_withholding(delta, held).to_vec();
        legs.extend([wallet, receivable]);
    } else {
        unheld = (-delta.host_share).clamp(0, withheld_now.max(0));
        legs = credits_withholding(delta, -unheld).to_vec();
        let back = credit_driver(driver, funds.debt, -total);
        cancelled = back[0].amount;
        legs.extend(back);
    }
    match Entries::balance(legs) {
        Ok(entries) => Ok(Some(Adjusted {
            entries,
            on_account,
            withheld: held,
            unwithheld: unheld,
            debt_cancelled: cancelled,
        })),
        Err(LedgerError::TooFewEntries) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Host pending → payable: `amount` of a host's withheld share the driver has now paid.
pub fn release_share(host: Uuid, amount: Minor) -> Result<Entries, LedgerError> {
    let amount = positive(amount)?;
    Entries::balance([
        Leg::new(AccountRef::host_pending(host), -amount),
        Leg::new(AccountRef::host(host), amount),
    ])
}

/// Pays off what the driver owes from the wallet, as far as it goes; `None` when nothing
/// is owed or the wallet is empty.
pub fn settle_debt(driver: Uuid, funds: Funds) -> Option<Entries> {
    let amount = funds.debt.min(funds.wallet);
    if amount <= 0 {
        return None;
    }
    Entries::balance([
        Leg::new(AccountRef::wallet(driver), -amount),
        Leg::new(AccountRef::receivable(driver), amount),
    ])
    .ok()
}

/// Money the provider gave back to the driver's card or took back for the card's issuer
/// without us asking (a refund made in the provider's dashboard, a chargeback): it already
/// left, so it is not refused. It comes out of the wallet as far as the wallet goes; what the
/// driver already spent becomes owed (the receivable), so the wallet never pays twice for
/// one top-up. Provider clearing gives up `amount`, plus the provider's `fee` for the
/// trouble, which the platform bears (`provider_fees`).
pub fn taken_back(
    driver: Uuid,
    funds: Funds,
    amount: Minor,
    fee: Minor,
) -> Result<Entries, LedgerError> {
    let amount = positive(amount)?;
    if fee < 0 {
        return Err(LedgerError::NotPositive);
    }
    let mut legs = debit_driver(driver, funds.wallet, amount).to_vec();
    legs.push(Leg::new(
        AccountRef::platform(AccountKind::ProviderClearing),
        amount + fee,
    ));
    legs.push(Leg::new(
        AccountRef::platform(AccountKind::ProviderFees),
        -fee,
    ));
    Entries::balance(legs)
}

/// Money the provider gave back after [`taken_back`] (a dispute the platform won): it pays
/// off what the driver owes first, the rest reaches the wallet; a fee the provider returned
/// leaves the fees expense.
pub fn given_back(
    driver: Uuid,
    funds: Funds,
    amount: Minor,
    fee_returned: Minor,
) -> Result<Entries, LedgerError> {
    let amount = positive(amount)?;
    if fee_returned < 0 {
        return Err(LedgerError::NotPositive);
    }
    let mut legs = credit_driver(driver, funds.debt, amount).to_vec();
    legs.push(Leg::new(
        AccountRef::platform(AccountKind::ProviderClearing),
        -(amount + fee_returned),
    ));
    legs.push(Leg::new(
        AccountRef::platform(AccountKind::ProviderFees),
        fee_returned,
    ));
    Entries::balance(legs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (Uuid, Uuid) {
        (Uuid::now_v7(), Uuid::now_v7())
    }

    #[test]
    fn a_capture_within_the_hold_releases_the_rest() {
        let (d, h) = ids();
        let funds = Funds {
            wallet: 0,
            hold: 1000,
            debt: 0,
        };
        let c = capture(d, funds, &Charge::fee(h, 999)).unwrap().unwrap();
        assert_eq!((c.from_hold, c.from_wallet, c.on_account), (999, 0, 0));
        assert_eq!(c.released, 1);
        assert_eq!(c.entries.on(AccountRef::host(h)), 800);
        let commission = AccountRef::platform(AccountKind::PlatformCommission);
        assert_eq!(c.entries.on(commission), 199);
        assert_eq!(c.entries.on(AccountRef::wallet(d)), 1);
    }

    #[test]
    fn a_capture_beyond_the_hold_takes_the_wallet_then_goes_on_account() {
        let (d, h) = ids();
        let funds = Funds {
            wallet: 300,
            hold: 500,
            debt: 0,
        };
        let charge = Charge {
            host: h,
            host_share: 800,
            commission: 200,
            insurance: 50,
            tax: 0,
        };
        let c = capture(d, funds, &charge).unwrap().unwrap();
        assert_eq!((c.from_hold, c.from_wallet, c.on_account), (500, 300, 250));
        assert_eq!(c.entries.on(AccountRef::receivable(d)), -250);
        assert_eq!(c.entries.on(AccountRef::wallet(d)), -300);
        assert_eq!(capture(d, Funds::default(), &Charge::fee(h, 0)), Ok(None));
    }

    #[test]
    fn a_hold_needs_the_money() {
        let (d, _) = ids();
        let funds = Funds {
            wallet: 99,
            ..Funds::default()
        };
        assert_eq!(
            hold(d, funds, 100),
            Err(LedgerError::InsufficientFunds {
                available: 99,
                needed: 100
            })
        );
        assert!(hold(d, funds, 99).is_ok());
        assert_eq!(hold(d, funds, 0), Err(LedgerError::NotPositive));
    }

    #[test]
    fn refunds_keep_the_fee_and_pay_debts_first() {
        let (d, h) = ids();
        let funds = Funds {
            wallet: 0,
            hold: 500,
            debt: 100,
        };
        // 50 % of 500 back: 250 kept, 250 back, of which 100 pays the debt
        let r = refund_hold(d, h, funds, 500, 250).unwrap().unwrap();
        assert_eq!((r.refunded, r.kept), (250, 250));
        assert_eq!(r.entries.on(AccountRef::receivable(d)), 100);
        assert_eq!(r.entries.on(AccountRef::wallet(d)), 150);
        assert_eq!(r.entries.on(AccountRef::host(h)), 200);
        // the booking became dearer than the hold: never more than the hold is kept
        let r = refund_hold(d, h, funds, 800, 0).unwrap().unwrap();
        assert_eq!((r.refunded, r.kept), (0, 500));
        // cheaper: the surplus comes back too
        let r = refund_hold(d, h, funds, 300, 0).unwrap().unwrap();
        assert_eq!((r.refunded, r.kept), (200, 300));
        assert_eq!(refund_hold(d, h, Funds::default(), 300, 0), Ok(None));
    }

    #[test]
    fn adjustments_move_only_the_difference() {
        let (d, h) = ids();
        let funds = Funds {
            wallet: 40,
            hold: 0,
            debt: 0,
        };
        let delta = Charge {
            host: h,
            host_share: 80,
            commission: 20,
            insurance: 0,
            tax: 0,
        };
        let a = adjust(d, funds, &delta, 0).unwrap().unwrap();
        let e = &a.entries;
        assert_eq!(e.on(AccountRef::wallet(d)), -40);
        assert_eq!(e.on(AccountRef::receivable(d)), -60);
        // 60 of 100 went on account: 48 of the host's 80 waits for the driver to pay
        assert_eq!((a.on_account, a.withheld), (60, 48));
        assert_eq!(e.on(AccountRef::host(h)), 32);
        assert_eq!(e.on(AccountRef::host_pending(h)), 48);
        let back = Charge {
            host: h,
            host_share: -80,
            commission: -20,
            insurance: 0,
            tax: 0,
        };
        let funds = Funds { debt: 60, ..funds };
        let a = adjust(d, funds, &back, 48).unwrap().unwrap();
        let e = &a.entries;
        assert_eq!(e.on(AccountRef::receivable(d)), 60);
        assert_eq!(e.on(AccountRef::wallet(d)), 40);
        // the fall takes the withheld 48 back first, the payable only the rest
        assert_eq!((a.unwithheld, a.debt_cancelled), (48, 60));
        assert_eq!(e.on(AccountRef::host_pending(h)), -48);
        assert_eq!(e.on(AccountRef::host(h)), -32);
        assert_eq!(adjust(d, funds, &Charge::fee(h, 0), 0), Ok(None));
    }

    #[test]
    fn the_host_share_of_what_went_on_account_is_withheld_rounded_up() {
        assert_eq!(withheld(800, 1000, 0), 0);
        assert_eq!(withheld(800, 1000, 1000), 800);
        assert_eq!(withheld(800, 1000, 1), 1);
        assert_eq!(withheld(800, 1000, 250), 200);
        assert_eq!(withheld(800, 1000, 251), 201);
        assert_eq!(
            withheld(Minor::MAX, Minor::MAX, Minor::MAX - 1),
            Minor::MAX - 1
        );
        let (d, h) = ids();
        let funds = Funds {
            wallet: 300,
            hold: 500,
            debt: 0,
        };
        let c = capture(d, funds, &Charge::fee(h, 1000)).unwrap().unwrap();
        assert_eq!((c.on_account, c.withheld), (200, 160));
        assert_eq!(c.entries.on(AccountRef::host(h)), 640);
        assert_eq!(c.entries.on(AccountRef::host_pending(h)), 160);
    }

    #[test]
    fn settling_uses_what_the_wallet_has() {
        let (d, _) = ids();
        let funds = Funds {
            wallet: 30,
            hold: 0,
            debt: 50,
        };
        let e = settle_debt(d, funds).unwrap();
        assert_eq!(e.on(AccountRef::receivable(d)), 30);
        assert!(settle_debt(d, Funds { debt: 0, ..funds }).is_none());
    }
    #[test]
    fn money_taken_back_uses_the_wallet_then_goes_on_account() {
        let (d, _) = ids();
        let funds = Funds {
            wallet: 300,
            hold: 0,
            debt: 0,
        };
        let e = taken_back(d, funds, 500, 15).unwrap();
        assert_eq!(e.on(AccountRef::wallet(d)), -300);
        assert_eq!(e.on(AccountRef::receivable(d)), -200);
        let clearing = AccountRef::platform(AccountKind::ProviderClearing);
        assert_eq!(e.on(clearing), 515);
        assert_eq!(e.on(AccountRef::platform(AccountKind::ProviderFees)), -15);
        assert_eq!(taken_back(d, funds, 0, 0), Err(LedgerError::NotPositive));
        // given back: the debt first, then the wallet
        let funds = Funds {
            wallet: 0,
            hold: 0,
            debt: 200,
        };
        let e = given_back(d, funds, 500, 0).unwrap();
        assert_eq!(e.on(AccountRef::receivable(d)), 200);
        assert_eq!(e.on(AccountRef::wallet(d)), 300);
        assert_eq!(e.on(clearing), -500);
    }
}

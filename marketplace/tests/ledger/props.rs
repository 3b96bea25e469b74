//! Property tests over the pure rules: random sequences of top-ups, holds, partial releases,
//! captures (within and beyond the hold), cancellation refunds, bill corrections, debt
//! settlements and reversals, applied to an in-memory book exactly as the service applies
//! them to the database (a reversal that would take a wallet below zero is refused, as the
//! database's CHECK refuses it). After every step: each posting balances, no wallet or hold
//! is negative, all accounts sum to zero, each driver's hold account is the sum of their
//! open holds, and captures pay from the hold first and split exactly.

use std::collections::HashMap;

use marketplace::ledger::model::{split_commission, AccountKind, AccountRef, Charge, Entries};
use marketplace::ledger::plan::{self, Funds};
use marketplace::ledger::{LedgerError, Minor};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

const DRIVERS: usize = 3;
const HOSTS: usize = 2;

#[derive(Debug, Clone)]
enum Op {
    Topup {
        driver: usize,
        amount: Minor,
    },
    Hold {
        driver: usize,
        amount: Minor,
    },
    /// Releases `per_mille` of what is left of a hold (all of it at 1000).
    Release {
        hold: usize,
        per_mille: Minor,
    },
    /// A bill: `base` split 20/80, plus insurance and tax; against a hold, or none.
    Capture {
        hold: Option<usize>,
        driver: usize,
        host: usize,
        base: Minor,
        insurance: Minor,
        tax: Minor,
    },
    /// The booking is cancelled: `due` was its price, `percent` of it comes back.
    Cancel {
        hold: usize,
        due: Minor,
        percent: Minor,
        host: usize,
    },
    /// A corrected bill: the parts move by these (signed) amounts.
    Adjust {
        driver: usize,
        host: usize,
        base: Minor,
        insurance: Minor,
    },
    Settle {
        driver: usize,
    },
    Reverse {
        posting: usize,
    },
    /// Money the provider took back on its own (a dashboard refund, a dispute) with its fee.
    TakenBack {
        driver: usize,
        amount: Minor,
        fee: Minor,
    },
    /// Money the provider gave back (a won dispute), with a returned fee.
    GivenBack {
        driver: usize,
        amount: Minor,
        fee: Minor,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let d = 0..DRIVERS;
    let h = 0..HOSTS;
    prop_oneof![
        (d.clone(), 1..5_000i64).prop_map(|(driver, amount)| Op::Topup { driver, amount }),
        (d.clone(), 1..3_000i64).prop_map(|(driver, amount)| Op::Hold { driver, amount }),
        (0..8usize, 1..=1000i64).prop_map(|(hold, per_mille)| Op::Release { hold, per_mille }),
        (
            prop::option::of(0..8usize),
            d.clone(),
            h.clone(),
            0..4_000i64,
            0..100i64,
            0..500i64
        )
            .prop_map(|(hold, driver, host, base, insurance, tax)| Op::Capture {
                hold,
                driver,
                host,
                base,
                insurance,
                tax
            }),
        (
            0..8usize,
            0..4_000i64,
            prop::sample::select(vec![0i64, 50, 100]),
            h.clone()
        )
            .prop_map(|(hold, due, percent, host)| Op::Cancel {
                hold,
                due,
                percent,
                host
            }),
        (d.clone(), h, -2_000..2_000i64, -50..50i64).prop_map(|(driver, host, base, insurance)| {
            Op::Adjust {
                driver,
                host,
                base,
                insurance,
            }
        }),
        d.clone().prop_map(|driver| Op::Settle { driver }),
        (0..40usize).prop_map(|posting| Op::Reverse { posting }),
        (d.clone(), 1..5_000i64, 0..2_000i64).prop_map(|(driver, amount, fee)| Op::TakenBack {
            driver,
            amount,
            fee
        }),
        (d, 1..5_000i64, 0..2_000i64).prop_map(|(driver, amount, fee)| Op::GivenBack {
            driver,
            amount,
            fee
        }),
    ]
}

struct SimHold {
    driver: Uuid,
    remaining: Minor,
    open: bool,
}

/// The database, in memory: balances by account, holds, and every posting.
#[derive(Default)]
struct Book {
    balances: HashMap<AccountRef, Minor>,
    holds: Vec<SimHold>,
    /// Postings with the hold they name (reversals skip those, as the service does).
    postings: Vec<(Entries, Option<usize>)>,
}

impl Book {
    fn balance(&self, a: AccountRef) -> Minor {
        self.balances.get(&a).copied().unwrap_or(0)
    }

    fn funds(&self, driver: Uuid, hold: Option<usize>) -> Funds {
        Funds {
            wallet: self.balance(AccountRef::wallet(driver)),
            hold: hold.map_or(0, |h| self.holds[h].remaining),
            debt: -self.balance(AccountRef::receivable(driver)),
        }
    }

    /// Writes a posting; `false` (and nothing written) when a wallet or hold would go below
    /// zero — the database's CHECK.
    fn post(&mut self, e: Entries, hold: Option<usize>) -> bool {
        let refused = e
            .legs()
            .iter()
            .any(|l| l.account.kind.never_negative() && self.balance(l.account) + l.amount < 0);
        if refused {
            return false;
        }
        for l in e.legs() {
            *self.balances.entry(l.account).or_default() += l.amount;
        }
        if let Some(h) = hold {
            self.holds[h].remaining += e.on(AccountRef::hold(self.holds[h].driver));
        }
        self.postings.push((e, hold));
        true
    }

    fn open_hold(&self, i: usize) -> Option<usize> {
        (i < self.holds.len() && self.holds[i].open).then_some(i)
    }

    fn check(&self, drivers: &[Uuid]) -> Result<(), TestCaseError> {
        for (e, _) in &self.postings {
            let sum: i128 = e.legs().iter().map(|l| i128::from(l.amount)).sum();
            prop_assert_eq!(sum, 0);
            prop_assert!(e.legs().len() >= 2);
            prop_assert!(e.legs().iter().all(|l| l.amount != 0));
        }
        let total: i128 = self.balances.values().map(|b| i128::from(*b)).sum();
        prop_assert_eq!(total, 0, "all accounts sum to zero");
        for &d in drivers {
            prop_assert!(
                self.balance(AccountRef::wallet(d)) >= 0,
                "wallet below zero"
            );
            prop_assert!(self.balance(AccountRef::hold(d)) >= 0, "hold below zero");
            let open: Minor = self
                .holds
                .iter()
                .filter(|h| h.driver == d)
                .map(|h| h.remaining)
                .sum();
            prop_assert_eq!(self.balance(AccountRef::hold(d)), open);
        }
        for h in &self.holds {
            prop_assert!(h.remaining >= 0);
            if !h.open {
                prop_assert_eq!(h.remaining, 0, "a closed hold holds nothing");
            }
        }
        Ok(())
    }
}

fn bill(host: Uuid, base: Minor, insurance: Minor, tax: Minor) -> Charge {
    let (commission, host_share) = split_commission(base);
    Charge {
        host,
        host_share,
        commission,
        insurance,
        tax,
    }
}

fn apply(book: &mut Book, drivers: &[Uuid], hosts: &[Uuid], op: &Op) -> Result<(), TestCaseError> {
    match *op {
        Op::Topup { driver, amount } => {
            let e = plan::topup(drivers[driver], amount).unwrap();
            prop_assert!(book.post(e, None));
        }
        Op::Hold { driver, amount } => {
            let d = drivers[driver];
            match plan::hold(d, book.funds(d, None), amount) {
                Ok(e) => {
                    book.holds.push(SimHold {
                        driver: d,
                        remaining: 0,
                        open: true,
                    });
                    let i = book.holds.len() - 1;
                    prop_assert!(book.post(e, Some(i)));
                    prop_assert_eq!(book.holds[i].remaining, amount);
                }
                Err(LedgerError::InsufficientFunds { available, needed }) => {
                    prop_assert!(available < needed);
                    prop_assert_eq!(available, book.funds(d, None).wallet);
                }
                Err(other) => prop_assert!(false, "{other}"),
            }
        }
        Op::Release { hold, per_mille } => {
            let Some(h) = book.open_hold(hold) else {
                return Ok(());
            };
            let d = book.holds[h].driver;
            let left = book.holds[h].remaining;
            let amount = left * per_mille / 1000;
            if amount > 0 {
                let e = plan::release(d, book.funds(d, Some(h)), amount).unwrap();
                prop_assert!(book.post(e, Some(h)));
            }
            if amount >= left {
                book.holds[h].open = false;
            }
        }
        Op::Capture {
            hold,
            driver,
            host,
            base,
            insurance,
            tax,
        } => {
            let hold = hold.and_then(|h| book.open_hold(h));
            let d = hold.map_or(drivers[driver], |h| book.holds[h].driver);
            let charge = bill(hosts[host], base, insurance, tax);
            let funds = book.funds(d, hold);
            let Some(c) = plan::capture(d, funds, &charge).unwrap() else {
                prop_assert_eq!((charge.total(), funds.hold), (0, 0));
                return Ok(());
            };
            prop_assert!(c.from_hold <= funds.hold, "never more than the hold");
            prop_assert_eq!(c.from_hold, charge.total().min(funds.hold));
            prop_assert!(c.from_wallet <= funds.wallet);
            prop_assert_eq!(c.from_hold + c.from_wallet + c.on_account, charge.total());
            prop_assert!(c.on_account == 0 || c.from_wallet == funds.wallet);
            prop_assert_eq!(c.released, funds.hold - c.from_hold);
            let commission = AccountRef::platform(AccountKind::PlatformCommission);
            prop_assert_eq!(c.entries.on(commission), charge.commission);
            // the host is credited only with what was collected; the share of what went on
            // account waits, rounded so that no uncollected cent is payable
            prop_assert_eq!(
                c.withheld,
                plan::withheld(charge.host_share, charge.total(), c.on_account)
            );
            prop_assert!(c.withheld <= charge.host_share);
            prop_assert_eq!(c.withheld == 0, c.on_account == 0 || charge.host_share == 0);
            let collected = charge.total() - c.on_account;
            prop_assert!(
                i128::from(charge.host_share - c.withheld) * i128::from(charge.total())
                    <= i128::from(charge.host_share) * i128::from(collected),
                "the payable part never exceeds the host's share of what was collected"
            );
            prop_assert_eq!(
                c.entries.on(AccountRef::host(hosts[host])),
                charge.host_share - c.withheld
            );
            prop_assert_eq!(
                c.entries.on(AccountRef::host_pending(hosts[host])),
                c.withheld
            );
            prop_assert!(book.post(c.entries, hold));
            if let Some(h) = hold {
                book.holds[h].open = false;
            }
        }
        Op::Cancel {
            hold,
            due,
            percent,
            host,
        } => {
            let Some(h) = book.open_hold(hold) else {
                return Ok(());
            };
            let d = book.holds[h].driver;
            let funds = book.funds(d, Some(h));
            let refund = due * percent / 100;
            if let Some(r) = plan::refund_hold(d, hosts[host], funds, due, refund).unwrap() {
                prop_assert_eq!(r.refunded + r.kept, funds.hold);
                prop_assert!(r.kept <= (due - refund).max(0));
                prop_assert!(book.post(r.entries, Some(h)));
            }
            book.holds[h].open = false;
        }
        Op::Adjust {
            driver,
            host,
            base,
            insurance,
        } => {
            let d = drivers[driver];
            let delta = bill(hosts[host], base, insurance, 0);
            if let Some(e) = plan::adjust(d, book.funds(d, None), &delta, 0)
                .unwrap()
                .map(|a| a.entries)
            {
                prop_assert!(book.post(e, None));
            }
        }
        Op::Settle { driver } => {
            let d = drivers[driver];
            if let Some(e) = plan::settle_debt(d, book.funds(d, None)) {
                prop_assert!(book.post(e, None));
                let after = book.funds(d, None);
                prop_assert!(after.debt == 0 || after.wallet == 0);
            }
        }
        Op::TakenBack {
            driver,
            amount,
            fee,
        } => {
            let d = drivers[driver];
            let before = book.funds(d, None);
            let fees_before = book.balance(AccountRef::platform(AccountKind::ProviderFees));
            let e = plan::taken_back(d, before, amount, fee).unwrap();
            prop_assert!(book.post(e, None), "never refused: the money already left");
            let after = book.funds(d, None);
            let fees = AccountRef::platform(AccountKind::ProviderFees);
            prop_assert_eq!(after.wallet, (before.wallet - amount).max(0));
            prop_assert_eq!(book.balance(fees) - fees_before, -fee);
            prop_assert_eq!(
                after.debt - before.debt,
                amount - before.wallet.min(amount),
                "what the wallet cannot cover is owed"
            );
        }
        Op::GivenBack {
            driver,
            amount,
            fee,
        } => {
            let d = drivers[driver];
            let before = book.funds(d, None);
            let e = plan::given_back(d, before, amount, fee).unwrap();
            prop_assert!(book.post(e, None));
            let after = book.funds(d, None);
            let paid_off = amount.min(before.debt).max(0);
            prop_assert_eq!(before.debt - after.debt, paid_off, "debt first");
            prop_assert_eq!(after.wallet - before.wallet, amount - paid_off);
        }
        Op::Reverse { posting } => {
            if let Some((e, None)) = book.postings.get(posting).cloned() {
                let before = book.balances.clone();
                if !book.post(e.reversed(), None) {
                    prop_assert_eq!(&book.balances, &before, "a refused posting writes nothing");
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_ledger_always_balances(ops in prop::collection::vec(op(), 1..60)) {
        let drivers: Vec<Uuid> = (0..DRIVERS).map(|_| Uuid::now_v7()).collect();
        let hosts: Vec<Uuid> = (0..HOSTS).map(|_| Uuid::now_v7()).collect();
        let mut book = Book::default();
        for op in &ops {
            apply(&mut book, &drivers, &hosts, op)?;
            book.check(&drivers)?;
        }
        // what came in from providers is exactly what everyone else holds
        let clearing = book.balance(AccountRef::platform(AccountKind::ProviderClearing));
        let rest: Minor = book.balances.iter()
            .filter(|(a, _)| a.kind != AccountKind::ProviderClearing)
            .map(|(_, b)| *b)
            .sum();
        prop_assert_eq!(rest, -clearing);
    }

    /// The 20/80 split is the tariffs' rule (`tariffs::bill`: 20 % rounded down to the cent,
    /// the rest to the host), in integers.
    #[test]
    fn the_split_rounds_in_the_hosts_favour(amount in 0i64..1_000_000_000) {
        let (commission, host) = split_commission(amount);
        prop_assert_eq!(commission + host, amount);
        let exact = (Decimal::new(amount, 2) * Decimal::from(20) / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(2, RoundingStrategy::ToZero);
        prop_assert_eq!(Decimal::new(commission, 2), exact);
        prop_assert!(host * 20 >= commission * 80);
    }

    #[test]
    fn balancing_refuses_anything_that_does_not_sum_to_zero(
        amounts in prop::collection::vec(-10_000i64..10_000, 1..8),
    ) {
        let d = Uuid::now_v7();
        let accounts = [
            AccountRef::wallet(d),
            AccountRef::hold(d),
            AccountRef::receivable(d),
            AccountRef::platform(AccountKind::TaxPayable),
        ];
        let legs = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| marketplace::ledger::Leg::new(accounts[i % accounts.len()], *a));
        let sum: Minor = amounts.iter().sum();
        match Entries::balance(legs) {
            Ok(e) => {
                prop_assert_eq!(sum, 0);
                prop_assert_eq!(e.legs().iter().map(|l| l.amount).sum::<Minor>(), 0);
                prop_assert_eq!(e.reversed().reversed(), e);
            }
            Err(LedgerError::Unbalanced(s)) => prop_assert_eq!(s, i128::from(sum)),
            Err(LedgerError::TooFewEntries) => prop_assert_eq!(sum, 0),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}

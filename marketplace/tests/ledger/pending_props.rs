//! Property tests of hosts' withheld shares (`ledger::pending`): random bills that leave a
//! driver owing, interleaved with payments of any size. After every step a host's payable
//! part is never more than their share of what was collected, nothing is released twice,
//! and once the driver has paid everything every share is released in full.

use marketplace::ledger::pending::{allocate, collected, Share};
use marketplace::ledger::plan::withheld;
use marketplace::ledger::Minor;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// A bill of `total` (the host's part `share_pct` %) of which `owed_pct` % went on account.
    Bill {
        total: Minor,
        share_pct: Minor,
        owed_pct: Minor,
    },
    /// The driver pays `amount` toward what they owe (a top-up's settlement).
    Pay { amount: Minor },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1..100_000i64, 0..=100i64, 1..=100i64).prop_map(|(total, share_pct, owed_pct)| {
            Op::Bill {
                total,
                share_pct,
                owed_pct,
            }
        }),
        (1..150_000i64).prop_map(|amount| Op::Pay { amount }),
    ]
}

proptest! {
    #[test]
    fn hosts_are_paid_only_what_was_collected(ops in prop::collection::vec(op(), 1..40)) {
        let mut shares: Vec<Share> = Vec::new();
        // what the driver owes; what was collected toward each share's bill
        let mut debt: Minor = 0;
        for op in ops {
            match op {
                Op::Bill { total, share_pct, owed_pct } => {
                    let share = total * share_pct / 100;
                    let owed = (total * owed_pct / 100).max(1);
                    let held = withheld(share, total, owed);
                    prop_assert!(held <= share);
                    // what becomes payable at once is at most the host's part of what was paid
                    prop_assert!(
                        i128::from(share - held) * i128::from(total)
                            <= i128::from(share) * i128::from(total - owed)
                    );
                    debt += owed;
                    if held > 0 {
                        shares.push(Share { owed, share: held, paid: 0, released: 0 });
                    }
                }
                Op::Pay { amount } => {
                    let paid = amount.min(debt);
                    debt -= paid;
                    let before: Minor = shares.iter().map(|s| s.released).sum();
                    let steps = allocate(&shares, collected(&shares, debt));
                    for (s, step) in shares.iter_mut().zip(steps) {
                        prop_assert!(step.paid >= 0 && step.released >= 0);
                        s.paid += step.paid;
                        s.released += step.released;
                        prop_assert!(s.paid <= s.owed && s.released <= s.share);
                        // pro rata, rounded down: never ahead of the money
                        prop_assert!(
                            i128::from(s.released) * i128::from(s.owed)
                                <= i128::from(s.share) * i128::from(s.paid)
                        );
                    }
                    let after: Minor = shares.iter().map(|s| s.released).sum();
                    prop_assert!(after >= before, "nothing released is taken back");
                    // oldest first: a share is paid only once every older one is paid in full
                    let first_open = shares.iter().position(|s| s.paid < s.owed);
                    if let Some(i) = first_open {
                        prop_assert!(shares[i + 1..].iter().all(|s| s.paid == 0));
                    }
                }
            }
            // the shares never count more as outstanding than the driver owes
            let outstanding: Minor = shares.iter().map(|s| s.owed - s.paid).sum();
            prop_assert!(outstanding <= debt);
        }
        // paying everything releases everything
        let steps = allocate(&shares, collected(&shares, 0));
        for (s, step) in shares.iter().zip(steps) {
            prop_assert_eq!(s.released + step.released, s.share);
            prop_assert_eq!(s.paid + step.paid, s.owed);
        }
    }
}

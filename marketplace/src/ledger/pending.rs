//! Hosts' withheld shares (pure): when a bill leaves a driver owing money, the host's share of
//! what is owed waits in `host_pending`; as the driver pays, it is released to `host_payable`,
//! oldest share first, pro rata within a share (rounded down, all of it once paid in full).
//!
//! What counts as paid is read from the balances rather than from each movement: the shares
//! still open say how much of their debt is outstanding; the driver's receivable says how
//! much is owed now. When the driver owes less than the shares' outstanding debt, the
//! difference was paid, whatever paid it (a top-up, a captured card authorization, a refund
//! that settled debt). A debt with no host share (a chargeback) is thus paid before any
//! share is released: hosts are never credited ahead of collection.

use super::model::Minor;

/// One open share, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Share {
    /// What its posting left the driver owing.
    pub owed: Minor,
    /// The host's part of `owed`.
    pub share: Minor,
    pub paid: Minor,
    pub released: Minor,
}

impl Share {
    pub fn outstanding(&self) -> Minor {
        self.owed - self.paid
    }

    pub fn withheld(&self) -> Minor {
        self.share - self.released
    }

    /// What of the share is released once `paid` of `owed` is paid.
    fn released_at(&self, paid: Minor) -> Minor {
        if paid >= self.owed {
            return self.share;
        }
        let part = i128::from(self.share) * i128::from(paid) / i128::from(self.owed.max(1));
        Minor::try_from(part).unwrap_or(self.share).min(self.share)
    }
}

/// What paying a share moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    pub paid: Minor,
    pub released: Minor,
}

/// How much of the shares' outstanding debt was paid, given what the driver owes now.
pub fn collected(shares: &[Share], debt: Minor) -> Minor {
    let outstanding: Minor = shares.iter().map(Share::outstanding).sum();
    (outstanding - debt.max(0)).max(0)
}

/// Applies `amount` paid to the shares (oldest first, as given): one step per share.
pub fn allocate(shares: &[Share], amount: Minor) -> Vec<Step> {
    let mut left = amount.max(0);
    shares
        .iter()
        .map(|s| {
            let paid = left.min(s.outstanding()).max(0);
            left -= paid;
            Step {
                paid,
                released: s.released_at(s.paid + paid) - s.released,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(owed: Minor, share: Minor) -> Share {
        Share {
            owed,
            share,
            ..Share::default()
        }
    }

    #[test]
    fn payments_go_to_the_oldest_share_first_and_release_pro_rata() {
        let shares = [share(1000, 800), share(500, 400)];
        let steps = allocate(&shares, 1200);
        assert_eq!(
            steps,
            [
                Step {
                    paid: 1000,
                    released: 800
                },
                Step {
                    paid: 200,
                    released: 160
                }
            ]
        );
        // rounded down within a share
        assert_eq!(allocate(&[share(3, 2)], 1)[0].released, 0);
        assert_eq!(allocate(&[share(3, 2)], 2)[0].released, 1);
        assert_eq!(allocate(&[share(3, 2)], 3)[0].released, 2);
    }

    #[test]
    fn only_the_debt_paid_beyond_what_is_owed_now_counts() {
        let shares = [share(1000, 800), share(500, 400)];
        assert_eq!(collected(&shares, 1500), 0);
        assert_eq!(collected(&shares, 300), 1200);
        // a debt without a share (a chargeback) is larger than the shares: nothing paid yet
        assert_eq!(collected(&shares, 2000), 0);
        assert_eq!(collected(&[], 0), 0);
    }
}

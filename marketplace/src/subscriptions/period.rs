//! Monthly periods and proration. Pure, property-tested.
//!
//! Periods are counted from the anchor (the moment of subscribing), never from the previous
//! period's end, so a subscription started on 31 January renews on 28/29 February, 31 March,
//! 30 April... instead of drifting to the 28th for good.
//!
//! Proration on a change of product mid-period: the unused part of the period is credited at
//! the old price (rounded down) and charged at the new one (rounded up), and only the net
//! moves. Rounding always goes against the subscriber, by under a cent each way, so no
//! sequence of changes can earn them money.

use chrono::{DateTime, Months, Utc};

use crate::ledger::model::Minor;

/// Period `n` (1-based) of a subscription anchored at `anchor`: `[anchor + (n-1) months,
/// anchor + n months)`, each end clamped to its month's last day. `None` past chrono's range.
pub fn period(anchor: DateTime<Utc>, n: u32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let n = n.max(1);
    let start = anchor.checked_add_months(Months::new(n - 1))?;
    let end = anchor.checked_add_months(Months::new(n))?;
    Some((start, end))
}

/// What a change at `at` is worth, in the subscriber's favour when negative: the credit for
/// the old price's unused time and the charge for the new one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proration {
    pub credit: Minor,
    pub charge: Minor,
}

impl Proration {
    /// What the subscriber pays now (negative: gets back).
    pub fn net(&self) -> Minor {
        self.charge - self.credit
    }
}

/// Prorates a change from `old_price` to `new_price` at `at` within `[start, end)`. At or
/// after the end nothing is left to prorate; before the start the whole period is.
pub fn prorate(
    old_price: Minor,
    new_price: Minor,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    at: DateTime<Utc>,
) -> Proration {
    let total = (end - start).num_microseconds().unwrap_or(i64::MAX).max(1);
    let unused = (end - at.max(start))
        .num_microseconds()
        .unwrap_or(i64::MAX)
        .clamp(0, total);
    Proration {
        credit: share(old_price, unused, total, false),
        charge: share(new_price, unused, total, true),
    }
}

/// `price × part / whole` in integers (i128: no overflow for any price and period), rounded
/// down or up.
fn share(price: Minor, part: i64, whole: i64, round_up: bool) -> Minor {
    let (p, n, d) = (
        i128::from(price.max(0)),
        i128::from(part),
        i128::from(whole),
    );
    let q = if round_up {
        (p * n + d - 1) / d
    } else {
        p * n / d
    };
    Minor::try_from(q).unwrap_or(Minor::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 9, 30, 0).unwrap()
    }

    #[test]
    fn months_are_anchored_and_clamped() {
        let a = utc(2027, 1, 31);
        assert_eq!(period(a, 1), Some((a, utc(2027, 2, 28))));
        assert_eq!(period(a, 2), Some((utc(2027, 2, 28), utc(2027, 3, 31))));
        assert_eq!(period(a, 3), Some((utc(2027, 3, 31), utc(2027, 4, 30))));
        let leap = utc(2028, 1, 30);
        assert_eq!(period(leap, 2).unwrap().0, utc(2028, 2, 29));
        assert_eq!(period(a, 13).unwrap().0, utc(2028, 1, 31));
    }

    #[test]
    fn half_a_period_upgraded_and_downgraded() {
        let p = (utc(2027, 4, 1), utc(2027, 5, 1));
        let mid = p.0 + (p.1 - p.0) / 2;
        // Premium → Pro halfway: 999/2 credited (499), 2499/2 charged (1250)
        let up = prorate(999, 2499, p, mid);
        assert_eq!(
            up,
            Proration {
                credit: 499,
                charge: 1250
            }
        );
        assert_eq!(up.net(), 751);
        let down = prorate(2499, 999, p, mid);
        assert_eq!(down.net(), 500 - 1249);
        assert_eq!(prorate(999, 2499, p, p.1).net(), 0);
        assert_eq!(prorate(999, 2499, p, p.0).net(), 1500);
    }

    fn period_strategy() -> impl Strategy<Value = (DateTime<Utc>, DateTime<Utc>)> {
        (0i64..400, 1u32..40).prop_map(|(day, n)| {
            let anchor = utc(2027, 1, 1) + Duration::days(day);
            period(anchor, n).unwrap()
        })
    }

    proptest! {
        #[test]
        fn periods_tile_the_timeline(day in 0i64..2000, n in 1u32..120) {
            let anchor = utc(2026, 1, 1) + Duration::days(day);
            let (s, e) = period(anchor, n).unwrap();
            let (next_s, next_e) = period(anchor, n + 1).unwrap();
            prop_assert_eq!(e, next_s);
            prop_assert!(s < e && next_s < next_e);
            prop_assert!((e - s) >= Duration::days(28) && (e - s) <= Duration::days(31));
        }

        #[test]
        fn a_credit_never_exceeds_what_was_paid(
            p in period_strategy(), paid in 0i64..1_000_000, new in 0i64..1_000_000,
            at_frac in 0.0f64..1.2,
        ) {
            let at = p.0 + Duration::seconds(((p.1 - p.0).num_seconds() as f64 * at_frac) as i64);
            let r = prorate(paid, new, p, at);
            prop_assert!(r.credit >= 0 && r.credit <= paid);
            prop_assert!(r.charge >= 0 && r.charge <= new);
        }

        #[test]
        fn changing_back_and_forth_never_pays_the_subscriber(
            p in period_strategy(), a in 0i64..100_000, b in 0i64..100_000,
            t1 in 0.0f64..1.0, t2 in 0.0f64..1.0,
        ) {
            let len = (p.1 - p.0).num_seconds() as f64;
            let (t1, t2) = if t1 <= t2 { (t1, t2) } else { (t2, t1) };
            let first = p.0 + Duration::seconds((len * t1) as i64);
            let second = p.0 + Duration::seconds((len * t2) as i64);
            // on `a`, change to `b`, then back to `a`: never less than staying on the cheaper
            // of the two for the time spent on `b`, so never less than a's price when b ≥ a
            let total = a + prorate(a, b, p, first).net() + prorate(b, a, p, second).net();
            prop_assert!(total >= a.min(b));
            if b >= a {
                prop_assert!(total >= a);
            }
            // changing and changing back at once costs nothing extra but rounding, never gains
            let same = prorate(a, b, p, first).net() + prorate(b, a, p, first).net();
            prop_assert!((0..=2).contains(&same));
        }
    }
}

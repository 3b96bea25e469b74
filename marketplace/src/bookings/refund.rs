//! The refund policy: as data, per listing overridable. Pure. (What a booking costs, which
//! the refund is a share of, is [`super::price`].)
//!
//! Boundaries, read literally from the product rule "full refund when cancelled > 2 h before
//! start, 50% between 1 and 2 h, none within 1 h": a tier applies when the notice is
//! STRICTLY MORE than its minimum. So exactly 2 h before the start refunds 50%, exactly 1 h
//! refunds nothing (it is "within 1 h"), and 1 h plus one microsecond (the database's
//! precision) refunds 50%.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::model::CancelledBy;
use crate::error::FieldError;

pub const MAX_TIERS: usize = 10;
/// 30 days: a longer notice period is not a cancellation policy anyone can read.
pub const MAX_NOTICE_MINUTES: u32 = 43_200;

/// Cancelled with more than `min_notice_minutes` before the start: `refund_percent` back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(
    description = "A driver's cancellation MORE than `min_notice_minutes` before the \
    start refunds `refund_percent` (the tier with the longest notice that applies)."
)]
pub struct RefundTier {
    #[schema(minimum = 0, maximum = 43200, example = 120)]
    pub min_notice_minutes: u32,
    #[schema(minimum = 0, maximum = 100, example = 100)]
    pub refund_percent: u8,
}

/// Tiers sorted by notice, longest first; see [`RefundPolicy::percent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundPolicy {
    tiers: Vec<RefundTier>,
}

impl Default for RefundPolicy {
    /// The product guide's policy: > 2 h → 100%, > 1 h → 50%, otherwise nothing.
    fn default() -> Self {
        Self {
            tiers: vec![
                RefundTier {
                    min_notice_minutes: 120,
                    refund_percent: 100,
                },
                RefundTier {
                    min_notice_minutes: 60,
                    refund_percent: 50,
                },
            ],
        }
    }
}

impl RefundPolicy {
    /// Checks the tiers: percents 0–100, notices up to 30 days and distinct, at most
    /// [`MAX_TIERS`], and a longer notice never refunds less than a shorter one (so a driver
    /// never gains by cancelling later). No tiers at all: nothing is ever refunded.
    pub fn new(mut tiers: Vec<RefundTier>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if tiers.len() > MAX_TIERS {
            errors.push(FieldError::new(
                "refund_tiers",
                format!("must hold at most {MAX_TIERS} tiers"),
            ));
        }
        for (i, t) in tiers.iter().enumerate() {
            if t.refund_percent > 100 {
                errors.push(FieldError::new(
                    format!("refund_tiers[{i}].refund_percent"),
                    "must be from 0 to 100",
                ));
            }
            if t.min_notice_minutes > MAX_NOTICE_MINUTES {
                errors.push(FieldError::new(
                    format!("refund_tiers[{i}].min_notice_minutes"),
                    format!("must be at most {MAX_NOTICE_MINUTES} (30 days)"),
                ));
            }
        }
        tiers.sort_by_key(|t| std::cmp::Reverse(t.min_notice_minutes));
        for pair in tiers.windows(2) {
            if pair[0].min_notice_minutes == pair[1].min_notice_minutes {
                errors.push(FieldError::new(
                    "refund_tiers",
                    format!(
                        "two tiers have min_notice_minutes {}",
                        pair[0].min_notice_minutes
                    ),
                ));
            } else if pair[0].refund_percent < pair[1].refund_percent {
                errors.push(FieldError::new(
                    "refund_tiers",
                    "a longer notice must not refund less than a shorter one",
                ));
            }
        }
        if errors.is_empty() {
            Ok(Self { tiers })
        } else {
            Err(errors)
        }
    }

    pub fn tiers(&self) -> &[RefundTier] {
        &self.tiers
    }

    /// The percent refunded for a driver's cancellation `notice` before the start (negative
    /// once the booking started): the first tier, longest notice first, whose minimum the
    /// notice strictly exceeds; none applies → 0.
    pub fn percent(&self, notice: Duration) -> u8 {
        self.tiers
            .iter()
            .find(|t| notice > Duration::minutes(i64::from(t.min_notice_minutes)))
            .map_or(0, |t| t.refund_percent)
    }
}

/// What a cancellation gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundDecision {
    pub percent: u8,
    pub amount_cents: i64,
}

/// The refund of a cancellation at `at` of a booking starting at `starts_at` that charged
/// `charged_cents`. Host and system cancellations always refund everything: the driver did
/// nothing wrong. Amounts round half up to the cent (50% of 1001 is 501).
pub fn refund(
    policy: &RefundPolicy,
    by: CancelledBy,
    charged_cents: i64,
    starts_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> RefundDecision {
    let percent = match by {
        CancelledBy::Driver => policy.percent(starts_at - at),
        CancelledBy::Host | CancelledBy::System => 100,
    };
    let charged = charged_cents.max(0);
    // i128: no overflow for any i64 amount times 100
    let amount = (i128::from(charged) * i128::from(percent) + 50) / 100;
    RefundDecision {
        percent,
        amount_cents: i64::try_from(amount).unwrap_or(charged).min(charged),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 12, 0, 0).unwrap()
    }

    fn driver(charged: i64, before_start: Duration) -> RefundDecision {
        let p = RefundPolicy::default();
        refund(
            &p,
            CancelledBy::Driver,
            charged,
            start(),
            start() - before_start,
        )
    }

    #[test]
    fn every_boundary_of_the_default_policy() {
        let us = Duration::microseconds(1);
        let h = Duration::hours;
        assert_eq!(driver(1000, h(3)).percent, 100);
        assert_eq!(driver(1000, h(2) + us).percent, 100);
        assert_eq!(
            driver(1000, h(2)).percent,
            50,
            "exactly 2 h is not more than 2 h"
        );
        assert_eq!(driver(1000, h(2) - us).percent, 50);
        assert_eq!(driver(1000, h(1) + us).percent, 50);
        assert_eq!(driver(1000, h(1)).percent, 0, "exactly 1 h is within 1 h");
        assert_eq!(driver(1000, h(1) - us).percent, 0);
        assert_eq!(driver(1000, Duration::zero()).percent, 0);
        assert_eq!(driver(1000, -h(1)).percent, 0, "after the start");
        assert_eq!(driver(1000, h(2)).amount_cents, 500);
    }

    #[test]
    fn host_and_system_always_refund_in_full() {
        let p = RefundPolicy::new(vec![]).unwrap();
        for by in [CancelledBy::Host, CancelledBy::System] {
            let d = refund(&p, by, 1234, start(), start() + Duration::hours(1));
            assert_eq!((d.percent, d.amount_cents), (100, 1234));
        }
        let d = refund(
            &p,
            CancelledBy::Driver,
            1234,
            start(),
            start() - Duration::days(9),
        );
        assert_eq!(d.percent, 0, "no tiers: nothing back");
    }

    #[test]
    fn rounds_half_up() {
        assert_eq!(driver(1001, Duration::minutes(90)).amount_cents, 501);
        assert_eq!(driver(1, Duration::minutes(90)).amount_cents, 1);
        assert_eq!(driver(0, Duration::hours(5)).amount_cents, 0);
    }

    #[test]
    fn policy_validation() {
        let t = |n, p| RefundTier {
            min_notice_minutes: n,
            refund_percent: p,
        };
        let ok = RefundPolicy::new(vec![t(60, 50), t(1440, 100)]).unwrap();
        assert_eq!(
            ok.tiers()[0].min_notice_minutes,
            1440,
            "sorted longest first"
        );
        assert!(RefundPolicy::new(vec![t(60, 101)]).is_err());
        assert!(RefundPolicy::new(vec![t(60, 50), t(60, 40)]).is_err());
        assert!(RefundPolicy::new(vec![t(60, 80), t(120, 50)]).is_err());
        assert!(RefundPolicy::new(vec![t(MAX_NOTICE_MINUTES + 1, 10)]).is_err());
        assert!(RefundPolicy::new((0..11).map(|i| t(i, 0)).collect()).is_err());
    }

    fn policies() -> impl Strategy<Value = RefundPolicy> {
        prop::collection::btree_map(0u32..3000, 0u8..=100, 0..5).prop_map(|m| {
            // make the percents non-increasing as the notice falls
            let mut tiers: Vec<RefundTier> = Vec::new();
            let mut floor = 0u8;
            for (notice, pct) in m {
                floor = floor.max(pct);
                tiers.push(RefundTier {
                    min_notice_minutes: notice,
                    refund_percent: floor,
                });
            }
            RefundPolicy::new(tiers).unwrap()
        })
    }

    proptest! {
        #[test]
        fn refund_never_exceeds_the_charge_and_grows_with_notice(
            policy in policies(),
            charged in 0i64..10_000_000,
            a in -10_000i64..200_000,
            b in -10_000i64..200_000,
        ) {
            let (early, late) = (a.max(b), a.min(b));
            let at = |notice_s: i64| start() - Duration::seconds(notice_s);
            let e = refund(&policy, CancelledBy::Driver, charged, start(), at(early));
            let l = refund(&policy, CancelledBy::Driver, charged, start(), at(late));
            prop_assert!(e.amount_cents <= charged && l.amount_cents >= 0);
            prop_assert!(e.percent >= l.percent);
            prop_assert!(e.amount_cents >= l.amount_cents);
            let host = refund(&policy, CancelledBy::Host, charged, start(), at(late));
            prop_assert_eq!(host.amount_cents, charged);
            prop_assert!(host.amount_cents >= e.amount_cents);
        }
    }
}

//! Payments' pure rules: card numbers (Luhn, brands, Stripe's test cards), how a payment's
//! state advances whatever order the provider's news arrives in, and the validation of
//! what clients send. No I/O.

use chrono::{DateTime, Datelike, Utc};

use super::provider::{Decline, IntentStatus};
use crate::ledger::model::Minor;

text_enum! {
    /// What a payment pays for.
    #[schema(as = PaymentPurpose, rename_all = "snake_case")]
    Purpose { Booking = "booking", Session = "session", Topup = "topup" }
}

text_enum! {
    /// How it is paid: a saved card (through the provider) or the driver's wallet (the ledger).
    #[schema(as = PayMethod, rename_all = "snake_case")]
    Method { Card = "card", Wallet = "wallet" }
}

text_enum! {
    /// Where a refund goes: back to the card it came from, or into the driver's wallet.
    #[schema(rename_all = "snake_case")]
    RefundDestination { OriginalMethod = "original_method", Wallet = "wallet" }
}

/// A top-up by card: 1.00 to 1,000.00 of a two-decimal currency (as the wallet's top-up).
pub const TOPUP_MIN_MINOR: Minor = 100;
pub const TOPUP_MAX_MINOR: Minor = 100_000;

/// What one of Stripe's test cards does when charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardBehaviour {
    Succeeds,
    /// Declined with this Stripe error code and issuer decline code.
    Declined {
        code: &'static str,
        decline_code: &'static str,
        message: &'static str,
    },
    /// Needs 3-D Secure for every payment: `requires_action`, then succeeds once completed.
    RequiresAction,
}

/// One of Stripe's documented test cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCard {
    pub number: &'static str,
    pub brand: &'static str,
    pub behaviour: CardBehaviour,
    /// Stripe's test PaymentMethod for the same card (what the Stripe adapter sends in test
    /// mode, since Stripe does not take raw card numbers).
    pub stripe_token: &'static str,
}

const DECLINED: CardBehaviour = CardBehaviour::Declined {
    code: "card_declined",
    decline_code: "generic_decline",
    message: "Your card was declined.",
};

/// The test cards the local provider knows (Stripe's test mode behaves the same).
pub const TEST_CARDS: [TestCard; 6] = [
    TestCard {
        number: "4242424242424242",
        brand: "visa",
        behaviour: CardBehaviour::Succeeds,
        stripe_token: "pm_card_visa",
    },
    TestCard {
        number: "5555555555554444",
        brand: "mastercard",
        behaviour: CardBehaviour::Succeeds,
        stripe_token: "pm_card_mastercard",
    },
    TestCard {
        number: "4000000000000002",
        brand: "visa",
        behaviour: DECLINED,
        stripe_token: "pm_card_chargeDeclined",
    },
    TestCard {
        number: "4000000000009995",
        brand: "visa",
        behaviour: CardBehaviour::Declined {
            code: "card_declined",
            decline_code: "insufficient_funds",
            message: "Your card has insufficient funds.",
        },
        stripe_token: "pm_card_chargeDeclinedInsufficientFunds",
    },
    TestCard {
        number: "4000000000000069",
        brand: "visa",
        behaviour: CardBehaviour::Declined {
            code: "expired_card",
            decline_code: "expired_card",
            message: "Your card has expired.",
        },
        stripe_token: "pm_card_chargeDeclinedExpiredCard",
    },
    TestCard {
        number: "4000002500003155",
        brand: "visa",
        behaviour: CardBehaviour::RequiresAction,
        stripe_token: "pm_card_authenticationRequiredOnSetup",
    },
];

pub fn test_card(number: &str) -> Option<&'static TestCard> {
    TEST_CARDS.iter().find(|c| c.number == number)
}

/// The test card whose number ends in `last4` (the local provider keeps no numbers).
pub fn test_card_by_last4(last4: &str) -> Option<&'static TestCard> {
    TEST_CARDS.iter().find(|c| c.number.ends_with(last4))
}

impl CardBehaviour {
    pub fn decline(self) -> Option<Decline> {
        match self {
            Self::Declined {
                code,
                decline_code,
                message,
            } => Some(Decline {
                code: code.into(),
                decline_code: Some(decline_code.into()),
                message: message.into(),
            }),
            _ => None,
        }
    }
}

/// Digits only: spaces and dashes between groups are allowed and dropped.
pub fn normalize_card_number(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then_some(digits)
        .filter(|d| (12..=19).contains(&d.len()))
}

/// The Luhn checksum every card number carries.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// The card's brand from its number's prefix (the common ranges).
pub fn brand(digits: &str) -> &'static str {
    let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
    match (prefix(1), prefix(2), prefix(4)) {
        (Some(4), _, _) => "visa",
        (_, Some(51..=55), _) | (_, _, Some(2221..=2720)) => "mastercard",
        (_, Some(34 | 37), _) => "amex",
        (_, _, Some(6011)) | (_, Some(65), _) => "discover",
        _ => "unknown",
    }
}

/// Whether a card valid through the end of `exp_month`/`exp_year` may still be used at `now`.
pub fn not_expired(exp_month: u32, exp_year: i32, now: DateTime<Utc>) -> bool {
    (exp_year, exp_month) >= (now.year(), now.month())
}

/// How far a payment has got; news of a lower rank never undoes a higher one, so the order
/// in which the provider's answers and webhooks arrive does not matter.
fn rank(status: IntentStatus) -> u8 {
    match status {
        IntentStatus::Processing => 0,
        IntentStatus::RequiresAction | IntentStatus::Failed => 1,
        IntentStatus::RequiresCapture => 2,
        IntentStatus::Succeeded | IntentStatus::Canceled => 3,
    }
}

/// A payment as we track it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub status: IntentStatus,
    pub amount_capturable: Minor,
    pub amount_received: Minor,
    pub decline: Option<Decline>,
    /// When the provider said so (a webhook event's `created`, or when we asked).
    pub as_of: DateTime<Utc>,
}

/// Folds what the provider reports (`seen`, true as of `seen.as_of`) into what we had.
/// - A terminal state (succeeded, canceled) is final: later news cannot move it, except that
///   the captured amount only grows.
/// - Otherwise the further state wins; between `requires_action` and `failed` (a retried
///   attempt goes back and forth) the more recent report wins.
/// - Captured amounts only grow.
pub fn advance(current: &Tracked, seen: &Tracked) -> Tracked {
    let (cur, new) = (rank(current.status), rank(seen.status));
    let take_new = if cur == 3 {
        false
    } else if new != cur {
        new > cur
    } else {
        seen.as_of >= current.as_of
    };
    let mut next = if take_new {
        seen.clone()
    } else {
        current.clone()
    };
    next.amount_received = current.amount_received.max(seen.amount_received);
    if next.status != IntentStatus::RequiresCapture {
        next.amount_capturable = 0;
    }
    if next.status == IntentStatus::Succeeded {
        next.decline = None;
    }
    next
}

/// What a Connect destination charge leaves with the platform: everything that is not the
/// host's share of the bill (the 20 % commission, and the insurance fee and tax the platform
/// keeps or remits).
pub fn application_fee(total: Minor, host_share: Minor) -> Minor {
    (total - host_share).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }

    fn t(status: IntentStatus, received: Minor, s: i64) -> Tracked {
        Tracked {
            status,
            amount_capturable: if status == IntentStatus::RequiresCapture {
                500
            } else {
                0
            },
            amount_received: received,
            decline: None,
            as_of: at(s),
        }
    }

    #[test]
    fn every_test_card_is_a_valid_number() {
        for c in TEST_CARDS {
            assert!(luhn(c.number), "{}", c.number);
            assert_eq!(brand(c.number), c.brand);
            assert_eq!(test_card_by_last4(&c.number[12..]), Some(&c));
        }
        assert!(!luhn("4242424242424241"));
        assert!(!luhn(""));
    }

    #[test]
    fn card_numbers_are_normalized() {
        assert_eq!(
            normalize_card_number("4242 4242-4242 4242").as_deref(),
            Some("4242424242424242")
        );
        assert_eq!(normalize_card_number("4242x"), None);
        assert_eq!(normalize_card_number("42424242424"), None);
        assert_eq!(brand("2221000000000009"), "mastercard");
        assert_eq!(brand("378282246310005"), "amex");
        assert_eq!(brand("6011111111111117"), "discover");
        assert_eq!(brand("9999"), "unknown");
    }

    #[test]
    fn expiry_is_inclusive_of_the_month() {
        let now = Utc.with_ymd_and_hms(2027, 3, 31, 23, 0, 0).unwrap();
        assert!(not_expired(3, 2027, now));
        assert!(!not_expired(2, 2027, now));
        assert!(not_expired(1, 2028, now));
    }

    #[test]
    fn a_success_is_never_undone() {
        let ok = t(IntentStatus::Succeeded, 500, 10);
        let late_failure = t(IntentStatus::Failed, 0, 20);
        assert_eq!(advance(&ok, &late_failure).status, IntentStatus::Succeeded);
        assert_eq!(advance(&ok, &late_failure).amount_received, 500);
        let early = t(IntentStatus::RequiresAction, 0, 0);
        assert_eq!(advance(&early, &ok).status, IntentStatus::Succeeded);
    }

    #[test]
    fn between_equals_the_latest_report_wins() {
        let action = t(IntentStatus::RequiresAction, 0, 10);
        let failed = t(IntentStatus::Failed, 0, 5);
        assert_eq!(
            advance(&action, &failed).status,
            IntentStatus::RequiresAction
        );
        assert_eq!(
            advance(&failed, &action).status,
            IntentStatus::RequiresAction
        );
    }

    #[test]
    fn application_fee_is_all_but_the_host_share() {
        assert_eq!(application_fee(1000, 800), 200);
        assert_eq!(application_fee(1050, 800), 250);
        assert_eq!(application_fee(100, 200), 0);
    }

    fn status() -> impl Strategy<Value = IntentStatus> {
        prop::sample::select(IntentStatus::ALL.to_vec())
    }

    proptest! {
        /// Whatever order the same reports come in, the result is the same.
        #[test]
        fn advancing_is_order_independent(
            reports in prop::collection::vec((status(), 0i64..100), 1..6),
            seed in any::<u64>(),
        ) {
            let reports: Vec<Tracked> = reports
                .into_iter()
                .enumerate()
                // distinct times, as events have
                .map(|(i, (s, time))| {
                    let received = if s == IntentStatus::Succeeded { 500 } else { 0 };
                    t(s, received, time * 10 + i as i64)
                })
                .collect();
            // only one terminal outcome per payment, as at a real provider
            let terminal: Vec<_> = reports.iter().filter(|r| rank(r.status) == 3).map(|r| r.status).collect();
            prop_assume!(terminal.windows(2).all(|w| w[0] == w[1]));
            let start = t(IntentStatus::Processing, 0, -1);
            let fold = |order: &[Tracked]| order.iter().fold(start.clone(), |acc, r| advance(&acc, r));
            let forward = fold(&reports);
            let mut shuffled = reports.clone();
            let mut x = seed;
            for i in (1..shuffled.len()).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (x >> 33) as usize % (i + 1));
            }
            let other = fold(&shuffled);
            prop_assert_eq!(forward.status, other.status);
            prop_assert_eq!(forward.amount_received, other.amount_received);
        }
    }
}

//! Sliding-window rate limits (codes sent, failed logins, one-time-code guesses), and the 429
//! answer when one is hit.
//!
//! The counting happens in the database (the challenges sent and the failed logins are the
//! log), so every node agrees; this file holds the policy, the arithmetic and the response.

use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};

use crate::error::Error;

/// Codes one e-mail address or phone may be sent per window.
pub const PER_IDENTITY_LIMIT: i64 = 3;
/// Codes one client address may ask for per window (a shared NAT gets some slack).
pub const PER_CLIENT_LIMIT: i64 = 20;
pub const WINDOW_SECS: i64 = 15 * 60;

/// Failed logins (wrong password, unknown e-mail, wrong second factor, wrong current password)
/// one account may take per window: enough for a person who forgot which password they used,
/// far too few to guess one.
pub const LOGIN_PER_ACCOUNT_LIMIT: i64 = 10;
/// Failed logins one client address may make per window, over all accounts: a shared NAT
/// (an office, a carrier) gets slack, a password-spraying bot does not.
pub const LOGIN_PER_CLIENT_LIMIT: i64 = 50;

/// One-time-code events per account per day: codes requested plus wrong codes entered.
/// Beyond the per-challenge limit (5 wrong codes), this bounds what an attacker who keeps
/// requesting new codes can guess in a day to 20 in a million.
pub const OTP_PER_ACCOUNT_DAILY_LIMIT: i64 = 20;
pub const DAY_SECS: i64 = 24 * 60 * 60;

/// A limit: at most `max` events in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: i64,
    pub window: Duration,
}

impl Limit {
    pub const PER_IDENTITY: Limit = Limit {
        max: PER_IDENTITY_LIMIT,
        window: Duration::seconds(WINDOW_SECS),
    };
    pub const PER_CLIENT: Limit = Limit {
        max: PER_CLIENT_LIMIT,
        window: Duration::seconds(WINDOW_SECS),
    };
    pub const LOGIN_PER_ACCOUNT: Limit = Limit {
        max: LOGIN_PER_ACCOUNT_LIMIT,
        window: Duration::seconds(WINDOW_SECS),
    };
    pub const LOGIN_PER_CLIENT: Limit = Limit {
        max: LOGIN_PER_CLIENT_LIMIT,
        window: Duration::seconds(WINDOW_SECS),
    };
    pub const OTP_PER_ACCOUNT_DAILY: Limit = Limit {
        max: OTP_PER_ACCOUNT_DAILY_LIMIT,
        window: Duration::seconds(DAY_SECS),
    };

    /// Where the window that ends at `now` starts.
    pub fn since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// Given `count` events since [`Limit::since`] and the oldest of them, `None` if one
    /// more is allowed, else how many whole seconds until the oldest leaves the window
    /// (at least 1, so a client never retries at once).
    pub fn retry_after(
        &self,
        count: i64,
        oldest: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        if count < self.max {
            return None;
        }
        let frees_at = oldest.map_or(now + self.window, |t| t + self.window);
        let millis = (frees_at - now).num_milliseconds().max(0);
        // round up: retrying a fraction of a second early would fail again
        Some(((millis + 999) / 1000).max(1) as u64)
    }
}

/// Answered when a limit is hit: 429 problem+json with `Retry-After` (RFC 6585 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub retry_after_secs: u64,
}

impl IntoResponse for RateLimited {
    fn into_response(self) -> Response {
        Error::from(self).into_response()
    }
}

/// One body shape for every 429, whichever limit was hit.
impl From<RateLimited> for Error {
    fn from(limited: RateLimited) -> Self {
        Error::RateLimited {
            retry_after_secs: limited.retry_after_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn allows_until_the_limit() {
        let limit = Limit::PER_IDENTITY;
        assert_eq!(limit.retry_after(0, None, at(0)), None);
        assert_eq!(limit.retry_after(2, Some(at(-100)), at(0)), None);
        assert_eq!(limit.retry_after(3, Some(at(-100)), at(0)), Some(800));
    }

    #[test]
    fn retry_after_rounds_up_and_is_positive() {
        let limit = Limit::PER_CLIENT;
        let oldest = at(-900) + Duration::milliseconds(1);
        assert_eq!(limit.retry_after(20, Some(oldest), at(0)), Some(1));
        // an oldest already outside the window (clock skew) still says "wait a second"
        assert_eq!(limit.retry_after(20, Some(at(-2000)), at(0)), Some(1));
        assert_eq!(limit.since(at(0)), at(-900));
    }

    #[test]
    fn login_and_daily_limits() {
        let account = Limit::LOGIN_PER_ACCOUNT;
        assert_eq!(account.retry_after(9, Some(at(-60)), at(0)), None);
        assert_eq!(account.retry_after(10, Some(at(-60)), at(0)), Some(840));
        let client = Limit::LOGIN_PER_CLIENT;
        assert_eq!(client.retry_after(49, Some(at(-60)), at(0)), None);
        assert_eq!(client.retry_after(50, Some(at(-60)), at(0)), Some(840));
        let daily = Limit::OTP_PER_ACCOUNT_DAILY;
        assert_eq!(daily.retry_after(19, Some(at(-3600)), at(0)), None);
        assert_eq!(
            daily.retry_after(20, Some(at(-3600)), at(0)),
            Some(23 * 3600)
        );
    }

    #[test]
    fn rate_limited_is_the_crate_error() {
        let err = Error::from(RateLimited {
            retry_after_secs: 5,
        });
        assert_eq!((err.status().as_u16(), err.code()), (429, "rate_limited"));
        let response = RateLimited {
            retry_after_secs: 5,
        }
        .into_response();
        assert_eq!(response.headers()["retry-after"], "5");
    }

    proptest! {
        #[test]
        fn retry_after_is_within_the_window(count in 0i64..50, age in 0i64..900) {
            let limit = Limit::PER_IDENTITY;
            match limit.retry_after(count, Some(at(-age)), at(0)) {
                None => prop_assert!(count < limit.max),
                Some(secs) => {
                    prop_assert!(count >= limit.max);
                    prop_assert!((1..=900).contains(&secs));
                    prop_assert_eq!(secs as i64, (900 - age).max(1));
                }
            }
        }
    }
}

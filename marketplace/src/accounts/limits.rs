//! Sliding-window rate limits for sending codes, and the 429 answer when one is hit.
//!
//! The counting happens in the database (the challenges already sent are the log), so every
//! node agrees; this file holds the arithmetic and the response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// Codes one e-mail address or phone may be sent per window.
pub const PER_IDENTITY_LIMIT: i64 = 3;
/// Codes one client address may ask for per window (a shared NAT gets some slack).
pub const PER_CLIENT_LIMIT: i64 = 20;
pub const WINDOW_SECS: i64 = 15 * 60;

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
        // Built here rather than as a crate `Error` variant because only accounts throttles
        // so far; the body has the same RFC 9457 shape and a stable `code`.
        let body = json!({
            "type": "urn:problem-type:rate_limited",
            "title": "Too many requests",
            "status": 429,
            "detail": format!(
                "too many codes were requested; try again in {} seconds",
                self.retry_after_secs
            ),
            "code": "rate_limited",
        });
        let mut response = (StatusCode::TOO_MANY_REQUESTS, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        );
        response
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

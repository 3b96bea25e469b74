//! `Idempotency-Key`: the one rule for every retried POST (bookings, top-ups, payments), and
//! the headers that carry it. What a key deduplicates is each module's own table.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

use crate::error::Error;

/// The request header.
pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer replayed for a retried key.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// 1 to 255 visible ASCII characters (Stripe's limit too).
pub const KEY_MAX: usize = 255;

pub fn is_valid(key: &str) -> bool {
    (1..=KEY_MAX).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The key a request carries, if any; a header that is not text is a 422 on the header.
pub fn from_headers(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    headers
        .get(HEADER)
        .map(|v| {
            v.to_str()
                .map_err(|_| Error::invalid("Idempotency-Key", "must be visible ASCII characters"))
        })
        .transpose()
}

/// Marks `response` as the replay of an earlier answer when it is one.
pub fn mark_replayed(mut response: Response, replayed: bool) -> Response {
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(is_valid("trip-42"));
        assert!(!is_valid(""));
        assert!(!is_valid("a b"));
        assert!(is_valid(&"k".repeat(255)));
        assert!(!is_valid(&"k".repeat(256)));
    }
}

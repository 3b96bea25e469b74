//! `Idempotency-Key`: the one rule for every retried POST (bookings, top-ups, payments), and
//! the headers that carry it. What a key deduplicates is each module's own table.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, FieldError};

/// The request header.
pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer replayed for a retried key.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// 1 to 255 visible ASCII characters (Stripe's limit too).
pub const KEY_MAX: usize = 255;

pub fn is_valid(key: &str) -> bool {
    (1..=KEY_MAX).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What is wrong with a key that is not [`is_valid`], for a list of field errors.
pub fn key_field_error() -> FieldError {
    FieldError::new(
        "Idempotency-Key",
        format!("must be 1 to {KEY_MAX} visible ASCII characters"),
    )
}

/// The key, if any, when it is valid; else a 422 on the header.
pub fn checked(key: Option<&str>) -> Result<Option<&str>, Error> {
    match key {
        Some(k) if !is_valid(k) => Err(Error::Validation(vec![key_field_error()])),
        other => Ok(other),
    }
}

/// SHA-256 of a request's JSON: a retry with the same key must send the same request.
pub fn request_hash(request: &impl Serialize) -> Result<[u8; 32], Error> {
    let bytes = serde_json::to_vec(request).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Sha256::digest(bytes).into())
}

/// The 422 for a key used before with another request.
pub fn reused() -> Error {
    Error::invalid(
        "Idempotency-Key",
        "was already used with a different request",
    )
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

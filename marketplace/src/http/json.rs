//! `ApiJson<T>`: axum's `Json`, but every rejection is a problem+json [`Error`] that names the
//! offending field, instead of axum's plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, FieldError};

/// JSON request body extractor and response wrapper.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        if !is_json(req.headers()) {
            return Err(Error::UnsupportedMediaType(
                "expected `Content-Type: application/json`".into(),
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        Self::from_bytes(&bytes)
    }
}

/// A body read as bytes, for routes that parse it themselves (an optional JSON body, a signed
/// webhook); a body past the limit is a problem+json 413 like everywhere else.
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge
            } else {
                Error::BadRequest {
                    code: "unreadable_body",
                    detail: rejection.body_text(),
                }
            }
        })?;
        Ok(Self(bytes))
    }
}

impl<T: DeserializeOwned> ApiJson<T> {
    /// Parses a body. Data errors (wrong type, missing field, unknown enum value) are a 422
    /// naming the field; syntax errors are a 400 giving the line and column.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(data_or_syntax_error)?;
        // Trailing garbage after the value is a syntax error, as in axum's `Json`.
        de.end().map_err(|err| malformed(&err))?;
        // Well-formed, but PostgreSQL could not store it.
        if let Some(err) = super::storable::body_nul_error(bytes) {
            return Err(err);
        }
        Ok(Self(value))
    }

    /// A body that may also be left out entirely (empty or only whitespace): `None`. A body
    /// that is there obeys the same rules as the extractor's.
    pub fn optional(headers: &HeaderMap, body: &[u8]) -> Result<Option<T>, Error> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        if !is_json(headers) {
            return Err(Error::UnsupportedMediaType(
                "expected `Content-Type: application/json`".into(),
            ));
        }
        Self::from_bytes(body).map(|ApiJson(v)| Some(v))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `application/json` or any `application/*+json`, parameters (charset) allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

/// With serde_json's `arbitrary_precision` (which another crate of the workspace turns on), a
/// number is read through a map with this private key, which then shows in the path.
const PRIVATE_NUMBER_KEY: &str = ".$serde_json::private::Number";

fn data_or_syntax_error(err: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = err.path().to_string();
    let path = path
        .strip_suffix(PRIVATE_NUMBER_KEY)
        .map(str::to_owned)
        .unwrap_or(path);
    let inner = err.into_inner();
    if inner.classify() != serde_json::error::Category::Data {
        return malformed(&inner);
    }
    let message = without_position(&inner);
    // serde reports a missing field at the path of the object that should hold it: append the
    // field's name so a client can highlight it. An unknown field's path is already its own.
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'));
    let (field, message) = match missing {
        Some((name, _)) => (join(&path, name), "is required"),
        None if message.starts_with("unknown field `") => (path, "is not a known field"),
        None if path == "." => {
            return Error::BadRequest {
                code: "invalid_body",
                detail: format!("the body has the wrong shape: {message}"),
            }
        }
        None => (path, message.as_str()),
    };
    Error::Validation(vec![FieldError::new(field, message)])
}

fn malformed(err: &serde_json::Error) -> Error {
    Error::BadRequest {
        code: "malformed_json",
        detail: format!("the body is not valid JSON: {err}"),
    }
}

/// serde_json appends " at line L column C", which means nothing next to a field name.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

fn join(path: &str, field: &str) -> String {
    if path == "." {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // the fields are only read by the deserializer under test
    struct Body {
        email: String,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        count: u32,
    }

    fn field_error(body: &str) -> FieldError {
        match ApiJson::<Body>::from_bytes(body.as_bytes()) {
            Err(Error::Validation(mut errors)) => errors.remove(0),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn names_missing_field() {
        let err = field_error(r#"{"items": []}"#);
        assert_eq!(err, FieldError::new("email", "is required"));
    }

    #[test]
    fn names_nested_wrong_type() {
        let err = field_error(r#"{"email": "a@b.c", "items": [{"count": 1}, {"count": "x"}]}"#);
        assert_eq!(err.field, "items[1].count");
        assert!(err.message.starts_with("invalid type"), "{}", err.message);
    }

    #[test]
    fn names_unknown_field() {
        let err = field_error(r#"{"email": "a@b.c", "items": [], "emial": 1}"#);
        assert_eq!(err, FieldError::new("emial", "is not a known field"));
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        for body in ["{", "", "{\"email\": }", "{\"email\":\"a\",\"items\":[]} x"] {
            let err = ApiJson::<Body>::from_bytes(body.as_bytes()).unwrap_err();
            assert_eq!(err.code(), "malformed_json", "{body:?}");
        }
    }

    #[test]
    fn wrong_root_shape_is_a_bad_request() {
        let err = ApiJson::<Body>::from_bytes(b"[]").unwrap_err();
        assert_eq!(err.code(), "invalid_body");
    }

    #[test]
    fn recognises_json_content_types() {
        let check = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            is_json(&headers)
        };
        assert!(check("application/json"));
        assert!(check("Application/JSON; charset=utf-8"));
        assert!(check("application/merge-patch+json"));
        assert!(!check("text/json"));
        assert!(!check("application/x-www-form-urlencoded"));
        assert!(!is_json(&HeaderMap::new()));
    }
}

//! Input PostgreSQL cannot store is refused at the door with a 4xx naming the field, instead of
//! failing as a 500 deep inside a query: a `text` value cannot hold the NUL character
//! (U+0000), whether it came in a JSON body, a query string or a path. OCPP messages go
//! through [`nul_path`] too.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_decode::decode;
use serde_json::Value;

use crate::error::{Error, FieldError};

const MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// The JSON path (`/a/0/b`, an object key's own path for a key) of the first string in
/// `value` that holds a NUL character.
pub fn nul_path(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(String::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v).map(|p| format!("/{i}{p}"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(format!("/{}", k.replace('\0', "\\u0000")))
            } else {
                nul_path(v).map(|p| format!("/{k}{p}"))
            }
        }),
        _ => None,
    }
}

/// A JSON body's NUL as a field error (`items[0].name`), when it has one. JSON can only
/// carry NUL escaped, so bodies without the escape are not walked.
pub fn body_nul_error(bytes: &[u8]) -> Option<Error> {
    const ESCAPE: &[u8] = b"\\u0000";
    if !bytes.windows(ESCAPE.len()).any(|w| w == ESCAPE) {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    nul_path(&value).map(|path| Error::invalid(dotted(&path), MESSAGE))
}

/// `/items/0/name` → `items[0].name`, the way field errors name fields.
fn dotted(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

/// Middleware: a path or query parameter that decodes to a NUL character is a 422 naming it.
pub async fn refuse_nul_in_uri(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let mut errors = Vec::new();
    if decode(uri.path().as_bytes()).contains(&0) {
        errors.push(FieldError::new("path", MESSAGE));
    }
    if let Some(query) = uri.query() {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if name.contains('\0') || value.contains('\0') {
                errors.push(FieldError::new(name.replace('\0', "\\u0000"), MESSAGE));
            }
        }
    }
    if errors.is_empty() {
        next.run(request).await
    } else {
        Error::Validation(errors).into_response()
    }
}

mod percent_decode {
    /// Percent-decodes bytes as a path segment is (no `+` for space); malformed escapes stay.
    pub fn decode(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len());
        let mut i = 0;
        while i < input.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            match (input[i], input.get(i + 1), input.get(i + 2)) {
                (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                    out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                    i += 3;
                }
                (b, _, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_first_nul_with_its_path() {
        assert_eq!(
            nul_path(&json!({"a": "ok", "b": [1, "x\u{0}"]})),
            Some("/b/1".into())
        );
        assert_eq!(
            nul_path(&json!({"a": {"b\u{0}": 1}})),
            Some("/a/b\\u0000".into())
        );
        assert_eq!(nul_path(&json!({"a": ["fine", 2, null]})), None);
        assert_eq!(nul_path(&json!("\u{0}")), Some(String::new()));
    }

    #[test]
    fn bodies_name_the_field() {
        let err = body_nul_error(br#"{"items":[{"name":"a\u0000b"}]}"#).unwrap();
        match err {
            Error::Validation(errors) => assert_eq!(errors[0].field, "items[0].name"),
            other => panic!("{other:?}"),
        }
        // an escaped backslash before `u0000` is text, not a NUL
        assert!(body_nul_error(br#"{"a":"\\u0000"}"#).is_none());
        assert!(body_nul_error(br#"{"a":"plain"}"#).is_none());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode::decode(b"/a%00b"), b"/a\0b");
        assert_eq!(percent_decode::decode(b"/%zz%4"), b"/%zz%4");
        assert_eq!(percent_decode::decode(b"/%41"), b"/A");
    }
}

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::{Direction, ErrorCode, Violation};

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

/// Longest `Violation::description`; the peer gets it in a CALLERROR and logs it, so an
/// attacker-sized enum value or string must not be echoed back in full.
const MAX_DESCRIPTION: usize = 300;
/// Longest rendering of an offending value inside a description.
const MAX_VALUE: usize = 64;

/// One cell per (action, direction), laid out `2 * action + direction`. `OnceLock` makes a
/// racing first use compile the schema exactly once while the other callers wait.
static VALIDATORS: [OnceLock<Validator>; 2 * ACTION_COUNT] =
    [const { OnceLock::new() }; 2 * ACTION_COUNT];

pub(crate) fn action_names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|(name, _, _)| *name)
}

pub(crate) fn action_name_at(index: usize) -> &'static str {
    ACTIONS[index].0
}

pub(crate) fn action_index(action: &str) -> Option<usize> {
    ACTIONS
        .binary_search_by(|(name, _, _)| (*name).cmp(action))
        .ok()
}

pub(crate) fn validator(index: usize, direction: Direction) -> &'static Validator {
    let (name, request, response) = ACTIONS[index];
    let (slot, source, suffix) = match direction {
        Direction::Request => (2 * index, request, "Request"),
        Direction::Response => (2 * index + 1, response, "Response"),
    };
    VALIDATORS[slot].get_or_init(|| compile(name, suffix, source))
}

/// The embedded files are fixed at build time and every one is compiled by the test suite, so a
/// failure here is a packaging bug, not a condition callers could handle.
fn compile(name: &str, suffix: &str, source: &str) -> Validator {
    let schema: Value = serde_json::from_str(source)
        .unwrap_or_else(|e| panic!("embedded schema {name}{suffix}.json is not JSON: {e}"));
    jsonschema::draft6::options()
        // Draft 6 asserts `format` by default already; saying so keeps `date-time` checked
        // even if a later jsonschema changes that default.
        .should_validate_formats(true)
        // Every `$ref` is local (`#/definitions/...`); never fetch anything.
        .offline()
        .build(&schema)
        .unwrap_or_else(|e| panic!("embedded schema {name}{suffix}.json does not compile: {e}"))
}

pub(crate) fn validate(
    action: &str,
    direction: Direction,
    payload: &Value,
) -> Result<(), Violation> {
    let Some(index) = action_index(action) else {
        return Err(Violation {
            code: ErrorCode::NotImplemented,
            description: "Requested Action is not known by receiver".to_owned(),
            instance_path: String::new(),
        });
    };
    if !payload.is_object() {
        return Err(Violation {
            code: ErrorCode::FormatViolation,
            description: format!("payload must be a JSON object, got {}", json_type(payload)),
            instance_path: String::new(),
        });
    }
    let validator = validator(index, direction);
    // `is_valid` tracks no instance locations, which made valid messages (nearly all of
    // them) measurably cheaper in examples/validate_bench.rs; only an invalid payload pays
    // for the second, error-collecting pass.
    if validator.is_valid(payload) {
        return Ok(());
    }
    validator
        .validate(payload)
        .map_err(|error| violation(&error))
}

fn violation(error: &ValidationError<'_>) -> Violation {
    use ValidationErrorKind as K;

    let path = error.instance_path().as_str();
    let value = || short_json(error.instance());
    let (code, instance_path, message) = match error.kind() {
        K::Type { kind } => (
            ErrorCode::TypeConstraintViolation,
            path.to_owned(),
            format!(
                "expected {}, got {}",
                expected_types(kind),
                json_type(error.instance())
            ),
        ),
        K::MaxLength { limit } => (
            ErrorCode::TypeConstraintViolation,
            path.to_owned(),
            format!("string longer than {limit} characters"),
        ),
        K::Required { property } => (
            ErrorCode::OccurrenceConstraintViolation,
            child_path(path, property.as_str().unwrap_or_default()),
            "required property is missing".to_owned(),
        ),
        K::MinItems { limit } => (
            ErrorCode::OccurrenceConstraintViolation,
            path.to_owned(),
            format!("array needs at least {limit} item(s)"),
        ),
        K::MaxItems { limit } => (
            ErrorCode::OccurrenceConstraintViolation,
            path.to_owned(),
            format!("array allows at most {limit} item(s)"),
        ),
        K::AdditionalProperties { unexpected } => {
            let first = unexpected.first().map(String::as_str).unwrap_or_default();
            let message = match unexpected.len() {
                0 | 1 => "property is not defined by the schema".to_owned(),
                n => format!(
                    "property is not defined by the schema ({} more: {})",
                    n - 1,
                    unexpected[1..].join(", ")
                ),
            };
            (ErrorCode::FormatViolation, child_path(path, first), message)
        }
        K::Enum { options } => (
            ErrorCode::PropertyConstraintViolation,
            path.to_owned(),
            format!("{} is not one of {options}", value()),
        ),
        K::Minimum { limit } => (
            ErrorCode::PropertyConstraintViolation,
            path.to_owned(),
            format!("{} is less than the minimum of {limit}", value()),
        ),
        K::Maximum { limit } => (
            ErrorCode::PropertyConstraintViolation,
            path.to_owned(),
            format!("{} is greater than the maximum of {limit}", value()),
        ),
        K::Format { format } => (
            ErrorCode::PropertyConstraintViolation,
            path.to_owned(),
            format!("{} is not a valid {format}", value()),
        ),
        K::Pattern { pattern } => (
            ErrorCode::PropertyConstraintViolation,
            path.to_owned(),
            format!("{} does not match {pattern:?}", value()),
        ),
        _ => (
            ErrorCode::PropertyConstraintViolation,
            path.to_owned(),
            error.to_string(),
        ),
    };
    let location = if instance_path.is_empty() {
        "payload"
    } else {
        instance_path.as_str()
    };
    Violation {
        code,
        description: truncate(format!("{location}: {message}"), MAX_DESCRIPTION),
        instance_path,
    }
}

/// JSON Pointer of a property of the object at `parent` (RFC 6901 escaping).
fn child_path(parent: &str, property: &str) -> String {
    let mut path = String::with_capacity(parent.len() + property.len() + 1);
    path.push_str(parent);
    path.push('/');
    path.push_str(&property.replace('~', "~0").replace('/', "~1"));
    path
}

fn expected_types(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(ty) => ty.as_str().to_owned(),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|ty| ty.as_str())
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn short_json(value: &Value) -> String {
    truncate(value.to_string(), MAX_VALUE)
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max - '…'.len_utf8();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(ACTIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        let long = "é".repeat(400);
        let cut = truncate(long, MAX_DESCRIPTION);
        assert!(cut.len() <= MAX_DESCRIPTION);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short".to_owned(), 10), "short");
    }

    #[test]
    fn child_path_escapes_pointer_characters() {
        assert_eq!(child_path("", "a/b~c"), "/a~1b~0c");
        assert_eq!(child_path("/x/0", "y"), "/x/0/y");
    }
}

//! The official OCPP 2.0.1 JSON schemas, unchanged, and validators compiled from them once.
//!
//! The 128 files in `schemas/` (one `<Action>Request.json` and one `<Action>Response.json` for
//! each of the 64 actions) are copied byte-for-byte from the Python package `ocpp` 2.1.0 (The
//! Mobility House, MIT), which ships the schemas the Open Charge Alliance publishes with OCPP
//! 2.0.1; see `NOTICE`. `build.rs` embeds them, so nothing is read from disk at run time. Each
//! validator is compiled on first use (or all at once by [`warm_up`]) and then shared.
//!
//! The schemas are draft-06 and only use local references (`#/definitions/...`), which are
//! resolved in memory; remote fetching is disabled. `format: date-time` is checked (RFC 3339,
//! so a timestamp without a UTC offset is rejected). As draft-06 says, `12.0` is a valid
//! `integer`.
//!
//! ```
//! use ocpp_schemas::{validate, Direction, ErrorCode};
//! use serde_json::json;
//!
//! let boot = json!({"reason": 5, "chargingStation": {"model": "M1", "vendorName": "V"}});
//! let violation = validate("BootNotification", Direction::Request, &boot).unwrap_err();
//! assert_eq!(violation.code, ErrorCode::TypeConstraintViolation);
//! assert_eq!(violation.instance_path, "/reason");
//! assert_eq!(violation.description, "/reason: expected string, got integer");
//! ```
//!
//! # Error codes
//!
//! [`validate`] reports the first failure the validator finds (the order is fixed, so the
//! same payload always gets the same answer) as a [`Violation`] whose [`ErrorCode`] follows
//! the definitions in OCPP-J 2.0.1 Part 4, section 4.3:
//!
//! | Failure | Code | Why |
//! |---|---|---|
//! | action has no schema | `NotImplemented` | "Requested Action is not known by receiver" |
//! | payload is not a JSON object | `FormatViolation` | every OCPP payload is an object; anything else is syntactically wrong |
//! | `additionalProperties` | `FormatViolation` | a field the message does not define means the payload's structure is wrong, not one value |
//! | `type` | `TypeConstraintViolation` | the field has the wrong data type (the spec's example: `"somestring": 12`) |
//! | `maxLength` | `TypeConstraintViolation` | OCPP strings are typed `string[N]`; the length is part of the data type |
//! | `required` | `OccurrenceConstraintViolation` | a field with cardinality 1 occurs 0 times |
//! | `minItems`, `maxItems` | `OccurrenceConstraintViolation` | the number of occurrences of a list field (`1..*`, `1..3`) is wrong |
//! | `enum`, `minimum`, `maximum`, `pattern`, `format`, anything else | `PropertyConstraintViolation` | well-typed field with a value it may not take |
//!
//! [`Violation::instance_path`] is a JSON Pointer (`""` for the payload itself). For
//! `required` it points at the missing property and for `additionalProperties` at the first
//! unexpected one, so it always names the field. [`Violation::description`] repeats the path
//! with a short message and is capped at 300 bytes.
//!
//! # rust-ocpp 3.0.4
//!
//! Where `rust_ocpp::v2_0_1` disagrees with the schemas the schema wins. The disagreements
//! (e.g. `ConsumptionCostType.startValue` is a `number` but an `i32` in rust-ocpp, and
//! rust-ocpp drops every `customData`) are listed in [`types`], which has owned replacements
//! for the affected messages.

mod error_code;
pub mod frame;
pub mod types;
mod validation;

pub use error_code::{ErrorCode, UnknownErrorCode};

/// Which half of an action's request/response pair a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}

/// Why a payload failed validation, ready to be sent back in a CALLERROR.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct Violation {
    pub code: ErrorCode,
    /// Short, human-readable, names the field; at most 300 bytes.
    pub description: String,
    /// JSON Pointer to the offending field, `""` for the whole payload.
    pub instance_path: String,
}

/// Validates `payload` against the schema of `action` (e.g. `"BootNotification"`) in
/// `direction`. Compiles that schema on first use.
pub fn validate(
    action: &str,
    direction: Direction,
    payload: &serde_json::Value,
) -> Result<(), Violation> {
    validation::validate(action, direction, payload)
}

/// Whether `action` has a Request schema, i.e. is an OCPP 2.0.1 action.
pub fn is_known_action(action: &str) -> bool {
    validation::action_index(action).is_some()
}

/// The action's name as a `&'static str` (e.g. for metric labels), if it is known.
pub fn action_name(action: &str) -> Option<&'static str> {
    validation::action_index(action).map(validation::action_name_at)
}

/// All 64 action names, sorted.
pub fn actions() -> impl Iterator<Item = &'static str> {
    validation::action_names()
}

/// Compiles every validator now, so that the first message of each action is not slowed down
/// by compiling its schema. Idempotent and cheap once done.
pub fn warm_up() {
    for index in 0..actions().count() {
        validation::validator(index, Direction::Request);
        validation::validator(index, Direction::Response);
    }
}

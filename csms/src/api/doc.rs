//! What the operator routes' documentation shares beyond `marketplace::http::doc`: the closed
//! sets of names handlers check by hand (their schemas are built from the very lists the
//! handlers check against, so the two cannot drift), and the answers of a call to a station.

use marketplace::http::doc::Problem;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// A string schema taking exactly `values`.
fn one_of(description: &str, values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.iter().copied()))
        .into()
}

/// A schema for a closed set of names kept as a `&[&str]`: a type that is never built, only
/// named in `#[utoipa::path]` and `#[schema(value_type = …)]`.
macro_rules! closed_set {
    ($(#[doc = $doc:literal])+ $name:ident = $values:expr) => {
        $(#[doc = $doc])+
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let lines: &[&str] = &[$($doc),+];
                let text: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
                one_of(&text.join(" "), $values)
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

closed_set!(
    /// OCPP 2.0.1 IdTokenEnumType.
    IdTokenType = super::id_tokens::TOKEN_TYPES
);

closed_set!(
    /// OCPP 2.0.1 AuthorizationStatusEnumType, less `Unknown` (which means "not stored").
    IdTokenStatus = super::id_tokens::STATUSES
);

closed_set!(
    /// Whether the CSMS accepts the station's BootNotification (OCPP RegistrationStatusEnumType).
    RegistrationStatus = super::stations::REGISTRATION_STATUSES
);

closed_set!(
    /// Where a claim stands: `pending` until an operator decides, or `approved` / `rejected`.
    ClaimStatus = super::station_claims::CLAIM_STATUSES
);

closed_set!(
    /// How a claim was proved: the station's `password` (decided at once) or an `operator`'s
    /// decision.
    ClaimProof = super::station_claims::CLAIM_PROOFS
);

closed_set!(
    /// A CSMS-initiated OCPP 2.0.1 action an operator may send (`csms::api::OUTGOING_ACTIONS`).
    OutgoingAction = super::OUTGOING_ACTIONS
);

/// Any OCPP payload: a JSON object checked against the official OCPP 2.0.1 schema of the
/// action (the request before it is sent, the station's answer when it comes).
pub struct OcppPayload;

impl utoipa::PartialSchema for OcppPayload {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "An OCPP 2.0.1 payload, as the official JSON schema of the action defines it",
            ))
            .into()
    }
}

impl utoipa::ToSchema for OcppPayload {}

/// Routes whose query is read by [`super::ApiQuery`]: parameters the route does not know are
/// ignored, the ones it knows are checked.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // never built: only its documentation is read
pub enum PageQuery {
    /// `limit` (1 to 500) or `offset` (0 or more) is out of range, or a parameter has the wrong
    /// type or is repeated (`query`); each is named in `errors` (`validation_failed`)
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// What a call to a station can meet once it is on its way, besides the station's own answer.
/// (A station that is not connected is a 404 and a payload that breaks the action's schema a
/// 422; each route names them with its own fields.)
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // never built: only its documentation is read
pub enum StationCall {
    /// The station answered with a CALLERROR (`station_call_error`), with an answer that breaks
    /// the action's OCPP schema (`station_invalid_response`), or disconnected before it
    /// answered (`station_disconnected`)
    #[response(status = 502, content_type = "application/problem+json")]
    BadGateway(Problem),
    /// Too many calls are queued for this station (`service_unavailable`)
    #[response(status = 503, content_type = "application/problem+json")]
    Busy(Problem),
    /// The station did not answer in time (`gateway_timeout`)
    #[response(status = 504, content_type = "application/problem+json")]
    Timeout(Problem),
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    #[test]
    fn closed_sets_list_the_handlers_values() {
        let schema = serde_json::to_value(IdTokenType::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["enum"][1], "eMAID");
        assert_eq!(
            schema["enum"].as_array().unwrap().len(),
            super::super::id_tokens::TOKEN_TYPES.len()
        );
        assert_eq!(
            schema["description"], "OCPP 2.0.1 IdTokenEnumType.",
            "{schema}"
        );
        let proof = serde_json::to_value(ClaimProof::schema()).unwrap();
        assert!(proof["description"]
            .as_str()
            .unwrap()
            .ends_with("`password` (decided at once) or an `operator`'s decision."));
    }
}

use axum::extract::{Path, State};
use marketplace::accounts::RequireOperator;
use marketplace::error::Error;
use marketplace::http::doc::{JsonBody, Problem, RoleOnly};
use marketplace::http::ApiJson;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::doc::{OcppPayload, OutgoingAction, StationCall};
use crate::app::AppState;
use crate::ocpp::gateway::CallFailure;

/// CSMS-initiated actions an operator may send as raw OCPP payloads.
pub const OUTGOING_ACTIONS: &[&str] = &[
    "RequestStartTransaction",
    "RequestStopTransaction",
    "Reset",
    "ChangeAvailability",
    "UnlockConnector",
    "TriggerMessage",
    "GetVariables",
    "SetVariables",
    "GetBaseReport",
    "GetTransactionStatus",
    "ClearCache",
    "DataTransfer",
    "ReserveNow",
    "CancelReservation",
];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(call))
}

/// Send a raw OCPP call
///
/// **Roles:** operator, admin.
///
/// The body is the OCPP payload, checked against the action's official schema before it is
/// sent; the answer is the station's response payload, checked against its schema too.
#[utoipa::path(
    post,
    path = "/api/stations/{id}/calls/{action}",
    tag = "stations",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "OCPP stationId"),
        ("action" = inline(OutgoingAction), Path,
            description = "CSMS-initiated OCPP action (`csms::api::OUTGOING_ACTIONS`)"),
    ),
    request_body = OcppPayload,
    responses(
        (status = 200, description = "The station's response payload", body = OcppPayload),
        RoleOnly,
        JsonBody,
        (status = 404, description = "The station is not connected, or the action is not one \
            of these (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The payload breaks the action's OCPP schema; `errors` \
            names the field by its dotted path in the payload (`payload`: the whole of it, e.g. \
            not an object) and the OCPP error code (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
        StationCall,
    )
)]
async fn call(
    _: RequireOperator,
    State(app): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    ApiJson(payload): ApiJson<Value>,
) -> Result<ApiJson<Value>, Error> {
    if !OUTGOING_ACTIONS.contains(&action.as_str()) {
        return Err(Error::NotFound("action"));
    }
    let answer = app
        .gateway
        .call(&id, &action, payload)
        .await
        .map_err(|f| call_failure(&id, f, |p| p.trim_start_matches('/').replace('/', ".")))?;
    Ok(ApiJson(answer))
}

/// What the REST caller sees when a call to a station fails.
pub(super) fn call_failure(
    station: &str,
    failure: CallFailure,
    field: impl Fn(&str) -> String,
) -> Error {
    match failure {
        CallFailure::NotConnected => {
            tracing::debug!(station, "call to a station that is not connected");
            Error::NotFound("connected station")
        }
        CallFailure::InvalidRequest(v) => {
            let name = if v.instance_path.is_empty() {
                "payload".to_owned()
            } else {
                field(&v.instance_path)
            };
            Error::invalid(name, format!("{}: {}", v.code.as_str(), v.description))
        }
        CallFailure::Timeout => Error::GatewayTimeout("the station did not answer in time".into()),
        CallFailure::Busy => {
            Error::Unavailable("too many calls are queued for this station".into())
        }
        CallFailure::CallError {
            code, description, ..
        } => Error::BadGateway {
            code: "station_call_error",
            detail: format!("the station answered {code}: {description}"),
        },
        CallFailure::InvalidResponse(v) => Error::BadGateway {
            code: "station_invalid_response",
            detail: format!("the station's answer violates the OCPP schema: {v}"),
        },
        CallFailure::ConnectionLost => Error::BadGateway {
            code: "station_disconnected",
            detail: "the station disconnected before it answered".into(),
        },
    }
}

use axum::extract::{Path, State};
use axum::routing::post;
use axum::Router;
use marketplace::accounts::RequireOperator;
use marketplace::error::Error;
use marketplace::http::ApiJson;
use serde_json::Value;

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

pub fn router() -> Router<AppState> {
    Router::new().route("/api/stations/{id}/calls/{action}", post(call))
}

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

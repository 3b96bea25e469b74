use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use marketplace::accounts::RequireOperator;
use marketplace::error::{Error, FieldError};
use marketplace::http::ApiJson;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::calls::call_failure;
use super::{ApiQuery, Page};
use crate::app::{AppState, Mode};
use crate::ocpp::auth::{hash_password, valid_station_password};
use crate::ocpp::upgrade::valid_station_id;
use crate::store::stations::{self, StationRow};
use crate::store::transactions::{self, TransactionFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/stations", get(list))
        .route("/api/stations/{id}", get(show).put(provision))
        .route("/api/stations/{id}/remote-start", post(remote_start))
        .route("/api/stations/{id}/remote-stop", post(remote_stop))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StationView {
    #[serde(flatten)]
    row: StationRow,
    connected: bool,
}

async fn list(
    _: RequireOperator,
    State(app): State<AppState>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<ApiJson<Value>, Error> {
    let page = page.checked()?;
    let rows = stations::list(&app.api.pool, page.limit, page.offset).await?;
    let total = stations::count(&app.api.pool).await?;
    let registry = app.gateway.registry();
    let items: Vec<StationView> = rows
        .into_iter()
        .map(|row| StationView {
            connected: registry.is_connected(&row.id),
            row,
        })
        .collect();
    Ok(ApiJson(
        json!({ "items": items, "total": total, "limit": page.limit, "offset": page.offset }),
    ))
}

async fn show(
    _: RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<ApiJson<Value>, Error> {
    let row = stations::get(&app.api.pool, &id)
        .await?
        .ok_or(Error::NotFound("station"))?;
    let connectors = stations::connectors(&app.api.pool, &id).await?;
    let active = transactions::list(
        &app.api.pool,
        &TransactionFilter {
            station_id: Some(id.clone()),
            active: Some(true),
            limit: 100,
            ..Default::default()
        },
    )
    .await?;
    let connection = app.gateway.registry().get(&id).map(
        |h| json!({ "connectedAt": h.connected_at, "tls": h.tls, "subprotocol": h.subprotocol }),
    );
    let mut evses: Vec<Value> = Vec::new();
    for c in connectors {
        let connector = json!({ "connectorId": c.connector_id, "status": c.status, "reportedAt": c.reported_at });
        match evses.last_mut() {
            Some(e) if e["evseId"] == c.evse_id => {
                if let Some(list) = e["connectors"].as_array_mut() {
                    list.push(connector);
                }
            }
            _ => evses.push(json!({ "evseId": c.evse_id, "connectors": [connector] })),
        }
    }
    let mut body = serde_json::to_value(StationView {
        connected: connection.is_some(),
        row,
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    body["connection"] = connection.unwrap_or(Value::Null);
    body["evses"] = Value::Array(evses);
    body["activeTransactions"] =
        serde_json::to_value(active).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(ApiJson(body))
}

/// A station provisioned without a profile: TLS with Basic auth, what OCPP 2.0.1 expects of
/// a station that has no client certificate.
const NEW_STATION_PROFILE: i16 = 2;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Provisioning {
    /// Unset: the station's current profile, 2 (TLS + Basic auth) for a new one.
    security_profile: Option<i16>,
    password: Option<String>,
    #[serde(default = "accepted")]
    registration_status: String,
}

fn accepted() -> String {
    "Accepted".into()
}

/// Creates or updates how a station must connect (its security profile and Basic auth
/// password) and whether the CSMS accepts it.
async fn provision(
    _: RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Provisioning>,
) -> Result<(StatusCode, ApiJson<StationRow>), Error> {
    let mut errors = Vec::new();
    if !valid_station_id(&id) {
        errors.push(FieldError::new(
            "id",
            "1 to 48 characters of A-Z a-z 0-9 * - _ = + | @ .",
        ));
    }
    let existing = stations::get(&app.api.pool, &id).await?;
    let profile = body
        .security_profile
        .or(existing.as_ref().map(|s| s.security_profile))
        .unwrap_or(NEW_STATION_PROFILE);
    if !(0..=3).contains(&profile) {
        errors.push(FieldError::new("securityProfile", "must be 0, 1, 2 or 3"));
    } else if profile == 0 && app.mode() == Mode::Production {
        errors.push(FieldError::new(
            "securityProfile",
            "0 (no authentication) exists only in development mode",
        ));
    }
    if let Some(p) = &body.password {
        if !valid_station_password(p) {
            errors.push(FieldError::new(
                "password",
                "must be 16 to 40 characters (OCPP BasicAuthPassword)",
            ));
        }
    }
    if !["Accepted", "Pending", "Rejected"].contains(&body.registration_status.as_str()) {
        errors.push(FieldError::new(
            "registrationStatus",
            "must be Accepted, Pending or Rejected",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let existed = existing.is_some();
    let hash = match body.password {
        Some(p) => Some(
            tokio::task::spawn_blocking(move || hash_password(&p))
                .await
                .map_err(|e| Error::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let row = stations::upsert_provisioning(
        &app.api.pool,
        &id,
        profile,
        hash.as_deref(),
        &body.registration_status,
    )
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d)
            if d.constraint() == Some("stations_basic_auth_needs_password") =>
        {
            Error::invalid("password", "security profiles 1 and 2 need a password")
        }
        other => Error::Database(other),
    })?;
    Ok((
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        ApiJson(row),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RemoteStart {
    evse_id: Option<i32>,
    id_token: String,
    #[serde(default = "central")]
    id_token_type: String,
}

fn central() -> String {
    "Central".into()
}

async fn remote_start(
    _: RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RemoteStart>,
) -> Result<ApiJson<Value>, Error> {
    let remote_start_id: i32 = rand::random::<u16>() as i32 + 1;
    let mut payload = json!({
        "idToken": { "idToken": body.id_token, "type": body.id_token_type },
        "remoteStartId": remote_start_id,
    });
    if let Some(evse) = body.evse_id {
        payload["evseId"] = json!(evse);
    }
    let mut answer = app
        .gateway
        .call(&id, "RequestStartTransaction", payload)
        .await
        .map_err(|f| call_failure(&id, f, field_names))?;
    answer["remoteStartId"] = json!(remote_start_id);
    Ok(ApiJson(answer))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RemoteStop {
    transaction_id: String,
}

async fn remote_stop(
    _: RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RemoteStop>,
) -> Result<ApiJson<Value>, Error> {
    let payload = json!({ "transactionId": body.transaction_id });
    let answer = app
        .gateway
        .call(&id, "RequestStopTransaction", payload)
        .await
        .map_err(|f| call_failure(&id, f, field_names))?;
    Ok(ApiJson(answer))
}

/// Maps a schema path of the OCPP payload back to the REST body's field names.
fn field_names(path: &str) -> String {
    match path {
        "/idToken/idToken" => "idToken".into(),
        "/idToken/type" => "idTokenType".into(),
        "/evseId" => "evseId".into(),
        "/transactionId" => "transactionId".into(),
        other => other.trim_start_matches('/').replace('/', "."),
    }
}

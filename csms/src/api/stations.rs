use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use marketplace::accounts::RequireOperator;
use marketplace::error::{Error, FieldError};
use marketplace::http::doc::{JsonBody, Problem, RoleOnly};
use marketplace::http::ApiJson;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::calls::call_failure;
use super::doc::{IdTokenType, OcppPayload, PageQuery, RegistrationStatus, StationCall};
use super::{ApiQuery, Page};
use crate::app::{AppState, Mode};
use crate::ocpp::auth::{hash_password, valid_station_password};
use crate::ocpp::upgrade::valid_station_id;
use crate::store::stations::{self, StationRow};
use crate::store::transactions::{self, TransactionFilter, TransactionRow};

/// The registration statuses an operator may set.
pub const REGISTRATION_STATUSES: &[&str] = &["Accepted", "Pending", "Rejected"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show, provision))
        .routes(routes!(remote_start))
        .routes(routes!(remote_stop))
}

/// A station with whether it is connected to this node right now.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Station)]
struct StationView {
    #[serde(flatten)]
    row: StationRow,
    /// Whether the station has a socket open to this node right now.
    connected: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
struct StationPage {
    items: Vec<StationView>,
    total: i64,
    limit: i64,
    offset: i64,
}

/// The station's socket to this node.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StationConnection)]
struct Connection {
    connected_at: DateTime<Utc>,
    /// Whether the socket is TLS (security profiles 2 and 3).
    tls: bool,
    /// The OCPP subprotocol agreed on.
    #[schema(example = "ocpp2.0.1")]
    subprotocol: &'static str,
}

/// A connector's last reported status.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ConnectorStatus {
    connector_id: i32,
    /// OCPP ConnectorStatusEnumType, as the station reported it.
    #[schema(example = "Available")]
    status: String,
    reported_at: DateTime<Utc>,
}

/// An EVSE and its connectors, as the station reported them.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Evse {
    evse_id: i32,
    connectors: Vec<ConnectorStatus>,
}

/// A station with its connection, EVSEs and open transactions.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct StationDetail {
    #[serde(flatten)]
    station: StationView,
    /// `null` when not connected.
    #[schema(required)]
    connection: Option<Connection>,
    /// By EVSE, then connector; only those that reported a status.
    evses: Vec<Evse>,
    /// Up to 100 transactions not ended yet, newest first.
    active_transactions: Vec<TransactionRow>,
}

/// List stations
///
/// **Roles:** operator, admin.
///
/// A page of stations, by id, each with whether it is connected to this node.
#[utoipa::path(
    get,
    path = "/api/stations",
    tag = "stations",
    security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "Page size (50)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip (0)"),
    ),
    responses(
        (status = 200, description = "A page of stations, by id", body = StationPage),
        RoleOnly,
        PageQuery,
    )
)]
async fn list(
    _: RequireOperator,
    State(app): State<AppState>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<ApiJson<StationPage>, Error> {
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
    Ok(ApiJson(StationPage {
        items,
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// One station with its EVSEs and open transactions
///
/// **Roles:** operator, admin.
#[utoipa::path(
    get,
    path = "/api/stations/{id}",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "OCPP stationId")),
    responses(
        (status = 200, description = "The station (its fields, plus connection, evses and \
            activeTransactions)", body = StationDetail),
        RoleOnly,
        (status = 404, description = "No such station (`not_found`)", body = Problem,
            content_type = "application/problem+json"),
    )
)]
async fn show(
    _: RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<ApiJson<StationDetail>, Error> {
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
    let connection = app.gateway.registry().get(&id).map(|h| Connection {
        connected_at: h.connected_at,
        tls: h.tls,
        subprotocol: h.subprotocol,
    });
    let mut evses: Vec<Evse> = Vec::new();
    for c in connectors {
        let connector = ConnectorStatus {
            connector_id: c.connector_id,
            status: c.status,
            reported_at: c.reported_at,
        };
        match evses.last_mut() {
            Some(e) if e.evse_id == c.evse_id => e.connectors.push(connector),
            _ => evses.push(Evse {
                evse_id: c.evse_id,
                connectors: vec![connector],
            }),
        }
    }
    Ok(ApiJson(StationDetail {
        station: StationView {
            connected: connection.is_some(),
            row,
        },
        connection,
        evses,
        active_transactions: active,
    }))
}

/// A station provisioned without a profile: TLS with Basic auth, what OCPP 2.0.1 expects of
/// a station that has no client certificate.
const NEW_STATION_PROFILE: i16 = 2;

/// How a station must connect, and whether the CSMS accepts it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ProvisioningBody)]
struct Provisioning {
    /// 0 none, 1 Basic auth, 2 TLS + Basic auth, 3 TLS client certificate. Unset: the
    /// station's current profile, 2 for a new station. 0 (no authentication) is refused in
    /// production mode.
    #[schema(minimum = 0, maximum = 3)]
    security_profile: Option<i16>,
    /// OCPP BasicAuthPassword, stored hashed; needed for profiles 1 and 2.
    #[schema(min_length = 16, max_length = 40)]
    password: Option<String>,
    /// Defaults to `Accepted`.
    #[serde(default = "accepted")]
    #[schema(value_type = RegistrationStatus)]
    registration_status: String,
}

fn accepted() -> String {
    "Accepted".into()
}

/// Provision a station
///
/// **Roles:** operator, admin.
///
/// Creates or updates how a station must connect (its security profile and Basic auth
/// password) and whether the CSMS accepts it. A new station gets profile 2 unless the body
/// says otherwise, so it needs a password too.
#[utoipa::path(
    put,
    path = "/api/stations/{id}",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, pattern = r"^[A-Za-z0-9*_=+.|@-]{1,48}$",
        description = "OCPP stationId: 1 to 48 of A-Z a-z 0-9 * - _ = + | @ .")),
    request_body = Provisioning,
    responses(
        (status = 200, description = "Updated", body = StationRow),
        (status = 201, description = "Created", body = StationRow),
        RoleOnly,
        JsonBody,
        (status = 422, description = "A bad stationId (`id`), `securityProfile` (0 to 3; 0 only \
            in development mode), `password` (16 to 40 characters; needed for profiles 1 and 2) \
            or `registrationStatus`, or a body field that is missing, unknown or of the wrong \
            type (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
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
    if !REGISTRATION_STATUSES.contains(&body.registration_status.as_str()) {
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

/// Sent to the station as RequestStartTransaction.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = RemoteStartBody)]
struct RemoteStart {
    /// Omitted: the station picks the EVSE.
    evse_id: Option<i32>,
    /// Checked with the rest of the payload against the OCPP schema (a 422 names the field).
    #[schema(max_length = 36, example = "04A2B3C4D5E6F7")]
    id_token: String,
    /// Defaults to `Central`.
    #[serde(default = "central")]
    #[schema(value_type = IdTokenType)]
    id_token_type: String,
}

// Never built: the handler passes the station's answer on as JSON; this describes it.
/// The station's RequestStartTransactionResponse payload, passed on as it came (checked
/// against its OCPP schema), plus the `remoteStartId` the CSMS chose.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
struct RemoteStartAnswer {
    /// `Accepted` or `Rejected`.
    #[schema(example = "Accepted", pattern = "^(Accepted|Rejected)$")]
    status: String,
    /// OCPP StatusInfoType: `reasonCode`, optional `additionalInfo`.
    #[schema(value_type = Option<Object>)]
    status_info: Option<Value>,
    /// Set when the station already had a transaction on the EVSE.
    #[schema(max_length = 36)]
    transaction_id: Option<String>,
    /// The id the CSMS gave this start request; the station's TransactionEvent for the
    /// transaction it starts carries it.
    #[schema(minimum = 1, maximum = 65536)]
    remote_start_id: i32,
}

fn central() -> String {
    "Central".into()
}

/// Start charging remotely
///
/// **Roles:** operator, admin.
///
/// Sends RequestStartTransaction to the station with a `remoteStartId` of the CSMS's choice
/// and answers with the station's answer.
#[utoipa::path(
    post,
    path = "/api/stations/{id}/remote-start",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "OCPP stationId")),
    request_body = RemoteStart,
    responses(
        (status = 200, description = "The station's answer", body = RemoteStartAnswer),
        RoleOnly,
        JsonBody,
        (status = 404, description = "The station is not connected (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A body field is missing, unknown or of the wrong type, \
            or the payload breaks the OCPP schema (`idToken` longer than 36 characters, an \
            `idTokenType` that is not an IdTokenEnumType); the field is named in `errors` \
            (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        StationCall,
    )
)]
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

/// Sent to the station as RequestStopTransaction.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = RemoteStopBody)]
struct RemoteStop {
    /// The station's transactionId.
    #[schema(max_length = 36)]
    transaction_id: String,
}

/// Stop a transaction remotely
///
/// **Roles:** operator, admin.
///
/// Sends RequestStopTransaction to the station and answers with the station's answer.
#[utoipa::path(
    post,
    path = "/api/stations/{id}/remote-stop",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "OCPP stationId")),
    request_body = RemoteStop,
    responses(
        (status = 200, description = "The station's RequestStopTransactionResponse payload \
            (`status`: `Accepted` or `Rejected`, optional `statusInfo`)", body = OcppPayload),
        RoleOnly,
        JsonBody,
        (status = 404, description = "The station is not connected (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A body field is missing, unknown or of the wrong type, \
            or `transactionId` is longer than 36 characters (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
        StationCall,
    )
)]
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

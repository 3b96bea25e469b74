//! Operator routes over OCPP stations (`csms::api::stations` and `calls`). Field names are
//! camelCase there, as in OCPP payloads.

use chrono::{DateTime, Utc};
use serde_json::Value;
use utoipa::ToSchema;

use super::common::{limit, offset};
use super::id_tokens::IdTokenType;
use super::route::{one_of, Route, HOST, OPERATOR};
use crate::api::OUTGOING_ACTIONS;

const TAG: &str = "stations";

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Station {
    pub id: String,
    /// 0 none, 1 Basic auth, 2 TLS + Basic auth, 3 TLS client certificate.
    #[schema(minimum = 0, maximum = 3)]
    pub security_profile: i16,
    #[schema(example = "Accepted")]
    pub registration_status: String,
    #[schema(required)]
    pub vendor_name: Option<String>,
    #[schema(required)]
    pub model: Option<String>,
    #[schema(required)]
    pub serial_number: Option<String>,
    #[schema(required)]
    pub firmware_version: Option<String>,
    #[schema(required)]
    pub last_boot_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Whether the station has a socket open to this node right now.
    pub connected: bool,
}

/// A host's claim to own a station.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClaimBody {
    #[schema(example = "CS-0042")]
    pub station_id: String,
    /// The station's Basic auth password (profiles 1 and 2): proves the claim at once.
    /// Without it the claim waits for an operator.
    pub password: Option<String>,
    /// Up to 500 characters for the operator (where the station is, an invoice number).
    pub note: Option<String>,
}

/// A claim and its decision.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Claim {
    pub id: uuid::Uuid,
    pub station_id: String,
    pub host_id: uuid::Uuid,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// `password` or `operator`.
    pub proof: String,
    pub note: String,
    #[schema(required)]
    pub decided_by: Option<uuid::Uuid>,
    #[schema(required)]
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A station as stored, without the live `connected` flag (the provisioning answer).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StationRow {
    pub id: String,
    #[schema(minimum = 0, maximum = 3)]
    pub security_profile: i16,
    #[schema(example = "Accepted")]
    pub registration_status: String,
    #[schema(required)]
    pub vendor_name: Option<String>,
    #[schema(required)]
    pub model: Option<String>,
    #[schema(required)]
    pub serial_number: Option<String>,
    #[schema(required)]
    pub firmware_version: Option<String>,
    #[schema(required)]
    pub last_boot_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The account the station belongs to (after an approved claim); null: nobody's yet.
    #[schema(required)]
    pub owner_id: Option<uuid::Uuid>,
}

#[derive(ToSchema)]
pub struct StationPage {
    pub items: Vec<Station>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ConnectorStatus {
    pub connector_id: i32,
    #[schema(example = "Available")]
    pub status: String,
    pub reported_at: DateTime<Utc>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Evse {
    pub evse_id: i32,
    pub connectors: Vec<ConnectorStatus>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Connection {
    pub connected_at: DateTime<Utc>,
    pub tls: bool,
    pub subprotocol: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StationDetail {
    // The station's own fields, repeated: the handler flattens them into this object.
    pub id: String,
    pub security_profile: i16,
    pub registration_status: String,
    #[schema(required)]
    pub vendor_name: Option<String>,
    #[schema(required)]
    pub model: Option<String>,
    #[schema(required)]
    pub serial_number: Option<String>,
    #[schema(required)]
    pub firmware_version: Option<String>,
    #[schema(required)]
    pub last_boot_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub connected: bool,
    /// `null` when not connected.
    #[schema(required)]
    pub connection: Option<Connection>,
    pub evses: Vec<Evse>,
    pub active_transactions: Vec<super::transactions::Transaction>,
    /// The account the station belongs to (after an approved claim); null: nobody's yet.
    #[schema(required)]
    pub owner_id: Option<uuid::Uuid>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub enum RegistrationStatus {
    Accepted,
    Pending,
    Rejected,
}

/// Creates or updates how a station must connect.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ProvisioningBody {
    /// Unset: the station's current profile, 2 for a new station. 0 (no authentication) is
    /// refused in production mode.
    #[schema(minimum = 0, maximum = 3)]
    pub security_profile: Option<i16>,
    /// OCPP BasicAuthPassword; required for profiles 1 and 2.
    #[schema(min_length = 16, max_length = 40)]
    pub password: Option<String>,
    /// Defaults to `Accepted`.
    pub registration_status: Option<RegistrationStatus>,
}

/// Sent to the station as RequestStartTransaction.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RemoteStartBody {
    /// Omitted: the station picks the EVSE.
    pub evse_id: Option<i32>,
    /// Checked with the rest of the payload against the OCPP schema (a 422 names the field).
    #[schema(max_length = 36, example = "04A2B3C4D5E6F7")]
    pub id_token: String,
    /// Defaults to `Central`.
    pub id_token_type: Option<IdTokenType>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RemoteStopBody {
    #[schema(max_length = 36)]
    pub transaction_id: String,
}

/// The station's RequestStartTransactionResponse payload, unchanged, plus the
/// `remoteStartId` the CSMS chose (its other fields, e.g. `statusInfo`, may appear too).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RemoteStartAnswer {
    /// `Accepted` or `Rejected`.
    #[schema(example = "Accepted")]
    pub status: String,
    #[schema(minimum = 1, maximum = 65536)]
    pub remote_start_id: i32,
    /// Set when the station already had a transaction on the EVSE.
    pub transaction_id: Option<String>,
}

/// The station's answer payload, unchanged (see the OCPP 2.0.1 schema of the action).
#[derive(ToSchema)]
pub struct OcppPayload(Value);

fn station_call(route: Route) -> Route {
    route
        .access(OPERATOR)
        .path_param("id", "OCPP stationId")
        .problem(404, "`not_found`: the station is not connected")
        .problem(
            422,
            "`validation_failed`: the payload breaks the action's OCPP schema (field named in \
             `errors`), or a body field is missing or unknown",
        )
        .problem(
            502,
            "`station_call_error`, `station_invalid_response` or `station_disconnected`",
        )
        .problem(
            503,
            "`service_unavailable`: too many calls queued for the station",
        )
        .problem(504, "`gateway_timeout`: the station did not answer in time")
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/stations/claims", TAG, "Claim a station (hosts)")
            .describe(
                "A host must own a station before binding a listing to it. With the station's \
                 password the claim is approved at once (5 wrong tries an hour, then 429); \
                 without, an operator decides. A station someone else owns is never taken over.",
            )
            .access(HOST)
            .body::<ClaimBody>()
            .ok::<Claim>(201, "Proved with the password: the host owns the station")
            .ok::<Claim>(202, "Waiting for an operator")
            .not_found("station")
            .conflict("`already_owned`, `station_owned` (another account's) or `claim_pending`")
            .problem(422, "`password` is not the station's")
            .rate_limited("Too many wrong passwords"),
        Route::get("/api/stations/claims", TAG, "Station claims")
            .describe("Hosts see their own; operators everyone's (`status=pending`: the queue).")
            .access(super::route::Access::Roles(&["host", "operator", "admin"]))
            .query("status", "pending, approved or rejected", one_of(&["pending", "approved", "rejected"]))
            .query("limit", "Page size", limit())
            .query("offset", "Rows to skip", offset())
            .ok_array::<Claim>(200, "Claims, newest first"),
        Route::post("/api/stations/claims/{id}/approve", TAG, "Approve a claim")
            .access(OPERATOR)
            .uuid_param("id", "The claim")
            .ok::<Claim>(200, "Approved: the host owns the station")
            .not_found("pending claim")
            .conflict("`station_owned`: another account owns the station"),
        Route::post("/api/stations/claims/{id}/reject", TAG, "Reject a claim")
            .access(OPERATOR)
            .uuid_param("id", "The claim")
            .ok::<Claim>(200, "Rejected")
            .not_found("pending claim"),
        Route::get("/api/stations", TAG, "List stations")
            .access(OPERATOR)
            .query("limit", "Page size", limit())
            .query("offset", "Rows to skip", offset())
            .ok::<StationPage>(200, "A page of stations, by id")
            .problem(422, "`limit` (1 to 500) or `offset` (0 or more) out of range, or not a number"),
        Route::get("/api/stations/{id}", TAG, "One station with its EVSEs and open transactions")
            .access(OPERATOR)
            .path_param("id", "OCPP stationId")
            .ok::<StationDetail>(200, "The station (its fields, plus connection/evses/activeTransactions)")
            .not_found("station"),
        Route::put("/api/stations/{id}", TAG, "Provision a station")
            .access(OPERATOR)
            .path_param("id", "OCPP stationId: 1-48 of A-Z a-z 0-9 * - _ = + | @ .")
            .body::<ProvisioningBody>()
            .ok::<StationRow>(200, "Updated")
            .ok::<StationRow>(201, "Created")
            .problem(
                422,
                "A bad stationId (`id`), `securityProfile`, `password` (16 to 40 characters; \
                 required for profiles 1 and 2) or `registrationStatus`",
            ),
        station_call(Route::post("/api/stations/{id}/remote-start", TAG, "Start charging remotely"))
            .body::<RemoteStartBody>()
            .ok::<RemoteStartAnswer>(200, "The station's answer"),
        station_call(Route::post("/api/stations/{id}/remote-stop", TAG, "Stop a transaction remotely"))
            .body::<RemoteStopBody>()
            .ok::<OcppPayload>(200, "The station's RequestStopTransactionResponse"),
        station_call(Route::post("/api/stations/{id}/calls/{action}", TAG, "Send a raw OCPP call"))
            .describe("The body is the OCPP payload, checked against the action's official schema before it is sent.")
            .path_param_schema(
                "action",
                "CSMS-initiated OCPP action (`csms::api::OUTGOING_ACTIONS`)",
                one_of(OUTGOING_ACTIONS),
            )
            .body::<OcppPayload>()
            .ok::<OcppPayload>(200, "The station's response payload")
            .problem(404, "`not_found`: the station is not connected, or the action is not one of these"),
    ]
}

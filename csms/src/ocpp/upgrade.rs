//! The WebSocket endpoint `/ocpp/{stationId}`: sub-protocol negotiation and the security
//! profile check happen here, before the upgrade, so a refused station never gets a socket.

use std::sync::Arc;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::auth::{self, Admission, Refusal};
use super::handlers::StationSession;
use super::{connection, OcppContext, SUBPROTOCOL};
use crate::server::PeerIdentity;

/// Read buffer of an idle connection. Most OCPP messages fit (a boot, a heartbeat, a status,
/// a TransactionEvent with a few samples); a larger frame reserves its whole length once its
/// header is read, so this is a floor, not a cap. Every connected station holds one.
const READ_BUFFER: usize = 1024;

/// Large enough for NotifyReport pages and certificate chains, small enough to bound memory.
const MAX_MESSAGE: usize = 512 * 1024;

pub async fn ocpp_socket(
    State(ctx): State<Arc<OcppContext>>,
    Path(station_id): Path<String>,
    peer: Option<Extension<PeerIdentity>>,
    remote: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let peer = peer.map(|p| p.0).unwrap_or_default();
    if !valid_station_id(&station_id) {
        return (StatusCode::BAD_REQUEST, "invalid station id").into_response();
    }
    if !offers_ocpp201(&headers) {
        return (
            StatusCode::BAD_REQUEST,
            "the WebSocket sub-protocol ocpp2.0.1 is required",
        )
            .into_response();
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let guard = auth::Guard {
        cache: &ctx.passwords,
        failures: &ctx.auth_failures,
        address: remote.map(|Extension(ConnectInfo(a))| a.ip()),
    };
    let record = match auth::check(
        &ctx.pool,
        guard,
        &station_id,
        &peer,
        authorization,
        ctx.config.policy(),
    )
    .await
    {
        Ok(Ok(admission)) => admission,
        Ok(Err(refusal)) => return refuse(&station_id, refusal),
        Err(e) => {
            tracing::error!(error = %e, "station lookup failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let session = match record {
        Admission::Known(r) => StationSession::known(station_id, r.registration_status),
        Admission::Unknown { profile } => StationSession::unknown(station_id, profile),
    };
    let tls = peer.tls;
    ws.protocols([SUBPROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| {
            let tracked = ctx.tasks.token();
            async move {
                let _tracked = tracked;
                if !ctx.shutdown.is_cancelled() {
                    connection::run(ctx, socket, session, tls).await;
                }
            }
        })
}

fn refuse(station_id: &str, refusal: Refusal) -> Response {
    tracing::warn!(station = station_id, reason = %refusal, "station refused");
    metrics::counter!("csms_station_refusals_total").increment(1);
    match refusal {
        Refusal::CredentialsRequired | Refusal::BadCredentials => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"OCPP\"")],
            refusal.to_string(),
        )
            .into_response(),
        Refusal::Throttled(secs) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            refusal.to_string(),
        )
            .into_response(),
        Refusal::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "2".to_owned())],
            refusal.to_string(),
        )
            .into_response(),
        _ => (StatusCode::FORBIDDEN, refusal.to_string()).into_response(),
    }
}

fn offers_ocpp201(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == SUBPROTOCOL)
}

/// OCPP identity: up to 48 characters of identifierString (no ':' since it is the Basic
/// auth user name).
pub fn valid_station_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 48
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "*-_=+|@.".contains(c))
}

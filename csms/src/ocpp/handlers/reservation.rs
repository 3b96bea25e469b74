//! Functional block H: reservations. The CSMS sends ReserveNow / CancelReservation (see
//! `crate::jobs`); the station tells when a reservation ended on its side.

use chrono::Utc;
use serde_json::{json, Value};

use super::{HandlerError, HandlerResult, StationSession};
use crate::ocpp::OcppContext;
use ocpp_schemas::ErrorCode;

/// H05 ReservationStatusUpdate: `Expired` or `Removed`. An id we never issued is
/// acknowledged all the same: the station only informs, and retrying cannot help it.
pub async fn reservation_status_update(
    ctx: &OcppContext,
    session: &StationSession,
    payload: Value,
) -> HandlerResult {
    let id = payload["reservationId"]
        .as_i64()
        .and_then(|v| i32::try_from(v).ok());
    let status = payload["reservationUpdateStatus"]
        .as_str()
        .unwrap_or_default();
    let Some(id) = id else {
        return Err(HandlerError::new(
            ErrorCode::PropertyConstraintViolation,
            "reservationId out of range",
        ));
    };
    match marketplace::bookings::reservations::status_update(
        &ctx.pool,
        &session.station_id,
        id,
        status,
        Utc::now(),
    )
    .await
    {
        Ok(Some(booking)) => {
            tracing::info!(station = %session.station_id, reservation = id, %booking, status, "reservation ended on the station")
        }
        Ok(None) => {
            tracing::info!(station = %session.station_id, reservation = id, status, "status of an unknown reservation")
        }
        Err(e) => {
            tracing::error!(error = %e, "could not record ReservationStatusUpdate");
            return Err(HandlerError::new(
                ErrorCode::InternalError,
                "the CSMS could not store the message",
            ));
        }
    }
    Ok(json!({}))
}

//! Sends the stations what bookings need (OCPP 2.0.1 H01 ReserveNow, H02 CancelReservation)
//! and reports their answers back to the bookings module. The queue is the bookings table:
//! `marketplace::bookings::reservations::claim_due` hands out due work and hands it out again
//! when no answer came, so a station that was offline is served when it returns.

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use marketplace::bookings::reservations::{self, CancelReservation, ReserveNow, StationWork};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::ocpp::gateway::{CallFailure, StationGateway};
use crate::store::id_tokens;

#[derive(Debug, Clone, Copy)]
pub struct ReservationConfig {
    /// How long before a booking starts its EVSE is reserved on the station.
    pub lead: chrono::Duration,
    /// Items claimed per tick, and calls in flight at once.
    pub batch: i64,
    pub concurrency: usize,
}

pub async fn run(
    pool: PgPool,
    gateway: StationGateway,
    tick: Duration,
    config: ReservationConfig,
    shutdown: CancellationToken,
) {
    super::every("reservations", tick, shutdown, || {
        let (pool, gateway) = (pool.clone(), gateway.clone());
        async move {
            let work =
                reservations::claim_due(&pool, Utc::now(), config.lead, config.batch).await?;
            futures_util::stream::iter(work)
                .for_each_concurrent(config.concurrency, |item| {
                    let (pool, gateway) = (pool.clone(), gateway.clone());
                    async move {
                        if let Err(e) = perform(&pool, &gateway, item).await {
                            tracing::warn!(error = %e, "reservation work not recorded");
                        }
                    }
                })
                .await;
            Ok(())
        }
    })
    .await;
}

async fn perform(
    pool: &PgPool,
    gateway: &StationGateway,
    item: StationWork,
) -> Result<(), marketplace::Error> {
    match item {
        StationWork::Reserve(r) => reserve(pool, gateway, r).await,
        StationWork::Cancel(c) => cancel(pool, gateway, c).await,
    }
}

async fn reserve(
    pool: &PgPool,
    gateway: &StationGateway,
    r: ReserveNow,
) -> Result<(), marketplace::Error> {
    let (token, kind) = id_tokens::usable_for_user(pool, r.driver_id)
        .await?
        // a driver without a card: the app starts the session with this central token
        .unwrap_or_else(|| {
            (
                format!("BOOKING-{}", r.reservation_id),
                "Central".to_owned(),
            )
        });
    let mut payload = json!({
        "id": r.reservation_id,
        "expiryDateTime": r.expiry.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "idToken": {"idToken": token, "type": kind},
        "evseId": r.evse_id,
    });
    if let Some(connector) = connector_enum(&r.connector_type) {
        payload["connectorType"] = Value::from(connector);
    }
    let Some(answer) = answered(
        gateway.call(&r.station_id, "ReserveNow", payload).await,
        &r.station_id,
    ) else {
        return Ok(());
    };
    let status = answer["status"].as_str().unwrap_or("Rejected");
    tracing::info!(station = %r.station_id, reservation = r.reservation_id, status, "ReserveNow answered");
    reservations::reserve_result(pool, &r.station_id, r.reservation_id, status, Utc::now()).await?;
    Ok(())
}

async fn cancel(
    pool: &PgPool,
    gateway: &StationGateway,
    c: CancelReservation,
) -> Result<(), marketplace::Error> {
    let payload = json!({"reservationId": c.reservation_id});
    let Some(answer) = answered(
        gateway
            .call(&c.station_id, "CancelReservation", payload)
            .await,
        &c.station_id,
    ) else {
        return Ok(());
    };
    let status = answer["status"].as_str().unwrap_or("Rejected");
    tracing::info!(station = %c.station_id, reservation = c.reservation_id, status, "CancelReservation answered");
    reservations::cancel_result(pool, &c.station_id, c.reservation_id, status, Utc::now()).await?;
    Ok(())
}

/// The station's answer, or None when there is none yet (offline, timeout, busy, or a
/// CALLERROR): the item stays claimed and is handed out again after the retry delay.
fn answered(result: Result<Value, CallFailure>, station: &str) -> Option<Value> {
    match result {
        Ok(v) => Some(v),
        Err(CallFailure::NotConnected) => {
            tracing::debug!(station, "station offline; reservation work waits");
            None
        }
        Err(e) => {
            tracing::warn!(station, error = %e, "reservation call failed; will retry");
            None
        }
    }
}

/// Our connector names as OCPP 2.0.1 `ConnectorEnumType`.
pub fn connector_enum(ours: &str) -> Option<&'static str> {
    Some(match ours {
        "CCS1" => "cCCS1",
        "CCS2" => "cCCS2",
        "CHAdeMO" => "cG105",
        "Type1" => "cType1",
        "Type2" => "cType2",
        "NACS" => "cTesla",
        "Schuko" => "sCEE-7-7",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocpp_schemas::Direction;

    #[test]
    fn every_connector_maps_to_a_schema_valid_reserve_now() {
        for ours in [
            "CCS1", "CCS2", "CHAdeMO", "Type1", "Type2", "NACS", "Schuko",
        ] {
            let payload = json!({
                "id": 7,
                "expiryDateTime": "2026-11-26T10:15:00Z",
                "idToken": {"idToken": "BOOKING-7", "type": "Central"},
                "evseId": 1,
                "connectorType": connector_enum(ours).unwrap(),
            });
            ocpp_schemas::validate("ReserveNow", Direction::Request, &payload)
                .unwrap_or_else(|v| panic!("{ours}: {v}"));
        }
        assert_eq!(connector_enum("Other"), None);
    }
}

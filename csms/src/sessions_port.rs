//! The CSMS half of charging sessions: `marketplace::sessions::StationControl` over the
//! station gateway (RequestStart/StopTransaction, SetChargingProfile/ClearChargingProfile,
//! CostUpdated). What stations report (TransactionEvent, MeterValues) reaches the sessions
//! through `ocpp::handlers::transactions::sessions`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use marketplace::sessions::port::ControlFuture;
use marketplace::sessions::{station, Answer, ChargingLimit, IdToken, StartAnswer, StationControl};
use marketplace::Error;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::ocpp::gateway::{CallFailure, StationGateway};
use crate::store::id_tokens;

/// Stations as the marketplace's sessions reach them.
#[derive(Clone)]
pub struct GatewayStationControl {
    gateway: StationGateway,
    pool: PgPool,
}

impl GatewayStationControl {
    pub fn new(gateway: StationGateway, pool: PgPool) -> Self {
        Self { gateway, pool }
    }

    async fn call(&self, station: &str, action: &str, payload: Value) -> Result<Value, Error> {
        self.gateway
            .call(station, action, payload)
            .await
            .map_err(|f| failure(station, action, f))
    }
}

/// What a driver sees when a call to a station fails.
fn failure(station: &str, action: &str, f: CallFailure) -> Error {
    tracing::warn!(station, action, error = %f, "session call to a station failed");
    match f {
        CallFailure::NotConnected | CallFailure::ConnectionLost => {
            Error::Unavailable("the charger's station is offline".into())
        }
        CallFailure::Busy => Error::Unavailable("the charger's station is busy; try again".into()),
        CallFailure::Timeout => Error::GatewayTimeout("the station did not answer in time".into()),
        CallFailure::CallError {
            code, description, ..
        } => Error::BadGateway {
            code: "station_call_error",
            detail: format!("the station answered {code}: {description}"),
        },
        CallFailure::InvalidResponse(v) => Error::BadGateway {
            code: "station_bad_answer",
            detail: format!("the station's answer is not valid OCPP: {}", v.description),
        },
        CallFailure::InvalidRequest(v) => {
            Error::Internal(format!("{action} payload rejected by the schema: {v}"))
        }
    }
}

/// `status` "Accepted", else rejected with the station's reason code.
fn answer(v: &Value) -> Answer {
    if v["status"] == "Accepted" {
        Answer::Accepted
    } else {
        Answer::Rejected(v["statusInfo"]["reasonCode"].as_str().map(str::to_owned))
    }
}

/// Money as the JSON number OCPP wants.
pub fn cost_number(total: Decimal) -> Value {
    json!(total.to_f64().unwrap_or(0.0))
}

impl StationControl for GatewayStationControl {
    fn driver_token(&self, driver_id: Uuid) -> ControlFuture<'_, Option<IdToken>> {
        Box::pin(async move {
            let token = id_tokens::usable_for_user(&self.pool, driver_id).await?;
            Ok(token.map(|(id_token, kind)| IdToken { id_token, kind }))
        })
    }

    fn start<'a>(
        &'a self,
        station_id: &'a str,
        evse_id: i32,
        id_token: &'a IdToken,
        remote_start_id: i32,
    ) -> ControlFuture<'a, StartAnswer> {
        Box::pin(async move {
            // a session is about to wait for this station's events: never skip them
            forget_binding(station_id);
            let payload = json!({
                "evseId": evse_id,
                "remoteStartId": remote_start_id,
                "idToken": {"idToken": id_token.id_token, "type": id_token.kind},
            });
            let v = self
                .call(station_id, "RequestStartTransaction", payload)
                .await?;
            Ok(StartAnswer {
                answer: answer(&v),
                transaction_id: v["transactionId"].as_str().map(str::to_owned),
            })
        })
    }

    fn stop<'a>(
        &'a self,
        station_id: &'a str,
        transaction_id: &'a str,
    ) -> ControlFuture<'a, Answer> {
        Box::pin(async move {
            let payload = json!({"transactionId": transaction_id});
            let v = self
                .call(station_id, "RequestStopTransaction", payload)
                .await?;
            Ok(answer(&v))
        })
    }

    fn set_charging_limit<'a>(&'a self, limit: &'a ChargingLimit) -> ControlFuture<'a, Answer> {
        Box::pin(async move {
            let (action, payload) = match limit.amps {
                Some(amps) => ("SetChargingProfile", pause_profile(limit, amps)),
                None => (
                    "ClearChargingProfile",
                    json!({"chargingProfileId": limit.profile_id}),
                ),
            };
            let v = self.call(&limit.station_id, action, payload).await?;
            // ClearChargingProfile answers `Unknown` when the station no longer has it:
            // the limit is gone either way
            if action == "ClearChargingProfile" && v["status"] == "Unknown" {
                return Ok(Answer::Accepted);
            }
            Ok(answer(&v))
        })
    }

    fn cost_updated<'a>(
        &'a self,
        station_id: &'a str,
        transaction_id: &'a str,
        total_cost: Decimal,
    ) -> ControlFuture<'a, ()> {
        Box::pin(async move {
            let payload =
                json!({"totalCost": cost_number(total_cost), "transactionId": transaction_id});
            self.call(station_id, "CostUpdated", payload).await?;
            Ok(())
        })
    }
}

/// A TxProfile limiting one transaction to `amps` from its start (OCPP 2.0.1 K01).
pub fn pause_profile(limit: &ChargingLimit, amps: f64) -> Value {
    json!({
        "evseId": limit.evse_id,
        "chargingProfile": {
            "id": limit.profile_id,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "transactionId": limit.transaction_id,
            "chargingSchedule": [{
                "id": limit.profile_id,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}],
            }],
        },
    })
}

/// Whether a station is bound to a listing, as last asked, and when: asked again after
/// [`BOUND_TTL`]. Both answers are kept, so a busy CSMS costs one indexed query per station
/// every few seconds, not one per message (MeterValues of stations outside the marketplace are
/// otherwise written behind, without a database round trip); and a station a host has just
/// bound is seen within seconds.
static BOUND: OnceLock<DashMap<String, (Instant, bool)>> = OnceLock::new();
const BOUND_TTL: Duration = Duration::from_secs(5);

pub(crate) async fn in_marketplace(pool: &PgPool, station_id: &str) -> bool {
    let cache = BOUND.get_or_init(DashMap::new);
    if let Some(known) = cache
        .get(station_id)
        .filter(|entry| entry.0.elapsed() < BOUND_TTL)
    {
        return known.1;
    }
    match station::station_bound(pool, station_id).await {
        Ok(bound) => {
            cache.insert(station_id.to_owned(), (Instant::now(), bound));
            bound
        }
        // when in doubt, look: the session code logs its own failures
        Err(_) => true,
    }
}

/// Forgets what is known of the station, so its next message asks again.
pub(crate) fn forget_binding(station_id: &str) {
    if let Some(cache) = BOUND.get() {
        cache.remove(station_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocpp_schemas::Direction;

    #[test]
    fn pause_and_resume_payloads_are_schema_valid() {
        let limit = ChargingLimit {
            station_id: "CS".into(),
            evse_id: 1,
            transaction_id: "TX-1".into(),
            profile_id: 42,
            amps: Some(0.0),
        };
        ocpp_schemas::validate(
            "SetChargingProfile",
            Direction::Request,
            &pause_profile(&limit, 0.0),
        )
        .unwrap();
        ocpp_schemas::validate(
            "ClearChargingProfile",
            Direction::Request,
            &json!({"chargingProfileId": 42}),
        )
        .unwrap();
        ocpp_schemas::validate(
            "CostUpdated",
            Direction::Request,
            &json!({"totalCost": cost_number(Decimal::new(504, 2)), "transactionId": "TX-1"}),
        )
        .unwrap();
        assert_eq!(cost_number(Decimal::new(504, 2)), json!(5.04));
    }
}

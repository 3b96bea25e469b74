//! What sessions need from the charging stations, as a port the CSMS implements over its
//! station gateway (`csms::sessions_port`). The marketplace never speaks OCPP itself.
//!
//! Failures are already API errors: a station that is not connected is `503`, one that does
//! not answer in time `504`, a CALLERROR or a nonsensical answer `502`.

use std::future::Future;
use std::pin::Pin;

use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::error::Error;

pub type ControlFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// An OCPP `IdTokenType`: the token and its type (`ISO14443`, `Central`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdToken {
    pub id_token: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl IdToken {
    pub fn central(token: String) -> Self {
        Self {
            id_token: token,
            kind: "Central".into(),
        }
    }
}

/// A station's yes or no to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    /// Rejected, with the station's reason code when it gave one.
    Rejected(Option<String>),
}

/// The answer to RequestStartTransaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartAnswer {
    pub answer: Answer,
    /// Set when the station already had a transaction on the EVSE (the EV was plugged in
    /// first): the remote start authorizes that one.
    pub transaction_id: Option<String>,
}

/// A limit on one transaction's charging: `amps: Some(0.0)` pauses it (SetChargingProfile
/// with a TxProfile of 0 A), `None` lifts the limit (ClearChargingProfile of `profile_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChargingLimit {
    pub station_id: String,
    pub evse_id: i32,
    pub transaction_id: String,
    pub profile_id: i32,
    pub amps: Option<f64>,
}

/// Calls to stations. Object-safe so `ApiContext` can hold any.
pub trait StationControl: Send + Sync {
    /// A token of the driver's own (`id_tokens.user_id`), usable now; `None`: the session
    /// uses a central token.
    fn driver_token(&self, driver_id: Uuid) -> ControlFuture<'_, Option<IdToken>>;

    /// RequestStartTransaction.
    fn start<'a>(
        &'a self,
        station_id: &'a str,
        evse_id: i32,
        id_token: &'a IdToken,
        remote_start_id: i32,
    ) -> ControlFuture<'a, StartAnswer>;

    /// RequestStopTransaction.
    fn stop<'a>(
        &'a self,
        station_id: &'a str,
        transaction_id: &'a str,
    ) -> ControlFuture<'a, Answer>;

    /// SetChargingProfile (a limit) or ClearChargingProfile (no limit).
    fn set_charging_limit<'a>(&'a self, limit: &'a ChargingLimit) -> ControlFuture<'a, Answer>;

    /// CostUpdated: the running total, taxes included, in the station's currency.
    fn cost_updated<'a>(
        &'a self,
        station_id: &'a str,
        transaction_id: &'a str,
        total_cost: Decimal,
    ) -> ControlFuture<'a, ()>;
}

/// For deployments (and tests) without stations: every call is `503`, drivers have no
/// tokens of their own.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStationControl;

fn unreachable_stations<T: Send + 'static>() -> ControlFuture<'static, T> {
    Box::pin(std::future::ready(Err(Error::Unavailable(
        "charging stations cannot be reached from this deployment".into(),
    ))))
}

impl StationControl for NoStationControl {
    fn driver_token(&self, _: Uuid) -> ControlFuture<'_, Option<IdToken>> {
        Box::pin(std::future::ready(Ok(None)))
    }

    fn start<'a>(
        &'a self,
        _: &'a str,
        _: i32,
        _: &'a IdToken,
        _: i32,
    ) -> ControlFuture<'a, StartAnswer> {
        unreachable_stations()
    }

    fn stop<'a>(&'a self, _: &'a str, _: &'a str) -> ControlFuture<'a, Answer> {
        unreachable_stations()
    }

    fn set_charging_limit<'a>(&'a self, _: &'a ChargingLimit) -> ControlFuture<'a, Answer> {
        unreachable_stations()
    }

    fn cost_updated<'a>(&'a self, _: &'a str, _: &'a str, _: Decimal) -> ControlFuture<'a, ()> {
        unreachable_stations()
    }
}

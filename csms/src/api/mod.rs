//! The operator REST API of the CSMS side (stations, id tokens, transactions). Field names
//! follow OCPP's camelCase, since operators read them next to OCPP payloads.

mod calls;
mod id_tokens;
mod query;
mod station_claims;
mod stations;
mod transactions;

use axum::Router;

use crate::app::AppState;
pub use calls::OUTGOING_ACTIONS;
pub use query::{ApiQuery, Page};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(stations::router())
        .merge(station_claims::router())
        .merge(calls::router())
        .merge(id_tokens::router())
        .merge(transactions::router())
}

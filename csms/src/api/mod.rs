//! The operator REST API of the CSMS side (stations, id tokens, transactions), and the probes.
//! Field names follow OCPP's camelCase, since operators read them next to OCPP payloads. Each
//! route is documented at its handler (`#[utoipa::path]`); `crate::openapi` serves the result.

mod calls;
pub(crate) mod doc;
mod health;
mod id_tokens;
mod query;
mod station_claims;
mod stations;
mod transactions;

use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
pub use calls::OUTGOING_ACTIONS;
pub use query::{ApiQuery, Page};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(stations::router())
        .merge(station_claims::router())
        .merge(calls::router())
        .merge(id_tokens::router())
        .merge(transactions::router())
        .merge(health::router())
}

//! `evsim`: an OCPP 2.0.1 charging-station simulator, as a library so end-to-end tests can
//! drive stations from Rust, and as the `evsim` binary (see `main.rs` and the README).
//!
//! - [`station::Station`]: one full-featured station (boot, status, heartbeats, local and
//!   remote transactions, the CSMS calls of the core profile and of smart charging), driven
//!   step by step or by a [`scenario`].
//! - [`load::run`]: a fleet of lean stations in one process, reporting throughput and
//!   latency percentiles ([`stats::Report`]).
//! - [`rpc`] and [`connect`]: OCPP-J framing and the WebSocket/TLS connect, reusable by
//!   anything that needs to talk to the CSMS as a station.

pub mod connect;
mod connection;
mod device_model;
pub mod duration;
mod handlers;
pub mod load;
pub mod messages;
pub mod rpc;
pub mod scenario;
pub mod smart_charging;
pub mod state;
pub mod station;
pub mod stats;

pub use load::{LoadConfig, Mix};
pub use station::{Registration, Station, StationConfig, StationEvent};
pub use stats::Report;

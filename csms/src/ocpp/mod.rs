//! The OCPP 2.0.1 side: WebSocket endpoint, RPC framing, per-station connections, handlers
//! grouped by functional block, and the gateway for calls to stations.

pub mod auth;
pub mod auth_throttle;
pub mod connection;
pub mod gateway;
pub mod handlers;
pub mod registry;
pub mod upgrade;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::store::writer::Writers;

pub const SUBPROTOCOL: &str = "ocpp2.0.1";

/// What a BootNotification from a station the registry does not know gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UnknownStations {
    Accept,
    Pending,
    Reject,
}

#[derive(Debug, Clone)]
pub struct OcppConfig {
    pub unknown_stations: UnknownStations,
    pub heartbeat_interval: u32,
    pub call_timeout: Duration,
    pub ping_interval: Duration,
    /// Security profile 1 (Basic auth without TLS) is only allowed when this is set.
    pub allow_plain_basic: bool,
    /// Development mode: unauthenticated stations (profile 0) are allowed.
    pub dev: bool,
    /// What a driver's own token must find on the wallet to charge on a listed charger.
    pub session_funds: marketplace::sessions::SessionFunds,
}

impl OcppConfig {
    pub fn policy(&self) -> auth::Policy {
        auth::Policy {
            dev: self.dev,
            allow_plain_basic: self.allow_plain_basic,
        }
    }
}

pub struct OcppContext {
    pub pool: PgPool,
    pub registry: Arc<registry::Registry>,
    pub writers: Writers,
    /// Boots, TransactionEvents and MeterValues are stored through it: several per commit,
    /// each answered after it.
    pub group_commit: crate::store::group_commit::GroupCommit,
    pub config: OcppConfig,
    pub shutdown: CancellationToken,
    pub passwords: auth::PasswordCache,
    /// Failed Basic auth handshakes, per client address and per station.
    pub auth_failures: auth_throttle::Throttle,
    /// Every station connection, so shutdown can wait for their close frames.
    pub tasks: tokio_util::task::TaskTracker,
}

//! Which stations are connected to this node, and the mailbox of each connection.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use dashmap::DashMap;
use ocpp_schemas::Violation;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// Why a call to a station got no answer to use.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallFailure {
    #[error("station is not connected")]
    NotConnected,
    #[error("the request payload is invalid: {0}")]
    InvalidRequest(Violation),
    #[error("station did not answer in time")]
    Timeout,
    #[error("station answered {code}: {description}")]
    CallError {
        code: String,
        description: String,
        details: Value,
    },
    #[error("station's answer violates the schema: {0}")]
    InvalidResponse(Violation),
    #[error("connection to the station was lost before it answered")]
    ConnectionLost,
    #[error("too many calls are queued for this station")]
    Busy,
}

pub struct OutgoingCall {
    pub action: String,
    pub payload: Value,
    pub reply: oneshot::Sender<Result<Value, CallFailure>>,
}

pub enum Command {
    /// Boxed so the mailbox, allocated per connection, stays small while idle.
    Call(Box<OutgoingCall>),
    /// A newer connection with the same stationId took over: close this one.
    Replaced,
}

#[derive(Clone)]
pub struct StationHandle {
    pub conn_id: u64,
    pub connected_at: DateTime<Utc>,
    pub tls: bool,
    pub subprotocol: &'static str,
    pub(crate) tx: mpsc::Sender<Command>,
}

#[derive(Default)]
pub struct Registry {
    stations: DashMap<String, StationHandle>,
    next_conn_id: AtomicU64,
}

impl Registry {
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers a connection; the one it replaces (if any) is told to close.
    pub fn register(&self, station_id: &str, handle: StationHandle) {
        if let Some(old) = self.stations.insert(station_id.to_owned(), handle) {
            // The old connection may be blocked on a slow socket: never wait for it here.
            let _ = old.tx.try_send(Command::Replaced);
        }
        metrics::gauge!("csms_stations_connected").set(self.stations.len() as f64);
    }

    /// Removes the entry only if it still belongs to this connection, so that a replaced
    /// connection closing late does not unregister its successor.
    pub fn unregister(&self, station_id: &str, conn_id: u64) {
        self.stations
            .remove_if(station_id, |_, h| h.conn_id == conn_id);
        metrics::gauge!("csms_stations_connected").set(self.stations.len() as f64);
    }

    pub fn get(&self, station_id: &str) -> Option<StationHandle> {
        self.stations.get(station_id).map(|h| h.clone())
    }

    pub fn is_connected(&self, station_id: &str) -> bool {
        self.stations.contains_key(station_id)
    }

    pub fn len(&self) -> usize {
        self.stations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stations.is_empty()
    }
}

//! "Send a call to station X": the one interface the rest of the platform uses to talk to
//! stations. Today the station's socket is on this node; a multi-node deployment routes the
//! same call over a message bus behind this type.

use std::sync::Arc;
use std::time::Duration;

use ocpp_schemas::Direction;
use serde_json::Value;
use tokio::sync::oneshot;

pub use super::registry::CallFailure;
use super::registry::{Command, OutgoingCall, Registry};

#[derive(Clone)]
pub struct StationGateway {
    registry: Arc<Registry>,
    call_timeout: Duration,
}

impl StationGateway {
    pub fn new(registry: Arc<Registry>, call_timeout: Duration) -> Self {
        Self {
            registry,
            call_timeout,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub async fn call(
        &self,
        station_id: &str,
        action: &str,
        payload: Value,
    ) -> Result<Value, CallFailure> {
        ocpp_schemas::validate(action, Direction::Request, &payload)
            .map_err(CallFailure::InvalidRequest)?;
        let handle = self
            .registry
            .get(station_id)
            .ok_or(CallFailure::NotConnected)?;
        let (reply, answer) = oneshot::channel();
        let call = OutgoingCall {
            action: action.to_owned(),
            payload,
            reply,
        };
        handle
            .tx
            .try_send(Command::Call(Box::new(call)))
            .map_err(|e| match e {
                tokio::sync::mpsc::error::TrySendError::Full(_) => CallFailure::Busy,
                tokio::sync::mpsc::error::TrySendError::Closed(_) => CallFailure::NotConnected,
            })?;
        // The connection times out each call once it is on the wire; this outer bound also
        // covers the time spent queued behind earlier calls.
        match tokio::time::timeout(self.call_timeout * 3, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(CallFailure::ConnectionLost),
            Err(_) => Err(CallFailure::Timeout),
        }
    }
}

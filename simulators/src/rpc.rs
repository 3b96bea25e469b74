//! OCPP-J RPC framing over one WebSocket, seen from the charging station.
//!
//! A frame is a JSON array: CALL `[2, id, action, payload]`, CALLRESULT `[3, id, payload]`,
//! CALLERROR `[4, id, code, description, details]`. OCPP-J allows a station at most one
//! outstanding CALL, so [`Rpc`] tracks a single pending call and refuses a second one; the
//! caller queues. Timeouts are not armed here: the caller's loop already sleeps until its next
//! deadline, so [`Rpc::deadline`] and [`Rpc::expire`] let it fold the response timeout into that
//! one timer instead of every station owning a second one (10,000 stations, one timer each).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::debug;

pub use ocpp_schemas::frame::{Frame, FrameError};
use ocpp_schemas::ErrorCode;

/// The CSMS answered our CALL with a CALLERROR.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("CALLERROR {code}: {description}")]
pub struct CallError {
    pub code: String,
    pub description: String,
    pub details: Value,
}

/// What [`Rpc::recv`] hands back.
#[derive(Debug)]
pub enum Event {
    /// The CSMS calls the station; answer with [`Rpc::reply`] or [`Rpc::reply_error`].
    Call {
        id: String,
        action: String,
        payload: Value,
    },
    /// The answer to our outstanding CALL.
    Response {
        action: &'static str,
        latency: Duration,
        outcome: Result<Value, CallError>,
    },
    /// An unreadable frame; answer it with [`Rpc::reply_frame_error`].
    BadFrame(FrameError),
}

#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("a CALL ({0}) is already outstanding")]
    Busy(&'static str),
    #[error("connection closed{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed(Option<String>),
    #[error(transparent)]
    WebSocket(#[from] tungstenite::Error),
}

/// The call we are waiting on.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: u64,
    pub action: &'static str,
    pub sent_at: Instant,
    pub deadline: Instant,
}

/// An OCPP-J client endpoint: owns the socket and its framing.
pub struct Rpc<S> {
    ws: WebSocketStream<S>,
    timeout: Duration,
    next_id: u64,
    pending: Option<Pending>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Rpc<S> {
    pub fn new(ws: WebSocketStream<S>, timeout: Duration) -> Self {
        Rpc {
            ws,
            timeout,
            next_id: 1,
            pending: None,
        }
    }

    /// Whether a CALL is outstanding (then no other may be sent).
    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    pub fn pending(&self) -> Option<&Pending> {
        self.pending.as_ref()
    }

    /// When the outstanding call times out, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.deadline)
    }

    /// Gives up on the outstanding call if its deadline has passed; a late answer is then
    /// ignored as an unknown id.
    pub fn expire(&mut self, now: Instant) -> Option<Pending> {
        if self.pending.as_ref().is_some_and(|p| p.deadline <= now) {
            self.pending.take()
        } else {
            None
        }
    }

    /// Forgets the outstanding call, e.g. when the connection is lost.
    pub fn take_pending(&mut self) -> Option<Pending> {
        self.pending.take()
    }

    /// Sends a CALL. Fails with [`RpcError::Busy`] while another is outstanding.
    pub async fn call(&mut self, action: &'static str, payload: &Value) -> Result<(), RpcError> {
        if let Some(p) = &self.pending {
            return Err(RpcError::Busy(p.action));
        }
        let id = self.next_id;
        self.next_id += 1;
        let text = Frame::Call {
            id: id.to_string(),
            action: action.to_owned(),
            payload: payload.clone(),
        }
        .to_text();
        self.send_text(text).await?;
        // The clock starts once the frame is on the wire, so latency excludes our own queueing.
        let now = Instant::now();
        self.pending = Some(Pending {
            id,
            action,
            sent_at: now,
            deadline: now + self.timeout,
        });
        Ok(())
    }

    /// Answers a CSMS call with a CALLRESULT.
    pub async fn reply(&mut self, id: &str, payload: &Value) -> Result<(), RpcError> {
        let frame = Frame::CallResult {
            id: id.to_owned(),
            payload: payload.clone(),
        };
        self.send_text(frame.to_text()).await
    }

    /// Answers a CSMS call with a CALLERROR.
    pub async fn reply_error(
        &mut self,
        id: &str,
        code: ErrorCode,
        description: &str,
    ) -> Result<(), RpcError> {
        self.send_text(Frame::call_error(id, code, description).to_text())
            .await
    }

    /// Answers an unreadable frame as OCPP-J prescribes (responses are never answered).
    pub async fn reply_frame_error(&mut self, err: &FrameError) -> Result<(), RpcError> {
        match err.answer() {
            Some(frame) => self.send_text(frame.to_text()).await,
            None => Ok(()),
        }
    }

    /// Waits for the next frame that needs attention. Cancel-safe: nothing is lost if the
    /// future is dropped, because the stream keeps partial frames and pings/pongs/unknown
    /// responses are consumed without any write.
    pub async fn recv(&mut self) -> Result<Event, RpcError> {
        loop {
            let msg = match self.ws.next().await {
                None => return Err(RpcError::Closed(None)),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(msg)) => msg,
            };
            let text = match &msg {
                Message::Text(t) => t.as_str(),
                Message::Binary(_) => {
                    return Ok(Event::BadFrame(FrameError {
                        id: None,
                        code: ErrorCode::FormatViolation,
                        description: "OCPP-J uses text frames".into(),
                        is_response: false,
                    }))
                }
                Message::Close(frame) => {
                    return Err(RpcError::Closed(
                        frame.as_ref().map(|f| format!("{} {}", f.code, f.reason)),
                    ))
                }
                // tungstenite answers pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            };
            debug!(frame = text, "<<");
            match Frame::parse(text) {
                Err(e) => return Ok(Event::BadFrame(e)),
                Ok(Frame::Call {
                    id,
                    action,
                    payload,
                }) => {
                    return Ok(Event::Call {
                        id,
                        action,
                        payload,
                    })
                }
                Ok(Frame::CallResult { id, payload }) => {
                    if let Some(p) = self.take_if_matches(&id) {
                        return Ok(Event::Response {
                            action: p.action,
                            latency: p.sent_at.elapsed(),
                            outcome: Ok(payload),
                        });
                    }
                }
                Ok(Frame::CallError {
                    id,
                    code,
                    description,
                    details,
                }) => {
                    if let Some(p) = self.take_if_matches(&id) {
                        return Ok(Event::Response {
                            action: p.action,
                            latency: p.sent_at.elapsed(),
                            outcome: Err(CallError {
                                code,
                                description,
                                details,
                            }),
                        });
                    }
                }
            }
        }
    }

    /// Sends a close frame and waits briefly for the CSMS to acknowledge it, so the CSMS
    /// sees a clean close (1000) rather than a reset.
    pub async fn close(&mut self) {
        if self.ws.close(None).await.is_err() {
            return;
        }
        let drain = async { while let Some(Ok(_)) = self.ws.next().await {} };
        let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    }

    fn take_if_matches(&mut self, id: &str) -> Option<Pending> {
        match &self.pending {
            Some(p) if id.parse::<u64>().ok() == Some(p.id) => self.pending.take(),
            _ => {
                debug!(
                    id,
                    "ignoring a response to no outstanding call (late or unknown id)"
                );
                None
            }
        }
    }

    async fn send_text(&mut self, text: String) -> Result<(), RpcError> {
        debug!(frame = text.as_str(), ">>");
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn one_outstanding_call_then_response_and_timeout() {
        use tokio_tungstenite::tungstenite::protocol::Role;
        let (a, b) = tokio::io::duplex(4096);
        let client = WebSocketStream::from_raw_socket(a, Role::Client, None).await;
        let mut server = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
        let mut rpc = Rpc::new(client, Duration::from_millis(50));

        rpc.call("Heartbeat", &json!({})).await.unwrap();
        assert!(matches!(
            rpc.call("Heartbeat", &json!({})).await,
            Err(RpcError::Busy("Heartbeat"))
        ));
        let sent = server.next().await.unwrap().unwrap();
        let Frame::Call { id, action, .. } = Frame::parse(sent.to_text().unwrap()).unwrap() else {
            panic!("expected a CALL")
        };
        assert_eq!(action, "Heartbeat");
        // An answer to an unknown id is skipped; the matching one is delivered.
        server.send(Message::text(r#"[3,"999",{}]"#)).await.unwrap();
        server
            .send(Message::text(format!(
                r#"[3,"{id}",{{"currentTime":"x"}}]"#
            )))
            .await
            .unwrap();
        match rpc.recv().await.unwrap() {
            Event::Response {
                action, outcome, ..
            } => {
                assert_eq!(action, "Heartbeat");
                assert_eq!(outcome.unwrap(), json!({"currentTime":"x"}));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!rpc.is_busy());

        rpc.call("StatusNotification", &json!({})).await.unwrap();
        assert!(rpc.expire(Instant::now()).is_none());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            rpc.expire(Instant::now()).unwrap().action,
            "StatusNotification"
        );
        assert!(!rpc.is_busy());
    }
}

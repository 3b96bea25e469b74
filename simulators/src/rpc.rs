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

const CALL: u64 = 2;
const CALL_RESULT: u64 = 3;
const CALL_ERROR: u64 = 4;

/// One OCPP-J message.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Call {
        id: String,
        action: String,
        payload: Value,
    },
    CallResult {
        id: String,
        payload: Value,
    },
    CallError {
        id: String,
        code: String,
        description: String,
        details: Value,
    },
}

/// A frame we could not understand, with what OCPP-J says to answer it with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct FrameError {
    /// The message id if it could be read; OCPP-J says to answer with `"-1"` otherwise.
    pub id: Option<String>,
    pub code: &'static str,
    pub description: String,
    /// A broken CALLRESULT/CALLERROR is never answered, or two peers could bounce errors at
    /// each other forever.
    pub is_response: bool,
}

impl FrameError {
    fn new(id: Option<&Value>, code: &'static str, description: impl Into<String>) -> Self {
        FrameError {
            id: id.and_then(Value::as_str).map(str::to_owned),
            code,
            description: description.into(),
            is_response: false,
        }
    }
}

impl Frame {
    /// Parses one text message.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| FrameError::new(None, "RpcFrameworkError", format!("not JSON: {e}")))?;
        let Value::Array(mut items) = value else {
            return Err(FrameError::new(
                None,
                "RpcFrameworkError",
                "a frame is a JSON array",
            ));
        };
        let Some(kind) = items.first().and_then(Value::as_u64) else {
            return Err(FrameError::new(
                items.get(1),
                "RpcFrameworkError",
                "the first element must be the message type number",
            ));
        };
        let id = match items.get(1) {
            Some(Value::String(id)) => id.clone(),
            _ => {
                return Err(FrameError::new(
                    None,
                    "RpcFrameworkError",
                    "the second element must be the message id string",
                ))
            }
        };
        let err = |code, description: &str| FrameError {
            id: Some(id.clone()),
            code,
            description: description.to_owned(),
            is_response: kind == CALL_RESULT || kind == CALL_ERROR,
        };
        match kind {
            CALL => {
                if items.len() != 4 {
                    return Err(err("RpcFrameworkError", "a CALL has four elements"));
                }
                let payload = items.pop().unwrap_or(Value::Null);
                let Some(action) = items[2].as_str() else {
                    return Err(err("RpcFrameworkError", "the action must be a string"));
                };
                if !payload.is_object() {
                    return Err(err("FormatViolation", "the payload must be an object"));
                }
                Ok(Frame::Call {
                    id,
                    action: action.to_owned(),
                    payload,
                })
            }
            CALL_RESULT => {
                if items.len() != 3 {
                    return Err(err("RpcFrameworkError", "a CALLRESULT has three elements"));
                }
                Ok(Frame::CallResult {
                    payload: items.pop().unwrap_or(Value::Null),
                    id,
                })
            }
            CALL_ERROR => {
                // Details are optional in practice even though the spec lists them.
                if !(4..=5).contains(&items.len()) {
                    return Err(err("RpcFrameworkError", "a CALLERROR has five elements"));
                }
                Ok(Frame::CallError {
                    code: items[2].as_str().unwrap_or("GenericError").to_owned(),
                    description: items
                        .get(3)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    details: items
                        .get(4)
                        .cloned()
                        .unwrap_or_else(|| Value::Object(Default::default())),
                    id,
                })
            }
            other => Err(err(
                "MessageTypeNotSupported",
                &format!("unknown message type {other}"),
            )),
        }
    }

    /// Serializes the frame as OCPP-J text.
    pub fn to_text(&self) -> String {
        // Tuples serialize as JSON arrays, so no intermediate `Value` is built.
        let text = match self {
            Frame::Call {
                id,
                action,
                payload,
            } => serde_json::to_string(&(CALL, id, action, payload)),
            Frame::CallResult { id, payload } => serde_json::to_string(&(CALL_RESULT, id, payload)),
            Frame::CallError {
                id,
                code,
                description,
                details,
            } => serde_json::to_string(&(CALL_ERROR, id, code, description, details)),
        };
        text.expect("a frame of JSON values always serializes")
    }
}

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
        let text = serde_json::to_string(&(CALL, id.to_string(), action, payload))
            .expect("JSON values always serialize");
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
        let text = serde_json::to_string(&(CALL_RESULT, id, payload))
            .expect("JSON values always serialize");
        self.send_text(text).await
    }

    /// Answers a CSMS call with a CALLERROR.
    pub async fn reply_error(
        &mut self,
        id: &str,
        code: &str,
        description: &str,
    ) -> Result<(), RpcError> {
        let frame = Frame::CallError {
            id: id.to_owned(),
            code: code.to_owned(),
            description: description.to_owned(),
            details: Value::Object(Default::default()),
        };
        self.send_text(frame.to_text()).await
    }

    /// Answers an unreadable frame as OCPP-J prescribes (responses are never answered).
    pub async fn reply_frame_error(&mut self, err: &FrameError) -> Result<(), RpcError> {
        if err.is_response {
            return Ok(());
        }
        let id = err.id.clone().unwrap_or_else(|| "-1".to_owned());
        self.reply_error(&id, err.code, &err.description).await
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
                        code: "RpcFrameworkError",
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

    #[test]
    fn parses_the_three_frame_kinds() {
        assert_eq!(
            Frame::parse(r#"[2,"19223201","Heartbeat",{}]"#).unwrap(),
            Frame::Call {
                id: "19223201".into(),
                action: "Heartbeat".into(),
                payload: json!({})
            }
        );
        assert_eq!(
            Frame::parse(r#"[3,"7",{"currentTime":"2024-01-01T00:00:00Z"}]"#).unwrap(),
            Frame::CallResult {
                id: "7".into(),
                payload: json!({"currentTime":"2024-01-01T00:00:00Z"})
            }
        );
        assert_eq!(
            Frame::parse(r#"[4,"8","NotImplemented","nope",{}]"#).unwrap(),
            Frame::CallError {
                id: "8".into(),
                code: "NotImplemented".into(),
                description: "nope".into(),
                details: json!({})
            }
        );
    }

    #[test]
    fn round_trips_through_text() {
        let frames = [
            Frame::Call {
                id: "1".into(),
                action: "BootNotification".into(),
                payload: json!({"reason":"PowerUp"}),
            },
            Frame::CallResult {
                id: "2".into(),
                payload: json!({"status":"Accepted"}),
            },
            Frame::CallError {
                id: "3".into(),
                code: "FormatViolation".into(),
                description: "bad".into(),
                details: json!({"field":"x"}),
            },
        ];
        for f in frames {
            assert_eq!(Frame::parse(&f.to_text()).unwrap(), f);
        }
        assert_eq!(
            Frame::CallResult {
                id: "a".into(),
                payload: json!({})
            }
            .to_text(),
            r#"[3,"a",{}]"#
        );
    }

    #[test]
    fn rejects_malformed_frames_with_the_right_code() {
        let e = Frame::parse("not json").unwrap_err();
        assert_eq!((e.id, e.code), (None, "RpcFrameworkError"));
        let e = Frame::parse(r#"{"a":1}"#).unwrap_err();
        assert_eq!(e.code, "RpcFrameworkError");
        let e = Frame::parse(r#"[7,"5",{}]"#).unwrap_err();
        assert_eq!(
            (e.id.as_deref(), e.code),
            (Some("5"), "MessageTypeNotSupported")
        );
        let e = Frame::parse(r#"[2,"5","Reset"]"#).unwrap_err();
        assert_eq!((e.id.as_deref(), e.code), (Some("5"), "RpcFrameworkError"));
        let e = Frame::parse(r#"[2,"5","Reset",[1]]"#).unwrap_err();
        assert_eq!(e.code, "FormatViolation");
        let e = Frame::parse(r#"[2,5,"Reset",{}]"#).unwrap_err();
        assert_eq!((e.id, e.code), (None, "RpcFrameworkError"));
        // A broken response is reported but never answered.
        assert!(Frame::parse(r#"[3,"5"]"#).unwrap_err().is_response);
    }

    #[test]
    fn accepts_a_call_error_without_details() {
        let f = Frame::parse(r#"[4,"9","InternalError","boom"]"#).unwrap();
        assert!(matches!(f, Frame::CallError { ref details, .. } if details == &json!({})));
    }

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

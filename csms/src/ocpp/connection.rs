//! One task per connected station: reads frames, answers its calls through the handlers,
//! and sends our calls one at a time (OCPP-J allows one outstanding CALL per direction).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::FutureExt;
use marketplace::http::storable::nul_path;
use ocpp_schemas::frame::Frame;
use ocpp_schemas::{Direction, ErrorCode};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, info, warn, Instrument};

use super::handlers::{self, StationSession};
use super::registry::CallFailure;
use super::registry::{Command, OutgoingCall, StationHandle};
use super::OcppContext;

/// Close code for "replaced by a newer connection" (application range 4000-4999).
const CLOSE_REPLACED: u16 = 4000;
const CLOSE_GOING_AWAY: u16 = 1001;
/// Calls waiting behind the outstanding one; more than this means the caller should back off.
pub const MAILBOX: usize = 16;

struct InFlight {
    id: String,
    action: String,
    deadline: Instant,
    reply: tokio::sync::oneshot::Sender<Result<Value, CallFailure>>,
}

pub async fn run(ctx: Arc<OcppContext>, socket: WebSocket, session: StationSession, tls: bool) {
    let station_id = session.station_id.clone();
    let span = tracing::info_span!("station", id = %station_id);
    async move {
        let conn_id = ctx.registry.next_conn_id();
        let (tx, rx) = mpsc::channel(MAILBOX);
        ctx.registry.register(
            &station_id,
            StationHandle {
                conn_id,
                connected_at: chrono::Utc::now(),
                tls,
                subprotocol: super::SUBPROTOCOL,
                tx,
            },
        );
        // Unregisters however this task ends, a panic included: a dead connection must not
        // keep answering "connected" or swallow the station's next calls.
        let _registered = Registered {
            registry: &ctx.registry,
            station_id: &station_id,
            conn_id,
        };
        info!(conn_id, "connected");
        metrics::counter!("csms_station_connections_total").increment(1);
        let reason = Connection {
            ctx: ctx.clone(),
            session,
            in_flight: None,
            queue: VecDeque::new(),
            next_id: 0,
        }
        .serve(socket, rx)
        .await;
        info!(conn_id, reason, "disconnected");
    }
    .instrument(span)
    .await
}

struct Registered<'a> {
    registry: &'a super::registry::Registry,
    station_id: &'a str,
    conn_id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.registry.unregister(self.station_id, self.conn_id);
    }
}

struct Connection {
    ctx: Arc<OcppContext>,
    session: StationSession,
    in_flight: Option<InFlight>,
    queue: VecDeque<OutgoingCall>,
    next_id: u64,
}

impl Connection {
    async fn serve(mut self, mut ws: WebSocket, mut rx: mpsc::Receiver<Command>) -> &'static str {
        let ping_every = self.ctx.config.ping_interval;
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let shutdown = self.ctx.shutdown.clone();

        let reason = loop {
            let deadline = self.in_flight.as_ref().map(|c| c.deadline);
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => {
                    close(&mut ws, CLOSE_GOING_AWAY, "server shutting down").await;
                    break "shutdown";
                }
                incoming = ws.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        last_heard = Instant::now();
                        // Boxed: the handler futures (database queries) are large, and inline they
                        // would make every idle connection's task as big as the biggest one.
                        if let Some(answer) = Box::pin(self.on_text(text.as_str())).await {
                            if ws.send(Message::text(answer)).await.is_err() {
                                break "write failed";
                            }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        last_heard = Instant::now();
                        let answer = Frame::call_error("-1", ErrorCode::FormatViolation,
                            "OCPP-J uses text frames only");
                        if ws.send(Message::text(answer.to_text())).await.is_err() {
                            break "write failed";
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => last_heard = Instant::now(),
                    Some(Ok(Message::Close(_))) | None => break "closed by station",
                    Some(Err(e)) => {
                        debug!(error = %e, "read failed");
                        break "read failed";
                    }
                },
                command = rx.recv() => match command {
                    Some(Command::Call(call)) => self.queue.push_back(*call),
                    Some(Command::Replaced) => {
                        close(&mut ws, CLOSE_REPLACED, "replaced by a newer connection").await;
                        break "replaced";
                    }
                    None => break "mailbox closed",
                },
                _ = sleep_until(deadline) => {
                    if let Some(call) = self.in_flight.take() {
                        warn!(action = %call.action, id = %call.id, "call timed out");
                        metrics::counter!("csms_outgoing_call_timeouts_total").increment(1);
                        let _ = call.reply.send(Err(CallFailure::Timeout));
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > ping_every * 3 {
                        close(&mut ws, CLOSE_GOING_AWAY, "no traffic or pong").await;
                        break "idle timeout";
                    }
                    if ws.send(Message::Ping(Default::default())).await.is_err() {
                        break "write failed";
                    }
                }
            }
            if self.in_flight.is_none() {
                if let Some(text) = self.next_call() {
                    if ws.send(Message::text(text)).await.is_err() {
                        break "write failed";
                    }
                }
            }
        };
        let lost = self.in_flight.take().map(|c| c.reply).into_iter();
        for reply in lost.chain(self.queue.drain(..).map(|c| c.reply)) {
            let _ = reply.send(Err(CallFailure::ConnectionLost));
        }
        reason
    }

    /// Takes the next queued call whose caller is still waiting and puts it in flight.
    fn next_call(&mut self) -> Option<String> {
        while let Some(call) = self.queue.pop_front() {
            if call.reply.is_closed() {
                continue;
            }
            self.next_id += 1;
            let id = format!("csms-{}", self.next_id);
            let text = Frame::Call {
                id: id.clone(),
                action: call.action.clone(),
                payload: call.payload,
            }
            .to_text();
            debug!(%id, action = %call.action, "call sent");
            let label = ocpp_schemas::action_name(&call.action).unwrap_or("unknown");
            metrics::counter!("csms_ocpp_messages_total", "direction" => "out", "action" => label)
                .increment(1);
            self.in_flight = Some(InFlight {
                id,
                action: call.action,
                deadline: Instant::now() + self.ctx.config.call_timeout,
                reply: call.reply,
            });
            return Some(text);
        }
        None
    }

    /// Handles one text frame; returns the frame to send back, if any.
    async fn on_text(&mut self, text: &str) -> Option<String> {
        match Frame::parse(text) {
            Err(e) => {
                metrics::counter!("csms_ocpp_call_errors_total", "code" => e.code.as_str())
                    .increment(1);
                debug!(code = e.code.as_str(), "bad frame: {}", e.description);
                e.answer().map(|f| f.to_text())
            }
            Ok(Frame::Call {
                id,
                action,
                payload,
            }) => {
                // JSON carries NUL only escaped: most messages need no walk of their tree.
                let may_hold_nul = text.contains("\\u0000");
                Some(self.on_call(&id, &action, payload, may_hold_nul).await)
            }
            Ok(Frame::CallResult { id, payload }) => {
                self.on_answer(&id, Ok(payload));
                None
            }
            Ok(Frame::CallError {
                id,
                code,
                description,
                details,
            }) => {
                self.on_answer(
                    &id,
                    Err(CallFailure::CallError {
                        code,
                        description,
                        details,
                    }),
                );
                None
            }
        }
    }

    async fn on_call(
        &mut self,
        id: &str,
        action: &str,
        payload: Value,
        may_hold_nul: bool,
    ) -> String {
        let started = std::time::Instant::now();
        let result = match ocpp_schemas::validate(action, Direction::Request, &payload) {
            Err(v) => Err(handlers::HandlerError::new(v.code, v.description)),
            Ok(()) => match may_hold_nul.then(|| nul_path(&payload)).flatten() {
                // PostgreSQL text cannot hold U+0000: refused whole, before anything is stored.
                Some(path) => Err(handlers::HandlerError::new(
                    ErrorCode::PropertyConstraintViolation,
                    format!("{path} contains the NUL character (U+0000)"),
                )),
                None => self.dispatch(action, payload).await,
            },
        };
        // Static labels: no allocation per message, and a station cannot mint new series.
        let label = ocpp_schemas::action_name(action).unwrap_or("unknown");
        metrics::histogram!("csms_ocpp_handler_seconds", "action" => label)
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("csms_ocpp_messages_total", "direction" => "in", "action" => label)
            .increment(1);
        match result {
            Ok(answer) => {
                debug_assert!(
                    ocpp_schemas::validate(action, Direction::Response, &answer).is_ok(),
                    "our {action} response violates the schema: {answer}"
                );
                Frame::CallResult {
                    id: id.to_owned(),
                    payload: answer,
                }
                .to_text()
            }
            Err(e) => {
                metrics::counter!("csms_ocpp_call_errors_total", "code" => e.code.as_str())
                    .increment(1);
                debug!(
                    action,
                    code = e.code.as_str(),
                    "answered CALLERROR: {}",
                    e.description
                );
                Frame::call_error(id, e.code, &e.description).to_text()
            }
        }
    }

    /// Runs the handler; one that panics answers this message with an InternalError and the
    /// connection goes on (the panic is logged and counted).
    async fn dispatch(&mut self, action: &str, payload: Value) -> handlers::HandlerResult {
        let run = handlers::dispatch(&self.ctx, &mut self.session, action, payload);
        match std::panic::AssertUnwindSafe(run).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => {
                tracing::error!(
                    action,
                    panic = %crate::jobs::supervise::panic_text(panic.as_ref()),
                    "OCPP handler panicked"
                );
                let label = ocpp_schemas::action_name(action).unwrap_or("unknown");
                metrics::counter!("csms_ocpp_handler_panics_total", "action" => label).increment(1);
                Err(handlers::HandlerError::new(
                    ErrorCode::InternalError,
                    "the CSMS failed to handle this message",
                ))
            }
        }
    }

    fn on_answer(&mut self, id: &str, answer: Result<Value, CallFailure>) {
        let Some(call) = self.in_flight.take_if(|c| c.id == id) else {
            // A late answer to a call that already timed out, or a confused station.
            warn!(%id, "answer to no outstanding call ignored");
            return;
        };
        let answer = answer.and_then(|payload| {
            ocpp_schemas::validate(&call.action, Direction::Response, &payload)
                .map(|()| payload)
                .map_err(CallFailure::InvalidResponse)
        });
        let _ = call.reply.send(answer);
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn close(ws: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = ws.send(Message::Close(Some(frame))).await;
    // Flush and wait briefly for the peer's close so the close handshake completes.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(m)) = ws.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocpp::registry::Registry;

    #[tokio::test]
    async fn a_connection_that_panics_is_unregistered() {
        let registry = Arc::new(Registry::default());
        let (tx, _rx) = mpsc::channel(1);
        let conn_id = registry.next_conn_id();
        registry.register(
            "CS-1",
            StationHandle {
                conn_id,
                connected_at: chrono::Utc::now(),
                tls: false,
                subprotocol: super::super::SUBPROTOCOL,
                tx,
            },
        );
        let r = registry.clone();
        let task = tokio::spawn(async move {
            let _registered = Registered {
                registry: &r,
                station_id: "CS-1",
                conn_id,
            };
            panic!("handler bug");
        });
        assert!(task.await.unwrap_err().is_panic());
        assert!(!registry.is_connected("CS-1"));
    }
}

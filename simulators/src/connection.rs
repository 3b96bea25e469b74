//! The connection loop of one station: connect, boot, send the queued CALLs one at a time,
//! answer the CSMS, heartbeat, tick meter values, and reconnect with backoff when the
//! socket drops. One task and one timer per station.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use ocpp_schemas::Direction;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::connect::{self, WsStream};
use crate::handlers::{self, After};
use crate::messages;
use crate::rpc::{Event, Pending, Rpc, RpcError};
use crate::state::{CallFailure, OutItem, Outgoing, StationEvent};
use crate::station::{Registration, Shared};

/// Pause between the close of a Reset and the reconnect, like a reboot.
const RESET_PAUSE: Duration = Duration::from_secs(1);
/// How long a Reset waits for queued messages (the Ended events) before closing anyway.
const RESET_DRAIN: Duration = Duration::from_secs(5);
/// Retry delay of a BootNotification that failed or got `interval: 0`.
const BOOT_RETRY: Duration = Duration::from_secs(10);
/// Heartbeat period when the CSMS answers `interval: 0`.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(60);

/// Reconnect delays: 1 s, 2 s, 4 s ... capped at 30 s; back to 1 s after a good session.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub fn next_delay(&mut self) -> Duration {
        let secs = 1u64 << self.attempt.min(5);
        self.attempt = self.attempt.saturating_add(1);
        Duration::from_secs(secs.min(30))
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Why one connection ended.
enum End {
    Shutdown,
    Reset,
    Lost(String),
}

/// Runs the station until shutdown (or, without reconnect, until the connection drops).
pub(crate) async fn run(shared: Arc<Shared>, mut queue: UnboundedReceiver<OutItem>) {
    let cfg = &shared.config;
    let mut backoff = Backoff::default();
    let mut boot_reason = "PowerUp";
    // Once Accepted, a mere reconnect does not re-boot (OCPP boots only after a reboot).
    let mut accepted_before = false;
    let mut carry: Option<Outgoing> = None;
    loop {
        shared.registration.send_replace(Registration::Disconnected);
        let connected = tokio::select! {
            r = connect::connect(&cfg.url, &cfg.station_id, &cfg.connect) => r,
            _ = shared.shutdown.cancelled() => break,
        };
        let ws = match connected {
            Ok(ws) => ws,
            Err(e) => {
                warn!(url = %cfg.url, error = %e, "connect failed");
                shared.event(StationEvent::Disconnected {
                    reason: e.to_string(),
                });
                if !cfg.reconnect || !pause(&shared, backoff.next_delay()).await {
                    break;
                }
                continue;
            }
        };
        info!(url = %cfg.url, "connected");
        shared.registration.send_replace(Registration::Connected);
        shared.event(StationEvent::Connected);
        let mut conn = Connection::new(ws, &shared, carry.take(), accepted_before, boot_reason);
        let end = conn.serve(&mut queue).await;
        accepted_before = conn.accepted;
        carry = conn.carry.take();
        match end {
            End::Shutdown => {
                conn.rpc.close().await;
                break;
            }
            End::Reset => {
                info!("resetting: closing and booting again");
                conn.rpc.close().await;
                shared.event(StationEvent::Disconnected {
                    reason: "reset".into(),
                });
                boot_reason = "RemoteReset";
                accepted_before = false;
                backoff.reset();
                if !pause(&shared, RESET_PAUSE).await {
                    break;
                }
            }
            End::Lost(reason) => {
                warn!(%reason, "connection lost");
                shared.event(StationEvent::Disconnected { reason });
                if conn.accepted {
                    backoff.reset();
                }
                if !cfg.reconnect || !pause(&shared, backoff.next_delay()).await {
                    break;
                }
            }
        }
    }
    shared.registration.send_replace(Registration::Disconnected);
    // Whoever still waits on a CALL or a flush learns that the station is gone.
    queue.close();
    while let Ok(item) = queue.try_recv() {
        if let OutItem::Call(Outgoing { reply: Some(r), .. }) = item {
            let _ = r.send(Err(CallFailure::Stopped));
        }
    }
    if let Some(Outgoing { reply: Some(r), .. }) = carry {
        let _ = r.send(Err(CallFailure::Stopped));
    }
    shared.finished.cancel();
}

/// Sleeps unless shut down first; returns whether to go on.
async fn pause(shared: &Shared, delay: Duration) -> bool {
    debug!(?delay, "waiting before reconnecting");
    tokio::select! {
        _ = tokio::time::sleep(delay) => true,
        _ = shared.shutdown.cancelled() => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Only BootNotification may be sent (answers to the CSMS are fine).
    Booting,
    Running,
}

struct ResetPlan {
    when_idle: bool,
    /// Close by then even if messages are still queued (not for OnIdle resets).
    deadline: Option<Instant>,
}

/// One live connection.
struct Connection<'a> {
    rpc: Rpc<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    shared: &'a Shared,
    phase: Phase,
    boot_reason: &'static str,
    /// Next BootNotification attempt (None while one is outstanding or once Running).
    boot_at: Option<Instant>,
    heartbeat_at: Option<Instant>,
    /// The station's own messages (boot, heartbeat, retried TransactionEvent), ahead of
    /// the state's queue.
    urgent: VecDeque<Outgoing>,
    inflight: Option<Outgoing>,
    /// A TransactionEvent that was in flight when the connection dropped: sent again first.
    carry: Option<Outgoing>,
    reset: Option<ResetPlan>,
    accepted: bool,
}

enum Wake {
    Shutdown,
    Frame(Result<Event, RpcError>),
    Queued(Option<OutItem>),
    Timer,
}

impl<'a> Connection<'a> {
    fn new(
        ws: WsStream,
        shared: &'a Shared,
        carry: Option<Outgoing>,
        accepted_before: bool,
        boot_reason: &'static str,
    ) -> Self {
        let mut conn = Connection {
            rpc: Rpc::new(ws, shared.config.call_timeout),
            shared,
            phase: Phase::Booting,
            boot_reason,
            boot_at: Some(Instant::now()),
            heartbeat_at: None,
            urgent: VecDeque::new(),
            inflight: None,
            carry,
            reset: None,
            accepted: false,
        };
        if accepted_before {
            conn.accepted = true;
            conn.start_running(Instant::now());
        }
        conn
    }

    async fn serve(&mut self, queue: &mut UnboundedReceiver<OutItem>) -> End {
        let timer = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(timer);
        loop {
            let now = Instant::now();
            if let Some(p) = self.rpc.expire(now) {
                self.on_timeout(p, now);
            }
            if self.reset_due(queue, now) {
                return End::Reset;
            }
            if !self.rpc.is_busy() {
                if let Some(next) = self.next_own_message(now) {
                    if let Err(e) = self.send(next).await {
                        return self.lost(e);
                    }
                    continue;
                }
            }
            let take_queue =
                self.phase == Phase::Running && !self.rpc.is_busy() && self.urgent.is_empty();
            let wake_at = self.next_wake(now);
            timer.as_mut().reset(wake_at);
            let wake = tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => Wake::Shutdown,
                frame = self.rpc.recv() => Wake::Frame(frame),
                item = queue.recv(), if take_queue => Wake::Queued(item),
                _ = &mut timer => Wake::Timer,
            };
            let result = match wake {
                Wake::Shutdown => return End::Shutdown,
                Wake::Frame(Err(e)) => return self.lost(e),
                Wake::Frame(Ok(event)) => self.on_frame(event).await,
                Wake::Queued(None) => return End::Shutdown,
                Wake::Queued(Some(OutItem::Flush(done))) => {
                    // Nothing is in flight and nothing urgent waits: all before it is done.
                    let _ = done.send(());
                    Ok(())
                }
                Wake::Queued(Some(OutItem::Call(out))) => self.send(out).await,
                Wake::Timer => {
                    self.on_timer(Instant::now());
                    Ok(())
                }
            };
            if let Err(e) = result {
                return self.lost(e);
            }
        }
    }

    fn next_wake(&self, now: Instant) -> Instant {
        let far = now + Duration::from_secs(3600);
        let state_wake = match self.phase {
            Phase::Running => self.shared.state().next_wake(),
            Phase::Booting => None,
        };
        [
            self.rpc.deadline(),
            self.boot_at,
            self.heartbeat_at,
            state_wake,
            self.reset.as_ref().and_then(|r| r.deadline),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(far)
    }

    /// BootNotification while booting; else heartbeats and retries, ahead of the queue.
    fn next_own_message(&mut self, now: Instant) -> Option<Outgoing> {
        match self.phase {
            Phase::Booting => {
                if self.boot_at.is_some_and(|at| at <= now) {
                    self.boot_at = None;
                    Some(self.boot_message())
                } else {
                    None
                }
            }
            Phase::Running => self.urgent.pop_front(),
        }
    }

    fn boot_message(&self) -> Outgoing {
        Outgoing {
            action: "BootNotification",
            payload: messages::boot_notification(self.boot_reason, &self.shared.config.info),
            reply: None,
        }
    }

    async fn send(&mut self, out: Outgoing) -> Result<(), RpcError> {
        self.rpc.call(out.action, &out.payload).await?;
        self.inflight = Some(out);
        Ok(())
    }

    async fn on_frame(&mut self, event: Event) -> Result<(), RpcError> {
        match event {
            Event::Call {
                id,
                action,
                payload,
            } => self.on_call(&id, &action, &payload).await,
            Event::Response {
                action,
                latency,
                outcome,
            } => {
                debug!(action, ?latency, "response");
                if let Ok(answer) = &outcome {
                    if let Err(v) = ocpp_schemas::validate(action, Direction::Response, answer) {
                        warn!(action, code = v.code.as_str(), description = %v.description, "the CSMS answered with an invalid payload");
                    }
                }
                self.on_response(action, outcome.map_err(CallFailure::CallError));
                Ok(())
            }
            Event::BadFrame(err) => {
                warn!(error = %err, "unreadable frame from the CSMS");
                self.rpc.reply_frame_error(&err).await
            }
        }
    }

    async fn on_call(&mut self, id: &str, action: &str, payload: &Value) -> Result<(), RpcError> {
        self.shared.event(StationEvent::CallReceived {
            action: action.to_owned(),
        });
        // The official schema first, as a real station would: a CSMS under test learns at
        // once that it sent a malformed call, with the OCPP error code that says why.
        if let Err(v) = ocpp_schemas::validate(action, Direction::Request, payload) {
            warn!(action, code = v.code.as_str(), description = %v.description, "invalid call from the CSMS");
            return self.rpc.reply_error(id, v.code, &v.description).await;
        }
        let now = Instant::now();
        let handled = handlers::handle(&mut self.shared.state(), action, payload, now);
        match &handled.result {
            Ok(answer) => self.rpc.reply(id, answer).await?,
            Err(refusal) => {
                info!(action, code = refusal.code.as_str(), "refusing CSMS call");
                self.rpc
                    .reply_error(id, refusal.code, &refusal.description)
                    .await?
            }
        }
        match handled.after {
            After::Nothing => {}
            After::Boot => {
                self.boot_reason = "Triggered";
                self.urgent.push_back(self.boot_message());
            }
            After::Heartbeat => self.urgent.push_back(heartbeat()),
            After::Reset { when_idle } => {
                self.reset = Some(ResetPlan {
                    when_idle,
                    deadline: (!when_idle).then_some(now + RESET_DRAIN),
                })
            }
        }
        Ok(())
    }

    fn on_response(&mut self, action: &'static str, outcome: Result<Value, CallFailure>) {
        let out = self.inflight.take();
        if action == "BootNotification" {
            self.on_boot_response(&outcome);
        } else if let Err(CallFailure::CallError(e)) = &outcome {
            warn!(action, code = %e.code, description = %e.description, "CALLERROR from the CSMS");
            // A CSMS that does not know us (e.g. restarted without our registration) says
            // SecurityError: boot again rather than keep talking into the void.
            if e.code == "SecurityError" && self.phase == Phase::Running {
                self.phase = Phase::Booting;
                self.heartbeat_at = None;
                self.boot_at = Some(Instant::now());
                self.boot_reason = "Unknown";
            }
        }
        if let Some(Outgoing { reply: Some(r), .. }) = out {
            let _ = r.send(outcome);
        }
    }

    fn on_boot_response(&mut self, outcome: &Result<Value, CallFailure>) {
        let now = Instant::now();
        let answer = match outcome {
            Ok(answer) => answer,
            Err(e) => {
                warn!(error = %e, "BootNotification failed; retrying");
                self.schedule_boot_retry(now, BOOT_RETRY);
                return;
            }
        };
        let status = answer["status"].as_str().unwrap_or("?");
        let interval = answer["interval"].as_u64().unwrap_or(0);
        self.shared.event(StationEvent::Registration {
            status: status.to_owned(),
            interval,
        });
        match status {
            "Accepted" => {
                let period = if interval > 0 {
                    Duration::from_secs(interval)
                } else {
                    DEFAULT_HEARTBEAT
                };
                {
                    let mut st = self.shared.state();
                    st.heartbeat_interval = period;
                    st.device_model.set(
                        "OCPPCommCtrlr",
                        "HeartbeatInterval",
                        period.as_secs().to_string(),
                    );
                }
                info!(heartbeat_s = period.as_secs(), "booted: Accepted");
                self.accepted = true;
                if self.phase == Phase::Booting {
                    self.start_running(now);
                } else {
                    self.heartbeat_at = Some(now + period);
                }
            }
            "Pending" | "Rejected" => {
                let delay = if interval > 0 {
                    Duration::from_secs(interval)
                } else {
                    BOOT_RETRY
                };
                info!(
                    status,
                    retry_in_s = delay.as_secs(),
                    "boot not accepted yet"
                );
                self.shared
                    .registration
                    .send_replace(if status == "Pending" {
                        Registration::Pending
                    } else {
                        Registration::Rejected
                    });
                self.schedule_boot_retry(now, delay);
            }
            other => {
                warn!(
                    status = other,
                    "BootNotificationResponse with an unknown status"
                );
                self.schedule_boot_retry(now, BOOT_RETRY);
            }
        }
    }

    fn schedule_boot_retry(&mut self, now: Instant, delay: Duration) {
        if self.phase == Phase::Booting {
            self.boot_at = Some(now + delay);
        }
    }

    /// Registered: report every connector, resend what the last connection left unanswered,
    /// start heartbeating.
    fn start_running(&mut self, now: Instant) {
        self.phase = Phase::Running;
        self.boot_at = None;
        self.boot_reason = "PowerUp";
        if let Some(carry) = self.carry.take() {
            self.urgent.push_front(carry);
        }
        let st = self.shared.state();
        self.heartbeat_at = Some(now + st.heartbeat_interval);
        st.report_all_statuses();
        drop(st);
        self.shared
            .registration
            .send_replace(Registration::Accepted);
    }

    fn on_timer(&mut self, now: Instant) {
        if self.phase != Phase::Running {
            return;
        }
        if self.heartbeat_at.is_some_and(|at| at <= now) {
            let period = self.shared.state().heartbeat_interval;
            self.heartbeat_at = Some(now + period);
            if !self.urgent.iter().any(|o| o.action == "Heartbeat") {
                self.urgent.push_back(heartbeat());
            }
        }
        self.shared.state().tick(now);
    }

    fn on_timeout(&mut self, p: Pending, now: Instant) {
        warn!(action = p.action, "no response before the timeout");
        if p.action == "BootNotification" {
            self.schedule_boot_retry(now, BOOT_RETRY);
        }
        if let Some(Outgoing { reply: Some(r), .. }) = self.inflight.take() {
            let _ = r.send(Err(CallFailure::Timeout));
        }
    }

    /// Whether an accepted Reset may now close the connection.
    fn reset_due(&self, queue: &UnboundedReceiver<OutItem>, now: Instant) -> bool {
        let Some(plan) = &self.reset else {
            return false;
        };
        let transactions = self.shared.state().has_transactions();
        if plan.when_idle {
            return !transactions && !self.rpc.is_busy() && queue.is_empty();
        }
        let drained = !self.rpc.is_busy() && self.urgent.is_empty() && queue.is_empty();
        drained || plan.deadline.is_some_and(|d| now >= d)
    }

    fn lost(&mut self, e: RpcError) -> End {
        self.rpc.take_pending();
        if let Some(out) = self.inflight.take() {
            // Transaction events must reach the CSMS (billing); anything else is stale by
            // the time we are back.
            if out.action == "TransactionEvent" {
                self.carry = Some(out);
            } else if let Some(r) = out.reply {
                let _ = r.send(Err(CallFailure::Disconnected));
            }
        }
        for out in self.urgent.drain(..) {
            if out.action == "TransactionEvent" && self.carry.is_none() {
                self.carry = Some(out);
            }
        }
        End::Lost(e.to_string())
    }
}

fn heartbeat() -> Outgoing {
    Outgoing {
        action: "Heartbeat",
        payload: messages::heartbeat(),
        reply: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_thirty_seconds() {
        let mut b = Backoff::default();
        let delays: Vec<u64> = (0..8).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }
}

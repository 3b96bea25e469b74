//! A tiny fake CSMS for the simulator's tests: accepts `ws://127.0.0.1:0/ocpp/{id}` with the
//! `ocpp2.0.1` sub-protocol, answers the station's CALLs, can call stations, and validates
//! every payload a station sends (CALLs and CALLRESULTs) against the official schemas.

#![allow(dead_code)] // each test binary uses a different part of it

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ocpp_schemas::Direction;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{self, HeaderValue};
use tokio_tungstenite::tungstenite::Message;

/// One CALL a station made.
#[derive(Debug, Clone)]
pub struct Received {
    /// Arrival order across all stations.
    pub seq: usize,
    pub station: String,
    pub action: String,
    pub payload: Value,
}

type CallReply = oneshot::Sender<Result<Value, String>>;

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    violations: Vec<String>,
    /// Station id -> the channel of its live connection.
    links: HashMap<String, mpsc::UnboundedSender<Command>>,
    connections: HashMap<String, u32>,
    clean_closes: HashMap<String, u32>,
    /// Basic-auth header value seen per station.
    authorization: HashMap<String, Option<String>>,
    /// BootNotifications still to answer `Pending` (interval 1 s) before accepting.
    pending_boots: u32,
}

enum Command {
    Call(String, Value, CallReply),
    Disconnect,
}

#[derive(Clone)]
pub struct FakeCsms {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    heartbeat_interval: u64,
}

impl FakeCsms {
    pub async fn start() -> FakeCsms {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let csms = FakeCsms {
            addr: listener.local_addr().unwrap(),
            inner: Arc::default(),
            heartbeat_interval: 300,
        };
        let server = csms.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move { server.serve(stream).await });
            }
        });
        csms
    }

    /// `ws://127.0.0.1:PORT/ocpp`
    pub fn base_url(&self) -> String {
        format!("ws://{}/ocpp", self.addr)
    }

    pub fn url(&self, station: &str) -> String {
        format!("{}/{station}", self.base_url())
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner().received.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.inner().violations.clone()
    }

    pub fn connections(&self, station: &str) -> u32 {
        self.inner().connections.get(station).copied().unwrap_or(0)
    }

    pub fn clean_closes(&self, station: &str) -> u32 {
        self.inner().clean_closes.get(station).copied().unwrap_or(0)
    }

    /// Answers the next `n` BootNotifications with Pending (interval 1 s).
    pub fn set_pending_boots(&self, n: u32) {
        self.inner().pending_boots = n;
    }

    pub fn authorization(&self, station: &str) -> Option<String> {
        self.inner().authorization.get(station).cloned().flatten()
    }

    /// Waits (10 s at most) for a CALL from `station` matching `pred`, and returns it.
    pub async fn wait_for(
        &self,
        station: &str,
        what: &str,
        pred: impl Fn(&Received) -> bool,
    ) -> Received {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(r) = self
                .inner()
                .received
                .iter()
                .find(|r| r.station == station && pred(r))
            {
                return r.clone();
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what} from {station}; got {:#?}",
                    self.inner()
                        .received
                        .iter()
                        .filter(|r| r.station == station)
                        .map(|r| (&r.action, &r.payload))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Calls `station` and returns its CALLRESULT payload, or the CALLERROR code.
    pub async fn call(&self, station: &str, action: &str, payload: Value) -> Result<Value, String> {
        let link = self
            .inner()
            .links
            .get(station)
            .cloned()
            .unwrap_or_else(|| panic!("{station} is not connected"));
        let (tx, rx) = oneshot::channel();
        link.send(Command::Call(action.to_owned(), payload, tx))
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .expect("station answers within 10 s")
            .expect("connection alive")
    }

    /// Drops the station's connection without a close handshake.
    pub fn disconnect(&self, station: &str) {
        if let Some(link) = self.inner().links.get(station) {
            let _ = link.send(Command::Disconnect);
        }
    }

    // tungstenite's handshake callback dictates the large `Err` type.
    #[allow(clippy::result_large_err)]
    async fn serve(self, stream: TcpStream) {
        let mut path = String::new();
        let mut auth = None;
        let check = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
            path = req.uri().path().to_owned();
            auth = req
                .headers()
                .get("Authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let offered = req
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !offered.split(',').any(|p| p.trim() == "ocpp2.0.1") {
                return Err(http::Response::builder()
                    .status(400)
                    .body(Some("the ocpp2.0.1 sub-protocol is required".into()))
                    .unwrap());
            }
            resp.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static("ocpp2.0.1"),
            );
            Ok(resp)
        };
        let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, check).await else {
            return;
        };
        let Some(station) = path.strip_prefix("/ocpp/").map(str::to_owned) else {
            return;
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        {
            let mut inner = self.inner();
            inner.links.insert(station.clone(), tx);
            *inner.connections.entry(station.clone()).or_default() += 1;
            inner.authorization.insert(station.clone(), auth);
        }
        let mut next_id = 1u64;
        let mut waiting: HashMap<String, (String, CallReply)> = HashMap::new();
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Command::Call(action, payload, reply)) => {
                        let id = format!("csms-{next_id}");
                        next_id += 1;
                        let text = json!([2, id, action, payload]).to_string();
                        waiting.insert(id, (action, reply));
                        if ws.send(Message::text(text)).await.is_err() {
                            break;
                        }
                    }
                    Some(Command::Disconnect) | None => break,
                },
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(text))) => {
                        let frame: Value = serde_json::from_str(text.as_str()).unwrap();
                        if let Some(answer) = self.on_frame(&station, &frame, &mut waiting) {
                            if ws.send(Message::text(answer.to_string())).await.is_err() {
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Close(_))) => {
                        *self.inner().clean_closes.entry(station.clone()).or_default() += 1;
                        // Finish the close handshake.
                        while let Some(Ok(_)) = ws.next().await {}
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
            }
        }
        // Forget the link only if it is still ours (a reconnect may have replaced it).
        drop(rx);
        let mut inner = self.inner();
        if inner.links.get(&station).is_some_and(|l| l.is_closed()) {
            inner.links.remove(&station);
        }
    }

    fn on_frame(
        &self,
        station: &str,
        frame: &Value,
        waiting: &mut HashMap<String, (String, CallReply)>,
    ) -> Option<Value> {
        let id = frame[1].as_str().unwrap_or_default().to_owned();
        match frame[0].as_u64() {
            Some(2) => {
                let action = frame[2].as_str().unwrap_or_default().to_owned();
                let payload = frame[3].clone();
                self.check(station, &action, Direction::Request, &payload);
                let answer = self.answer(&action, &payload);
                let mut inner = self.inner();
                let seq = inner.received.len();
                inner.received.push(Received {
                    seq,
                    station: station.to_owned(),
                    action: action.clone(),
                    payload,
                });
                drop(inner);
                Some(match answer {
                    Some(result) => {
                        // The fake itself must be right, or the tests prove nothing.
                        ocpp_schemas::validate(&action, Direction::Response, &result)
                            .unwrap_or_else(|v| panic!("fake CSMS answer to {action}: {v}"));
                        json!([3, id, result])
                    }
                    None => json!([4, id, "NotImplemented", "fake CSMS", {}]),
                })
            }
            Some(3) => {
                if let Some((action, reply)) = waiting.remove(&id) {
                    self.check(station, &action, Direction::Response, &frame[2]);
                    let _ = reply.send(Ok(frame[2].clone()));
                }
                None
            }
            Some(4) => {
                if let Some((_, reply)) = waiting.remove(&id) {
                    let _ = reply.send(Err(frame[2].as_str().unwrap_or_default().to_owned()));
                }
                None
            }
            _ => {
                self.inner()
                    .violations
                    .push(format!("{station}: not an OCPP-J frame: {frame}"));
                None
            }
        }
    }

    fn check(&self, station: &str, action: &str, direction: Direction, payload: &Value) {
        if let Err(v) = ocpp_schemas::validate(action, direction, payload) {
            self.inner().violations.push(format!(
                "{station} {action} {direction:?}: {v} in {payload}"
            ));
        }
    }

    fn answer(&self, action: &str, payload: &Value) -> Option<Value> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Some(match action {
            "BootNotification" => {
                let mut inner = self.inner();
                if inner.pending_boots > 0 {
                    inner.pending_boots -= 1;
                    json!({ "status": "Pending", "currentTime": now, "interval": 1 })
                } else {
                    json!({
                        "status": "Accepted",
                        "currentTime": now,
                        "interval": self.heartbeat_interval,
                    })
                }
            }
            "Heartbeat" => json!({ "currentTime": now }),
            "StatusNotification" | "MeterValues" | "ReservationStatusUpdate" => json!({}),
            "Authorize" => {
                let token = payload["idToken"]["idToken"].as_str().unwrap_or_default();
                let status = if token.starts_with("BAD") {
                    "Invalid"
                } else {
                    "Accepted"
                };
                json!({ "idTokenInfo": { "status": status } })
            }
            "TransactionEvent" => {
                if payload.get("idToken").is_some() {
                    json!({ "idTokenInfo": { "status": "Accepted" } })
                } else {
                    json!({})
                }
            }
            _ => return None,
        })
    }
}

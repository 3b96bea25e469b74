//! The load fleet: N lean stations in one process. Each is one task holding its socket, a
//! few counters and one timer; no channels, no locks of its own, no per-station state
//! machine beyond "which transaction message is next". That keeps 10,000 stations in a few
//! tens of MB, and leaves the CPU to the CSMS running on the same machine.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ocpp_schemas::ErrorCode;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::MaybeTlsStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, Instrument};

use crate::connect::{self, station_url, ConnectOptions};
use crate::connection::Backoff;
use crate::messages::{self, ChargingState, ConnectorStatus, IdToken, StationInfo, TxEvent};
use crate::rpc::{Event, Rpc};
use crate::stats::{Report, Stats};

/// Relative weights of the message kinds each station sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    pub heartbeat: u32,
    pub status: u32,
    pub meter: u32,
    /// One step of a transaction: Started, Updated (meter values) ×3, Ended.
    pub tx: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            heartbeat: 60,
            status: 10,
            meter: 20,
            tx: 10,
        }
    }
}

impl FromStr for Mix {
    type Err = String;

    /// `heartbeat=60,status=10,meter=20,tx=10`; kinds left out weigh 0.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut mix = Mix {
            heartbeat: 0,
            status: 0,
            meter: 0,
            tx: 0,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected kind=weight"))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: the weight is a whole number"))?;
            match kind.trim() {
                "heartbeat" => mix.heartbeat = weight,
                "status" => mix.status = weight,
                "meter" => mix.meter = weight,
                "tx" => mix.tx = weight,
                other => {
                    return Err(format!(
                        "unknown message kind {other:?} (heartbeat, status, meter, tx)"
                    ))
                }
            }
        }
        if mix.total() == 0 {
            return Err("the mix needs at least one non-zero weight".into());
        }
        Ok(mix)
    }
}

impl Mix {
    fn total(&self) -> u32 {
        self.heartbeat + self.status + self.meter + self.tx
    }

    fn pick(&self, roll: u32) -> Kind {
        let mut r = roll % self.total();
        for (weight, kind) in [
            (self.heartbeat, Kind::Heartbeat),
            (self.status, Kind::Status),
            (self.meter, Kind::Meter),
        ] {
            if r < weight {
                return kind;
            }
            r -= weight;
        }
        Kind::Tx
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Heartbeat,
    Status,
    Meter,
    Tx,
}

/// A fleet run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// CSMS base URL; station `i` connects to `{url}/{prefix}{i}`.
    pub url: String,
    pub stations: u32,
    pub prefix: String,
    /// Index of the first station (to split a fleet over several processes).
    pub first_index: u32,
    /// Whole run, ramp included. In connect-only mode: how long to wait for all to boot.
    pub duration: Duration,
    /// Connects are spread evenly over this period.
    pub ramp: Duration,
    /// Total target messages per second across the fleet; `None` = one per station per 10 s.
    pub rate: Option<f64>,
    pub mix: Mix,
    pub connect: ConnectOptions,
    pub call_timeout: Duration,
    /// Connect and boot, then stay idle for `hold`.
    pub connect_only: bool,
    pub hold: Duration,
    /// Power drawn during simulated transactions.
    pub power_kw: f64,
}

impl LoadConfig {
    pub fn new(url: impl Into<String>, stations: u32, duration: Duration) -> Self {
        LoadConfig {
            url: url.into(),
            stations,
            prefix: "LOAD-".into(),
            first_index: 1,
            duration,
            ramp: Duration::ZERO,
            rate: None,
            mix: Mix::default(),
            connect: ConnectOptions {
                timeout: Some(Duration::from_secs(30)),
                ..ConnectOptions::default()
            },
            call_timeout: Duration::from_secs(30),
            connect_only: false,
            hold: Duration::from_secs(30),
            power_kw: 11.0,
        }
    }

    /// Time between two messages of one station.
    fn send_interval(&self) -> Duration {
        let per_station = match self.rate {
            Some(rate) if rate > 0.0 => f64::from(self.stations) / rate,
            _ => 10.0,
        };
        Duration::from_secs_f64(per_station.max(0.001))
    }
}

/// What every station task shares.
struct Fleet {
    cfg: LoadConfig,
    stats: Arc<Stats>,
    info: StationInfo,
    start: Instant,
    /// No new messages after this; the run winds down.
    end: Instant,
    interval: Duration,
    stop: CancellationToken,
    /// Cancelled when the last station is Accepted (a token, unlike `Notify`, cannot be
    /// missed by a waiter that arrives late).
    all_booted: CancellationToken,
}

/// Runs the fleet until the duration (or, connect-only, the hold) is over or `shutdown`
/// fires, and returns the report.
pub async fn run(cfg: LoadConfig, shutdown: CancellationToken) -> Report {
    let stats = Arc::new(Stats::new(u64::from(cfg.stations)));
    let start = stats.started();
    let stop = shutdown.child_token();
    let end = if cfg.connect_only {
        // Idle stations send nothing; the hold below decides when they go.
        start + Duration::from_secs(100 * 365 * 24 * 3600)
    } else {
        start + cfg.duration
    };
    let fleet = Arc::new(Fleet {
        interval: cfg.send_interval(),
        info: StationInfo::default(),
        stats: Arc::clone(&stats),
        start,
        end,
        stop: stop.clone(),
        all_booted: CancellationToken::new(),
        cfg,
    });
    info!(
        stations = fleet.cfg.stations,
        url = %fleet.cfg.url,
        interval_ms = fleet.interval.as_millis() as u64,
        "starting the fleet"
    );
    let tracker = TaskTracker::new();
    for n in 0..fleet.cfg.stations {
        let fleet = Arc::clone(&fleet);
        let span = tracing::debug_span!("load", n);
        tracker.spawn(station(n, fleet).instrument(span));
    }
    tracker.close();
    if fleet.cfg.connect_only {
        hold_when_booted(&fleet, &shutdown).await;
        stop.cancel();
    }
    tracker.wait().await;
    stats.report()
}

/// Connect-only: wait until every station is Accepted (or `duration` passed), announce it,
/// then keep them idle for `hold`.
async fn hold_when_booted(fleet: &Fleet, shutdown: &CancellationToken) {
    let n = fleet.cfg.stations;
    let waited = tokio::select! {
        _ = fleet.all_booted.cancelled() => true,
        _ = tokio::time::sleep_until(fleet.start + fleet.cfg.duration) => false,
        _ = shutdown.cancelled() => return,
    };
    let booted = fleet.stats.booted();
    if waited {
        info!(
            stations = n,
            seconds = format_args!("{:.3}", fleet.start.elapsed().as_secs_f64()),
            "all stations booted; holding for {:?}",
            fleet.cfg.hold
        );
    } else {
        info!(
            booted,
            stations = n,
            "not all stations booted in {:?}; holding for {:?}",
            fleet.cfg.duration,
            fleet.cfg.hold
        );
    }
    tokio::select! {
        _ = tokio::time::sleep(fleet.cfg.hold) => {}
        _ = shutdown.cancelled() => {}
    }
}

/// Tiny xorshift64* generator: a few bytes per station instead of a full RNG.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Transaction messages after Started and before Ended.
const TX_UPDATES: u32 = 3;

/// The simulated EVSE 1 of one load station.
struct Sim {
    rng: Rng,
    register_wh: f64,
    charging_since: Option<Instant>,
    power_w: f64,
    /// Running transaction and its next seqNo.
    tx: Option<(uuid::Uuid, u32)>,
    unavailable: bool,
}

impl Sim {
    fn register(&self, now: Instant) -> f64 {
        self.register_wh
            + self
                .charging_since
                .map_or(0.0, |s| self.power_w * (now - s).as_secs_f64() / 3600.0)
    }

    fn status(&self) -> ConnectorStatus {
        if self.tx.is_some() {
            ConnectorStatus::Occupied
        } else if self.unavailable {
            ConnectorStatus::Unavailable
        } else {
            ConnectorStatus::Available
        }
    }

    /// The next message of `kind`.
    fn message(&mut self, kind: Kind, now: Instant) -> (&'static str, Value) {
        match kind {
            Kind::Heartbeat => ("Heartbeat", messages::heartbeat()),
            Kind::Status => {
                // Idle stations flap between Available and Unavailable (maintenance, faults);
                // during a transaction they re-report Occupied.
                if self.tx.is_none() {
                    self.unavailable = !self.unavailable && self.rng.unit() < 0.5;
                }
                (
                    "StatusNotification",
                    messages::status_notification(1, 1, self.status()),
                )
            }
            Kind::Meter => {
                let power = self.charging_since.map(|_| self.power_w);
                let mv = messages::meter_value(self.register(now), power, "Sample.Periodic");
                ("MeterValues", messages::meter_values(1, mv))
            }
            Kind::Tx if self.unavailable && self.tx.is_none() => {
                self.unavailable = false;
                (
                    "StatusNotification",
                    messages::status_notification(1, 1, self.status()),
                )
            }
            Kind::Tx => ("TransactionEvent", self.tx_step(now)),
        }
    }

    /// Advances the transaction: Started, Updated ×3, Ended, then a new one.
    fn tx_step(&mut self, now: Instant) -> Value {
        let register = self.register(now);
        let (id, seq) = match self.tx {
            Some(tx) => tx,
            None => (uuid::Uuid::new_v4(), 0),
        };
        let id_text = id.to_string();
        let token = IdToken::rfid(format!("LOADTOKEN{:06}", self.rng.next() % 1_000_000));
        let mut ev;
        if seq == 0 {
            ev = TxEvent::new("Started", "Authorized", 0, &id_text);
            ev.charging_state = Some(ChargingState::Charging);
            ev.id_token = Some(&token);
            ev.meter_value = Some(messages::meter_value(
                register,
                Some(self.power_w),
                "Transaction.Begin",
            ));
            self.charging_since = Some(now);
            self.tx = Some((id, 1));
        } else if seq <= TX_UPDATES {
            ev = TxEvent::new("Updated", "MeterValuePeriodic", seq, &id_text);
            ev.meter_value = Some(messages::meter_value(
                register,
                Some(self.power_w),
                "Sample.Periodic",
            ));
            self.tx = Some((id, seq + 1));
        } else {
            ev = TxEvent::new("Ended", "StopAuthorized", seq, &id_text);
            ev.charging_state = Some(ChargingState::EvConnected);
            ev.stopped_reason = Some("Local");
            ev.meter_value = Some(messages::meter_value(
                register,
                Some(0.0),
                "Transaction.End",
            ));
            self.register_wh = register;
            self.charging_since = None;
            self.tx = None;
        }
        ev.evse = Some(1);
        messages::transaction_event(&ev)
    }
}

/// One station for the whole run: connect (retrying with backoff), boot, send its share of
/// the mix, reconnect if dropped.
async fn station(n: u32, fleet: Arc<Fleet>) {
    let cfg = &fleet.cfg;
    let id = format!("{}{}", cfg.prefix, cfg.first_index + n);
    let url = station_url(&cfg.url, &id);
    let ramp_offset = cfg
        .ramp
        .mul_f64(f64::from(n) / f64::from(cfg.stations.max(1)));
    let mut sim = Sim {
        rng: Rng::new(u64::from(n) + 1),
        register_wh: 50_000.0,
        charging_since: None,
        power_w: cfg.power_kw * 1000.0,
        tx: None,
        unavailable: false,
    };
    tokio::select! {
        _ = tokio::time::sleep_until(fleet.start + ramp_offset) => {}
        _ = fleet.stop.cancelled() => return,
    }
    let mut backoff = Backoff::default();
    let mut connected_before = false;
    let mut booted_before = false;
    while Instant::now() < fleet.end && !fleet.stop.is_cancelled() {
        // Boxed: the handshake future is ~11 KB and would otherwise sit inside every
        // station's task for the whole run, connected or not.
        let connected = tokio::select! {
            r = Box::pin(connect::connect(&url, &id, &cfg.connect)) => r,
            _ = fleet.stop.cancelled() => return,
        };
        match connected {
            Ok(ws) => {
                if connected_before {
                    fleet.stats.reconnected();
                } else {
                    connected_before = true;
                    fleet.stats.station_connected();
                }
                let mut rpc = Rpc::new(ws, cfg.call_timeout);
                let outcome = serve(&mut rpc, &mut sim, &fleet, &mut booted_before).await;
                if outcome == Served::Finished {
                    rpc.close().await;
                    return;
                }
                if booted_before {
                    backoff.reset();
                }
            }
            Err(e) => {
                debug!(station = %id, error = %e, "connect failed");
                fleet.stats.connect_error(e.label());
            }
        }
        // Jitter spreads a fleet's reconnects instead of all retrying in the same instant.
        let delay = backoff.next_delay().mul_f64(0.5 + sim.rng.unit());
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = fleet.stop.cancelled() => return,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Served {
    Finished,
    Lost,
}

#[derive(PartialEq, Eq)]
enum Phase {
    Booting,
    /// Accepted; the initial StatusNotification is next.
    Announcing,
    Running,
}

/// One connection of one load station, driven by a single timer.
async fn serve(
    rpc: &mut Rpc<MaybeTlsStream<TcpStream>>,
    sim: &mut Sim,
    fleet: &Fleet,
    booted_before: &mut bool,
) -> Served {
    let stats = &fleet.stats;
    let mut phase = Phase::Booting;
    let mut next_send = Instant::now();
    let timer = tokio::time::sleep_until(next_send);
    tokio::pin!(timer);
    loop {
        let now = Instant::now();
        if let Some(p) = rpc.expire(now) {
            stats.error(p.action, "timeout");
            if p.action == "BootNotification" {
                next_send = now + Duration::from_secs(10);
            }
        }
        if !rpc.is_busy() {
            if now >= fleet.end {
                return Served::Finished;
            }
            if now >= next_send {
                let (action, payload) = match phase {
                    Phase::Booting => (
                        "BootNotification",
                        messages::boot_notification("PowerUp", &fleet.info),
                    ),
                    Phase::Announcing => {
                        phase = Phase::Running;
                        // Random phase so a fleet booted at once does not send in lockstep.
                        next_send = now + fleet.interval.mul_f64(sim.rng.unit());
                        (
                            "StatusNotification",
                            messages::status_notification(1, 1, sim.status()),
                        )
                    }
                    Phase::Running => {
                        // Catch up at most one period, so a slow CSMS is not then flooded.
                        next_send = (next_send + fleet.interval).max(now);
                        let roll = sim.rng.next() as u32;
                        sim.message(fleet.cfg.mix.pick(roll), now)
                    }
                };
                if rpc.call(action, &payload).await.is_err() {
                    stats.error(action, "disconnected");
                    return Served::Lost;
                }
                stats.sent(action);
                continue;
            }
        }
        // While a call is outstanding only its timeout matters: the run's end waits for it.
        let wake = rpc.deadline().unwrap_or_else(|| next_send.min(fleet.end));
        timer.as_mut().reset(wake);
        let frame = tokio::select! {
            _ = fleet.stop.cancelled() => return Served::Finished,
            frame = rpc.recv() => frame,
            _ = &mut timer => continue,
        };
        match frame {
            Err(_) => {
                if let Some(p) = rpc.take_pending() {
                    stats.error(p.action, "disconnected");
                }
                return Served::Lost;
            }
            Ok(Event::Response {
                action,
                latency,
                outcome,
            }) => {
                match outcome {
                    Ok(answer) => {
                        stats.answered(action, latency);
                        if action == "BootNotification" {
                            let interval = answer["interval"].as_u64().unwrap_or(0);
                            match answer["status"].as_str() {
                                Some("Accepted") => {
                                    phase = Phase::Announcing;
                                    if !*booted_before {
                                        *booted_before = true;
                                        if stats.station_booted() {
                                            info!(
                                                seconds = format_args!(
                                                    "{:.3}",
                                                    fleet.start.elapsed().as_secs_f64()
                                                ),
                                                "all {} stations booted", fleet.cfg.stations
                                            );
                                            fleet.all_booted.cancel();
                                        }
                                    }
                                    if fleet.cfg.connect_only {
                                        // Idle: only the first StatusNotification, then silence.
                                        next_send = now;
                                    }
                                }
                                Some(status) => {
                                    stats.error("BootNotification", status.to_owned());
                                    next_send =
                                        Instant::now() + Duration::from_secs(interval.max(1));
                                }
                                None => {
                                    stats.error("BootNotification", "no status");
                                    next_send = Instant::now() + Duration::from_secs(10);
                                }
                            }
                        }
                    }
                    Err(e) => {
                        stats.error(action, e.code);
                        if action == "BootNotification" {
                            next_send = Instant::now() + Duration::from_secs(10);
                        }
                    }
                }
                if fleet.cfg.connect_only && phase == Phase::Running {
                    next_send = fleet.end;
                }
            }
            Ok(Event::Call {
                id,
                action,
                payload,
            }) => {
                stats.call_received();
                let sent = match answer(&action, &payload) {
                    Ok(reply) => rpc.reply(&id, &reply).await,
                    Err((code, description)) => rpc.reply_error(&id, code, description).await,
                };
                if sent.is_err() {
                    return Served::Lost;
                }
            }
            Ok(Event::BadFrame(err)) => {
                if rpc.reply_frame_error(&err).await.is_err() {
                    return Served::Lost;
                }
            }
        }
    }
}

/// Load stations do not act on CSMS commands; they answer honestly that they will not.
/// Charging limits and running costs are only acknowledged, so that a CSMS pausing,
/// resuming or pricing sessions across a fleet sees its calls succeed (the fleet's meters do
/// not follow the limits).
fn answer(action: &str, payload: &Value) -> Result<Value, (ErrorCode, &'static str)> {
    let status = |s: &str| Ok(json!({ "status": s }));
    match action {
        "SetChargingProfile" | "ClearChargingProfile" => status("Accepted"),
        "CostUpdated" => Ok(json!({})),
        "RequestStartTransaction"
        | "RequestStopTransaction"
        | "Reset"
        | "ChangeAvailability"
        | "ReserveNow"
        | "CancelReservation"
        | "TriggerMessage" => status("Rejected"),
        "UnlockConnector" => status("UnlockFailed"),
        "DataTransfer" => status("UnknownVendorId"),
        "GetVariables" => {
            let results: Vec<Value> = payload["getVariableData"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|item| {
                            json!({
                                "attributeStatus": "UnknownComponent",
                                "component": item["component"],
                                "variable": item["variable"],
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(json!({ "getVariableResult": results }))
        }
        _ => Err((ErrorCode::NotImplemented, "not supported by load stations")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_and_picks_by_weight() {
        let mix: Mix = "heartbeat=60,status=10,meter=20,tx=10".parse().unwrap();
        assert_eq!(mix, Mix::default());
        let only_tx: Mix = "tx=1".parse().unwrap();
        assert!((0..100).all(|r| only_tx.pick(r) == Kind::Tx));
        assert_eq!(mix.pick(0), Kind::Heartbeat);
        assert_eq!(mix.pick(60), Kind::Status);
        assert_eq!(mix.pick(70), Kind::Meter);
        assert_eq!(mix.pick(95), Kind::Tx);
        assert!("heartbeat=0".parse::<Mix>().is_err());
        assert!("beat=1".parse::<Mix>().is_err());
        assert!("tx".parse::<Mix>().is_err());
    }

    #[test]
    fn rate_spreads_over_the_fleet() {
        let mut cfg = LoadConfig::new("ws://x/ocpp", 100, Duration::from_secs(5));
        assert_eq!(cfg.send_interval(), Duration::from_secs(10));
        cfg.rate = Some(50.0);
        assert_eq!(cfg.send_interval(), Duration::from_secs(2));
    }

    #[test]
    fn transactions_cycle_with_rising_seq_and_energy() {
        let mut sim = Sim {
            rng: Rng::new(1),
            register_wh: 0.0,
            charging_since: None,
            power_w: 3_600_000.0,
            tx: None,
            unavailable: false,
        };
        let t0 = Instant::now();
        let kinds: Vec<(String, u64, f64)> = (0..6)
            .map(|i| {
                let v = sim.tx_step(t0 + Duration::from_secs(i));
                (
                    v["eventType"].as_str().unwrap().to_owned(),
                    v["seqNo"].as_u64().unwrap(),
                    v["meterValue"][0]["sampledValue"][0]["value"]
                        .as_f64()
                        .unwrap(),
                )
            })
            .collect();
        let types: Vec<&str> = kinds.iter().map(|k| k.0.as_str()).collect();
        assert_eq!(
            types,
            ["Started", "Updated", "Updated", "Updated", "Ended", "Started"]
        );
        assert_eq!(kinds[4].1, 4);
        assert_eq!(kinds[5].1, 0);
        // 3.6 MW for 4 s = 4 kWh.
        assert_eq!(kinds[4].2, 4000.0);
        assert_eq!(kinds[5].2, 4000.0);
    }

    /// Each station's task stays allocated for the whole run, so its size is the fleet's
    /// memory floor: the connect handshake (~11 KB) must stay boxed, out of it.
    #[test]
    fn a_station_task_stays_small() {
        let cfg = LoadConfig::new("ws://127.0.0.1:1/ocpp", 1, Duration::from_secs(1));
        let fleet = Arc::new(Fleet {
            interval: cfg.send_interval(),
            info: StationInfo::default(),
            stats: Arc::new(Stats::new(1)),
            start: Instant::now(),
            end: Instant::now(),
            stop: CancellationToken::new(),
            all_booted: CancellationToken::new(),
            cfg,
        });
        let task = station(0, fleet);
        assert!(
            std::mem::size_of_val(&task) < 6 * 1024,
            "{}",
            std::mem::size_of_val(&task)
        );
    }

    #[test]
    fn load_stations_refuse_commands_politely() {
        assert_eq!(
            answer("RequestStartTransaction", &json!({})).unwrap()["status"],
            "Rejected"
        );
        assert!(answer("GetLog", &json!({})).is_err());
        for (action, request) in [
            (
                "SetChargingProfile",
                json!({"evseId": 1, "chargingProfile": {"id": 1, "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
                    "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0}]}]}}),
            ),
            ("ClearChargingProfile", json!({"chargingProfileId": 1})),
            (
                "CostUpdated",
                json!({"totalCost": 1.5, "transactionId": "TX-1"}),
            ),
        ] {
            ocpp_schemas::validate(action, ocpp_schemas::Direction::Request, &request).unwrap();
            let reply = answer(action, &request).unwrap();
            ocpp_schemas::validate(action, ocpp_schemas::Direction::Response, &reply)
                .unwrap_or_else(|v| panic!("{action}: {v}"));
        }
        let r = answer(
            "GetVariables",
            &json!({"getVariableData":[{"component":{"name":"A"},"variable":{"name":"B"}}]}),
        )
        .unwrap();
        assert_eq!(
            r["getVariableResult"][0]["attributeStatus"],
            "UnknownComponent"
        );
    }
}

//! wsblast: a plain OCPP-J load client, written apart from evsim (no shared code, no station
//! model), the way an outside tester drives a CSMS: each station is one WebSocket that boots,
//! then sends CALLs back to back (closed loop, the next one after the answer) for a fixed
//! time. It prints messages/s, and per action the count and latency percentiles.
//!
//! ```text
//! wsblast --url ws://127.0.0.1:18480/ocpp --stations 200 --seconds 20 --mix tx
//! ```
//! Mixes: `tx` (Started, 3 Updated, Ended, again), `meter` (MeterValues of `--samples`
//! sampled values each), `heartbeat`, `mixed` (60 % Heartbeat, 10 % StatusNotification,
//! 20 % MeterValues, 10 % TransactionEvent).
//!
//! The client is kept lean because it shares the box with the server and PostgreSQL: CALLs
//! are written straight into text, answers are read for their type and id only, and one
//! runtime thread drives every station unless `--threads` says otherwise; its read buffer is
//! sized to OCPP's small frames.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug, Clone)]
#[command(about = "Closed-loop OCPP 2.0.1 load: stations sending CALLs back to back")]
struct Args {
    /// CSMS endpoint; station i connects to {url}/{prefix}{i}
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 200)]
    stations: u32,
    #[arg(long, default_value = "BLAST-")]
    prefix: String,
    /// Seconds of load after every station has booted
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// tx | meter | heartbeat | mixed
    #[arg(long, default_value = "mixed")]
    mix: String,
    /// Sampled values per MeterValues (energy register, then per-phase V, A, W)
    #[arg(long, default_value_t = 10)]
    samples: usize,
    /// Connections opened at once while connecting
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Runtime threads driving the stations
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

type Hists = BTreeMap<&'static str, Histogram<u64>>;

struct Outcome {
    hists: Hists,
    errors: u64,
    samples: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(args.threads);
        b
    }
    .enable_all()
    .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    if !["tx", "meter", "heartbeat", "mixed"].contains(&args.mix.as_str()) {
        anyhow::bail!("--mix must be tx, meter, heartbeat or mixed");
    }
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let booted = Arc::new(tokio::sync::Barrier::new(args.stations as usize + 1));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for i in 1..=args.stations {
        let (args, gate, booted) = (args.clone(), gate.clone(), booted.clone());
        tasks.push(tokio::spawn(
            async move { station(i, args, gate, booted).await },
        ));
    }
    booted.wait().await;
    let boot_secs = t0.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut total: Hists = BTreeMap::new();
    let (mut errors, mut samples, mut failed) = (0u64, 0u64, 0u32);
    for t in tasks {
        match t.await? {
            Ok(o) => {
                for (k, h) in o.hists {
                    total.entry(k).or_insert_with(hist).add(h)?;
                }
                errors += o.errors;
                samples += o.samples;
            }
            Err(e) => {
                failed += 1;
                eprintln!("station failed: {e:#}");
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let messages: u64 = total.values().map(|h| h.len()).sum();
    println!(
        "wsblast: {} stations booted in {boot_secs:.2} s ({failed} failed), mix {}, {secs:.1} s",
        args.stations, args.mix
    );
    println!(
        "total: {messages} answered, {:.0} msg/s, {errors} CALLERRORs, {:.0} meter samples/s",
        messages as f64 / secs,
        samples as f64 / secs
    );
    for (action, h) in &total {
        println!(
            "  {action:<20} {:>9} {:>8.0}/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms",
            h.len(),
            h.len() as f64 / secs,
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.9)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max()),
        );
    }
    Ok(())
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn station(
    i: u32,
    args: Args,
    gate: Arc<Semaphore>,
    booted: Arc<tokio::sync::Barrier>,
) -> anyhow::Result<Outcome> {
    let id = format!("{}{i}", args.prefix);
    let connected = async {
        let _permit = gate.acquire().await?;
        let mut request =
            format!("{}/{id}", args.url.trim_end_matches('/')).into_client_request()?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "ocpp2.0.1".parse()?);
        // tungstenite zero-fills its whole read buffer (128 KiB by default) before each read:
        // with small frames that memset was a third of this client's CPU.
        let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        let boot =
            r#"{"reason":"PowerUp","chargingStation":{"vendorName":"wsblast","model":"Blast-1"}}"#;
        call(&mut ws, 1, "BootNotification", boot).await?;
        anyhow::Ok(ws)
    }
    .await;
    // everyone reaches the barrier, or the run would wait forever for a failed station
    booted.wait().await;
    let mut ws = connected?;
    let mut out = Outcome {
        hists: BTreeMap::new(),
        errors: 0,
        samples: 0,
    };
    let end = Instant::now() + Duration::from_secs(args.seconds);
    let mut tx = Tx::default();
    let mut n: u64 = 2;
    while Instant::now() < end {
        let (action, payload, samples) = next(&args, n, i, &mut tx);
        let sent = Instant::now();
        let ok = call(&mut ws, n, action, &payload).await?;
        let us = sent.elapsed().as_micros() as u64;
        out.hists
            .entry(action)
            .or_insert_with(hist)
            .record(us.max(1))?;
        if ok {
            out.samples += samples;
        } else {
            out.errors += 1;
        }
        n += 1;
    }
    let _ = ws.close(None).await;
    Ok(out)
}

/// One station's transaction: its id and the next seqNo.
#[derive(Default)]
struct Tx {
    id: Option<String>,
    seq: i32,
    register_wh: f64,
}

fn next(args: &Args, n: u64, station: u32, tx: &mut Tx) -> (&'static str, String, u64) {
    let kind = match args.mix.as_str() {
        "tx" => "tx",
        "meter" => "meter",
        "heartbeat" => "heartbeat",
        // spread the stations over the cycle so the fleet's mix is even at every moment
        _ => match (n + u64::from(station)) % 10 {
            0..=5 => "heartbeat",
            6 => "status",
            7 | 8 => "meter",
            _ => "tx",
        },
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    tx.register_wh += 25.0;
    let wh = tx.register_wh;
    match kind {
        "heartbeat" => ("Heartbeat", "{}".to_owned(), 0),
        "status" => (
            "StatusNotification",
            format!(
                r#"{{"timestamp":"{now}","connectorStatus":"Available","evseId":1,"connectorId":1}}"#
            ),
            0,
        ),
        "meter" => {
            let (values, count) = sampled_values(args.samples, wh);
            let payload = format!(
                r#"{{"evseId":1,"meterValue":[{{"timestamp":"{now}","sampledValue":[{values}]}}]}}"#
            );
            ("MeterValues", payload, count)
        }
        _ => {
            let (event, trigger) = match (&tx.id, tx.seq) {
                (None, _) => ("Started", "Authorized"),
                (Some(_), s) if s >= 4 => ("Ended", "StopAuthorized"),
                _ => ("Updated", "MeterValuePeriodic"),
            };
            let id = tx
                .id
                .get_or_insert_with(|| uuid::Uuid::new_v4().to_string())
                .clone();
            let stopped = if event == "Ended" {
                r#","stoppedReason":"Local""#
            } else {
                ""
            };
            let token = if event == "Started" {
                format!(r#","idToken":{{"idToken":"BLAST{station}","type":"ISO14443"}}"#)
            } else {
                String::new()
            };
            let payload = format!(
                r#"{{"eventType":"{event}","timestamp":"{now}","triggerReason":"{trigger}","seqNo":{seq},"transactionInfo":{{"transactionId":"{id}"{stopped}}},"evse":{{"id":1,"connectorId":1}},"meterValue":[{{"timestamp":"{now}","sampledValue":[{{"value":{wh},"measurand":"Energy.Active.Import.Register","unitOfMeasure":{{"unit":"Wh"}}}}]}}]{token}}}"#,
                seq = tx.seq
            );
            if event == "Ended" {
                tx.id = None;
                tx.seq = 0;
            } else {
                tx.seq += 1;
            }
            ("TransactionEvent", payload, 1)
        }
    }
}

/// The energy register, then per phase voltage, current and power, as many as asked: the
/// JSON array's items and how many there are.
fn sampled_values(count: usize, register_wh: f64) -> (String, u64) {
    let mut values = format!(
        r#"{{"value":{register_wh},"measurand":"Energy.Active.Import.Register","unitOfMeasure":{{"unit":"Wh"}}}}"#
    );
    let phases = ["L1", "L2", "L3"];
    let kinds = [
        ("Voltage", "V", 230.0),
        ("Current.Import", "A", 16.0),
        ("Power.Active.Import", "W", 3680.0),
    ];
    for k in 0..count.saturating_sub(1) {
        let (measurand, unit, value) = kinds[(k / 3) % 3];
        let phase = phases[k % 3];
        values.push_str(&format!(
            r#",{{"value":{value},"measurand":"{measurand}","phase":"{phase}","unitOfMeasure":{{"unit":"{unit}"}}}}"#
        ));
    }
    (values, count.max(1) as u64)
}

/// Sends a CALL and waits for its answer, answering the CSMS's own CALLs (TriggerMessage
/// after the boot) with a plain rejection. `true` for a CALLRESULT, `false` for a CALLERROR.
async fn call(ws: &mut Socket, n: u64, action: &str, payload: &str) -> anyhow::Result<bool> {
    let id = n.to_string();
    ws.send(Message::text(format!(r#"[2,"{id}","{action}",{payload}]"#)))
        .await?;
    loop {
        let msg = ws.next().await.ok_or_else(|| anyhow::anyhow!("closed"))??;
        let Message::Text(text) = msg else { continue };
        let Head(kind, their_id) = serde_json::from_str(text.as_str())?;
        match kind {
            2 => {
                let answer = format!(r#"[3,{},{{"status":"Rejected"}}]"#, Value::from(their_id));
                ws.send(Message::text(answer)).await?;
            }
            3 if their_id == id => return Ok(true),
            4 if their_id == id => return Ok(false),
            _ => {}
        }
    }
}

/// An OCPP-J frame's message type and id; the rest is checked to be JSON and skipped.
struct Head<'a>(u8, &'a str);

impl<'de> Deserialize<'de> for Head<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Frame;
        impl<'de> Visitor<'de> for Frame {
            type Value = Head<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an OCPP-J frame [type, id, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Head<'de>, A::Error> {
                use serde::de::Error;
                let kind = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let id = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Head(kind, id))
            }
        }
        d.deserialize_seq(Frame)
    }
}

//! Pausing and resuming a charging session on the bundled station simulator (`evsim`): the
//! app pauses through REST (SetChargingProfile, a 0 A TxProfile) and evsim stops delivering
//! (SuspendedEVSE, the meter stands still), resumes (ClearChargingProfile) and the meter runs
//! again; meanwhile the running cost reaches evsim's display (CostUpdated). The bill prices
//! exactly the energy evsim metered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use e2e_tests::charging::{
    charging_session, dec, evsim_command, listed_station_charger, post, top_up,
};
use e2e_tests::{Server, ServerOptions};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

const STATION: &str = "SIM-PAUSE";

/// A kWh decimal string in tenths of a Wh (evsim's meter resolution), exactly.
fn tenths_of_wh(v: &Value) -> i128 {
    let (digits, places) = dec(v);
    assert!(places <= 4, "finer than 0.1 Wh: {v}");
    digits * 10i128.pow(4 - places)
}

fn kwh(s: &Value) -> f64 {
    s["energy_kwh"]
        .as_str()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0.0)
}

/// evsim's log lines (stderr), kept for the test to read.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn find(&self, needle: &str) -> Option<String> {
        self.lines().into_iter().find(|l| l.contains(needle))
    }

    /// Waits (15 s at most) for a line containing `needle`.
    async fn wait_for(&self, needle: &str) -> String {
        for _ in 0..150 {
            if let Some(line) = self.find(needle) {
                return line;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "evsim never logged {needle:?}; its log:\n{}",
            self.lines().join("\n")
        );
    }
}

/// Without ANSI colour codes, in case the subscriber emits them anyway.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The value of `key=` in a tracing log line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

#[tokio::test]
async fn evsim_pauses_and_resumes_and_the_bill_prices_its_meter() {
    let server = Server::start(ServerOptions {
        extra_args: vec![
            "--job-tick-ms".into(),
            "100".into(),
            "--session-cost-updates-secs".into(),
            "1".into(),
        ],
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let mut sim = evsim_command(&server, STATION)
        .env("EVSIM_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = Log::default();
    {
        let log = log.clone();
        let mut lines = BufReader::new(sim.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                log.0.lock().unwrap().push(plain(&line));
            }
        });
    }
    let (id, port) = listed_station_charger(&server, STATION).await;

    let driver = server.token_for("driver").await.unwrap();
    top_up(&server, &driver, 10_000).await;
    let path = charging_session(&server, &driver, &id, &port, 0.05).await;
    // the running cost reaches the station's display (CostUpdated every second)
    let shown = log.wait_for("display: cost so far").await;
    assert!(
        field(&shown, "total_cost").is_some_and(|c| c.parse::<f64>().is_ok_and(|c| c > 0.0)),
        "{shown}"
    );

    // pause: evsim accepts the 0 A TxProfile and suspends delivery
    let (status, paused) = post(&server, &driver, &format!("{path}/pause"), json!({})).await;
    assert_eq!(
        (status, paused["status"].as_str()),
        (200, Some("paused")),
        "{paused}"
    );
    let suspended = server
        .eventually(&driver, &path, |s| s["charging_state"] == "SuspendedEVSE")
        .await;
    assert_eq!(suspended["charging_state"], "SuspendedEVSE", "{suspended}");
    assert_eq!(suspended["status"], "paused", "{suspended}");
    // evsim keeps metering every second while paused; the energy stands still
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let still = server.get_json(&driver, &path).await.unwrap();
    assert_eq!(still["status"], "paused", "{still}");
    assert_eq!(still["energy_kwh"], suspended["energy_kwh"], "{still}");
    assert!(
        still["last_reading_at"] != suspended["last_reading_at"],
        "evsim kept sending readings while paused: {still}"
    );

    // resume: the profile is cleared and evsim charges again
    let (status, resumed) = post(&server, &driver, &format!("{path}/resume"), json!({})).await;
    assert_eq!(
        (status, resumed["status"].as_str()),
        (200, Some("active")),
        "{resumed}"
    );
    assert!(
        resumed["paused_seconds"].as_i64().unwrap() >= 2,
        "{resumed}"
    );
    let paused_kwh = kwh(&still);
    let growing = server
        .eventually(&driver, &path, |s| {
            s["charging_state"] == "Charging" && kwh(s) > paused_kwh + 0.02
        })
        .await;
    assert_eq!(growing["status"], "active", "{growing}");
    assert!(kwh(&growing) > paused_kwh + 0.02, "{growing}");

    let (status, stopping) = post(&server, &driver, &format!("{path}/stop"), json!({})).await;
    assert_eq!(status, 202, "{stopping}");
    let done = server
        .eventually(&driver, &path, |s| {
            s["status"] == "completed" && s["cost"]["final"] == true
        })
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["paused_seconds"].as_i64().unwrap() >= 2, "{done}");

    // the bill's energy is evsim's meter: end register minus start register, to 0.1 Wh
    let bill = server
        .get_json(&driver, &format!("{path}/billing"))
        .await
        .unwrap();
    assert_eq!(done["energy_kwh"], bill["energy_kwh"], "{done}");
    let ended = log.wait_for("transaction ended").await;
    let metered = field(&ended, "energy_wh").unwrap_or_else(|| panic!("{ended}"));
    let metered_tenths = (metered.parse::<f64>().unwrap() * 10.0).round() as i128;
    assert_eq!(
        tenths_of_wh(&bill["energy_kwh"]),
        metered_tenths,
        "{bill}\n{ended}"
    );
    assert!(metered_tenths > 0, "{ended}");

    // every CSMS call was answered: nothing refused, nothing invalid
    let lines = log.lines();
    let complaints: Vec<&String> = lines
        .iter()
        .filter(|l| {
            l.contains("refusing CSMS call")
                || l.contains("invalid call from the CSMS")
                || l.contains("CALLERROR from the CSMS")
        })
        .collect();
    assert!(complaints.is_empty(), "{complaints:#?}");
    assert!(
        lines.iter().any(|l| l.contains("charging rate changed")),
        "{lines:#?}"
    );
}

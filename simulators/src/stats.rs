//! Load-test bookkeeping: per-action counts, latency histograms (CALL sent to answer
//! received, recorded in µs) and errors, plus the fleet's connect/boot progress; and the
//! report printed at the end, as text or JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::time::Instant;

/// Latencies above a minute are clamped; nothing in OCPP waits that long.
const MAX_LATENCY_US: u64 = 60_000_000;

struct ActionStats {
    sent: u64,
    ok: u64,
    latency_us: Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

impl ActionStats {
    fn new() -> Self {
        ActionStats {
            sent: 0,
            ok: 0,
            // 3 significant digits: µs precision below 1 ms, ±0.1% above.
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("static histogram bounds are valid"),
            errors: BTreeMap::new(),
        }
    }
}

#[derive(Default)]
struct Inner {
    actions: BTreeMap<&'static str, ActionStats>,
    connect_errors: BTreeMap<String, u64>,
    all_booted_after: Option<Duration>,
}

/// Shared by every station of a fleet. Counters that change per connection are atomics; the
/// per-action data sits behind one mutex, held for a few hundred nanoseconds per message.
pub struct Stats {
    stations: u64,
    started: Instant,
    connected: AtomicU64,
    booted: AtomicU64,
    calls_received: AtomicU64,
    reconnects: AtomicU64,
    inner: Mutex<Inner>,
}

impl Stats {
    pub fn new(stations: u64) -> Self {
        Stats {
            stations,
            started: Instant::now(),
            connected: AtomicU64::new(0),
            booted: AtomicU64::new(0),
            calls_received: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    pub fn sent(&self, action: &'static str) {
        self.inner()
            .actions
            .entry(action)
            .or_insert_with(ActionStats::new)
            .sent += 1;
    }

    pub fn answered(&self, action: &'static str, latency: Duration) {
        let mut inner = self.inner();
        let a = inner.actions.entry(action).or_insert_with(ActionStats::new);
        a.ok += 1;
        let us = u64::try_from(latency.as_micros()).unwrap_or(MAX_LATENCY_US);
        a.latency_us.saturating_record(us.clamp(1, MAX_LATENCY_US));
    }

    /// An error for `action`: a CALLERROR code, `timeout`, `disconnected`, a boot status.
    pub fn error(&self, action: &'static str, kind: impl Into<String>) {
        *self
            .inner()
            .actions
            .entry(action)
            .or_insert_with(ActionStats::new)
            .errors
            .entry(kind.into())
            .or_default() += 1;
    }

    pub fn connect_error(&self, label: String) {
        *self.inner().connect_errors.entry(label).or_default() += 1;
    }

    /// A station connected for the first time.
    pub fn station_connected(&self) {
        self.connected.fetch_add(1, Ordering::Relaxed);
    }

    pub fn reconnected(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub fn call_received(&self) {
        self.calls_received.fetch_add(1, Ordering::Relaxed);
    }

    /// A station was Accepted for the first time. Returns true for the last one of the fleet.
    pub fn station_booted(&self) -> bool {
        let n = self.booted.fetch_add(1, Ordering::AcqRel) + 1;
        if n == self.stations {
            self.inner().all_booted_after = Some(self.started.elapsed());
            true
        } else {
            false
        }
    }

    pub fn booted(&self) -> u64 {
        self.booted.load(Ordering::Acquire)
    }

    pub fn report(&self) -> Report {
        let elapsed = self.started.elapsed();
        let inner = self.inner();
        let ms = |us: u64| (us as f64) / 1000.0;
        let actions: BTreeMap<String, ActionReport> = inner
            .actions
            .iter()
            .map(|(name, a)| {
                let h = &a.latency_us;
                let q = |quantile: f64| (!h.is_empty()).then(|| ms(h.value_at_quantile(quantile)));
                (
                    (*name).to_owned(),
                    ActionReport {
                        sent: a.sent,
                        ok: a.ok,
                        p50_ms: q(0.5),
                        p99_ms: q(0.99),
                        p999_ms: q(0.999),
                        max_ms: (!h.is_empty()).then(|| ms(h.max())),
                        errors: a.errors.clone(),
                    },
                )
            })
            .collect();
        let sent: u64 = actions.values().map(|a| a.sent).sum();
        let responses: u64 = actions.values().map(|a| a.ok).sum();
        let errors: u64 = actions
            .values()
            .flat_map(|a| a.errors.values())
            .chain(inner.connect_errors.values())
            .sum();
        let secs = elapsed.as_secs_f64();
        Report {
            stations: self.stations,
            connected: self.connected.load(Ordering::Relaxed),
            booted: self.booted(),
            all_booted_s: inner.all_booted_after.map(|d| round3(d.as_secs_f64())),
            elapsed_s: round3(secs),
            messages_sent: sent,
            responses,
            messages_per_second: if secs > 0.0 {
                round3(sent as f64 / secs)
            } else {
                0.0
            },
            calls_received: self.calls_received.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            errors,
            connect_errors: inner.connect_errors.clone(),
            actions,
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Latency and errors of one action, in ms with µs precision.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ActionReport {
    pub sent: u64,
    pub ok: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub errors: BTreeMap<String, u64>,
}

/// The end-of-run report (`--json` prints this struct).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub stations: u64,
    /// Stations that connected at least once.
    pub connected: u64,
    /// Stations Accepted at least once.
    pub booted: u64,
    /// Seconds from the start until the last station was Accepted (the reconnect-storm figure).
    pub all_booted_s: Option<f64>,
    pub elapsed_s: f64,
    pub messages_sent: u64,
    pub responses: u64,
    pub messages_per_second: f64,
    /// CALLs the CSMS made to the fleet.
    pub calls_received: u64,
    pub reconnects: u64,
    /// Every error: CALLERRORs, timeouts, disconnects, failed connects.
    pub errors: u64,
    pub connect_errors: BTreeMap<String, u64>,
    pub actions: BTreeMap<String, ActionReport>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |x| format!("{x:.3}"));
        writeln!(
            f,
            "stations {}  connected {}  booted {}  all booted in {}",
            self.stations,
            self.connected,
            self.booted,
            self.all_booted_s
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.3} s"))
        )?;
        writeln!(
            f,
            "elapsed {:.3} s  sent {}  answered {}  {:.1} msg/s  calls received {}  reconnects {}  errors {}",
            self.elapsed_s,
            self.messages_sent,
            self.responses,
            self.messages_per_second,
            self.calls_received,
            self.reconnects,
            self.errors
        )?;
        writeln!(
            f,
            "{:<20} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10}  errors",
            "action", "sent", "ok", "p50 ms", "p99 ms", "p99.9 ms", "max ms"
        )?;
        for (name, a) in &self.actions {
            let errors = a
                .errors
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            writeln!(
                f,
                "{:<20} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10}  {}",
                name,
                a.sent,
                a.ok,
                opt(a.p50_ms),
                opt(a.p99_ms),
                opt(a.p999_ms),
                opt(a.max_ms),
                errors
            )?;
        }
        for (label, n) in &self.connect_errors {
            writeln!(f, "connect error {label}: {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_in_ms_with_microsecond_precision() {
        let s = Stats::new(2);
        for us in 1..=1000u64 {
            s.sent("Heartbeat");
            s.answered("Heartbeat", Duration::from_micros(us));
        }
        s.sent("Heartbeat");
        s.error("Heartbeat", "timeout");
        s.connect_error("HTTP 401".into());
        assert!(!s.station_booted());
        assert!(s.station_booted());
        let r = s.report();
        let hb = &r.actions["Heartbeat"];
        assert_eq!((hb.sent, hb.ok), (1001, 1000));
        assert_eq!(hb.p50_ms, Some(0.5));
        assert_eq!(hb.p99_ms, Some(0.99));
        assert_eq!(hb.max_ms, Some(1.0));
        assert_eq!(r.errors, 2);
        assert_eq!(r.booted, 2);
        assert!(r.all_booted_s.is_some());
        let text = r.to_string();
        assert!(text.contains("Heartbeat"), "{text}");
        assert!(text.contains("timeout=1"), "{text}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["actions"]["Heartbeat"]["errors"]["timeout"], 1);
    }
}

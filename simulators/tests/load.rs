//! The load fleet against the fake CSMS, and the `evsim` binary end to end.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::FakeCsms;
use serde_json::Value;
use simulators::load::{self, LoadConfig};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn fifty_stations_for_three_seconds() {
    let csms = FakeCsms::start().await;
    let mut cfg = LoadConfig::new(csms.base_url(), 50, Duration::from_secs(3));
    cfg.ramp = Duration::from_millis(500);
    // 100 msg/s over 50 stations: one message per station every 0.5 s.
    cfg.rate = Some(100.0);
    let report = load::run(cfg, CancellationToken::new()).await;

    assert_eq!(report.stations, 50);
    assert_eq!(report.connected, 50);
    assert_eq!(report.booted, 50);
    assert!(report.all_booted_s.is_some());
    assert_eq!(report.errors, 0, "{report}");
    assert!(report.messages_sent > 200, "{report}");
    assert_eq!(report.responses, report.messages_sent, "{report}");
    assert_eq!(report.actions["BootNotification"].ok, 50);
    let hb = &report.actions["Heartbeat"];
    assert!(
        hb.p50_ms.unwrap() > 0.0 && hb.p50_ms <= hb.p99_ms,
        "{report}"
    );
    assert!(report.actions.contains_key("TransactionEvent"), "{report}");
    assert!(csms.connections("LOAD-1") == 1 && csms.connections("LOAD-50") == 1);
    assert_eq!(csms.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn connect_only_holds_the_fleet() {
    let csms = FakeCsms::start().await;
    let mut cfg = LoadConfig::new(csms.base_url(), 20, Duration::from_secs(5));
    cfg.connect_only = true;
    cfg.hold = Duration::from_millis(300);
    cfg.prefix = "IDLE-".into();
    let started = tokio::time::Instant::now();
    let report = load::run(cfg, CancellationToken::new()).await;
    assert_eq!(report.booted, 20);
    assert_eq!(report.errors, 0, "{report}");
    // Boot + one StatusNotification each, then silence.
    assert_eq!(report.messages_sent, 40, "{report}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(csms.clean_closes("IDLE-20"), 1);
}

async fn evsim(args: &[&str]) -> std::process::Output {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_evsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("evsim finishes")
        .unwrap()
}

#[tokio::test]
async fn the_binary_charges_and_load_tests() {
    let csms = FakeCsms::start().await;
    let url = csms.url("CLI-1");
    let out = evsim(&[
        "station",
        "--url",
        &url,
        "--charge",
        "TOKEN9",
        "--charge-duration",
        "1s",
        "--meter-interval",
        "1s",
        "--exit",
    ])
    .await;
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("booted"), "{log}");
    assert!(log.contains("transaction ended"), "{log}");
    let ended = csms
        .wait_for("CLI-1", "Ended", |r| {
            r.action == "TransactionEvent" && r.payload["eventType"] == "Ended"
        })
        .await;
    assert_eq!(ended.payload["transactionInfo"]["stoppedReason"], "Local");
    assert_eq!(csms.clean_closes("CLI-1"), 1);

    let base = csms.base_url();
    let out = evsim(&[
        "load",
        "--url",
        &base,
        "--stations",
        "5",
        "--duration",
        "2s",
        "--rate",
        "20",
        "--prefix",
        "CLI-LOAD-",
        "--json",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["booted"], 5);
    assert_eq!(report["errors"], 0);
    assert!(report["actions"]["BootNotification"]["p99_ms"].is_number());
    assert_eq!(csms.violations(), Vec::<String>::new());
}

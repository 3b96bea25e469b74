//! Cost of validating one message, to size the CSMS per-message budget.
//!
//! `cargo run --release -p ocpp-schemas --example validate_bench [N]`
//!
//! For each message: N validations per round, 5 rounds, median ns per validation. The cost of
//! parsing the same message from text is printed next to it for scale.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ocpp_schemas::{validate, warm_up, Direction};
use serde_json::{json, Value};

const ROUNDS: usize = 5;

fn transaction_event_updated() -> Value {
    let ts = "2024-05-01T10:15:00.000Z";
    json!({
        "eventType": "Updated",
        "timestamp": ts,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 17,
        "transactionInfo": {"transactionId": "0b6f3c1e-7a52-4d8e-9a41-5c2f1e8d9b10", "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [{
            "timestamp": ts,
            "sampledValue": [
                {"value": 15234.5, "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
                {"value": 11040.0, "context": "Sample.Periodic", "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
                {"value": 16.1, "context": "Sample.Periodic", "measurand": "Current.Import", "phase": "L1", "unitOfMeasure": {"unit": "A"}},
                {"value": 229.8, "context": "Sample.Periodic", "measurand": "Voltage", "phase": "L1-N", "unitOfMeasure": {"unit": "V"}}
            ]
        }]
    })
}

fn messages() -> Vec<(&'static str, Value)> {
    vec![
        ("TransactionEvent", transaction_event_updated()),
        ("Heartbeat", json!({})),
        (
            "StatusNotification",
            json!({"timestamp": "2024-05-01T10:15:00.000Z", "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}),
        ),
        (
            "BootNotification",
            json!({
                "reason": "PowerUp",
                "chargingStation": {
                    "model": "SingleSocketCharger",
                    "vendorName": "VendorX",
                    "serialNumber": "SN-000123",
                    "firmwareVersion": "1.4.2",
                    "modem": {"iccid": "89490200001234567890", "imsi": "262011234567890"}
                }
            }),
        ),
    ]
}

fn median_ns(n: u32, mut f: impl FnMut()) -> f64 {
    let mut rounds: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed()
        })
        .collect();
    rounds.sort();
    rounds[ROUNDS / 2].as_nanos() as f64 / f64::from(n)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("N must be a number"))
        .unwrap_or(200_000);

    let start = Instant::now();
    warm_up();
    println!(
        "warm_up (compile all 128 schemas): {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    println!("N = {n} per round, median of {ROUNDS} rounds\n");
    println!(
        "{:<20} {:>7} {:>14} {:>16}",
        "message", "bytes", "validate", "parse (scale)"
    );

    for (action, payload) in messages() {
        validate(action, Direction::Request, &payload).expect("benchmark payloads are valid");
        let text = payload.to_string();
        let validate_ns = median_ns(n, || {
            black_box(validate(
                black_box(action),
                Direction::Request,
                black_box(&payload),
            ))
            .unwrap();
        });
        let parse_ns = median_ns(n, || {
            black_box(serde_json::from_str::<Value>(black_box(&text)).unwrap());
        });
        println!(
            "{:<20} {:>7} {:>8.0} ns/msg {:>10.0} ns/msg",
            action,
            text.len(),
            validate_ns,
            parse_ns
        );
    }
}

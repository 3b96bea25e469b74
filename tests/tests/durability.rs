//! A CALLRESULT to a TransactionEvent or MeterValues is a promise: the station deletes its
//! copy. Stations send events and meter values back to back, the CSMS is killed with SIGKILL
//! right after the last answers, and every answered event and sample is in the database
//! when it comes back.

use chrono::Utc;
use e2e_tests::{OcppClient, Server, ServerOptions};
use serde_json::json;

const STATIONS: usize = 6;
const EVENTS: i32 = 40;

fn event(seq: i32, tx: &str) -> serde_json::Value {
    let kind = match seq {
        0 => "Started",
        s if s == EVENTS - 1 => "Ended",
        _ => "Updated",
    };
    let now = Utc::now().to_rfc3339();
    json!({"eventType": kind, "timestamp": now, "triggerReason": "MeterValuePeriodic",
           "seqNo": seq, "transactionInfo": {"transactionId": tx},
           "evse": {"id": 1, "connectorId": 1},
           "meterValue": [{"timestamp": now,
                           "sampledValue": [{"value": f64::from(seq) * 100.0}]}]})
}

fn meter_values(seq: i32) -> serde_json::Value {
    json!({"evseId": 1, "meterValue": [{"timestamp": Utc::now().to_rfc3339(), "sampledValue": [
        {"value": f64::from(seq) * 100.0},
        {"value": 7400, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}}]}]})
}

#[tokio::test]
async fn answered_events_and_meter_values_survive_a_kill_9() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let (db_url, options, addr) = (
        server.database_url.clone(),
        server.options(),
        server.listen_addr(),
    );
    let mut senders = Vec::new();
    for i in 0..STATIONS {
        let url = server.ocpp_url(&format!("DUR-{i}"));
        senders.push(tokio::spawn(async move {
            let mut station = OcppClient::connect(&url).await.unwrap();
            station.boot().await.unwrap();
            let tx = format!("TX-DUR-{i}");
            let mut answered = 0;
            for seq in 0..EVENTS {
                station
                    .call("TransactionEvent", event(seq, &tx))
                    .await
                    .unwrap();
                // between two events, a MeterValues of two samples
                station
                    .call("MeterValues", meter_values(seq))
                    .await
                    .unwrap();
                answered += 1;
            }
            // the connection stays open: the kill comes while the station is still there
            (answered, station)
        }));
    }
    let mut answered = 0;
    let mut stations = Vec::new();
    for s in senders {
        let (n, station) = s.await.unwrap();
        answered += n;
        stations.push(station);
    }
    server.kill_hard().await.unwrap();
    drop(stations);

    // back on the same database: every answered event is there, each transaction whole
    let server = Server::start_on(db_url.clone(), options, &addr)
        .await
        .unwrap();
    let pool = sqlx::PgPool::connect(&db_url).await.unwrap();
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM transaction_events WHERE station_id LIKE 'DUR-%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, i64::from(answered));
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM transactions WHERE station_id LIKE 'DUR-%' \
         AND ended_at IS NOT NULL AND last_seq_no = $1",
    )
    .bind(EVENTS - 1)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ended, STATIONS as i64);
    // one sample per event, two per MeterValues
    let samples: i64 =
        sqlx::query_scalar("SELECT count(*) FROM meter_samples WHERE station_id LIKE 'DUR-%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(samples, i64::from(answered) * 3);
    drop(server);
}

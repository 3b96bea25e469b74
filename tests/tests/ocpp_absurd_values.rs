//! A station sending absurd meter values over the real socket: each message gets a CALLERROR
//! naming the field, the connection stays up, and nothing of those messages is stored.

use e2e_tests::{OcppClient, Server, ServerOptions};
use serde_json::{json, Value};

fn callerror(answer: &Value) -> (&str, &str) {
    assert_eq!(answer[0], json!(4), "expected CALLERROR, got {answer}");
    (
        answer[2].as_str().unwrap_or_default(),
        answer[3].as_str().unwrap_or_default(),
    )
}

fn meter_value(value: Value, unit: Value) -> Value {
    json!([{"timestamp": "2027-01-04T10:00:00Z",
            "sampledValue": [{"value": value, "unitOfMeasure": unit}]}])
}

fn event(tx: &str, seq: i64, meter: Value) -> Value {
    json!({"eventType": "Started", "timestamp": "2027-01-04T10:00:00Z",
           "triggerReason": "CablePluggedIn", "seqNo": seq,
           "transactionInfo": {"transactionId": tx},
           "evse": {"id": 1, "connectorId": 1}, "meterValue": meter})
}

#[tokio::test]
async fn absurd_meter_values_get_a_callerror_and_nothing_is_stored() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let db_url = server.database_url.clone();
    let mut cs = OcppClient::connect(&server.ocpp_url("CS-ABSURD"))
        .await
        .unwrap();
    cs.boot().await.unwrap();

    let absurd = [
        // 10^28 Wh × 10^9: the multiplier is out of bounds (and the product beyond Decimal)
        (
            meter_value(json!(1e28), json!({"unit": "Wh", "multiplier": 9})),
            "meterValue[0].sampledValue[0].unitOfMeasure.multiplier",
        ),
        (
            meter_value(json!(1), json!({"unit": "Wh", "multiplier": 2147483647})),
            "meterValue[0].sampledValue[0].unitOfMeasure.multiplier",
        ),
        // 10^28 Wh: far beyond a meter register's bound
        (
            meter_value(json!(1e28), json!({"unit": "Wh"})),
            "meterValue[0].sampledValue[0].value",
        ),
        // beyond what any Decimal holds: refused before the typed parse
        (
            meter_value(json!(1e30), json!({"unit": "kWh"})),
            "meterValue[0].sampledValue[0].value",
        ),
    ];
    for (i, (meter, field)) in absurd.iter().enumerate() {
        let answer = cs
            .call_raw("MeterValues", json!({"evseId": 1, "meterValue": meter}))
            .await
            .unwrap();
        let (code, description) = callerror(&answer);
        assert_eq!(code, "PropertyConstraintViolation", "{answer}");
        assert!(description.starts_with(field), "{answer}");

        let answer = cs
            .call_raw(
                "TransactionEvent",
                event("TX-ABSURD", i as i64, meter.clone()),
            )
            .await
            .unwrap();
        let (code, description) = callerror(&answer);
        assert_eq!(code, "PropertyConstraintViolation", "{answer}");
        assert!(description.starts_with(field), "{answer}");
    }
    // a timestamp from an unset clock, on the event itself
    let mut old = event("TX-ABSURD", 9, meter_value(json!(5), json!({"unit": "Wh"})));
    old["timestamp"] = json!("1970-01-01T00:00:00Z");
    let answer = cs.call_raw("TransactionEvent", old).await.unwrap();
    let (code, description) = callerror(&answer);
    assert_eq!(code, "PropertyConstraintViolation", "{answer}");
    assert!(description.starts_with("timestamp"), "{answer}");

    // the connection is still up and still answers
    let hb = cs.call("Heartbeat", json!({})).await.unwrap();
    assert!(hb["currentTime"].is_string());
    // plausible values are stored as before (so the checks below are not vacuous)
    let fine = meter_value(json!(12.5), json!({"unit": "kWh"}));
    cs.call(
        "MeterValues",
        json!({"evseId": 1, "meterValue": fine.clone()}),
    )
    .await
    .unwrap();
    cs.call("TransactionEvent", event("TX-FINE", 0, fine))
        .await
        .unwrap();

    // meter samples are written behind: stop the server so they are flushed
    assert!(server.terminate().await.unwrap().success());
    let db = sqlx::PgPool::connect(&db_url).await.unwrap();
    let absurd_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM transaction_events WHERE transaction_id = 'TX-ABSURD'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        absurd_events, 0,
        "nothing of a refused TransactionEvent is stored"
    );
    let transactions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM transactions WHERE transaction_id = 'TX-ABSURD'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(transactions, 0);
    let samples: Vec<(f64, Option<String>)> = sqlx::query_as(
        "SELECT value, unit FROM meter_samples WHERE station_id = 'CS-ABSURD' ORDER BY value",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        samples,
        vec![(12.5, Some("kWh".into())), (12.5, Some("kWh".into()))],
        "only the plausible MeterValues and TransactionEvent were stored"
    );
}

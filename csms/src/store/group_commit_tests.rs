//! Group commit against a real database: batching, answers, failures.

use super::*;
use chrono::Utc;
use serde_json::json;

fn event(station: &str, seq: i32) -> EventRecord {
    EventRecord {
        station_id: station.into(),
        transaction_id: "TX-1".into(),
        seq_no: seq,
        event_type: if seq == 0 { "Started" } else { "Updated" }.into(),
        trigger_reason: "MeterValuePeriodic".into(),
        timestamp: Utc::now(),
        offline: false,
        evse_id: Some(1),
        connector_id: Some(1),
        id_token: None,
        charging_state: None,
        stopped_reason: None,
        remote_start_id: None,
        reservation_id: None,
        energy_first: None,
        energy_last: Some((Utc::now(), f64::from(seq) * 10.0)),
        payload: json!({"seqNo": seq}),
    }
}

async fn station(pool: &PgPool, id: &str) {
    sqlx::query("INSERT INTO stations (id, security_profile) VALUES ($1, 3)")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
}

async fn rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM transaction_events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Events queued together are stored together, each answered by its own result; a retry
/// of a stored seqNo answers `false`.
#[sqlx::test(migrations = "../migrations")]
async fn queued_events_are_committed_together_and_answered_each(pool: PgPool) {
    for s in ["GC-1", "GC-2"] {
        station(&pool, s).await;
    }
    let (gc, _tasks) = GroupCommit::start(&pool, 1);
    let sends = (0..40).map(|i| {
        let e = event(["GC-1", "GC-2"][i % 2], (i / 2) as i32);
        gc.record_event(e, vec![])
    });
    let answers = futures_util::future::join_all(sends).await;
    assert!(
        answers.iter().all(|a| matches!(
            a,
            Ok(EventAck {
                fresh: true,
                token: None
            })
        )),
        "{answers:?}"
    );
    assert_eq!(rows(&pool).await, 40);
    assert!(
        !gc.record_event(event("GC-1", 3), vec![])
            .await
            .unwrap()
            .fresh,
        "a retry"
    );
    let last: i32 =
        sqlx::query_scalar("SELECT last_seq_no FROM transactions WHERE station_id = 'GC-2'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(last, 19);
}

/// One event the database refuses (its station is unknown) fails only itself: the batch
/// is retried event by event, and nothing is acknowledged that was not stored.
#[sqlx::test(migrations = "../migrations")]
async fn a_failing_event_fails_alone(pool: PgPool) {
    station(&pool, "GC-1").await;
    let (gc, _tasks) = GroupCommit::start(&pool, 1);
    let sends = (0..10)
        .map(|i| event("GC-1", i))
        .chain([event("GC-UNKNOWN", 0)])
        .map(|e| gc.record_event(e, vec![]));
    let answers = futures_util::future::join_all(sends).await;
    assert!(
        answers[..10]
            .iter()
            .all(|a| matches!(a, Ok(EventAck { fresh: true, .. }))),
        "{answers:?}"
    );
    assert!(answers[10].is_err(), "{answers:?}");
    assert_eq!(rows(&pool).await, 10);
}

fn sample(station: &str, tx: Option<&str>, value: f64) -> MeterSample {
    MeterSample {
        station_id: station.into(),
        evse_id: 1,
        transaction_id: tx.map(str::to_owned),
        sampled_at: Utc::now(),
        measurand: "Energy.Active.Import.Register".into(),
        phase: None,
        location: None,
        context: None,
        value,
        unit: Some("Wh".into()),
    }
}

fn boot(station: &str) -> BootRecord {
    BootRecord {
        station_id: station.into(),
        vendor_name: "V".into(),
        model: "M".into(),
        serial_number: None,
        firmware_version: Some("1.0".into()),
        iccid: None,
        imsi: None,
        reason: "PowerUp".into(),
        unknown_status: "Pending",
        unknown_profile: 3,
    }
}

async fn sample_values(pool: &PgPool) -> Vec<f64> {
    sqlx::query_scalar("SELECT value FROM meter_samples ORDER BY value")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Boots, events and meter samples share one commit: a station unknown before the batch
/// is recorded with the unknown status, a known one keeps its own; an event's samples are
/// stored with it, and a retried event's samples are not stored twice.
#[sqlx::test(migrations = "../migrations")]
async fn boots_events_and_samples_share_a_commit(pool: PgPool) {
    station(&pool, "GC-KNOWN").await;
    sqlx::query("UPDATE stations SET registration_status = 'Accepted' WHERE id = 'GC-KNOWN'")
        .execute(&pool)
        .await
        .unwrap();
    let (gc, _tasks) = GroupCommit::start(&pool, 1);
    let (new, known, ev, mv) = tokio::join!(
        gc.record_boot(boot("GC-NEW")),
        gc.record_boot(boot("GC-KNOWN")),
        gc.record_event(
            event("GC-KNOWN", 0),
            vec![sample("GC-KNOWN", Some("TX-1"), 1.0)]
        ),
        gc.record_samples(vec![
            sample("GC-KNOWN", None, 2.0),
            sample("GC-KNOWN", None, 3.0)
        ]),
    );
    assert_eq!(new.unwrap(), "Pending");
    assert_eq!(known.unwrap(), "Accepted");
    assert!(ev.unwrap().fresh);
    mv.unwrap();
    assert_eq!(sample_values(&pool).await, [1.0, 2.0, 3.0]);
    let retry = gc
        .record_event(
            event("GC-KNOWN", 0),
            vec![sample("GC-KNOWN", Some("TX-1"), 1.0)],
        )
        .await;
    assert!(!retry.unwrap().fresh, "a retry");
    assert_eq!(sample_values(&pool).await, [1.0, 2.0, 3.0]);
    let (profile, firmware): (i16, Option<String>) = sqlx::query_as(
        "SELECT security_profile, firmware_version FROM stations WHERE id = 'GC-NEW'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((profile, firmware.as_deref()), (3, Some("1.0")));
}

/// The answer carries each event's id token as stored, read in the same statement: what
/// the station is told (Accepted, Blocked, Expired, Unknown) for a new event and a retry.
#[sqlx::test(migrations = "../migrations")]
async fn events_answer_their_tokens_as_stored(pool: PgPool) {
    use crate::store::id_tokens::status_now;
    station(&pool, "GC-T").await;
    sqlx::query(
        "INSERT INTO id_tokens (id, id_token, token_type, status, expires_at, group_id) VALUES
         (gen_random_uuid(), 'OK', 'ISO14443', 'Accepted', NULL, 'FLEET'),
         (gen_random_uuid(), 'BAD', 'ISO14443', 'Blocked', NULL, NULL),
         (gen_random_uuid(), 'OLD', 'ISO14443', 'Accepted', now() - interval '1 day', NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (gc, _tasks) = GroupCommit::start(&pool, 1);
    let with_token = |tx: &str, token: Option<(&str, &str)>| {
        let mut e = event("GC-T", 0);
        e.transaction_id = tx.into();
        e.id_token = token.map(|(t, k)| (t.into(), k.into()));
        gc.record_event(e, vec![])
    };
    let answers = futures_util::future::join_all([
        with_token("A", Some(("OK", "ISO14443"))),
        with_token("B", Some(("BAD", "ISO14443"))),
        with_token("C", Some(("OLD", "ISO14443"))),
        with_token("D", Some(("NOPE", "ISO14443"))),
        with_token("E", Some(("OK", "eMAID"))),
        with_token("F", None),
    ])
    .await;
    let told: Vec<Option<(String, Option<String>)>> = answers
        .into_iter()
        .map(|a| a.unwrap().token.map(|row| status_now(row, Utc::now())))
        .collect();
    let expect = |s: &str, g: Option<&str>| Some((s.to_owned(), g.map(str::to_owned)));
    assert_eq!(
        told,
        [
            expect("Accepted", Some("FLEET")),
            expect("Blocked", None),
            expect("Expired", None),
            expect("Unknown", None),
            expect("Unknown", None),
            None,
        ]
    );
    let retry = with_token("B", Some(("BAD", "ISO14443"))).await.unwrap();
    assert!(!retry.fresh);
    assert_eq!(
        retry.token.map(|row| status_now(row, Utc::now())),
        expect("Blocked", None)
    );
}

/// The sampled values of one moment are one `meter_values` row; the `meter_samples`
/// view gives each value back with every field as it was stored.
#[sqlx::test(migrations = "../migrations")]
async fn a_moment_is_one_row_and_reads_back_per_value(pool: PgPool) {
    station(&pool, "GC-M").await;
    let (gc, _tasks) = GroupCommit::start(&pool, 1);
    let at = Utc::now();
    let mut values = vec![
        sample("GC-M", None, 12_345.5),
        sample("GC-M", None, 229.9),
        sample("GC-M", None, 0.1),
        sample("GC-M", None, 7.0),
    ];
    for (i, v) in values.iter_mut().enumerate() {
        v.sampled_at = at + chrono::Duration::seconds(i64::from(i == 3));
    }
    values[1].measurand = "Voltage".into();
    values[1].phase = Some("L1-N".into());
    values[1].unit = Some("V".into());
    values[2].context = Some("Sample.Clock".into());
    values[2].location = Some("Outlet".into());
    gc.record_samples(values).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM meter_values")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 2, "two moments");
    type Back = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        f64,
        Option<String>,
    );
    let back: Vec<Back> = sqlx::query_as(
        "SELECT measurand, phase, location, context, value, unit FROM meter_samples
         ORDER BY sampled_at, value",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let s = |x: &str| Some(x.to_owned());
    let energy = "Energy.Active.Import.Register".to_owned();
    assert_eq!(
        back,
        [
            (
                energy.clone(),
                None,
                s("Outlet"),
                s("Sample.Clock"),
                0.1,
                s("Wh")
            ),
            ("Voltage".to_owned(), s("L1-N"), None, None, 229.9, s("V")),
            (energy.clone(), None, None, None, 12_345.5, s("Wh")),
            (energy, None, None, None, 7.0, s("Wh")),
        ]
    );
}

/// A worker's own connection that the server closes (a restart, an administrator) fails
/// the batch on it, which is then stored on a fresh connection: the event is answered as
/// stored, once, and the worker goes on.
#[sqlx::test(migrations = "../migrations")]
async fn a_lost_connection_is_replaced(pool: PgPool) {
    station(&pool, "GC-L").await;
    let (gc, _tasks) = GroupCommit::start(&pool, 1);
    assert!(
        gc.record_event(event("GC-L", 0), vec![])
            .await
            .unwrap()
            .fresh
    );
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()) k",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(killed >= 1, "the worker's connection was open");
    assert!(
        gc.record_event(event("GC-L", 1), vec![])
            .await
            .unwrap()
            .fresh
    );
    assert!(
        gc.record_event(event("GC-L", 2), vec![])
            .await
            .unwrap()
            .fresh
    );
    assert_eq!(rows(&pool).await, 3);
}

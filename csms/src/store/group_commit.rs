//! Group commit for the writes whose CALLRESULT is a promise: a station deletes its copy
//! of a TransactionEvent or MeterValues once answered, and a BootNotification's answer tells
//! it what it is. Each is answered only after its commit; committing each on its own makes
//! the flush latency times the pool size the ceiling. Here a few workers each take every
//! write waiting (up to [`MAX_BATCH`]), store them in one transaction with one multi-row
//! statement per kind ([`batch_sql`](super::batch_sql)) and commit once, then answer each.
//! Nothing waits on a timer: a lone write goes at once, a busy moment fills the batch while
//! the previous one flushes.
//!
//! Order and deduplication stay as they were: a station's messages are handled one at a
//! time, so two batches never hold writes of the same station, and events are deduplicated
//! on (station, transaction, seqNo). A batch that fails is not acknowledged: each of its
//! writes is retried in a transaction of its own, and answered by its own result.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use sqlx::{Connection as _, PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

use super::batch_sql;
use super::batch_sql::MeterSample;
pub use super::batch_sql::{Ack, BootRecord, EventAck, EventRecord, Write};

/// Workers by default (`--group-commit-workers`): commits in flight at once. Two make larger
/// batches than four or eight, and on 2 cores that is cheaper per write: 200 stations sending
/// back to back, 2 workers stored 7,830 events/s or 81,795 samples/s, 4 workers 7,552 and
/// 55,471, 8 workers 5,566 and 48,856. One worker leaves the cores idle while its commit's WAL
/// flush is waited for (BENCHMARKS.md).
pub const WORKERS: u16 = 2;
/// Writes stored per commit at most.
pub const MAX_BATCH: usize = 512;
/// Writes waiting for a worker at most; more wait in their connections' tasks.
const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<Ack, sqlx::Error>>;

/// The queue in front of the workers.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<(Write, Reply)>,
}

impl GroupCommit {
    /// Starts `workers` workers on `pool`; they stop when every handle is dropped.
    pub fn start(pool: &PgPool, workers: usize) -> (Self, Vec<JoinHandle<()>>) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let tasks = (0..workers.max(1))
            .map(|_| tokio::spawn(work(pool.clone(), rx.clone())))
            .collect();
        (Self { queue }, tasks)
    }

    async fn write(&self, write: Write) -> Result<Ack, sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((write, reply))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.unwrap_or(Err(sqlx::Error::PoolClosed))
    }

    /// Stores the event (and its samples when it is new); answers once committed whether
    /// it was new and its id token's stored row.
    pub async fn record_event(
        &self,
        event: EventRecord,
        samples: Vec<MeterSample>,
    ) -> Result<EventAck, sqlx::Error> {
        match self.write(Write::Event(event, samples)).await? {
            Ack::Event(ack) => Ok(ack),
            other => Err(unexpected(other)),
        }
    }

    /// Stores the samples; answers once committed.
    pub async fn record_samples(&self, samples: Vec<MeterSample>) -> Result<(), sqlx::Error> {
        if samples.is_empty() {
            return Ok(());
        }
        match self.write(Write::Samples(samples)).await? {
            Ack::Samples => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// Stores the boot; answers the station's registration status once committed.
    pub async fn record_boot(&self, boot: BootRecord) -> Result<String, sqlx::Error> {
        match self.write(Write::Boot(boot)).await? {
            Ack::Boot(status) => Ok(status),
            other => Err(unexpected(other)),
        }
    }
}

fn unexpected(ack: Ack) -> sqlx::Error {
    sqlx::Error::Protocol(format!("group commit answered {ack:?}"))
}

async fn work(pool: PgPool, rx: Arc<Mutex<mpsc::Receiver<(Write, Reply)>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut conn = Connection::new(pool);
    loop {
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        }
        metrics::histogram!("csms_group_commit_batch_writes").record(batch.len() as f64);
        let writes: Vec<&Write> = batch.iter().map(|(w, _)| w).collect();
        match store(&mut conn, &writes).await {
            Ok(acks) => {
                for ((_, reply), ack) in batch.drain(..).zip(acks) {
                    let _ = reply.send(Ok(ack));
                }
            }
            Err(e) => {
                tracing::warn!(writes = batch.len(), error = %e,
                    "a group commit failed; storing its writes one by one");
                metrics::counter!("csms_group_commit_retries_total").increment(1);
                for (write, reply) in batch.drain(..) {
                    let ack = store(&mut conn, &[&write]).await.map(|mut a| a.remove(0));
                    let _ = reply.send(ack);
                }
            }
        }
    }
}

/// A worker's own connection, taken from the pool once and kept: a pooled connection costs
/// two extra round trips per use (sqlx pings it when it is returned), as much as the batch's
/// statement for a small batch. After any failure it is dropped and a fresh one taken, so a
/// broken connection fails one batch (which is then retried write by write), not the next.
struct Connection {
    pool: PgPool,
    conn: Option<PgConnection>,
}

impl Connection {
    fn new(pool: PgPool) -> Self {
        Self { pool, conn: None }
    }

    async fn get(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        if self.conn.is_none() {
            self.conn = Some(self.pool.acquire().await?.detach());
        }
        Ok(self.conn.as_mut().expect("connection just set"))
    }
}

/// One commit. A panic is this batch's failure, not the worker's end: every station's
/// promised writes pass through these few workers.
async fn store(conn: &mut Connection, writes: &[&Write]) -> Result<Vec<Ack>, sqlx::Error> {
    let result = match AssertUnwindSafe(commit(conn, writes)).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(sqlx::Error::Protocol(format!(
            "group commit panicked: {}",
            crate::jobs::supervise::panic_text(panic.as_ref())
        ))),
    };
    if result.is_err() {
        // possibly mid-transaction or broken: not worth telling apart for a rare failure
        conn.conn = None;
    }
    result
}

/// A single statement commits on its own, without BEGIN and COMMIT round trips.
async fn commit(conn: &mut Connection, writes: &[&Write]) -> Result<Vec<Ack>, sqlx::Error> {
    let conn = conn.get().await?;
    if batch_sql::needs_transaction(writes) {
        let mut tx = conn.begin().await?;
        let acks = batch_sql::store(&mut tx, writes).await?;
        tx.commit().await?;
        Ok(acks)
    } else {
        batch_sql::store(conn, writes).await
    }
}

#[cfg(test)]
mod tests {
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
}

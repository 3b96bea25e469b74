//! Group commit for TransactionEvents. A CALLRESULT to a TransactionEvent is a promise (the
//! station deletes its copy), so each event is answered only after its commit; committing
//! each on its own makes the flush latency times the pool size the ceiling. Here a few
//! workers each take every event waiting (up to [`MAX_BATCH`]), store them in one
//! transaction and commit once, then answer each. Nothing waits on a timer: a lone event
//! goes at once, a busy moment fills the batch while the previous one flushes.
//!
//! Order and deduplication stay as they were: a station's messages are handled one at a
//! time, so two batches never hold events of the same station, and each event is the same
//! statement as before ([`record_event`], `ON CONFLICT DO NOTHING` on (station, transaction,
//! seqNo)). A batch that fails is not acknowledged: each of its events is retried on its
//! own, and answered by its own result.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

use super::transactions::{record_event, EventFacts};

/// Workers: commits in flight at once (each holds a pooled connection while it stores).
pub const WORKERS: usize = 4;
/// Events stored per commit at most.
pub const MAX_BATCH: usize = 256;
/// Events waiting for a worker at most; more wait in their connections' tasks.
const QUEUE: usize = 8192;

/// A TransactionEvent as the transaction row needs it, owned (it crosses to a worker).
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub station_id: String,
    pub transaction_id: String,
    pub seq_no: i32,
    pub event_type: String,
    pub trigger_reason: String,
    pub timestamp: DateTime<Utc>,
    pub offline: bool,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub id_token: Option<(String, String)>,
    pub charging_state: Option<String>,
    pub stopped_reason: Option<String>,
    pub remote_start_id: Option<i32>,
    pub reservation_id: Option<i32>,
    pub energy_first: Option<(DateTime<Utc>, f64)>,
    pub energy_last: Option<(DateTime<Utc>, f64)>,
    pub payload: Value,
}

impl EventRecord {
    fn facts(&self) -> EventFacts<'_> {
        EventFacts {
            station_id: &self.station_id,
            transaction_id: &self.transaction_id,
            seq_no: self.seq_no,
            event_type: &self.event_type,
            trigger_reason: &self.trigger_reason,
            timestamp: self.timestamp,
            offline: self.offline,
            evse_id: self.evse_id,
            connector_id: self.connector_id,
            id_token: self
                .id_token
                .as_ref()
                .map(|(t, k)| (t.as_str(), k.as_str())),
            charging_state: self.charging_state.as_deref(),
            stopped_reason: self.stopped_reason.as_deref(),
            remote_start_id: self.remote_start_id,
            reservation_id: self.reservation_id,
            energy_first: self.energy_first,
            energy_last: self.energy_last,
            payload: &self.payload,
        }
    }
}

type Reply = oneshot::Sender<Result<bool, sqlx::Error>>;

/// The queue in front of the workers.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<(EventRecord, Reply)>,
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

    /// Stores the event; answers once it is committed: `true` when it was new, `false` for
    /// a retry of a stored (station, transaction, seqNo).
    pub async fn record(&self, event: EventRecord) -> Result<bool, sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((event, reply))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.unwrap_or(Err(sqlx::Error::PoolClosed))
    }
}

async fn work(pool: PgPool, rx: Arc<Mutex<mpsc::Receiver<(EventRecord, Reply)>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        }
        metrics::histogram!("csms_group_commit_batch_events").record(batch.len() as f64);
        match store_batch(&pool, &batch).await {
            Ok(fresh) => {
                for ((_, reply), fresh) in batch.drain(..).zip(fresh) {
                    let _ = reply.send(Ok(fresh));
                }
            }
            Err(e) => {
                tracing::warn!(events = batch.len(), error = %e,
                    "a group commit failed; storing its events one by one");
                metrics::counter!("csms_group_commit_retries_total").increment(1);
                for (event, reply) in batch.drain(..) {
                    let _ = reply.send(record_event(&pool, &event.facts()).await);
                }
            }
        }
    }
}

/// One transaction, one commit: each event's own statement, in arrival order.
async fn store_batch(
    pool: &PgPool,
    batch: &[(EventRecord, Reply)],
) -> Result<Vec<bool>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut fresh = Vec::with_capacity(batch.len());
    for (event, _) in batch {
        fresh.push(record_event(&mut *tx, &event.facts()).await?);
    }
    tx.commit().await?;
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let sends = (0..40).map(|i| gc.record(event(["GC-1", "GC-2"][i % 2], (i / 2) as i32)));
        let answers = futures_util::future::join_all(sends).await;
        assert!(answers.iter().all(|a| matches!(a, Ok(true))), "{answers:?}");
        assert_eq!(rows(&pool).await, 40);
        assert!(!gc.record(event("GC-1", 3)).await.unwrap(), "a retry");
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
            .map(|e| gc.record(e));
        let answers = futures_util::future::join_all(sends).await;
        assert!(
            answers[..10].iter().all(|a| matches!(a, Ok(true))),
            "{answers:?}"
        );
        assert!(answers[10].is_err(), "{answers:?}");
        assert_eq!(rows(&pool).await, 10);
    }
}

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

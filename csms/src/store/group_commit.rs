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

/// A worker's own connection, taken from the pool once and kept (detached: the pool may open
/// another in its place, so the server sees up to pool size + workers connections): a pooled
/// connection costs an extra round trip per use (sqlx pings it when it is returned), much of
/// what the batch's statement costs for a small batch. After any failure it is dropped and a
/// fresh one taken, so a broken connection fails one batch (which is then retried write by
/// write), not the next.
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
#[path = "group_commit_tests.rs"]
mod tests;

//! Write-behind batching for high-volume, derivable data (heartbeats, status reports, meter
//! samples): one multi-row statement per batch instead of one commit per message.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const MAX_BATCH: usize = 2_000;
const CHANNEL: usize = 50_000;

pub struct Batcher<T> {
    tx: mpsc::Sender<T>,
}

impl<T> Clone for Batcher<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<T: Send + 'static> Batcher<T> {
    /// Queues an item; waits when the writer is far behind, which slows stations down
    /// instead of growing memory without bound.
    pub async fn push(&self, item: T) {
        if self.tx.send(item).await.is_err() {
            tracing::warn!("batch writer stopped; item dropped");
        }
    }

    pub async fn push_all(&self, items: impl IntoIterator<Item = T>) {
        for item in items {
            self.push(item).await;
        }
    }
}

fn spawn<T, F, Fut>(
    name: &'static str,
    stop: CancellationToken,
    flush: F,
) -> (Batcher<T>, JoinHandle<()>)
where
    T: Send + 'static,
    F: Fn(Vec<T>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), sqlx::Error>> + Send,
{
    let (tx, mut rx) = mpsc::channel::<T>(CHANNEL);
    let task = tokio::spawn(async move {
        let mut buf = Vec::with_capacity(MAX_BATCH);
        loop {
            let n = tokio::select! {
                n = rx.recv_many(&mut buf, MAX_BATCH) => n,
                _ = stop.cancelled() => {
                    // Everything that produces items has stopped: drain what is left.
                    rx.close();
                    rx.recv_many(&mut buf, MAX_BATCH).await
                }
            };
            if n == 0 {
                break;
            }
            let batch = std::mem::replace(&mut buf, Vec::with_capacity(MAX_BATCH));
            let len = batch.len();
            if let Err(e) = flush(batch).await {
                tracing::error!(writer = name, error = %e, rows = len, "batch write failed");
                metrics::counter!("csms_batch_write_failures_total", "writer" => name).increment(1);
            } else {
                metrics::counter!("csms_batch_rows_total", "writer" => name).increment(len as u64);
            }
        }
    });
    (Batcher { tx }, task)
}

#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub station_id: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StatusReport {
    pub station_id: String,
    pub evse_id: i32,
    pub connector_id: i32,
    pub status: String,
    pub reported_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct MeterSample {
    pub station_id: String,
    pub evse_id: i32,
    pub transaction_id: Option<String>,
    pub sampled_at: DateTime<Utc>,
    pub measurand: String,
    pub phase: Option<String>,
    pub location: Option<String>,
    pub context: Option<String>,
    pub value: f64,
    pub unit: Option<String>,
}

#[derive(Clone)]
pub struct Writers {
    pub heartbeats: Batcher<Heartbeat>,
    pub statuses: Batcher<StatusReport>,
    pub meter_samples: Batcher<MeterSample>,
}

pub struct WriterTasks {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl WriterTasks {
    /// Call after every producer (connection) has finished, so nothing is left behind.
    pub async fn flush_and_stop(self) {
        self.stop.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

pub fn start(pool: &PgPool) -> (Writers, WriterTasks) {
    let stop = CancellationToken::new();
    let p = pool.clone();
    let (heartbeats, t1) = spawn("heartbeats", stop.clone(), move |b| {
        write_heartbeats(p.clone(), b)
    });
    let p = pool.clone();
    let (statuses, t2) = spawn("statuses", stop.clone(), move |b| {
        write_statuses(p.clone(), b)
    });
    let p = pool.clone();
    let (meter_samples, t3) = spawn("meter_samples", stop.clone(), move |b| {
        write_samples(p.clone(), b)
    });
    (
        Writers {
            heartbeats,
            statuses,
            meter_samples,
        },
        WriterTasks {
            stop,
            tasks: vec![t1, t2, t3],
        },
    )
}

async fn write_heartbeats(pool: PgPool, batch: Vec<Heartbeat>) -> Result<(), sqlx::Error> {
    let mut latest: HashMap<String, DateTime<Utc>> = HashMap::with_capacity(batch.len());
    for h in batch {
        let e = latest.entry(h.station_id).or_insert(h.at);
        *e = (*e).max(h.at);
    }
    let (ids, ats): (Vec<String>, Vec<DateTime<Utc>>) = latest.into_iter().unzip();
    sqlx::query(
        "UPDATE stations s SET last_heartbeat_at = GREATEST(s.last_heartbeat_at, v.at),
                               last_seen_at = GREATEST(s.last_seen_at, v.at)
         FROM UNNEST($1::text[], $2::timestamptz[]) AS v(id, at) WHERE s.id = v.id",
    )
    .bind(ids)
    .bind(ats)
    .execute(&pool)
    .await?;
    Ok(())
}

async fn write_statuses(pool: PgPool, batch: Vec<StatusReport>) -> Result<(), sqlx::Error> {
    let mut st = Vec::with_capacity(batch.len());
    let mut evse = Vec::with_capacity(batch.len());
    let mut conn = Vec::with_capacity(batch.len());
    let mut status = Vec::with_capacity(batch.len());
    let mut at = Vec::with_capacity(batch.len());
    for r in &batch {
        st.push(r.station_id.clone());
        evse.push(r.evse_id);
        conn.push(r.connector_id);
        status.push(r.status.clone());
        at.push(r.reported_at);
    }
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO connector_status_history (station_id, evse_id, connector_id, status, reported_at)
         SELECT * FROM UNNEST($1::text[], $2::int[], $3::int[], $4::text[], $5::timestamptz[])",
    )
    .bind(&st)
    .bind(&evse)
    .bind(&conn)
    .bind(&status)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    // The latest report per connector wins, whatever order the batch holds them in.
    sqlx::query(
        "INSERT INTO connector_status (station_id, evse_id, connector_id, status, reported_at)
         SELECT DISTINCT ON (s, e, c) s, e, c, st, at
         FROM UNNEST($1::text[], $2::int[], $3::int[], $4::text[], $5::timestamptz[]) AS v(s, e, c, st, at)
         ORDER BY s, e, c, at DESC
         ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE
         SET status = EXCLUDED.status, reported_at = EXCLUDED.reported_at
         WHERE connector_status.reported_at <= EXCLUDED.reported_at",
    )
    .bind(&st)
    .bind(&evse)
    .bind(&conn)
    .bind(&status)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

async fn write_samples(pool: PgPool, batch: Vec<MeterSample>) -> Result<(), sqlx::Error> {
    let n = batch.len();
    let (mut st, mut evse, mut txid, mut at) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut meas, mut phase, mut loc, mut ctxs, mut val, mut unit) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for s in batch {
        st.push(s.station_id);
        evse.push(s.evse_id);
        txid.push(s.transaction_id);
        at.push(s.sampled_at);
        meas.push(s.measurand);
        phase.push(s.phase);
        loc.push(s.location);
        ctxs.push(s.context);
        val.push(s.value);
        unit.push(s.unit);
    }
    sqlx::query(
        "INSERT INTO meter_samples (station_id, evse_id, transaction_id, sampled_at, measurand, phase, location, context, value, unit)
         SELECT * FROM UNNEST($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::text[])",
    )
    .bind(st)
    .bind(evse)
    .bind(txid)
    .bind(at)
    .bind(meas)
    .bind(phase)
    .bind(loc)
    .bind(ctxs)
    .bind(val)
    .bind(unit)
    .execute(&pool)
    .await?;
    Ok(())
}

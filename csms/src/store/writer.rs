//! Write-behind batching for high-volume, derivable data (heartbeats, status reports): one
//! multi-row statement per batch instead of one commit per message. Writes whose answer is a
//! promise (boots, TransactionEvents, meter values) are committed before their answer instead
//! (`group_commit`).
//!
//! Memory is bounded: at most [`CHANNEL`] items wait (a full queue makes stations wait for
//! their answer instead of growing the heap) plus one batch being written. A batch that fails
//! (the database restarting, a pool timeout) is written again after a backoff, up to
//! [`ATTEMPTS`] times; only then is it dropped, counted in `csms_batch_rows_dropped_total`.
//! A writer whose statement panics treats it as a failure and goes on.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const MAX_BATCH: usize = 2_000;
pub const CHANNEL: usize = 50_000;
/// Tries of one batch before it is dropped: with the backoff below, about 25 s of trying.
pub const ATTEMPTS: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

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

/// Writes one batch, trying again after a doubling backoff; drops it (counted) after
/// [`ATTEMPTS`] failures. Answers whether it was written.
async fn write_with_retries<T, F, Fut>(
    name: &'static str,
    batch: Vec<T>,
    flush: &F,
    first_backoff: Duration,
) -> bool
where
    F: Fn(Arc<[T]>) -> Fut,
    Fut: Future<Output = Result<(), sqlx::Error>>,
{
    let len = batch.len();
    // Shared, not copied, between the tries.
    let batch: Arc<[T]> = batch.into();
    let mut backoff = first_backoff;
    for attempt in 1..=ATTEMPTS {
        let error = match AssertUnwindSafe(flush(batch.clone())).catch_unwind().await {
            Ok(Ok(())) => {
                metrics::counter!("csms_batch_rows_total", "writer" => name).increment(len as u64);
                return true;
            }
            Ok(Err(e)) => e.to_string(),
            Err(panic) => format!(
                "panicked: {}",
                crate::jobs::supervise::panic_text(panic.as_ref())
            ),
        };
        metrics::counter!("csms_batch_write_failures_total", "writer" => name).increment(1);
        if attempt == ATTEMPTS {
            tracing::error!(writer = name, %error, rows = len, "batch write failed; rows dropped");
            metrics::counter!("csms_batch_rows_dropped_total", "writer" => name)
                .increment(len as u64);
            return false;
        }
        tracing::warn!(writer = name, %error, rows = len, attempt, "batch write failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    false
}

/// Heartbeats only move `last_heartbeat_at` forward: written at most this often, a batch
/// holds each busy station once instead of once per message.
const HEARTBEAT_EVERY: Duration = Duration::from_millis(250);

/// A writer that takes what has queued, writes it, and waits until `every` has passed since
/// that batch began before taking the next (zero: at once). A waiting writer takes all that
/// queued meanwhile, or the queue would outgrow what it writes.
fn spawn<T, F, Fut>(
    name: &'static str,
    stop: CancellationToken,
    every: Duration,
    flush: F,
) -> (Batcher<T>, JoinHandle<()>)
where
    T: Send + Sync + 'static,
    F: Fn(Arc<[T]>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), sqlx::Error>> + Send,
{
    let (tx, mut rx) = mpsc::channel::<T>(CHANNEL);
    let task = tokio::spawn(async move {
        let limit = if every.is_zero() { MAX_BATCH } else { CHANNEL };
        let mut buf = Vec::with_capacity(MAX_BATCH);
        loop {
            let n = tokio::select! {
                n = rx.recv_many(&mut buf, limit) => n,
                _ = stop.cancelled() => {
                    // Everything that produces items has stopped: drain what is left.
                    rx.close();
                    rx.recv_many(&mut buf, limit).await
                }
            };
            if n == 0 {
                break;
            }
            let began = tokio::time::Instant::now();
            let batch = std::mem::replace(&mut buf, Vec::with_capacity(MAX_BATCH));
            write_with_retries(name, batch, &flush, FIRST_BACKOFF).await;
            if !every.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep_until(began + every) => {}
                    _ = stop.cancelled() => {}
                }
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

#[derive(Clone)]
pub struct Writers {
    pub heartbeats: Batcher<Heartbeat>,
    pub statuses: Batcher<StatusReport>,
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
    let (heartbeats, t1) = spawn("heartbeats", stop.clone(), HEARTBEAT_EVERY, move |b| {
        write_heartbeats(p.clone(), b)
    });
    let p = pool.clone();
    let (statuses, t2) = spawn("statuses", stop.clone(), Duration::ZERO, move |b| {
        write_statuses(p.clone(), b)
    });
    (
        Writers {
            heartbeats,
            statuses,
        },
        WriterTasks {
            stop,
            tasks: vec![t1, t2],
        },
    )
}

async fn write_heartbeats(pool: PgPool, batch: Arc<[Heartbeat]>) -> Result<(), sqlx::Error> {
    let mut latest: HashMap<String, DateTime<Utc>> = HashMap::with_capacity(batch.len());
    for h in batch.iter() {
        let e = latest.entry(h.station_id.clone()).or_insert(h.at);
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

async fn write_statuses(pool: PgPool, batch: Arc<[StatusReport]>) -> Result<(), sqlx::Error> {
    let mut st = Vec::with_capacity(batch.len());
    let mut evse = Vec::with_capacity(batch.len());
    let mut conn = Vec::with_capacity(batch.len());
    let mut status = Vec::with_capacity(batch.len());
    let mut at = Vec::with_capacity(batch.len());
    for r in batch.iter() {
        st.push(r.station_id.clone());
        evse.push(r.evse_id);
        conn.push(r.connector_id);
        status.push(r.status.clone());
        at.push(r.reported_at);
    }
    // One statement, atomic on its own: the history, the latest report per connector
    // (whatever order the batch holds them in), and whether any station of the batch is bound
    // to a listing, so that most batches need no listing transaction after it.
    let bound: bool = sqlx::query_scalar(
        "WITH v AS (
            SELECT * FROM UNNEST($1::text[], $2::int[], $3::int[], $4::text[], $5::timestamptz[])
            AS v(s, e, c, st, at)
         ), history AS (
            INSERT INTO connector_status_history (station_id, evse_id, connector_id, status,
                                                  reported_at)
            SELECT s, e, c, st, at FROM v
         ), latest AS (
            INSERT INTO connector_status (station_id, evse_id, connector_id, status, reported_at)
            SELECT DISTINCT ON (s, e, c) s, e, c, st, at FROM v ORDER BY s, e, c, at DESC
            ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE
            SET status = EXCLUDED.status, reported_at = EXCLUDED.reported_at
            WHERE connector_status.reported_at <= EXCLUDED.reported_at
         )
         SELECT EXISTS (SELECT 1 FROM listings
                        WHERE device_kind = $6 AND device_id IN (SELECT s FROM v))",
    )
    .bind(&st)
    .bind(&evse)
    .bind(&conn)
    .bind(&status)
    .bind(&at)
    .bind(marketplace::listings::DeviceKind::Ocpp.as_str())
    .fetch_one(&pool)
    .await?;
    if !bound {
        return Ok(());
    }
    update_listing_ports(&pool, &batch).await;
    Ok(())
}

/// Mirrors the batch onto the marketplace ports bound to these stations. The OCPP record is
/// committed already and is the source of truth, so a failure here is logged, not retried:
/// the next report for the connector corrects the port.
async fn update_listing_ports(pool: &PgPool, batch: &[StatusReport]) {
    use marketplace::listings::{apply_device_status, DeviceKind, DeviceStatus};
    let statuses: Vec<DeviceStatus> = batch
        .iter()
        .map(|r| DeviceStatus {
            device_kind: DeviceKind::Ocpp,
            device_id: r.station_id.clone(),
            evse_id: r.evse_id,
            connector_id: r.connector_id,
            status: r.status.clone(),
            at: r.reported_at,
        })
        .collect();
    if let Err(e) = apply_device_status(pool, &statuses).await {
        tracing::warn!(error = %e, rows = batch.len(), "listing port status update failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marketplace::accounts::{create_user, Role};
    use marketplace::listings::model::{
        ConnectorType, CurrentType, DeviceKind, ListingInput, PortInput, PortStatus,
    };
    use marketplace::listings::service;
    use marketplace::AuthUser;

    fn report(evse_id: i32, status: &str, at: DateTime<Utc>) -> StatusReport {
        StatusReport {
            station_id: "CP-1".into(),
            evse_id,
            connector_id: 1,
            status: status.into(),
            reported_at: at,
        }
    }

    /// A StatusNotification batch reaches the listing bound to the station, and a status the
    /// marketplace does not know does not fail the OCPP write.
    #[sqlx::test(migrations = "../migrations")]
    async fn statuses_reach_listing_ports(pool: PgPool) {
        let user = create_user(&pool, "host@example.com", "correct horse", Role::Host, None)
            .await
            .unwrap();
        sqlx::query("INSERT INTO stations (id, security_profile, owner_id) VALUES ('CP-1', 0, $1)")
            .bind(user.id)
            .execute(&pool)
            .await
            .unwrap();
        let host = AuthUser {
            id: user.id,
            role: Role::Host,
        };
        let input = ListingInput {
            title: "Depot".into(),
            address: "Depot street 1".into(),
            latitude: 48.1,
            longitude: 11.6,
            time_zone: "Europe/Berlin".into(),
            device_kind: Some(DeviceKind::Ocpp),
            device_id: Some("CP-1".into()),
            ..ListingInput::default()
        };
        let id = service::create(&pool, &host, input)
            .await
            .unwrap()
            .listing
            .id;
        let port = PortInput {
            label: String::new(),
            connector_type: ConnectorType::Ccs2,
            power_kw: 50.0,
            current_type: CurrentType::Dc,
            evse_id: Some(1),
            connector_id: Some(1),
        };
        service::add_port(&pool, &host, id, port).await.unwrap();

        let now = Utc::now();
        write_statuses(
            pool.clone(),
            vec![report(1, "Available", now), report(2, "Bogus", now)].into(),
        )
        .await
        .unwrap();
        let details = service::get(&pool, Some(&host), id).await.unwrap();
        assert_eq!(details.ports[0].live_status, PortStatus::Available);
        assert_eq!(details.listing.ports_available, 1);
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM connector_status_history")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(rows, 2, "the OCPP record keeps every report");
    }

    /// A failing batch is tried again (a transient failure loses nothing), and a batch that
    /// never succeeds is dropped after the last try; a panic counts as a failure.
    #[tokio::test]
    async fn failed_batches_are_retried_then_dropped() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let tries = AtomicU32::new(0);
        let flaky = |batch: Arc<[u32]>| {
            let n = tries.fetch_add(1, Ordering::SeqCst);
            async move {
                assert_eq!(&*batch, &[1, 2, 3], "every try sees the whole batch");
                if n < 2 {
                    Err(sqlx::Error::PoolTimedOut)
                } else {
                    Ok(())
                }
            }
        };
        assert!(write_with_retries("test", vec![1, 2, 3], &flaky, Duration::ZERO).await);
        assert_eq!(tries.load(Ordering::SeqCst), 3);

        let panics = AtomicU32::new(0);
        let broken = |_: Arc<[u32]>| {
            panics.fetch_add(1, Ordering::SeqCst);
            async { panic!("writer bug") }
        };
        assert!(!write_with_retries("test", vec![1], &broken, Duration::ZERO).await);
        assert_eq!(panics.load(Ordering::SeqCst), ATTEMPTS);
    }

    /// A writer that waits between batches takes everything that queued meanwhile in its next
    /// batch (more than a plain batch holds), so producers never wait on it; a stop writes
    /// what is left at once instead of waiting out the interval.
    #[tokio::test(start_paused = true)]
    async fn a_waiting_writer_takes_all_that_queued_and_stops_at_once() {
        let batches = Arc::new(std::sync::Mutex::new(Vec::<usize>::new()));
        let seen = batches.clone();
        let stop = CancellationToken::new();
        let every = Duration::from_secs(60);
        let (batcher, task) = spawn("test", stop.clone(), every, move |b: Arc<[u32]>| {
            seen.lock().unwrap().push(b.len());
            async { Ok(()) }
        });
        batcher.push(0).await;
        while batches.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        // the writer now waits out its interval; three batches' worth queue meanwhile
        let queued = 3 * MAX_BATCH as u32;
        let began = tokio::time::Instant::now();
        batcher.push_all(1..=queued).await;
        assert_eq!(began.elapsed(), Duration::ZERO, "no producer waited");
        tokio::time::sleep(every).await;
        while batches.lock().unwrap().len() < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(*batches.lock().unwrap(), vec![1, queued as usize]);

        batcher.push(99).await;
        let began = tokio::time::Instant::now();
        stop.cancel();
        drop(batcher);
        task.await.unwrap();
        assert!(
            began.elapsed() < every,
            "the stop did not wait out the interval"
        );
        assert_eq!(*batches.lock().unwrap(), vec![1, queued as usize, 1]);
    }
}

//! The durable timers of bookings: expiry of pending holds, no-shows, the end of checked-in
//! bookings, and old idempotency keys. The state and the deadlines are in the database, so
//! a restart loses nothing: whichever process calls [`run_due`] next catches up.
//!
//! The CSMS runs it every few seconds (any number of nodes may: batches skip rows another
//! sweeper or a request holds).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::rules::BookingRules;
use super::store::sweeps;
use crate::error::Error;
use crate::plumbing::idempotency;

/// Rows per statement, so one sweep never holds many locks for long.
pub const BATCH: i64 = 500;

/// What one [`run_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub expired: u64,
    pub no_shows: u64,
    pub completed: u64,
    pub idempotency_keys_purged: u64,
}

/// Applies every deadline that has passed at `now`, in batches, each batch its own
/// transaction, until none is left.
pub async fn run_due(pool: &PgPool, now: DateTime<Utc>) -> Result<SweepReport, Error> {
    let grace = BookingRules::default().arrival_grace_minutes;
    let mut report = SweepReport::default();
    loop {
        let mut tx = pool.begin().await?;
        let expired = sweeps::expire_pending(&mut tx, now, None, BATCH).await?;
        let no_shows = sweeps::mark_no_shows(&mut tx, now, grace, BATCH).await?;
        let completed = sweeps::complete_checked_in(&mut tx, now, BATCH).await?;
        tx.commit().await?;
        report.expired += expired;
        report.no_shows += no_shows;
        report.completed += completed;
        if expired < BATCH as u64 && no_shows < BATCH as u64 && completed < BATCH as u64 {
            break;
        }
    }
    let mut conn = pool.acquire().await?;
    report.idempotency_keys_purged = idempotency::purge(&mut conn, now - idempotency::TTL).await?;
    if report != SweepReport::default() {
        tracing::info!(?report, "booking deadlines applied");
    }
    Ok(report)
}

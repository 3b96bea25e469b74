//! The ledger's due work, for a periodic job (and `csms ledger post-due`): refund decisions
//! not posted yet, session bills not posted yet, and holds of bookings that ended without a
//! bill. Each item runs in its own transaction and locks its row first, so two workers (or a
//! worker and the booking code) never post anything twice; a failing item is logged and
//! retried next time without holding up the others.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::bookings::{settle_ended_hold, COMPLETED_GRACE};
use super::{finish, post_booking_refund, post_session_bill, release_session_hold};
use crate::error::Error;
use crate::ledger::store::{holds, sources};

const BATCH: i64 = 200;
/// An ended session still unbilled after this long (its charger cannot be priced; session
/// billing gives up after a week too) gives its hold back.
const UNBILLABLE_AFTER: chrono::Duration = chrono::Duration::days(8);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DueReport {
    /// Refund decisions posted against their booking's hold.
    pub refunds_posted: u32,
    /// Refund decisions of bookings that held nothing: marked posted, nothing moved.
    pub refunds_without_hold: u32,
    pub bills_posted: u32,
    /// Holds of no-shows and uncharged completed bookings captured as the booking's fee.
    pub holds_captured: u32,
    /// Holds of sessions that never charged (or can never be billed) given back.
    pub session_holds_released: u32,
    pub failures: u32,
}

pub async fn run_due(pool: &PgPool, now: DateTime<Utc>) -> Result<DueReport, Error> {
    let mut report = DueReport::default();

    let bookings = sources::unposted_refund_bookings(&mut *pool.acquire().await?, BATCH).await?;
    for booking in bookings {
        let mut tx = pool.begin().await?;
        let result = async {
            if post_booking_refund(&mut tx, booking, None, now)
                .await?
                .is_some()
            {
                return Ok(Some(true));
            }
            // no hold: nothing was paid, so nothing comes back
            match sources::refund_of_booking(&mut tx, booking).await? {
                Some(r) if r.posted_at.is_none() => {
                    sources::mark_refund_posted(&mut tx, r.id, now).await?;
                    Ok(Some(false))
                }
                _ => Ok(None),
            }
        }
        .await;
        match finish(tx, result).await {
            Ok(Some(true)) => report.refunds_posted += 1,
            Ok(Some(false)) => report.refunds_without_hold += 1,
            Ok(None) => {}
            Err(e) => failed(&mut report, "booking refund", booking, &e),
        }
    }

    let bills = sources::unposted_bills(&mut *pool.acquire().await?, BATCH).await?;
    for bill in bills {
        let mut tx = pool.begin().await?;
        let result = post_session_bill(&mut tx, bill, now).await;
        match finish(tx, result).await {
            Ok(true) => report.bills_posted += 1,
            Ok(false) => {}
            Err(e) => failed(&mut report, "session bill", bill, &e),
        }
    }

    let ended = holds::ended_without_bill(
        &mut *pool.acquire().await?,
        now,
        COMPLETED_GRACE,
        BATCH,
        None,
    )
    .await?;
    for hold in ended {
        let mut tx = pool.begin().await?;
        let result = settle_ended_hold(&mut tx, hold, now).await;
        match finish(tx, result).await {
            Ok(true) => report.holds_captured += 1,
            Ok(false) => {}
            Err(e) => failed(&mut report, "ended hold", hold, &e),
        }
    }

    let sessions =
        holds::of_unbillable_sessions(&mut *pool.acquire().await?, now, UNBILLABLE_AFTER, BATCH)
            .await?;
    for session in sessions {
        let mut tx = pool.begin().await?;
        let result = release_session_hold(&mut tx, session, now).await;
        match finish(tx, result).await {
            Ok(true) => report.session_holds_released += 1,
            Ok(false) => {}
            Err(e) => failed(&mut report, "session hold", session, &e),
        }
    }
    Ok(report)
}

fn failed(report: &mut DueReport, what: &str, id: uuid::Uuid, err: &Error) {
    report.failures += 1;
    tracing::warn!(%id, error = %err, "ledger: posting a {what} failed; retrying next time");
}

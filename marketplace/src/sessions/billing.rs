//! Pricing a session with the tariff engine, and its bill: computed once when the
//! transaction ends (with every event in, or after [`BILL_GRACE`](super::model::BILL_GRACE)),
//! stored immutably, and restated as a new revision only when late station data changes it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;

use super::energy::{self, Breakdown, Pause, Reading, Tail};
use super::model::{ChargingSession, SessionStatus};
use super::store::{self, bills};
use crate::error::Error;
use crate::tariffs::bill::Bill;
use crate::tariffs::engine::PriceReport;
use crate::tariffs::model::to_minor_units;
use crate::tariffs::service::{self as tariffs, PricingContext};

/// A session priced up to some instant.
#[derive(Debug, Clone)]
pub struct Priced {
    pub breakdown: Breakdown,
    pub context: PricingContext,
    pub report: PriceReport,
    pub bill: Bill,
}

/// Where a session's billable time ends: its transaction's end, else `now`.
pub fn billing_end(s: &ChargingSession, now: DateTime<Utc>) -> (DateTime<Utc>, Tail) {
    match s.ended_at {
        Some(end) => (end, Tail::Idle),
        None => (now.max(s.start()), Tail::Continuing),
    }
}

/// Prices the session from its readings and pauses with the tariff in force at its start,
/// and the driver's subscriptions in force at its start (plan discount, insurance coverage),
/// so a bill restated later gets the same benefits. Prepaid packages and charger
/// subscriptions are not sold yet: their extras stay the defaults.
pub async fn price(
    pool: &PgPool,
    s: &ChargingSession,
    now: DateTime<Utc>,
) -> Result<Priced, Error> {
    let mut conn = pool.acquire().await?;
    let readings = store::energy_readings(&mut conn, s.id).await?;
    let pauses = store::pauses(&mut conn, s.id).await?;
    drop(conn);
    price_from(pool, s, now, &readings, &pauses).await
}

/// [`price`] from the session's readings and pauses, already read.
pub async fn price_from(
    pool: &PgPool,
    s: &ChargingSession,
    now: DateTime<Utc>,
    readings: &[Reading],
    pauses: &[Pause],
) -> Result<Priced, Error> {
    let extras = {
        let mut conn = pool.acquire().await?;
        crate::subscriptions::extras_at(&mut conn, s.driver_id, s.start()).await?
    };
    let (end, tail) = billing_end(s, now);
    let breakdown = energy::breakdown(s.start(), end, readings, pauses, tail);
    let (context, report, bill) =
        tariffs::bill_session(pool, s.listing_id, &breakdown.session, s.emergency, extras).await?;
    Ok(Priced {
        breakdown,
        context,
        report,
        bill,
    })
}

/// Why a revision was written.
pub const ENDED: &str = "transaction_ended";
pub const LATE_DATA: &str = "late_station_data";

/// Bills a completed session, or restates its bill when the data changed it. Answers the bill
/// in force afterwards; `None` when there is none yet (events still missing, within grace).
pub async fn settle(
    pool: &PgPool,
    s: &ChargingSession,
    now: DateTime<Utc>,
    force: bool,
) -> Result<Option<bills::StoredBill>, Error> {
    if s.status != SessionStatus::Completed {
        return Ok(None);
    }
    let existing = bills::revisions(&mut *pool.acquire().await?, s.id).await?;
    if existing.is_empty() && !force && !s.events_complete() {
        return Ok(None);
    }
    let priced = price(pool, s, now).await?;
    let mut tx = pool.begin().await?;
    // one biller at a time per session: the rest see its revision and compare against it
    store::get(&mut tx, s.id, true).await?;
    let revisions = bills::revisions(&mut tx, s.id).await?;
    let latest = revisions.last();
    if let Some(latest) = latest {
        if same_money(latest, &priced.bill) {
            return Ok(Some(latest.clone()));
        }
    }
    let b = &priced.breakdown;
    let ocpi = serde_json::to_value(&priced.report.totals)
        .map_err(|e| Error::Internal(format!("OCPI totals: {e}")))?;
    let new = bills::NewBill {
        session_id: s.id,
        revision: latest.map_or(1, |l| l.revision + 1),
        supersedes: latest.map(|l| l.id),
        reason: if latest.is_some() { LATE_DATA } else { ENDED },
        bill: &priced.bill,
        tariff: priced.context.version.as_ref(),
        session_start: b.session.start,
        session_end: b.session.end,
        energy_wh: b.energy_wh,
        charging_seconds: b.charging_ms / 1000,
        idle_seconds: b.idle_ms / 1000,
        paused_seconds: b.paused_ms / 1000,
        ocpi_totals: ocpi,
        computed_at: now,
    };
    let written = bills::insert(&mut tx, &new).await?;
    tx.commit().await?;
    if written.is_some() {
        tracing::info!(session = %s.id, revision = new.revision, total = %priced.bill.total,
            "session billed");
    }
    let revisions = bills::revisions(&mut *pool.acquire().await?, s.id).await?;
    Ok(revisions.last().cloned())
}

/// Whether a stored bill says the same as a freshly computed one: every line's kind, text,
/// quantity and amount, and the total.
pub fn same_money(stored: &bills::StoredBill, bill: &Bill) -> bool {
    let cents = |d: Decimal| to_minor_units(d, &bill.currency);
    stored.currency == bill.currency
        && stored.total_cents == cents(bill.total)
        && stored.lines.len() == bill.lines.len()
        && stored.lines.iter().zip(&bill.lines).all(|(a, b)| {
            a.description == b.description
                && a.kind == bills::kind_name(b)
                && to_minor_units(a.amount, &bill.currency) == cents(b.amount)
                && a.quantity.map(|q| q.normalize()) == b.quantity.map(|q| q.normalize())
        })
}

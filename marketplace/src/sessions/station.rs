//! What stations tell sessions, and the background work on sessions. The CSMS calls these:
//!
//! 1. [`transaction_event`] for every TransactionEvent (retries included: it is idempotent).
//!    The event is matched to a session by transaction id; else to an app-started session
//!    waiting for it (by the echoed remoteStartId, else the EVSE); else a session is created
//!    when the transaction charges a booking (the bookings module matched it first) or its
//!    idToken belongs to a user, on an EVSE bound to a listing's port. When the answer says
//!    `linked`, the CSMS replays the transaction's earlier stored events, so readings that
//!    arrived before the session knew its transaction are not lost.
//! 2. [`meter_values`] for MeterValues (no transaction id: the live session on the EVSE).
//! 3. [`sweep`] every few seconds: starts that timed out, bills that waited long enough.
//! 4. [`running_costs`] / [`cost_sent`] for CostUpdated.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::billing::{self, settle};
use super::energy::{self, Reading};
use super::funds::{self, SessionFunds, NO_CREDIT};
use super::model::{
    transition, with_seq, ChargingSession, EventType, SessionAction, SessionStatus, BILL_GRACE,
    START_TIMEOUT,
};
use super::port::IdToken;
use super::store::{self, context, NewSession, Sample};
use crate::error::Error;

/// One TransactionEvent, as sessions need it.
#[derive(Debug, Clone, PartialEq)]
pub struct StationEvent {
    pub station_id: String,
    pub transaction_id: String,
    pub seq_no: i32,
    pub event_type: EventType,
    pub timestamp: DateTime<Utc>,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub id_token: Option<IdToken>,
    /// The user the idToken belongs to, as the CSMS's token registry says.
    pub token_owner: Option<Uuid>,
    pub remote_start_id: Option<i32>,
    pub charging_state: Option<String>,
    pub stopped_reason: Option<String>,
    /// Energy register (Wh), power (W) and state of charge (%) readings.
    pub samples: Vec<Sample>,
}

/// What the CSMS should do about the event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventOutcome {
    pub session_id: Option<Uuid>,
    /// The session just learned its transaction: replay the transaction's other events.
    pub linked: bool,
    /// The event's idToken is the session's own central token: answer it `Accepted`.
    pub token_accepted: bool,
    /// For an Ended event once billed: TransactionEventResponse.totalCost.
    pub total_cost: Option<Decimal>,
    /// The driver stopped before the station reported the transaction: stop it now.
    pub stop_transaction: bool,
    /// The event's idToken is a driver's, who may not charge here now: answer the token
    /// with this status (`NoCredit`).
    pub token_refused: Option<&'static str>,
}

/// Whether a station is any listing's device: the cheap first question, since most of a
/// CSMS's stations may not be in the marketplace at all.
pub async fn station_bound(pool: &PgPool, station_id: &str) -> Result<bool, Error> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM listings WHERE device_kind = 'ocpp' AND device_id = $1)",
    )
    .bind(station_id)
    .fetch_one(pool)
    .await?)
}

/// What an event matched.
enum Found {
    /// The session, and whether it just learned its transaction.
    Session(Box<ChargingSession>, bool),
    /// Nothing of the marketplace's.
    Nothing,
    /// A driver's own token on a listed charger, but no money for it: the station is told
    /// `NoCredit` (and stops, as OCPP has it); no session is made.
    NoCredit,
}

async fn find_or_create(
    conn: &mut PgConnection,
    funds: &SessionFunds,
    ev: &StationEvent,
    now: DateTime<Utc>,
) -> Result<Found, Error> {
    if let Some(s) = store::by_transaction(conn, &ev.station_id, &ev.transaction_id).await? {
        return Ok(Found::Session(Box::new(s), false));
    }
    if let Some(s) = store::waiting(conn, &ev.station_id, ev.remote_start_id, ev.evse_id).await? {
        return Ok(Found::Session(Box::new(s), true));
    }
    let booking = context::booking_of_transaction(conn, &ev.station_id, &ev.transaction_id).await?;
    let (driver, port, booking) = match (booking, ev.token_owner, ev.evse_id) {
        (Some(b), _, _) => {
            let port = context::port(conn, b.listing_id, b.port_id).await?;
            (b.driver_id, port, Some(b))
        }
        (None, Some(owner), Some(evse)) => {
            // A badge swiped at the station itself charges only on a listing the public can
            // use: approved and listed (a draft bound to someone's station earns nothing).
            let port = context::port_on_station(conn, &ev.station_id, evse, ev.connector_id)
                .await?
                .filter(|p| p.listing_status == "listed");
            (owner, port, None)
        }
        _ => return Ok(Found::Nothing),
    };
    let Some(port) = port else {
        return Ok(Found::Nothing);
    };
    // a driver who owes money gets no session: the station's event is still stored, as OCPP
    // requires, and its answer says NoCredit, so the station ends the transaction
    if let Err(err) = crate::ledger::service::ensure_no_debt(conn, driver).await {
        tracing::warn!(station = %ev.station_id, tx = %ev.transaction_id, %driver, %err,
            "no session for a station-started transaction: the driver owes money");
        return Ok(Found::NoCredit);
    }
    let Some(evse_id) = ev.evse_id.or(port.evse_id) else {
        return Ok(Found::Nothing);
    };
    let token = ev.id_token.clone().unwrap_or_else(|| {
        IdToken::central(match &booking {
            Some(b) => super::model::booking_token(b.reservation_id),
            None => "UNKNOWN".into(),
        })
    });
    let new = NewSession {
        id: Uuid::now_v7(),
        number: None,
        driver_id: driver,
        listing_id: port.listing_id,
        port_id: port.port_id,
        booking_id: booking.as_ref().map(|b| b.id),
        station_id: ev.station_id.clone(),
        evse_id,
        connector_id: ev.connector_id.or(port.connector_id),
        id_token: token.id_token,
        id_token_type: token.kind,
        status: SessionStatus::Start,
        origin: "station",
        emergency: booking.as_ref().is_some_and(|b| b.emergency),
        requested_at: ev.timestamp,
    };
    // a savepoint: a session the wallet cannot secure is not kept
    let mut sp = sqlx::Connection::begin(&mut *conn).await?;
    let s = match store::insert(&mut sp, &new).await {
        Ok(s) => s,
        Err(Error::Conflict { code, detail }) => {
            tracing::warn!(station = %ev.station_id, tx = %ev.transaction_id, code, detail,
                "no session for a station-started transaction");
            return Ok(Found::Nothing);
        }
        Err(e) => return Err(e),
    };
    if booking.is_none() {
        match funds::secure(&mut sp, funds, &new, now).await {
            Ok(_) => {}
            Err(Error::Conflict { code, detail }) => {
                tracing::warn!(station = %ev.station_id, tx = %ev.transaction_id, %driver,
                    code, detail, "no session for a station-started transaction");
                sp.rollback().await?;
                // only a wallet short of the hold is the driver's NoCredit; anything else
                // (a charger without prices) leaves the transaction unattributed, as before
                return Ok(if code == crate::ledger::service::PAYMENT_REQUIRED {
                    Found::NoCredit
                } else {
                    Found::Nothing
                });
            }
            Err(e) => return Err(e),
        }
    }
    sp.commit().await?;
    Ok(Found::Session(Box::new(s), true))
}

/// Folds one TransactionEvent into its session (see the module docs). Order-independent:
/// sequence numbers form a set, the start is the earliest event, readings are per instant.
pub async fn transaction_event(
    pool: &PgPool,
    funds: &SessionFunds,
    ev: &StationEvent,
    now: DateTime<Utc>,
) -> Result<EventOutcome, Error> {
    let mut tx = pool.begin().await?;
    let (mut s, linked) = match find_or_create(&mut tx, funds, ev, now).await? {
        Found::Session(s, linked) => (*s, linked),
        Found::Nothing => return Ok(EventOutcome::default()),
        Found::NoCredit => {
            tx.commit().await?;
            return Ok(EventOutcome {
                token_refused: Some(NO_CREDIT),
                ..EventOutcome::default()
            });
        }
    };
    let revived = s.status == SessionStatus::Cancelled;
    s.transaction_id
        .get_or_insert_with(|| ev.transaction_id.clone());
    s.connector_id = s.connector_id.or(ev.connector_id);
    let newest = s.seq_nos.last().is_none_or(|&last| ev.seq_no >= last);
    s.seq_nos = with_seq(std::mem::take(&mut s.seq_nos), ev.seq_no);
    if newest && ev.charging_state.is_some() {
        s.charging_state.clone_from(&ev.charging_state);
    }
    s.started_at = Some(s.started_at.map_or(ev.timestamp, |t| t.min(ev.timestamp)));
    let action = match ev.event_type {
        EventType::Started => {
            s.started_seq = Some(s.started_seq.map_or(ev.seq_no, |n| n.min(ev.seq_no)));
            SessionAction::TransactionReported
        }
        EventType::Updated => SessionAction::TransactionReported,
        EventType::Ended => {
            s.ended_seq = Some(ev.seq_no);
            s.ended_at = Some(ev.timestamp.max(s.start()));
            s.end_reason = ev.stopped_reason.clone().or(s.end_reason.take());
            SessionAction::TransactionEnded
        }
    };
    s.status = transition(s.status, action).map_err(|e| Error::Internal(e.to_string()))?;
    if let (SessionStatus::Completed, Some(end)) = (s.status, s.ended_at) {
        store::close_pause(&mut tx, s.id, end).await?;
    }
    store::add_samples(&mut tx, s.id, &ev.samples).await?;
    refresh_readings(&mut tx, &mut s).await?;
    store::save(&mut tx, &s).await?;
    tx.commit().await?;

    let token_accepted = ev.id_token.as_ref().is_some_and(|t| {
        t.kind == "Central" && t.id_token == s.id_token && t.kind == s.id_token_type
    });
    let mut outcome = EventOutcome {
        session_id: Some(s.id),
        linked,
        token_accepted,
        total_cost: None,
        stop_transaction: revived && s.stop_requested_at.is_some() && s.status.is_live(),
        token_refused: None,
    };
    if s.status == SessionStatus::Completed {
        match settle(pool, &s, now, false).await {
            Ok(bill) if ev.event_type == EventType::Ended => {
                outcome.total_cost = bill.map(|b| b.total);
            }
            Ok(_) => {}
            // the event is kept; the sweep bills it later
            Err(e) => tracing::warn!(session = %s.id, error = %e, "session not billed yet"),
        }
    }
    Ok(outcome)
}

/// Recomputes the cached energy, power, state of charge and last reading time.
async fn refresh_readings(conn: &mut PgConnection, s: &mut ChargingSession) -> Result<(), Error> {
    let readings = store::energy_readings(conn, s.id).await?;
    let last = readings.last().map(|r| r.at);
    let end = s.ended_at.or(last).unwrap_or(s.start());
    s.energy_wh = energy::breakdown(s.start(), end, &readings, &[], energy::Tail::Idle).energy_wh;
    refresh_latest(conn, s, last).await
}

/// The cached power, state of charge and last reading time, `last_energy` the latest energy
/// reading's time.
async fn refresh_latest(
    conn: &mut PgConnection,
    s: &mut ChargingSession,
    last_energy: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    if let Some((at, w)) = store::latest(conn, s.id, "power_w").await? {
        s.power_w = Some(w);
        s.last_reading_at = Some(s.last_reading_at.map_or(at, |t| t.max(at)));
    }
    if let Some((at, soc)) = store::latest(conn, s.id, "soc_percent").await? {
        s.soc_percent = Some(soc);
        s.last_reading_at = Some(s.last_reading_at.map_or(at, |t| t.max(at)));
    }
    if let Some(at) = last_energy {
        s.last_reading_at = Some(s.last_reading_at.map_or(at, |t| t.max(at)));
    }
    Ok(())
}

/// MeterValues from an EVSE: kept for the live session on it, if any. Answers its id.
pub async fn meter_values(
    pool: &PgPool,
    station_id: &str,
    evse_id: i32,
    samples: &[Sample],
) -> Result<Option<Uuid>, Error> {
    if samples.is_empty() || evse_id == 0 {
        return Ok(None);
    }
    let mut tx = pool.begin().await?;
    let Some(mut s) = store::live_on_evse(&mut tx, station_id, evse_id).await? else {
        return Ok(None);
    };
    let start = s.start();
    let inside: Vec<Sample> = samples.iter().filter(|x| x.at >= start).cloned().collect();
    // a running session's energy carries on from its latest reading; an ended one is recounted
    let last = match s.ended_at {
        None => Some(store::latest(&mut tx, s.id, "energy_wh").await?),
        Some(_) => None,
    };
    store::add_samples(&mut tx, s.id, &inside).await?;
    let fresh: Vec<Reading> = inside
        .iter()
        .filter(|x| x.measurand == "energy_wh")
        .map(|x| Reading {
            at: x.at,
            // as stored
            wh: x.value.round_dp(3),
        })
        .collect();
    let carried = last.and_then(|last| {
        let last = last.map(|(at, wh)| Reading { at, wh });
        energy::extend(s.energy_wh, last, &fresh)
    });
    match carried {
        Some(energy_wh) => {
            s.energy_wh = energy_wh;
            refresh_latest(&mut tx, &mut s, fresh.iter().map(|r| r.at).max()).await?;
        }
        None => refresh_readings(&mut tx, &mut s).await?,
    }
    store::save(&mut tx, &s).await?;
    tx.commit().await?;
    Ok(Some(s.id))
}

/// What [`sweep`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub cancelled: usize,
    pub billed: usize,
}

/// Cancels starts no transaction came for within [`START_TIMEOUT`], and bills sessions whose
/// transaction ended more than [`BILL_GRACE`] ago with events still missing (looking back a
/// week: a charger without any price is not retried forever).
pub async fn sweep(pool: &PgPool, now: DateTime<Utc>, limit: i64) -> Result<SweepReport, Error> {
    let mut report = SweepReport::default();
    let mut tx = pool.begin().await?;
    for mut s in store::timed_out_starts(&mut tx, now - START_TIMEOUT, limit).await? {
        s.status = SessionStatus::Cancelled;
        s.end_reason = Some("the station did not report the transaction in time".into());
        store::save(&mut tx, &s).await?;
        report.cancelled += 1;
    }
    tx.commit().await?;
    let due = store::unbilled(&mut *pool.acquire().await?, now - BILL_GRACE, limit).await?;
    for s in due
        .into_iter()
        .filter(|s| s.ended_at.is_some_and(|e| e > now - Duration::days(7)))
    {
        match settle(pool, &s, now, true).await {
            Ok(Some(_)) => report.billed += 1,
            Ok(None) => {}
            Err(e) => tracing::warn!(session = %s.id, error = %e, "session not billed"),
        }
    }
    Ok(report)
}

/// A running session's cost to push to its station.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningCost {
    pub session_id: Uuid,
    pub station_id: String,
    pub transaction_id: String,
    pub total: Decimal,
}

/// Running sessions whose cost changed since it was last sent.
pub async fn running_costs(
    pool: &PgPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<RunningCost>, Error> {
    let running = store::running(&mut *pool.acquire().await?, now, limit).await?;
    let mut out = Vec::new();
    for s in running {
        let Some(transaction_id) = s.transaction_id.clone() else {
            continue;
        };
        match billing::price(pool, &s, now).await {
            Ok(p) if s.cost_sent != Some(p.bill.total) => out.push(RunningCost {
                session_id: s.id,
                station_id: s.station_id,
                transaction_id,
                total: p.bill.total,
            }),
            Ok(_) => {}
            Err(e) => tracing::debug!(session = %s.id, error = %e, "no running cost"),
        }
    }
    Ok(out)
}

/// Records what the station was sent.
pub async fn cost_sent(pool: &PgPool, session_id: Uuid, total: Decimal) -> Result<(), Error> {
    store::set_cost_sent(&mut *pool.acquire().await?, session_id, total).await
}

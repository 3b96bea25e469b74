//! Money for sessions no booking pays for, and the stop when a session's money runs out.
//!
//! - A walk-up start (app) or a driver's own card at the station holds, on the wallet, the
//!   estimate of charging a battery of [`SessionFunds::battery_kwh`] at the charger's tariff
//!   (at the port's power), capped at [`SessionFunds::max_hold_minor`]; a wallet with less
//!   holds what it has, down to [`SessionFunds::min_hold_minor`]. Less than that: no session
//!   (409 `payment_required` in the app; `NoCredit` to the station).
//! - While a session charges, [`check`] compares its cost so far with what secures it (its
//!   holds and its booking's card authorization). Reaching it, the hold is topped up from
//!   the wallet; a wallet with nothing left means the session is stopped: `stop_reason`
//!   `funds_exhausted`, set once, and the CSMS sends RequestStopTransaction.
//! - What a station still delivers between the stop and its end is billed all the same;
//!   what the money secured does not cover becomes debt (bounded by the check interval and
//!   the port's power) and blocks the driver until paid.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::billing;
use super::model::ChargingSession;
use super::store;
use crate::error::Error;
use crate::ledger::model::Minor;
use crate::ledger::service::{self as ledger, HoldAsk};
use crate::tariffs;
use crate::tariffs::model::to_minor_units;
use crate::tariffs::quote::{self, EstimateInput};

/// The idTokenInfo status of a driver without money (OCPP 2.0.1 AuthorizationStatusEnumType).
pub const NO_CREDIT: &str = "NoCredit";

/// How much a session without a booking holds. Amounts are in the charger currency's minor
/// units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionFunds {
    /// The battery a session is estimated for.
    pub battery_kwh: Decimal,
    pub max_hold_minor: Minor,
    pub min_hold_minor: Minor,
}

impl Default for SessionFunds {
    fn default() -> Self {
        Self {
            battery_kwh: Decimal::from(60),
            max_hold_minor: 5_000,
            min_hold_minor: 500,
        }
    }
}

/// The charger's currency and what a session on `port` should hold: the estimate of a full
/// battery at the tariff in force `now` with the driver's plan, capped.
pub async fn ask(
    conn: &mut PgConnection,
    funds: &SessionFunds,
    listing_id: Uuid,
    port_id: Uuid,
    driver: Uuid,
    now: DateTime<Utc>,
) -> Result<(String, HoldAsk), Error> {
    let ctx = tariffs::service::pricing_at(conn, listing_id, now).await?;
    let power: Option<String> =
        sqlx::query_scalar("SELECT power_kw::text FROM listing_ports WHERE id = $1")
            .bind(port_id)
            .fetch_optional(&mut *conn)
            .await?;
    let power = power
        .and_then(|p| p.parse::<Decimal>().ok())
        .filter(|p| *p > Decimal::ZERO)
        .unwrap_or(Decimal::from(11));
    let kwh = funds.battery_kwh.max(Decimal::ONE);
    let minutes = (kwh / power * Decimal::from(60)).ceil();
    let input = EstimateInput {
        charger_id: listing_id,
        start_time: now,
        duration_minutes: minutes.try_into().unwrap_or(60_i64).clamp(1, 1440),
        estimated_kwh: kwh,
        emergency: false,
        idle_minutes: 0,
        plan: None,
        prepaid_kwh: None,
        charger_subscription: None,
    };
    let benefits = crate::subscriptions::extras_at(conn, driver, now).await?;
    let estimate = match quote::quote(ctx.priced(), &input, &benefits) {
        Ok((_, bill)) => to_minor_units(bill.total, &ctx.currency),
        // a tariff the engine cannot price for a full battery is held at the cap
        Err(_) => funds.max_hold_minor,
    };
    let target = estimate.clamp(0, funds.max_hold_minor.max(1));
    Ok((
        ctx.currency,
        HoldAsk {
            target,
            minimum: funds.min_hold_minor.min(target),
        },
    ))
}

/// Holds the money for a new session without a booking (in the caller's transaction).
pub async fn secure(
    conn: &mut PgConnection,
    funds: &SessionFunds,
    session: &store::NewSession,
    now: DateTime<Utc>,
) -> Result<Minor, Error> {
    let (currency, ask) = ask(
        conn,
        funds,
        session.listing_id,
        session.port_id,
        session.driver_id,
        now,
    )
    .await?;
    ledger::hold_for_session(conn, session.driver_id, session.id, &currency, ask, now).await
}

/// A session whose money ran out: stop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsStop {
    pub session_id: Uuid,
    pub station_id: String,
    pub transaction_id: String,
}

/// What [`check`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub checked: usize,
    pub topped_up: usize,
    pub stopped: usize,
}

/// Checks every charging session's cost against what secures it (pages of `batch`): tops
/// holds up from wallets, and answers the sessions to stop (marked `funds_exhausted`).
pub async fn check(
    pool: &PgPool,
    funds: &SessionFunds,
    now: DateTime<Utc>,
    batch: i64,
) -> Result<(CheckReport, Vec<FundsStop>), Error> {
    let mut report = CheckReport::default();
    let mut stops = Vec::new();
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    loop {
        let page = store::charging_page(&mut *pool.acquire().await?, after, batch).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.start(), last.id));
        let full = page.len() as i64 >= batch;
        for s in page {
            report.checked += 1;
            match check_one(pool, funds, &s, now).await {
                Ok(Checked::Fine) => {}
                Ok(Checked::ToppedUp) => report.topped_up += 1,
                Ok(Checked::Stop(stop)) => {
                    report.stopped += 1;
                    stops.push(stop);
                }
                Err(e) => tracing::warn!(session = %s.id, error = %e, "session funds not checked"),
            }
        }
        if !full {
            break;
        }
    }
    Ok((report, stops))
}

enum Checked {
    Fine,
    ToppedUp,
    Stop(FundsStop),
}

async fn check_one(
    pool: &PgPool,
    funds: &SessionFunds,
    s: &ChargingSession,
    now: DateTime<Utc>,
) -> Result<Checked, Error> {
    let Some(transaction_id) = s.transaction_id.clone() else {
        return Ok(Checked::Fine);
    };
    let priced = billing::price(pool, s, now).await?;
    let currency = priced.bill.currency.clone();
    let cost = to_minor_units(priced.bill.total, &currency);
    if cost <= 0 {
        return Ok(Checked::Fine);
    }
    let mut tx = pool.begin().await?;
    // locked: the station's events and this check take turns on the session
    let Some(locked) = store::get(&mut tx, s.id, true).await? else {
        return Ok(Checked::Fine);
    };
    if !locked.status.is_live() || locked.stop_reason.is_some() {
        return Ok(Checked::Fine);
    }
    let secured = ledger::secured(&mut tx, s.id, s.booking_id, &currency).await?;
    if cost < secured.total() {
        return Ok(Checked::Fine);
    }
    // the step covers what is owed beyond the money secured, plus another estimate's worth
    let step = (cost - secured.total()).saturating_add(funds.max_hold_minor.max(1));
    let added =
        ledger::extend_session_hold(&mut tx, s.driver_id, s.id, &currency, step, now).await?;
    let outcome = if secured.total().saturating_add(added) > cost {
        Checked::ToppedUp
    } else {
        store::mark_funds_exhausted(&mut tx, s.id, now).await?;
        Checked::Stop(FundsStop {
            session_id: s.id,
            station_id: s.station_id.clone(),
            transaction_id,
        })
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Whether a driver's own token may start charging on a station now, asked when the station
/// authorizes it: `Some("NoCredit")` when the driver owes money or has less on the wallet
/// than a session there must hold (and no booking there pays for it). `None` also for
/// stations that are no listed charger: those are not the marketplace's to decide.
pub async fn credit(
    pool: &PgPool,
    funds: &SessionFunds,
    station_id: &str,
    driver: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<&'static str>, Error> {
    let mut conn = pool.acquire().await?;
    let target: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT l.id, p.id, l.currency::text FROM listings l JOIN listing_ports p ON p.listing_id = l.id \
         WHERE l.device_kind = 'ocpp' AND l.device_id = $1 AND l.status = 'listed' \
         ORDER BY p.created_at LIMIT 1",
    )
    .bind(station_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((listing, port, currency)) = target else {
        return Ok(None);
    };
    if !ledger::debts(&mut conn, driver).await?.is_empty() {
        return Ok(Some(NO_CREDIT));
    }
    let booked: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bookings WHERE driver_id = $1 AND listing_id = $2 \
           AND status IN ('confirmed', 'checked_in') AND ends_at > $3 \
           AND starts_at <= $3 + interval '1 hour')",
    )
    .bind(driver)
    .bind(listing)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    if booked {
        return Ok(None);
    }
    let wallet = ledger::wallet_balance(&mut conn, driver, &currency).await?;
    // the minimum is never above `min_hold_minor`: only a shorter wallet needs the estimate
    if wallet >= funds.min_hold_minor {
        return Ok(None);
    }
    let (_, ask) = ask(&mut conn, funds, listing, port, driver, now).await?;
    Ok((ask.target > 0 && wallet < ask.minimum.max(1)).then_some(NO_CREDIT))
}

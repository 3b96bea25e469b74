//! What the API shows of a session: live figures (energy, power, state of charge, time split
//! three ways) and the cost so far from the tariff engine, or the bill in force once billed.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::billing::{self, billing_end};
use super::energy;
use super::model::{ChargingSession, SessionStatus};
use super::store::{self, bills};
use crate::error::Error;
use crate::tariffs::bill::LineItem;
use crate::tariffs::quote::TariffRef;

/// Power readings older than this (before the newest energy reading) are not "now".
const POWER_FRESH_SECS: i64 = 120;

/// The cost: while it runs, an estimate priced by the tariff engine up to now; once billed,
/// the total of the bill in force.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = SessionCost)]
pub struct CostView {
    #[schema(example = "EUR")]
    pub currency: String,
    /// Taxes and fees included: what the driver pays if the session ended now.
    #[schema(example = "5.04")]
    pub total: Decimal,
    /// `true`: the stored bill in force (see `/billing`); `false`: a running estimate.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The bill revision it comes from, when final.
    #[schema(required)]
    pub revision: Option<i32>,
    pub as_of: DateTime<Utc>,
    /// The tariff version in force at the start; `null`: the charger's summary prices.
    #[schema(required)]
    pub tariff: Option<TariffRef>,
    /// The running estimate's lines (empty when final: the bill has them).
    pub lines: Vec<LineItem>,
}

/// A charging session with its live figures and cost.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = Session)]
pub struct SessionView {
    pub id: Uuid,
    /// The OCPP remoteStartId, the central token `SESSION-<number>`, the pause profile id.
    pub number: i32,
    pub status: SessionStatus,
    /// `app` (started here) or `station` (a card, or a booked EVSE).
    #[schema(example = "app")]
    pub origin: String,
    pub driver_id: Uuid,
    pub charger_id: Uuid,
    pub port_id: Uuid,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    pub station_id: String,
    pub evse_id: i32,
    #[schema(required)]
    pub connector_id: Option<i32>,
    /// Known once the station reports the transaction.
    #[schema(required)]
    pub transaction_id: Option<String>,
    pub requested_at: DateTime<Utc>,
    #[schema(required)]
    pub started_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub ended_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub end_reason: Option<String>,
    #[schema(required)]
    pub stop_requested_at: Option<DateTime<Utc>>,
    /// Why the platform stopped the session itself: `funds_exhausted` (the money secured
    /// for it ran out and the wallet had nothing more to top its hold up with). `null`
    /// otherwise.
    #[schema(required, example = "funds_exhausted")]
    pub stop_reason: Option<String>,
    #[schema(example = "12.5")]
    pub energy_kwh: Decimal,
    /// Now, while it runs: the station's latest power reading, else the average over the
    /// last interval between energy readings.
    #[schema(required, example = "11")]
    pub power_kw: Option<Decimal>,
    /// State of charge in %, when the station reports it.
    #[schema(required, example = "64")]
    pub state_of_charge: Option<Decimal>,
    #[schema(required)]
    pub last_reading_at: Option<DateTime<Utc>>,
    /// OCPP `chargingState` as last reported (`Charging`, `SuspendedEV`, ...).
    #[schema(required, example = "Charging")]
    pub charging_state: Option<String>,
    pub duration_seconds: i64,
    /// Time the meter moved (billed as charging time).
    pub charging_seconds: i64,
    /// Connected, not charging, not paused (billed as idle time).
    pub idle_seconds: i64,
    /// Paused by the driver (billed as idle time, shown apart).
    pub paused_seconds: i64,
    #[schema(required)]
    pub paused_since: Option<DateTime<Utc>>,
    /// `null` before the transaction started, or when the charger has no price.
    #[schema(required)]
    pub cost: Option<CostView>,
}

/// Builds the view at `now`. A pricing failure (a charger without prices) leaves `cost` null.
pub async fn build(
    pool: &PgPool,
    s: &ChargingSession,
    now: DateTime<Utc>,
) -> Result<SessionView, Error> {
    let mut conn = pool.acquire().await?;
    let readings = store::energy_readings(&mut conn, s.id).await?;
    let pauses = store::pauses(&mut conn, s.id).await?;
    let power = store::latest(&mut conn, s.id, "power_w").await?;
    let revisions = if s.status == SessionStatus::Completed {
        bills::revisions(&mut conn, s.id).await?
    } else {
        Vec::new()
    };
    drop(conn);
    let started = s.started_at.is_some() && s.status != SessionStatus::Cancelled;
    let (end, tail) = billing_end(s, now);
    let b = if started {
        Some(energy::breakdown(s.start(), end, &readings, &pauses, tail))
    } else {
        None
    };
    let running = matches!(s.status, SessionStatus::Active | SessionStatus::Paused);
    let power_w = if running {
        let newest = readings.last().map(|r| r.at);
        power
            .filter(|(at, _)| newest.is_none_or(|n| (n - *at).num_seconds() <= POWER_FRESH_SECS))
            .map(|(_, w)| w)
            .or_else(|| energy::average_power_w(&readings))
    } else {
        None
    };
    let cost = match revisions.last() {
        Some(bill) => Some(CostView {
            currency: bill.currency.clone(),
            total: bill.total,
            is_final: true,
            revision: Some(bill.revision),
            as_of: bill.computed_at,
            tariff: bill.tariff.clone(),
            lines: Vec::new(),
        }),
        None if started => match billing::price_from(pool, s, now, &readings, &pauses).await {
            Ok(p) => Some(CostView {
                currency: p.bill.currency.clone(),
                total: p.bill.total,
                is_final: false,
                revision: None,
                as_of: end,
                tariff: p.context.version.clone(),
                lines: p.bill.lines,
            }),
            Err(e) => {
                tracing::debug!(session = %s.id, error = %e, "no running cost");
                None
            }
        },
        None => None,
    };
    let ms = |f: fn(&energy::Breakdown) -> i64| b.as_ref().map_or(0, |b| f(b) / 1000);
    Ok(SessionView {
        id: s.id,
        number: s.number,
        status: s.status,
        origin: s.origin.clone(),
        driver_id: s.driver_id,
        charger_id: s.listing_id,
        port_id: s.port_id,
        booking_id: s.booking_id,
        station_id: s.station_id.clone(),
        evse_id: s.evse_id,
        connector_id: s.connector_id,
        transaction_id: s.transaction_id.clone(),
        requested_at: s.requested_at,
        started_at: s.started_at,
        ended_at: s.ended_at,
        end_reason: s.end_reason.clone(),
        stop_requested_at: s.stop_requested_at,
        stop_reason: s.stop_reason.clone(),
        energy_kwh: (b.as_ref().map_or(s.energy_wh, |b| b.energy_wh).round_dp(3)
            / Decimal::from(1000))
        .normalize(),
        power_kw: power_w.map(|w| (w / Decimal::from(1000)).round_dp(3).normalize()),
        state_of_charge: s.soc_percent,
        last_reading_at: s.last_reading_at,
        charging_state: s.charging_state.clone(),
        duration_seconds: if started {
            (end - s.start()).num_seconds()
        } else {
            0
        },
        charging_seconds: ms(|b| b.charging_ms),
        idle_seconds: ms(|b| b.idle_ms),
        paused_seconds: ms(|b| b.paused_ms),
        paused_since: pauses
            .iter()
            .find(|p| p.to.is_none())
            .map(|p| p.from)
            .filter(|_| s.status == SessionStatus::Paused),
        cost,
    })
}

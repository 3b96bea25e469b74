//! Host analytics: revenue by local hour of day, utilisation per port, popular slots, and a
//! price suggestion. The suggestion is a deliberately simple, documented rule (pure):
//!
//! - utilisation of a charger = time its ports had a session over the window, divided by
//!   ports × window length;
//! - at or above [`BUSY`] (60 %) drivers queue: suggest the price per kWh + [`STEP_PERCENT`];
//! - below [`QUIET`] (15 %) it sits idle: suggest − [`STEP_PERCENT`];
//! - otherwise keep it. Suggestions stay inside the host range (0.05–1.00 per kWh) and are
//!   rounded to the cent. A charger without a price per kWh gets no figure, only the reason.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::store::decimal;
use super::store::pages::{self, AnalyticsScope};
use crate::accounts::{AuthUser, Role};
use crate::error::Error;

pub const BUSY: f64 = 0.6;
pub const QUIET: f64 = 0.15;
pub const STEP_PERCENT: u32 = 10;
/// The window when the caller names none.
pub const DEFAULT_DAYS: i64 = 30;
pub const MAX_DAYS: i64 = 366;

/// Utilisation ≥ 60 %: +10 %; < 15 %: −10 %; otherwise keep; within 0.05–1.00 per kWh.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = PriceRule)]
pub struct Suggestion {
    /// The charger's price per kWh; `null` when it has none (then no figure is suggested).
    #[schema(required, example = "0.30")]
    pub current_price_per_kwh: Option<Decimal>,
    #[schema(required, example = "0.33")]
    pub suggested_price_per_kwh: Option<Decimal>,
    #[schema(minimum = -10, maximum = 10, example = 10)]
    pub change_percent: i32,
    pub reason: &'static str,
}

/// The rule of the module docs.
pub fn suggest(utilisation: f64, current: Option<Decimal>) -> Suggestion {
    let (change, reason) = if utilisation >= BUSY {
        (
            STEP_PERCENT as i32,
            "busy (utilisation ≥ 60 %): a higher price spreads demand to other hours and chargers",
        )
    } else if utilisation < QUIET {
        (
            -(STEP_PERCENT as i32),
            "quiet (utilisation < 15 %): a lower price attracts drivers",
        )
    } else {
        (0, "utilisation between 15 % and 60 %: keep the price")
    };
    let suggested = current.map(|p| {
        let factor = Decimal::ONE + Decimal::from(change) / Decimal::ONE_HUNDRED;
        (p * factor)
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
            .clamp(Decimal::new(5, 2), Decimal::ONE)
            .normalize()
    });
    Suggestion {
        current_price_per_kwh: current,
        suggested_price_per_kwh: suggested,
        change_percent: if current.is_some() { change } else { 0 },
        reason: if current.is_some() {
            reason
        } else {
            "the charger has no price per kWh"
        },
    }
}

/// Billed sessions that started in one local hour of the day, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HourRevenue {
    /// Local hour of day (the charger's time zone) the sessions started in, 0–23.
    #[schema(minimum = 0, maximum = 23)]
    pub hour: i32,
    #[schema(example = "EUR")]
    pub currency: String,
    pub sessions: i64,
    pub energy_kwh: Decimal,
    /// What drivers paid (bills in force).
    pub charged: Decimal,
    /// The host's part of it.
    pub host_share: Decimal,
}

/// How much one port was used over the window.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PortUse {
    pub charger_id: Uuid,
    pub port_id: Uuid,
    pub label: String,
    /// Sessions that charged on it inside the window.
    pub sessions: i64,
    /// Time it had a session inside the window.
    #[schema(minimum = 0)]
    pub busy_hours: f64,
    /// Busy time over the window, 0–1.
    #[schema(minimum = 0, maximum = 1)]
    pub utilisation: f64,
}

/// A (weekday, local hour) sessions often start in.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = PopularSlot)]
pub struct Slot {
    /// `monday` to `sunday`, in the charger's time zone.
    #[schema(example = "tuesday")]
    pub weekday: &'static str,
    #[schema(minimum = 0, maximum = 23)]
    pub hour: i32,
    pub sessions: i64,
}

/// A price suggestion for one charger (the rule's fields at the top level).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = PriceSuggestion)]
pub struct ChargerSuggestion {
    pub charger_id: Uuid,
    /// Busy time of its ports over ports × the window, 0–1.
    #[schema(minimum = 0, maximum = 1)]
    pub utilisation: f64,
    #[serde(flatten)]
    pub suggestion: Suggestion,
}

/// A host's figures over the window `[from, to)`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HostAnalytics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Billed sessions (bills in force) that started in the window, by local hour and
    /// currency.
    pub revenue_by_hour: Vec<HourRevenue>,
    /// Every port of the chargers in scope.
    pub ports: Vec<PortUse>,
    /// The five most frequent (weekday, local hour) session starts.
    #[schema(max_items = 5)]
    pub popular_slots: Vec<Slot>,
    /// One per charger in scope.
    pub price_suggestions: Vec<ChargerSuggestion>,
}

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The window `[from, to)`: both given, or the last [`DEFAULT_DAYS`] days up to `to`/now.
pub fn window(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Error> {
    let to = to.unwrap_or(now);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS));
    if to <= from {
        return Err(Error::invalid("to", "must be after from"));
    }
    if to - from > Duration::days(MAX_DAYS) {
        return Err(Error::invalid("from", "the window is at most 366 days"));
    }
    Ok((from, to))
}

/// `GET /api/host/analytics`: a host's chargers (admins: every charger, or one). Hosts need
/// the analytics subscription (403 `subscription_required` without it).
pub async fn host_analytics(
    pool: &PgPool,
    caller: &AuthUser,
    charger_id: Option<Uuid>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> Result<HostAnalytics, Error> {
    caller.require(&[Role::Host])?;
    let mut conn = pool.acquire().await?;
    // the analytics dashboard is a host product (issue 7); admins see it regardless
    if caller.role != Role::Admin {
        let analytics = crate::subscriptions::model::Group::Analytics;
        crate::subscriptions::entitlements::require(&mut conn, caller.id, analytics, now).await?;
    }
    let scope = AnalyticsScope {
        host_id: (caller.role != Role::Admin).then_some(caller.id),
        charger_id,
        from,
        to,
        now,
    };
    let hours = pages::revenue_by_hour(&mut conn, &scope).await?;
    let ports = pages::port_use(&mut conn, &scope).await?;
    let slots = pages::popular_slots(&mut conn, &scope, 5).await?;
    let window_secs = (to - from).num_seconds() as f64;

    let revenue_by_hour = hours
        .into_iter()
        .map(|(hour, currency, digits, sessions, kwh, charged, host)| {
            Ok(HourRevenue {
                hour,
                currency,
                sessions,
                energy_kwh: decimal(&kwh)?.round_dp(3).normalize(),
                charged: pages::money(charged, digits),
                host_share: pages::money(host, digits),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let mut suggestions: Vec<ChargerSuggestion> = Vec::new();
    let mut per_charger: Vec<(Uuid, Option<Decimal>, f64, usize)> = Vec::new();
    let ports = ports
        .into_iter()
        .map(|(charger, port, label, price, sessions, busy)| {
            let busy = busy.max(0.0);
            match per_charger.iter_mut().find(|c| c.0 == charger) {
                Some(c) => {
                    c.2 += busy;
                    c.3 += 1;
                }
                None => per_charger.push((
                    charger,
                    price
                        .as_deref()
                        .and_then(|p| p.parse::<Decimal>().ok())
                        .map(|p| p.normalize()),
                    busy,
                    1,
                )),
            }
            PortUse {
                charger_id: charger,
                port_id: port,
                label,
                sessions,
                busy_hours: busy / 3600.0,
                utilisation: (busy / window_secs).min(1.0),
            }
        })
        .collect();
    for (charger, price, busy, n) in per_charger {
        let utilisation = (busy / (window_secs * n as f64)).min(1.0);
        suggestions.push(ChargerSuggestion {
            charger_id: charger,
            utilisation,
            suggestion: suggest(utilisation, price),
        });
    }
    Ok(HostAnalytics {
        from,
        to,
        revenue_by_hour,
        ports,
        popular_slots: slots
            .into_iter()
            .map(|(dow, hour, sessions)| Slot {
                weekday: WEEKDAYS[usize::try_from(dow - 1).unwrap_or(0).min(6)],
                hour,
                sessions,
            })
            .collect(),
        price_suggestions: suggestions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_rule() {
        let busy = suggest(0.75, Some(d("0.30")));
        assert_eq!(busy.suggested_price_per_kwh, Some(d("0.33")));
        assert_eq!(busy.change_percent, 10);
        let quiet = suggest(0.05, Some(d("0.30")));
        assert_eq!(quiet.suggested_price_per_kwh, Some(d("0.27")));
        let fine = suggest(0.3, Some(d("0.30")));
        assert_eq!(fine.suggested_price_per_kwh, Some(d("0.3")));
        assert_eq!(fine.change_percent, 0);
        // inside the host range
        assert_eq!(
            suggest(0.9, Some(d("0.98"))).suggested_price_per_kwh,
            Some(Decimal::ONE)
        );
        assert_eq!(
            suggest(0.0, Some(d("0.05"))).suggested_price_per_kwh,
            Some(d("0.05"))
        );
        let none = suggest(0.9, None);
        assert_eq!(
            (none.suggested_price_per_kwh, none.change_percent),
            (None, 0)
        );
    }

    #[test]
    fn windows() {
        let now: DateTime<Utc> = "2027-01-31T00:00:00Z".parse().unwrap();
        let (f, t) = window(None, None, now).unwrap();
        assert_eq!((t - f).num_days(), 30);
        assert!(window(Some(now), Some(now), now).is_err());
        assert!(window(Some(now - Duration::days(400)), None, now).is_err());
    }
}

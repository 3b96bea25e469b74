//! What the engine prices — a session as a list of periods — and the money rules every
//! figure follows. Pure.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use super::ocpi::{Cdr, CdrDimensionType};
use crate::money::minor_unit_digits;

/// One stretch of a session over which the volumes accrued evenly. It ends when the next
/// period starts (the last one: when the session ends).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub energy_kwh: Decimal,
    /// Time charging (OCPI `TIME`), hours.
    pub charging_hours: Decimal,
    /// Time connected but not charging (OCPI `PARKING_TIME`), hours.
    pub parking_hours: Decimal,
    /// Time reserved before charging (OCPI `RESERVATION_TIME`), hours.
    pub reservation_hours: Decimal,
    /// Current in A over all phases, if known (`CURRENT`, else `MAX_CURRENT`, else `MIN_CURRENT`).
    pub current_a: Option<Decimal>,
    /// Power in kW, if known (`POWER`, else `MAX_POWER`, else `MIN_POWER`); otherwise the
    /// engine uses the period's average (energy over charging time).
    pub power_kw: Option<Decimal>,
}

impl Period {
    /// The power restrictions compare against: the reported one, else the average.
    pub fn power(&self) -> Decimal {
        self.power_kw.unwrap_or_else(|| {
            if self.charging_hours > Decimal::ZERO {
                // an instant of charging is an unbounded power: MAX, not an overflow panic
                self.energy_kwh
                    .checked_div(self.charging_hours)
                    .unwrap_or(Decimal::MAX)
            } else {
                Decimal::ZERO
            }
        })
    }
}

/// A session to price: periods in time order within `[start, end]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub periods: Vec<Period>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session ends ({end}) before it starts ({start})")]
    EndsBeforeStart {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    #[error("charging period {0} starts outside the session or before the period before it")]
    PeriodOutOfOrder(usize),
    #[error("charging period {0} has a negative volume")]
    NegativeVolume(usize),
}

impl Session {
    pub fn validate(&self) -> Result<(), SessionError> {
        if self.end < self.start {
            return Err(SessionError::EndsBeforeStart {
                start: self.start,
                end: self.end,
            });
        }
        let mut previous = self.start;
        for (i, p) in self.periods.iter().enumerate() {
            if p.start < previous || p.start > self.end {
                return Err(SessionError::PeriodOutOfOrder(i));
            }
            previous = p.start;
            let volumes = [
                p.energy_kwh,
                p.charging_hours,
                p.parking_hours,
                p.reservation_hours,
            ];
            if volumes.iter().any(|v| v.is_sign_negative() && !v.is_zero()) {
                return Err(SessionError::NegativeVolume(i));
            }
        }
        Ok(())
    }

    /// Where period `i` ends.
    pub fn period_end(&self, i: usize) -> DateTime<Utc> {
        self.periods.get(i + 1).map_or(self.end, |next| next.start)
    }

    /// The session an OCPI CDR describes (its tariffs and totals are not read).
    pub fn from_cdr(cdr: &Cdr) -> Self {
        use CdrDimensionType as D;
        let periods = cdr
            .charging_periods
            .iter()
            .map(|p| {
                let get = |kind| p.volume(kind);
                Period {
                    start: p.start_date_time,
                    energy_kwh: get(D::Energy).unwrap_or_default(),
                    charging_hours: get(D::Time).unwrap_or_default(),
                    parking_hours: get(D::ParkingTime).unwrap_or_default(),
                    reservation_hours: get(D::ReservationTime).unwrap_or_default(),
                    current_a: get(D::Current)
                        .or(get(D::MaxCurrent))
                        .or(get(D::MinCurrent)),
                    power_kw: get(D::Power).or(get(D::MaxPower)).or(get(D::MinPower)),
                }
            })
            .collect();
        Self {
            start: cdr.start_date_time,
            end: cdr.end_date_time,
            periods,
        }
    }

    /// A session from cumulative energy register readings (kWh, in time order) and the
    /// moment the session ended: each interval between readings is one period, charging when
    /// the register moved and parking (connected, not charging) when it did not. The time
    /// from the last reading to `end` is parking. Meter resets and reordering are the
    /// caller's to fix before; a register that goes back counts as no energy.
    pub fn from_meter_readings(readings: &[(DateTime<Utc>, Decimal)], end: DateTime<Utc>) -> Self {
        let start = readings.first().map_or(end, |r| r.0);
        let mut periods = Vec::new();
        for (i, &(at, register)) in readings.iter().enumerate() {
            let (next_at, next_register) = readings.get(i + 1).copied().unwrap_or((end, register));
            let energy = (next_register - register).max(Decimal::ZERO);
            let hours = hours_between(at, next_at.max(at));
            let mut period = Period {
                start: at,
                energy_kwh: energy,
                ..Period::default()
            };
            if energy > Decimal::ZERO {
                period.charging_hours = hours;
            } else {
                period.parking_hours = hours;
            }
            periods.push(period);
        }
        Self {
            start,
            end,
            periods,
        }
    }
}

/// Exact hours between two instants (millisecond precision).
pub fn hours_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Decimal {
    Decimal::from((to - from).num_milliseconds()) / Decimal::from(3_600_000)
}

/// `from + hours` to the millisecond, `None` beyond what chrono can hold.
pub fn plus_hours(from: DateTime<Utc>, hours: Decimal) -> Option<DateTime<Utc>> {
    let ms = hours.checked_mul(Decimal::from(3_600_000))?.round();
    from.checked_add_signed(Duration::try_milliseconds(i64::try_from(ms).ok()?)?)
}

/// Rounds a money amount once, half away from zero ("half-up"), to the currency's minor unit.
pub fn round_money(amount: Decimal, currency: &str) -> Decimal {
    amount.round_dp_with_strategy(
        minor_unit_digits(currency),
        RoundingStrategy::MidpointAwayFromZero,
    )
}

/// An amount already rounded to the minor unit, in minor units (cents) for the ledger.
pub fn to_minor_units(amount: Decimal, currency: &str) -> i64 {
    let saturated = if amount.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    };
    round_money(amount, currency)
        .checked_mul(Decimal::from(10_i64.pow(minor_unit_digits(currency))))
        .and_then(|scaled| i64::try_from(scaled.trunc()).ok())
        .unwrap_or(saturated)
}

/// `amount × percent / 100`, exact.
pub fn percent_of(amount: Decimal, percent: Decimal) -> Decimal {
    amount * percent / Decimal::ONE_HUNDRED
}

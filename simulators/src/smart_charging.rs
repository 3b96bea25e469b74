//! Charging profiles (OCPP 2.0.1 functional block K, smart charging) as the station keeps
//! them: parsing a SetChargingProfile's profile with the checks of K01, and working out the
//! limit in force on an EVSE at a given time from the stack of profiles (K08: a TxProfile
//! overrides the TxDefaultProfiles, the highest stackLevel wins, and a
//! ChargingStationMaxProfile caps the result). Pure: no state, no I/O; times are wall-clock
//! UTC so `startSchedule`, `validFrom` and `validTo` compare directly.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

/// Line voltage used to turn a limit in amperes into watts.
pub const VOLTS: f64 = 230.0;
/// Phases assumed when a period does not say (OCPP's default for AC).
const DEFAULT_PHASES: u32 = 3;

/// `ChargingProfilePurposeEnumType`, without ChargingStationExternalConstraints (which only the
/// station itself sets, from an external limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    ChargingStationMax,
    TxDefault,
    Tx,
}

impl Purpose {
    /// `None` for ChargingStationExternalConstraints and anything unknown.
    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "ChargingStationMaxProfile" => Some(Purpose::ChargingStationMax),
            "TxDefaultProfile" => Some(Purpose::TxDefault),
            "TxProfile" => Some(Purpose::Tx),
            _ => None,
        }
    }
}

// ---- The request, as received ----

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingProfileIn {
    id: i64,
    stack_level: i64,
    charging_profile_purpose: String,
    charging_profile_kind: String,
    recurrency_kind: Option<String>,
    valid_from: Option<String>,
    valid_to: Option<String>,
    transaction_id: Option<String>,
    charging_schedule: Vec<ScheduleIn>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleIn {
    start_schedule: Option<String>,
    duration: Option<i64>,
    charging_rate_unit: String,
    charging_schedule_period: Vec<PeriodIn>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PeriodIn {
    start_period: i64,
    limit: f64,
    number_phases: Option<u32>,
}

// ---- The profile, as stored ----

/// Where a schedule's `startPeriod`s count from.
#[derive(Debug, Clone, PartialEq)]
enum Anchor {
    Absolute(DateTime<Utc>),
    /// From the start of the transaction (or, outside one, from when the profile arrived).
    Relative,
    /// From `start`, again every `cycle` (a day or a week).
    Recurring {
        start: DateTime<Utc>,
        cycle: TimeDelta,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Period {
    start: TimeDelta,
    /// Watts.
    limit_w: f64,
}

/// One installed charging profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: i64,
    pub stack_level: i64,
    pub purpose: Purpose,
    /// 0: the whole station.
    pub evse: u32,
    pub transaction_id: Option<String>,
    valid_from: Option<DateTime<Utc>>,
    valid_to: Option<DateTime<Utc>>,
    anchor: Anchor,
    received: DateTime<Utc>,
    duration: Option<TimeDelta>,
    periods: Vec<Period>,
}

/// A `reasonCode` for a Rejected SetChargingProfileResponse (at most 20 characters).
pub type Reason = &'static str;

fn time(s: &Option<String>) -> Result<Option<DateTime<Utc>>, Reason> {
    s.as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| "InvalidValue")
        })
        .transpose()
}

impl Profile {
    /// Checks a profile as K01 asks (what the schema cannot say) and converts its limits to
    /// watts. Only the first schedule is used: more than one is for ISO 15118 EVs to choose.
    pub fn from_request(
        evse: u32,
        p: ChargingProfileIn,
        received: DateTime<Utc>,
    ) -> Result<Profile, Reason> {
        let purpose = Purpose::parse(&p.charging_profile_purpose).ok_or("UnsupportedPurpose")?;
        match purpose {
            // A TxProfile is for one EVSE's transaction (K01).
            Purpose::Tx if evse == 0 => return Err("InvalidEvse"),
            // A station maximum is for the whole station: EVSE 0 (K01).
            Purpose::ChargingStationMax if evse != 0 => return Err("InvalidEvse"),
            _ => {}
        }
        if p.stack_level < 0 {
            return Err("InvalidStackLevel");
        }
        let schedule = p.charging_schedule.into_iter().next().ok_or("NoSchedule")?;
        let watts_per_unit = match schedule.charging_rate_unit.as_str() {
            "W" => None,
            "A" => Some(VOLTS),
            _ => return Err("UnsupportedRateUnit"),
        };
        let start_schedule = time(&schedule.start_schedule)?;
        // Absolute and Recurring need a startSchedule; Relative must not have one (K01).
        let anchor = match (p.charging_profile_kind.as_str(), start_schedule) {
            ("Absolute", Some(start)) => Anchor::Absolute(start),
            ("Relative", None) => Anchor::Relative,
            ("Recurring", Some(start)) => Anchor::Recurring {
                start,
                cycle: match p.recurrency_kind.as_deref() {
                    Some("Daily") => TimeDelta::days(1),
                    Some("Weekly") => TimeDelta::weeks(1),
                    _ => return Err("InvalidSchedule"),
                },
            },
            _ => return Err("InvalidSchedule"),
        };
        let mut periods = Vec::with_capacity(schedule.charging_schedule_period.len());
        for period in &schedule.charging_schedule_period {
            let start = TimeDelta::seconds(period.start_period);
            // The first period starts the schedule; the others follow in order.
            let in_order = match periods.last() {
                None => period.start_period == 0,
                Some(Period { start: prev, .. }) => start > *prev,
            };
            if !in_order || !period.limit.is_finite() || period.limit < 0.0 {
                return Err("InvalidSchedule");
            }
            let phases = period.number_phases.unwrap_or(DEFAULT_PHASES);
            if !(1..=3).contains(&phases) {
                return Err("InvalidSchedule");
            }
            let limit_w = match watts_per_unit {
                Some(volts) => period.limit * volts * f64::from(phases),
                None => period.limit,
            };
            periods.push(Period { start, limit_w });
        }
        if periods.is_empty() {
            return Err("InvalidSchedule");
        }
        let duration = match schedule.duration {
            Some(d) if d <= 0 => return Err("InvalidSchedule"),
            d => d.map(TimeDelta::seconds),
        };
        let (valid_from, valid_to) = (time(&p.valid_from)?, time(&p.valid_to)?);
        if let (Some(from), Some(to)) = (valid_from, valid_to) {
            if to <= from {
                return Err("InvalidValue");
            }
        }
        Ok(Profile {
            id: p.id,
            stack_level: p.stack_level,
            purpose,
            evse,
            transaction_id: p.transaction_id,
            valid_from,
            valid_to,
            anchor,
            received,
            duration,
            periods,
        })
    }

    /// Whether the two profiles' validity periods overlap (open ends are unbounded).
    pub fn overlaps(&self, other: &Profile) -> bool {
        let starts_before_end = |a: &Profile, b: &Profile| match (a.valid_from, b.valid_to) {
            (Some(from), Some(to)) => from < to,
            _ => true,
        };
        starts_before_end(self, other) && starts_before_end(other, self)
    }

    /// Whether the profile applies to `evse` at all (a station-wide profile applies to all).
    pub fn covers(&self, evse: u32) -> bool {
        self.evse == evse || self.evse == 0
    }

    /// The limit this profile sets at `now` (None: not in force), and when that can next
    /// change. `tx_start` anchors Relative schedules.
    pub fn evaluate(&self, now: DateTime<Utc>, tx_start: Option<DateTime<Utc>>) -> Eval {
        let mut eval = Eval::default();
        if let Some(from) = self.valid_from.filter(|from| now < *from) {
            eval.next = Some(from);
            return eval;
        }
        match self.valid_to {
            Some(to) if now >= to => return eval,
            Some(to) => eval.next = Some(to),
            None => {}
        }
        let start = match &self.anchor {
            Anchor::Absolute(start) => *start,
            Anchor::Relative => tx_start.unwrap_or(self.received),
            Anchor::Recurring { start, cycle } => {
                if now < *start {
                    eval.soonest(*start);
                    return eval;
                }
                let cycles = (now - *start).num_milliseconds() / cycle.num_milliseconds();
                let this_cycle = *start + *cycle * cycles as i32;
                eval.soonest(this_cycle + *cycle);
                this_cycle
            }
        };
        if now < start {
            eval.soonest(start);
            return eval;
        }
        let elapsed = now - start;
        if let Some(duration) = self.duration {
            if elapsed >= duration {
                return eval;
            }
            eval.soonest(start + duration);
        }
        // The first period starts at 0, so one is always in force here.
        let current = self.periods.iter().rev().find(|p| p.start <= elapsed);
        eval.limit_w = current.map(|p| p.limit_w);
        if let Some(next) = self.periods.iter().find(|p| p.start > elapsed) {
            eval.soonest(start + next.start);
        }
        eval
    }
}

/// A limit (W) in force, if any, and the next time it may change.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Eval {
    pub limit_w: Option<f64>,
    pub next: Option<DateTime<Utc>>,
}

impl Eval {
    fn soonest(&mut self, t: DateTime<Utc>) {
        self.next = Some(self.next.map_or(t, |n| n.min(t)));
    }
}

/// The transaction a limit is worked out for.
#[derive(Debug, Clone, Copy)]
pub struct TxRef<'a> {
    pub id: &'a str,
    pub started: DateTime<Utc>,
}

/// The composite limit on `evse` at `now` (K08): the TxProfile in force with the highest
/// stackLevel, else the TxDefaultProfile in force with the highest stackLevel (one for this
/// EVSE before one for the whole station), each capped by the ChargingStationMaxProfile in
/// force. `tx` is the transaction running there (or about to start, with its start time).
pub fn composite(
    profiles: &[Profile],
    evse: u32,
    tx: Option<TxRef<'_>>,
    now: DateTime<Utc>,
) -> Eval {
    let mut result = Eval::default();
    // (stack level, EVSE-specific, limit) of the best profile of each purpose so far.
    let mut best: [Option<(i64, bool, f64)>; 3] = [None; 3];
    for p in profiles.iter().filter(|p| p.covers(evse)) {
        let slot = match p.purpose {
            Purpose::Tx => {
                let Some(tx) = tx else { continue };
                if p.transaction_id.as_deref().is_some_and(|id| id != tx.id) {
                    continue;
                }
                0
            }
            Purpose::TxDefault => 1,
            Purpose::ChargingStationMax => 2,
        };
        let eval = p.evaluate(now, tx.map(|t| t.started));
        if let Some(next) = eval.next {
            result.soonest(next);
        }
        let Some(limit) = eval.limit_w else { continue };
        let rank = (p.stack_level, p.evse != 0);
        if best[slot].is_none_or(|(level, specific, _)| rank > (level, specific)) {
            best[slot] = Some((rank.0, rank.1, limit));
        }
    }
    let limit = |slot: usize| best[slot].map(|(_, _, l)| l);
    result.limit_w = match (limit(0).or(limit(1)), limit(2)) {
        (Some(l), Some(max)) => Some(l.min(max)),
        (l, max) => l.or(max),
    };
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-03-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn profile(evse: u32, v: Value) -> Result<Profile, Reason> {
        Profile::from_request(evse, serde_json::from_value(v).unwrap(), t0())
    }

    fn tx_profile(id: i64, level: i64, periods: Value) -> Value {
        json!({"id": id, "stackLevel": level, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Relative",
               "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                                     "chargingSchedulePeriod": periods}]})
    }

    fn secs(s: i64) -> TimeDelta {
        TimeDelta::seconds(s)
    }

    #[test]
    fn amperes_become_watts_per_phase() {
        let p = profile(
            1,
            tx_profile(1, 0, json!([{"startPeriod": 0, "limit": 16}])),
        )
        .unwrap();
        assert_eq!(p.evaluate(t0(), None).limit_w, Some(16.0 * 230.0 * 3.0));
        let p = profile(
            1,
            tx_profile(
                1,
                0,
                json!([{"startPeriod": 0, "limit": 10, "numberPhases": 1}]),
            ),
        )
        .unwrap();
        assert_eq!(p.evaluate(t0(), None).limit_w, Some(2300.0));
    }

    #[test]
    fn relative_periods_count_from_the_transaction_start() {
        let p = profile(
            1,
            tx_profile(
                1,
                0,
                json!([{"startPeriod": 0, "limit": 0}, {"startPeriod": 60, "limit": 10}]),
            ),
        )
        .unwrap();
        let started = t0() - secs(30);
        let e = p.evaluate(t0(), Some(started));
        assert_eq!(e.limit_w, Some(0.0));
        assert_eq!(e.next, Some(started + secs(60)));
        let e = p.evaluate(t0() + secs(31), Some(started));
        assert_eq!(e.limit_w, Some(6900.0));
        assert_eq!(e.next, None);
    }

    #[test]
    fn absolute_schedules_end_after_their_duration_and_validity() {
        let start = t0().to_rfc3339();
        let p = profile(
            0,
            json!({"id": 2, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
                   "chargingProfileKind": "Absolute", "validTo": (t0() + secs(600)).to_rfc3339(),
                   "chargingSchedule": [{"id": 1, "chargingRateUnit": "W", "startSchedule": start,
                                         "duration": 300,
                                         "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000}]}]}),
        )
        .unwrap();
        assert_eq!(p.evaluate(t0() - secs(1), None).limit_w, None);
        assert_eq!(p.evaluate(t0() - secs(1), None).next, Some(t0()));
        let e = p.evaluate(t0() + secs(10), None);
        assert_eq!((e.limit_w, e.next), (Some(7000.0), Some(t0() + secs(300))));
        assert_eq!(p.evaluate(t0() + secs(300), None).limit_w, None);
    }

    #[test]
    fn recurring_schedules_repeat_daily() {
        let p = profile(
            0,
            json!({"id": 3, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                   "chargingProfileKind": "Recurring", "recurrencyKind": "Daily",
                   "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                                         "startSchedule": t0().to_rfc3339(),
                                         "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1000},
                                                                    {"startPeriod": 3600, "limit": 2000}]}]}),
        )
        .unwrap();
        let day = TimeDelta::days(1);
        assert_eq!(
            p.evaluate(t0() + day * 3 + secs(5), None).limit_w,
            Some(1000.0)
        );
        let e = p.evaluate(t0() + day * 3 + secs(4000), None);
        assert_eq!((e.limit_w, e.next), (Some(2000.0), Some(t0() + day * 4)));
    }

    #[test]
    fn invalid_profiles_are_rejected_with_a_reason() {
        let tx = tx_profile(1, 0, json!([{"startPeriod": 0, "limit": 0}]));
        assert_eq!(profile(0, tx).unwrap_err(), "InvalidEvse");
        let later_start = tx_profile(1, 0, json!([{"startPeriod": 5, "limit": 0}]));
        assert_eq!(profile(1, later_start).unwrap_err(), "InvalidSchedule");
        let unordered = tx_profile(
            1,
            0,
            json!([{"startPeriod": 0, "limit": 1}, {"startPeriod": 0, "limit": 2}]),
        );
        assert_eq!(profile(1, unordered).unwrap_err(), "InvalidSchedule");
        let mut absolute_without_start = tx_profile(1, 0, json!([{"startPeriod": 0, "limit": 1}]));
        absolute_without_start["chargingProfileKind"] = json!("Absolute");
        assert_eq!(
            profile(1, absolute_without_start).unwrap_err(),
            "InvalidSchedule"
        );
        let mut external = tx_profile(1, 0, json!([{"startPeriod": 0, "limit": 1}]));
        external["chargingProfilePurpose"] = json!("ChargingStationExternalConstraints");
        assert_eq!(profile(1, external).unwrap_err(), "UnsupportedPurpose");
        let mut max_on_evse = tx_profile(1, 0, json!([{"startPeriod": 0, "limit": 1}]));
        max_on_evse["chargingProfilePurpose"] = json!("ChargingStationMaxProfile");
        assert_eq!(profile(1, max_on_evse).unwrap_err(), "InvalidEvse");
    }

    #[test]
    fn the_composite_prefers_tx_profiles_and_caps_by_the_station_maximum() {
        let tx = TxRef {
            id: "TX-1",
            started: t0(),
        };
        let watts = |id, purpose: &str, evse, level, w: f64| {
            profile(
                evse,
                json!({"id": id, "stackLevel": level, "chargingProfilePurpose": purpose,
                       "chargingProfileKind": "Relative",
                       "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": w}]}]}),
            )
            .unwrap()
        };
        let mut profiles = vec![
            watts(1, "TxDefaultProfile", 0, 5, 9000.0),
            watts(2, "TxDefaultProfile", 1, 5, 8000.0),
            watts(3, "TxDefaultProfile", 1, 1, 1000.0),
        ];
        // The EVSE's own default beats the station-wide one at the same level.
        assert_eq!(
            composite(&profiles, 1, Some(tx), t0()).limit_w,
            Some(8000.0)
        );
        assert_eq!(
            composite(&profiles, 2, Some(tx), t0()).limit_w,
            Some(9000.0)
        );
        profiles.push(watts(4, "TxProfile", 1, 0, 0.0));
        assert_eq!(composite(&profiles, 1, Some(tx), t0()).limit_w, Some(0.0));
        // Not without a transaction, nor for another one.
        assert_eq!(composite(&profiles, 1, None, t0()).limit_w, Some(8000.0));
        profiles[3].transaction_id = Some("TX-2".into());
        assert_eq!(
            composite(&profiles, 1, Some(tx), t0()).limit_w,
            Some(8000.0)
        );
        profiles.push(watts(5, "ChargingStationMaxProfile", 0, 0, 4000.0));
        assert_eq!(
            composite(&profiles, 1, Some(tx), t0()).limit_w,
            Some(4000.0)
        );
        assert_eq!(composite(&[], 1, Some(tx), t0()), Eval::default());
    }
}

//! Session types and the lifecycle state machine. Pure.
//!
//! ```text
//! start ──station reports the transaction──▶ active ──pause──▶ paused
//!   │  ▲                                     │  ▲ ◀──resume──────┘ │
//!   │  └──(late report after a cancel)──┐    │  └────────────────────┤
//!   ▼                                   │    ▼ transaction ended     ▼
//! cancelled ────────────────────────────┘  completed ◀──────────────┘
//! ```
//!
//! `start` waits for the station's first TransactionEvent; `cancelled` means no transaction
//! was ever reported (the station refused, the driver stopped first, or it timed out). The
//! station is the authority on energy: a transaction reported after a cancel revives the
//! session (and the CSMS asks the station to stop it when the driver had stopped).

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A `start` session whose transaction has not been reported after this long is cancelled.
pub const START_TIMEOUT: Duration = Duration::minutes(10);

/// An ended transaction whose events have not all arrived (offline stations replay them in
/// any order) is billed with what is known after this long; later data is a correction.
pub const BILL_GRACE: Duration = Duration::minutes(5);

/// start → active ↔ paused → completed; cancelled: the station never reported a transaction
/// (it refused, the driver stopped first, or 10 minutes passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Start,
    Active,
    Paused,
    Completed,
    Cancelled,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 5] = [
        Self::Start,
        Self::Active,
        Self::Paused,
        Self::Completed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Holds its port: exactly the `WHERE` of `charging_sessions_port_live_key`.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Start | Self::Active | Self::Paused)
    }

    pub fn is_final(self) -> bool {
        !self.is_live()
    }
}

impl FromStr for SessionStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown session status `{s}`"))
    }
}

impl std::fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A charging session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargingSession {
    pub id: Uuid,
    /// remoteStartId, `SESSION-<number>`, and the pause profile's id.
    pub number: i32,
    pub driver_id: Uuid,
    pub listing_id: Uuid,
    pub port_id: Uuid,
    pub booking_id: Option<Uuid>,
    pub station_id: String,
    pub evse_id: i32,
    pub connector_id: Option<i32>,
    pub id_token: String,
    pub id_token_type: String,
    pub transaction_id: Option<String>,
    pub status: SessionStatus,
    /// `app` or `station`.
    pub origin: String,
    pub emergency: bool,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub stop_requested_at: Option<DateTime<Utc>>,
    /// Why the platform stopped it itself (`funds_exhausted`); the station's reason is in
    /// `end_reason`.
    pub stop_reason: Option<String>,
    pub seq_nos: Vec<i32>,
    pub started_seq: Option<i32>,
    pub ended_seq: Option<i32>,
    pub energy_wh: Decimal,
    pub power_w: Option<Decimal>,
    pub soc_percent: Option<Decimal>,
    pub last_reading_at: Option<DateTime<Utc>>,
    pub charging_state: Option<String>,
    pub cost_sent: Option<Decimal>,
}

impl ChargingSession {
    /// Where billing starts: the station's start, else (not reported yet) the request.
    pub fn start(&self) -> DateTime<Utc> {
        self.started_at.unwrap_or(self.requested_at)
    }

    /// Whether every event of its transaction has arrived (see [`events_complete`]).
    pub fn events_complete(&self) -> bool {
        events_complete(self.started_seq, self.ended_seq, &self.seq_nos)
    }
}

/// What can happen to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAction {
    /// The station reported the transaction (any event that names it).
    TransactionReported,
    /// The station accepted a 0 A charging profile.
    Pause,
    /// The station cleared it.
    Resume,
    /// The station reported the transaction's end.
    TransactionEnded,
    /// Before any transaction: the station refused, the driver stopped, or it timed out.
    Cancel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition {
    pub from: SessionStatus,
    pub action: SessionAction,
}

impl std::fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.action {
            SessionAction::TransactionReported => "start",
            SessionAction::Pause => "be paused",
            SessionAction::Resume => "be resumed",
            SessionAction::TransactionEnded => "end",
            SessionAction::Cancel => "be cancelled",
        };
        write!(f, "a {} session cannot {what}", self.from)
    }
}

/// The state machine. Repeated station news is not an error: it leaves the state as it is.
pub fn transition(
    from: SessionStatus,
    action: SessionAction,
) -> Result<SessionStatus, InvalidTransition> {
    use SessionAction as A;
    use SessionStatus as S;
    let to = match (from, action) {
        (S::Start | S::Cancelled, A::TransactionReported) => S::Active,
        (S::Active | S::Paused, A::TransactionReported) => from,
        (S::Active, A::Pause) => S::Paused,
        (S::Paused, A::Resume) => S::Active,
        (S::Start | S::Active | S::Paused | S::Cancelled, A::TransactionEnded) => S::Completed,
        (S::Completed, A::TransactionEnded | A::TransactionReported) => S::Completed,
        (S::Start, A::Cancel) => S::Cancelled,
        _ => return Err(InvalidTransition { from, action }),
    };
    Ok(to)
}

/// Whether every TransactionEvent from the transaction's start to its end has arrived:
/// OCPP numbers them with an incremental `seqNo`, so the set must have no gap between the
/// Started event's number and the Ended event's.
pub fn events_complete(started: Option<i32>, ended: Option<i32>, seen: &[i32]) -> bool {
    let (Some(first), Some(last)) = (started, ended) else {
        return false;
    };
    if last < first {
        return false;
    }
    (first..=last).all(|n| seen.contains(&n))
}

/// Adds `seq` to a sorted set of sequence numbers.
pub fn with_seq(mut seen: Vec<i32>, seq: i32) -> Vec<i32> {
    if let Err(at) = seen.binary_search(&seq) {
        seen.insert(at, seq);
    }
    seen
}

/// The kinds of TransactionEvent (OCPP 2.0.1 `TransactionEventEnumType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Started,
    Updated,
    Ended,
}

impl FromStr for EventType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "Started" => Ok(Self::Started),
            "Updated" => Ok(Self::Updated),
            "Ended" => Ok(Self::Ended),
            other => Err(format!("unknown TransactionEvent type `{other}`")),
        }
    }
}

/// The central token an app-started session uses when the driver has no card.
pub fn central_token(number: i32) -> String {
    format!("SESSION-{number}")
}

/// The central token the booking dispatcher reserved an EVSE with (see
/// `bookings::reservations`): a start on that booking must present the same one.
pub fn booking_token(reservation_id: i32) -> String {
    format!("BOOKING-{reservation_id}")
}

/// Whether a `start` session has waited too long for its transaction.
pub fn start_timed_out(requested_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - requested_at >= START_TIMEOUT
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionAction as A;
    use SessionStatus as S;

    #[test]
    fn the_lifecycle_of_the_guide() {
        let mut s = S::Start;
        for (action, want) in [
            (A::TransactionReported, S::Active),
            (A::Pause, S::Paused),
            (A::Resume, S::Active),
            (A::Pause, S::Paused),
            (A::TransactionEnded, S::Completed),
        ] {
            s = transition(s, action).unwrap();
            assert_eq!(s, want);
        }
    }

    #[test]
    fn what_is_refused() {
        assert!(transition(S::Start, A::Pause).is_err());
        assert!(transition(S::Paused, A::Pause).is_err());
        assert!(transition(S::Active, A::Resume).is_err());
        assert!(transition(S::Active, A::Cancel).is_err());
        assert!(transition(S::Completed, A::Pause).is_err());
        assert!(transition(S::Completed, A::Cancel).is_err());
        let e = transition(S::Completed, A::Resume).unwrap_err();
        assert_eq!(e.to_string(), "a completed session cannot be resumed");
    }

    #[test]
    fn station_news_is_idempotent_and_wins_over_a_cancel() {
        assert_eq!(
            transition(S::Paused, A::TransactionReported).unwrap(),
            S::Paused
        );
        assert_eq!(
            transition(S::Cancelled, A::TransactionReported).unwrap(),
            S::Active
        );
        assert_eq!(
            transition(S::Completed, A::TransactionEnded).unwrap(),
            S::Completed
        );
        // an offline station's Ended may be the first event to arrive
        assert_eq!(
            transition(S::Start, A::TransactionEnded).unwrap(),
            S::Completed
        );
    }

    #[test]
    fn statuses_round_trip_and_live_ones_hold_the_port() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<S>().unwrap(), s);
            assert_eq!(s.is_live(), !s.is_final());
        }
        assert!(S::Paused.is_live() && !S::Cancelled.is_live());
        // the partial unique index of the migration names exactly the live statuses
        let sql = include_str!("../../../migrations/0008_sessions.sql");
        let live: Vec<&str> = S::ALL
            .iter()
            .filter(|s| s.is_live())
            .map(|s| s.as_str())
            .collect();
        let clause = format!("WHERE status IN ('{}')", live.join("', '"));
        assert!(sql.contains(&clause), "{clause}");
    }

    #[test]
    fn events_are_complete_without_gaps() {
        assert!(events_complete(Some(0), Some(3), &[0, 1, 2, 3]));
        assert!(!events_complete(Some(0), Some(3), &[0, 1, 3]));
        assert!(!events_complete(None, Some(3), &[0, 1, 2, 3]));
        assert!(!events_complete(Some(0), None, &[0]));
        // stations that number across transactions
        assert!(events_complete(Some(41), Some(43), &[41, 42, 43]));
        let seen = [5, 1, 3, 1].into_iter().fold(Vec::new(), with_seq);
        assert_eq!(seen, vec![1, 3, 5]);
    }

    #[test]
    fn tokens_and_timeouts() {
        assert_eq!(central_token(7), "SESSION-7");
        assert_eq!(booking_token(12), "BOOKING-12");
        let t: DateTime<Utc> = "2027-01-04T08:00:00Z".parse().unwrap();
        assert!(!start_timed_out(t, t + Duration::minutes(9)));
        assert!(start_timed_out(t, t + START_TIMEOUT));
    }
}

use super::*;
use proptest::prelude::*;

use BookingAction as A;
use BookingStatus as S;

#[test]
fn the_happy_path() {
    let mut s = S::Pending;
    for (action, expected) in [
        (A::Confirm, S::Confirmed),
        (A::CheckIn, S::CheckedIn),
        (A::StartCharging, S::Charging),
        (A::Complete, S::Completed),
    ] {
        s = transition(s, action).unwrap();
        assert_eq!(s, expected);
    }
}

#[test]
fn a_station_start_skips_check_in() {
    assert_eq!(transition(S::Confirmed, A::StartCharging), Ok(S::Charging));
    assert!(transition(S::Pending, A::StartCharging).is_err());
}

#[test]
fn only_pending_and_confirmed_can_be_cancelled_or_preempted() {
    for s in S::ALL.iter().copied() {
        let expected = matches!(s, S::Pending | S::Confirmed);
        assert_eq!(transition(s, A::Cancel).is_ok(), expected, "{s}");
        assert_eq!(transition(s, A::Preempt).is_ok(), expected, "{s}");
        assert_eq!(transition(s, A::Reschedule).is_ok(), expected, "{s}");
    }
    assert_eq!(transition(S::Confirmed, A::Cancel), Ok(S::Cancelled));
    assert_eq!(transition(S::Pending, A::Preempt), Ok(S::Preempted));
}

#[test]
fn sweeps_only_touch_their_status() {
    assert_eq!(transition(S::Pending, A::Expire), Ok(S::Expired));
    assert!(transition(S::Confirmed, A::Expire).is_err());
    assert_eq!(transition(S::Confirmed, A::NoShow), Ok(S::NoShow));
    assert!(transition(S::CheckedIn, A::NoShow).is_err());
    assert!(transition(S::Pending, A::NoShow).is_err());
}

#[test]
fn errors_read_well() {
    let err = transition(S::Cancelled, A::Confirm).unwrap_err();
    assert_eq!(err.to_string(), "a cancelled booking cannot be confirmed");
}

#[test]
fn text_round_trips() {
    for s in S::ALL {
        assert_eq!(s.as_str().parse::<S>(), Ok(*s));
    }
    for r in ReservationState::ALL {
        assert_eq!(r.as_str().parse::<ReservationState>(), Ok(*r));
    }
    assert!("gone".parse::<S>().is_err());
}

/// The migration's EXCLUDE predicate and CHECK list must name the same statuses as the
/// model, or the database would let a live booking overlap (or refuse a status).
#[test]
fn the_migration_agrees_with_the_model() {
    let sql = include_str!("../../../migrations/0006_bookings.sql");
    let exclude = sql
        .split("EXCLUDE USING gist")
        .nth(1)
        .and_then(|rest| rest.split("WHERE").nth(1))
        .and_then(|rest| rest.split(')').next())
        .unwrap();
    let quoted: Vec<&str> = exclude.split('\'').skip(1).step_by(2).collect();
    let active: Vec<&str> = S::ACTIVE.iter().map(|s| s.as_str()).collect();
    assert_eq!(quoted, active);
    // the per-port lock trigger guards exactly the rows the constraint checks
    let when = sql
        .split("CREATE TRIGGER bookings_port_lock")
        .nth(1)
        .and_then(|rest| rest.split("WHEN").nth(1))
        .and_then(|rest| rest.split(')').next())
        .unwrap();
    let quoted: Vec<&str> = when.split('\'').skip(1).step_by(2).collect();
    assert_eq!(quoted, active);
    for s in S::ALL {
        assert!(sql.contains(&format!("'{}'", s.as_str())), "{s}");
    }
    for r in ReservationState::ALL {
        assert!(sql.contains(&format!("'{}'", r.as_str())), "{r}");
    }
}

#[test]
fn reservations_follow_the_booking() {
    use ReservationState as R;
    // confirming an OCPP-bound booking makes a reservation due; a plain port never has one
    assert_eq!(reservation_after_change(R::None, true, true), R::Due);
    assert_eq!(reservation_after_change(R::None, true, false), R::None);
    // what is on the station is cancelled first, whether the booking ended or moved
    assert_eq!(
        reservation_after_change(R::Accepted, false, true),
        R::CancelDue
    );
    assert_eq!(reservation_after_change(R::Sent, true, true), R::CancelDue);
    // never sent: nothing to cancel
    assert_eq!(reservation_after_change(R::Due, false, true), R::None);
    // a started session keeps its reservation consumed
    assert_eq!(reservation_after_change(R::Used, false, true), R::Used);
    // a rejected one is tried again after a move
    assert_eq!(reservation_after_change(R::Rejected, true, true), R::Due);
}

fn statuses() -> impl Strategy<Value = S> {
    prop::sample::select(S::ALL.to_vec())
}

fn actions() -> impl Strategy<Value = A> {
    prop::sample::select(A::ALL.to_vec())
}

proptest! {
    /// Final statuses are final, and every sequence of actions from pending ends in at most
    /// four status changes (pending → confirmed → checked_in → charging → completed).
    #[test]
    fn final_is_final_and_every_path_is_short(
        from in statuses(),
        action in actions(),
        path in prop::collection::vec(actions(), 0..40),
    ) {
        if from.is_final() {
            prop_assert!(transition(from, action).is_err());
        }
        let mut s = S::Pending;
        let mut changes = 0;
        for a in path {
            if let Ok(next) = transition(s, a) {
                if next != s {
                    changes += 1;
                }
                s = next;
            }
        }
        prop_assert!(changes <= 4);
    }

    /// Only the slot-keeping actions keep the status; every other allowed move changes it,
    /// and nothing leads back to pending.
    #[test]
    fn slot_changes_keep_the_status(from in statuses(), action in actions()) {
        if let Ok(to) = transition(from, action) {
            let keeps = matches!(action, A::Reschedule | A::Extend | A::Move);
            prop_assert_eq!(to == from, keeps);
            if from != S::Pending {
                prop_assert_ne!(to, S::Pending);
            }
        }
    }

    /// Whatever the current reservation state, once a booking ends nothing stays due to be
    /// reserved, and a reservation the station may hold is always cancelled.
    #[test]
    fn ended_bookings_leave_no_reservation_due(
        current in prop::sample::select(ReservationState::ALL.to_vec()),
        ocpp in any::<bool>(),
    ) {
        let next = reservation_after_change(current, false, ocpp);
        prop_assert_ne!(next, ReservationState::Due);
        if current.on_station() {
            prop_assert_eq!(next, ReservationState::CancelDue);
        }
    }
}

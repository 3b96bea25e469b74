//! The OCPP seam: the dispatcher's queue in the bookings table, station answers, and a
//! station's session matched to its booking.

use chrono::Duration;
use marketplace::bookings::reservations::{self, StationWork, RETRY_AFTER};
use marketplace::bookings::service;
use marketplace::bookings::{BookingStatus, ReservationState};
use marketplace::listings::model::ConnectorType;
use sqlx::PgPool;

use super::support::*;

fn station() -> Spec {
    Spec {
        ports: vec![ConnectorType::Ccs2, ConnectorType::Ccs2],
        station: Some("CS-1"),
        ..Spec::default()
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn reserve_move_and_cancel_through_the_queue(pool: PgPool) {
    let c = charger(&pool, station()).await;
    let driver = funded_driver(&pool).await;
    let (s, e) = (utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    let pending = book(&pool, &driver, request(&c, 0, s, e), now()).await;
    assert!(pending.station_bound);
    assert_eq!(
        pending.reservation_state,
        ReservationState::None,
        "not before confirming"
    );
    let b = service::confirm(&pool, &driver, pending.id, now())
        .await
        .unwrap();
    assert_eq!(b.reservation_state, ReservationState::Due);

    let lead = Duration::minutes(15);
    assert!(reservations::claim_due(&pool, now(), lead, 10)
        .await
        .unwrap()
        .is_empty());
    let t = s - lead;
    let work = reservations::claim_due(&pool, t, lead, 10).await.unwrap();
    let [StationWork::Reserve(r)] = work.as_slice() else {
        panic!("expected one ReserveNow, got {work:?}")
    };
    assert_eq!((r.station_id.as_str(), r.evse_id), ("CS-1", 1));
    assert_eq!(r.reservation_id, b.reservation_id);
    assert_eq!(r.connector_type, "CCS2");
    assert_eq!(r.driver_id, driver.id);
    assert_eq!(r.expiry, s + Duration::minutes(15));
    // claimed: nobody else gets it, until it went unanswered for too long
    assert!(reservations::claim_due(&pool, t, lead, 10)
        .await
        .unwrap()
        .is_empty());
    let retry = reservations::claim_due(&pool, t + RETRY_AFTER, lead, 10)
        .await
        .unwrap();
    assert_eq!(retry.len(), 1);

    // another station cannot answer for it; this one accepts
    let other = reservations::reserve_result(&pool, "CS-2", b.reservation_id, "Accepted", t)
        .await
        .unwrap();
    assert_eq!(other, None);
    reservations::reserve_result(&pool, "CS-1", b.reservation_id, "Accepted", t)
        .await
        .unwrap()
        .unwrap();
    let b = service::get(&pool, &driver, b.id).await.unwrap();
    assert_eq!(b.reservation_state, ReservationState::Accepted);

    // moved to EVSE 2: the old reservation is cancelled first, then reserved again
    let b = service::reschedule(&pool, &driver, b.id, s, e, Some(c.ports[1]), t)
        .await
        .unwrap();
    assert_eq!(b.reservation_state, ReservationState::CancelDue);
    let work = reservations::claim_due(&pool, t, lead, 10).await.unwrap();
    assert!(
        matches!(work.as_slice(), [StationWork::Cancel(c)] if c.reservation_id == b.reservation_id)
    );
    reservations::cancel_result(&pool, "CS-1", b.reservation_id, "Accepted", t)
        .await
        .unwrap();
    let work = reservations::claim_due(&pool, t, lead, 10).await.unwrap();
    assert!(matches!(work.as_slice(), [StationWork::Reserve(r)] if r.evse_id == 2));
    reservations::reserve_result(&pool, "CS-1", b.reservation_id, "Accepted", t)
        .await
        .unwrap();

    // cancelled: CancelReservation, then gone
    let b = service::cancel(&pool, &driver, b.id, None, t)
        .await
        .unwrap();
    assert_eq!(b.reservation_state, ReservationState::CancelDue);
    let work = reservations::claim_due(&pool, t, lead, 10).await.unwrap();
    assert!(matches!(work.as_slice(), [StationWork::Cancel(_)]));
    reservations::cancel_result(&pool, "CS-1", b.reservation_id, "Rejected", t)
        .await
        .unwrap();
    let b = service::get(&pool, &driver, b.id).await.unwrap();
    assert_eq!(b.reservation_state, ReservationState::Cancelled);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stations_session_is_matched_to_the_booking(pool: PgPool) {
    let c = charger(&pool, station()).await;
    let (a, b) = (funded_driver(&pool).await, funded_driver(&pool).await);
    let (s, e) = (utc(2027, 1, 5, 10, 0), utc(2027, 1, 5, 11, 0));
    let by_id = confirmed(&pool, &a, request(&c, 0, s, e), now()).await;
    let by_evse = confirmed(&pool, &b, request(&c, 1, s, e), now()).await;

    // with the reservation id from the TransactionEvent
    let at = s + Duration::minutes(2);
    let found =
        reservations::session_started(&pool, "CS-1", 1, Some(by_id.reservation_id), "TX-1", at)
            .await
            .unwrap();
    assert_eq!(found, Some(by_id.id));
    // without one: the booking of that EVSE whose arrival window is open (from 09:45)
    let early =
        reservations::session_started(&pool, "CS-1", 2, None, "TX-2", s - Duration::minutes(20))
            .await
            .unwrap();
    assert_eq!(early, None, "a walk-in before the window");
    let found =
        reservations::session_started(&pool, "CS-1", 2, None, "TX-2", s - Duration::minutes(10))
            .await
            .unwrap();
    assert_eq!(found, Some(by_evse.id));
    let charging = service::get(&pool, &b, by_evse.id).await.unwrap();
    assert_eq!(charging.status, BookingStatus::Charging);

    // the session ends: completed, and a no-show sweep leaves it alone
    let done = reservations::session_ended(&pool, "CS-1", "TX-1", e)
        .await
        .unwrap();
    assert_eq!(done, Some(by_id.id));
    let r = marketplace::bookings::run_due(&pool, e).await.unwrap();
    assert_eq!(r.no_shows, 0);
    let completed = service::get(&pool, &a, by_id.id).await.unwrap();
    assert_eq!(completed.status, BookingStatus::Completed);
    assert_eq!(
        events(&pool, by_id.id).await,
        ["created", "confirmed", "charging", "completed"]
    );
}

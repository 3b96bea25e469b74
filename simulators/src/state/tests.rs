//! The station's state machine: transactions, meter values, reservations, availability.

use super::*;

fn state(evses: u32) -> (StationState, mpsc::UnboundedReceiver<OutItem>) {
    let (out, rx) = Outbox::new();
    let (events, _) = broadcast::channel(16);
    let st = StationState::new(
        evses,
        Duration::from_secs(10),
        11_000.0,
        DeviceModel::default(),
        out,
        events,
    );
    (st, rx)
}

fn drain(rx: &mut mpsc::UnboundedReceiver<OutItem>) -> Vec<(&'static str, Value)> {
    let mut v = vec![];
    while let Ok(item) = rx.try_recv() {
        if let OutItem::Call(o) = item {
            v.push((o.action, o.payload));
        }
    }
    v
}

#[test]
fn remote_start_then_meter_then_remote_stop() {
    let (mut st, mut rx) = state(2);
    let t0 = Instant::now();
    let (evse, tx_id) = st.remote_start(None, IdToken::rfid("T1"), 77, t0).unwrap();
    assert_eq!(evse, 1);
    let msgs = drain(&mut rx);
    assert_eq!(msgs[0].0, "TransactionEvent");
    let started = &msgs[0].1;
    assert_eq!(started["eventType"], "Started");
    assert_eq!(started["triggerReason"], "RemoteStart");
    assert_eq!(started["seqNo"], 0);
    assert_eq!(started["transactionInfo"]["remoteStartId"], 77);
    assert_eq!(started["idToken"]["idToken"], "T1");
    assert_eq!(msgs[1].1["connectorStatus"], "Occupied");

    // A second remote start for the same EVSE is refused.
    assert_eq!(
        st.remote_start(Some(1), IdToken::rfid("T2"), 78, t0),
        Err("EvseBusy")
    );

    // Ten minutes at 11 kW later: one periodic update with the energy.
    let t1 = t0 + Duration::from_secs(600);
    st.tick(t1);
    let msgs = drain(&mut rx);
    assert_eq!(msgs.len(), 1);
    let upd = &msgs[0].1;
    assert_eq!(upd["seqNo"], 1);
    assert_eq!(upd["triggerReason"], "MeterValuePeriodic");
    let wh = upd["meterValue"][0]["sampledValue"][0]["value"]
        .as_f64()
        .unwrap();
    assert!((wh - (100_000.0 + 11_000.0 / 6.0)).abs() < 1.0, "{wh}");

    assert!(st.remote_stop(&tx_id, t1));
    let msgs = drain(&mut rx);
    let ended = &msgs[0].1;
    assert_eq!(ended["eventType"], "Ended");
    assert_eq!(ended["seqNo"], 2);
    assert_eq!(ended["transactionInfo"]["stoppedReason"], "Remote");
    assert_eq!(msgs[1].1["connectorStatus"], "Available");
    assert!(!st.remote_stop(&tx_id, t1));
    assert!(!st.has_transactions());
}

#[test]
fn local_session_rejected_authorization_ends_deauthorized() {
    let (mut st, mut rx) = state(1);
    let now = Instant::now();
    st.plug(1, now).unwrap();
    let msgs = drain(&mut rx);
    assert_eq!(msgs[0].1["connectorStatus"], "Occupied");
    assert_eq!(msgs[1].1["triggerReason"], "CablePluggedIn");
    assert_eq!(msgs[1].1["transactionInfo"]["chargingState"], "EVConnected");
    st.authorized(1, &IdToken::rfid("BAD"), false, now).unwrap();
    let msgs = drain(&mut rx);
    assert_eq!(
        msgs[0].1["transactionInfo"]["stoppedReason"],
        "DeAuthorized"
    );
    assert_eq!(msgs[0].1["triggerReason"], "Deauthorized");
    // Still plugged, so still Occupied until the cable is pulled.
    assert_eq!(msgs[1].1["connectorStatus"], "Occupied");
    st.unplug(1, now).unwrap();
    assert_eq!(drain(&mut rx)[0].1["connectorStatus"], "Available");
}

#[test]
fn change_availability_is_scheduled_during_a_transaction() {
    let (mut st, mut rx) = state(1);
    let now = Instant::now();
    st.remote_start(Some(1), IdToken::rfid("T"), 1, now)
        .unwrap();
    assert_eq!(st.change_availability(None, false), "Scheduled");
    drain(&mut rx);
    st.end_all("ResetCommand", "ImmediateReset", now);
    let msgs = drain(&mut rx);
    assert_eq!(msgs.last().unwrap().1["connectorStatus"], "Unavailable");
    assert_eq!(
        st.reserve(Some(1), 5, IdToken::rfid("T"), now),
        "Unavailable"
    );
    assert_eq!(st.change_availability(Some(1), true), "Accepted");
    assert_eq!(drain(&mut rx)[0].1["connectorStatus"], "Available");
}

#[test]
fn reservation_blocks_others_and_expires() {
    let (mut st, mut rx) = state(1);
    let now = Instant::now();
    let expires = now + Duration::from_secs(60);
    assert_eq!(
        st.reserve(None, 9, IdToken::rfid("MINE"), expires),
        "Accepted"
    );
    assert_eq!(drain(&mut rx)[0].1["connectorStatus"], "Reserved");
    assert_eq!(
        st.remote_start(None, IdToken::rfid("OTHER"), 1, now),
        Err("NoFreeEvse")
    );
    assert_eq!(st.next_wake(), Some(expires));
    st.tick(expires);
    let msgs = drain(&mut rx);
    assert_eq!(msgs[0].0, "ReservationStatusUpdate");
    assert_eq!(msgs[1].1["connectorStatus"], "Available");
    assert!(!st.cancel_reservation(9));
}

#[test]
fn reserved_evse_accepts_its_token() {
    let (mut st, mut rx) = state(1);
    let now = Instant::now();
    st.reserve(
        Some(1),
        3,
        IdToken::rfid("MINE"),
        now + Duration::from_secs(60),
    );
    drain(&mut rx);
    st.remote_start(None, IdToken::rfid("MINE"), 1, now)
        .unwrap();
    assert_eq!(drain(&mut rx)[0].1["reservationId"], 3);
}

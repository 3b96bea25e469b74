//! Bookings as a station sees them: a confirmed booking on a station-bound port is reserved
//! with ReserveNow (the station here is the test itself, so it sees the exact call), a
//! cancellation withdraws it with CancelReservation, a ReservationStatusUpdate is recorded,
//! and a TransactionEvent started with the reservation id puts the booking into `charging`.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use e2e_tests::{OcppClient, Server, ServerOptions};
use serde_json::{json, Value};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn server() -> Server {
    Server::start(ServerOptions {
        extra_args: vec!["--job-tick-ms".into(), "100".into()],
        ..ServerOptions::default()
    })
    .await
    .unwrap()
}

/// A listed charger bound to `station`'s EVSE 1 with one CCS2 port; answers (charger, port).
async fn station_charger(server: &Server, station: &str) -> (String, String) {
    let host = server.token_for("host").await.unwrap();
    e2e_tests::charging::provisioned_station_of(server, &host, station).await;
    let admin = server.token_for("admin").await.unwrap();
    let charger = server
        .post_json(
            &host,
            "/api/chargers",
            &json!({
                "title": "Fast charger at the depot",
                "address": "Depotweg 1, Amsterdam",
                "latitude": 52.37, "longitude": 4.89,
                "time_zone": "Europe/Amsterdam",
                "currency": "EUR", "price_per_hour": "4.00",
                "device_kind": "ocpp", "device_id": station,
            }),
        )
        .await
        .unwrap();
    let id = charger["id"].as_str().expect("charger id").to_owned();
    let port = server
        .post_json(
            &host,
            &format!("/api/chargers/{id}/ports"),
            &json!({"connector_type": "CCS2", "power_kw": 50, "current_type": "DC",
                    "evse_id": 1, "connector_id": 1}),
        )
        .await
        .unwrap();
    server
        .post_json(&host, &format!("/api/chargers/{id}/submit"), &json!({}))
        .await
        .unwrap();
    server
        .post_json(
            &admin,
            &format!("/api/admin/chargers/{id}/approve"),
            &json!({}),
        )
        .await
        .unwrap();
    (id, port["id"].as_str().expect("port id").to_owned())
}

/// Books and confirms `[start, start + 1 h)`; answers the booking.
async fn confirmed_booking(
    server: &Server,
    driver: &str,
    charger: &str,
    port: &str,
    start: DateTime<Utc>,
) -> Value {
    let booking = server
        .post_json(
            driver,
            "/api/bookings",
            &json!({"charger_id": charger, "port_id": port,
                    "start_time": rfc3339(start), "end_time": rfc3339(start + Duration::hours(1))}),
        )
        .await
        .unwrap();
    let id = booking["id"].as_str().expect("booking id");
    // confirming holds the booking's amount: the driver tops up first (development mode)
    let topup = json!({"amount_cents": 1000, "currency": "EUR", "payment_method": "local_test"});
    server
        .post_json(driver, "/api/wallet/topup", &topup)
        .await
        .unwrap();
    server
        .post_json(driver, &format!("/api/bookings/{id}/confirm"), &json!({}))
        .await
        .unwrap()
}

/// The next CALL from the CSMS that is not a status trigger, within a few seconds.
async fn next_call(station: &mut OcppClient) -> (String, String, Value) {
    tokio::time::timeout(StdDuration::from_secs(10), station.expect_call())
        .await
        .expect("a call from the CSMS in time")
        .unwrap()
}

/// Waits (up to 15 s) until the booking's `field` reads `want`; answers the booking.
async fn booking_reaches(
    server: &Server,
    driver: &str,
    booking: &str,
    field: &str,
    want: &str,
) -> Value {
    let b = server
        .eventually(driver, &format!("/api/bookings/{booking}"), |b| {
            b[field] == want
        })
        .await;
    assert_eq!(b[field], want, "{b}");
    b
}

#[tokio::test]
async fn reserve_now_then_cancel_reservation_reach_the_station() {
    let server = server().await;
    let mut station = OcppClient::connect(&server.ocpp_url("RES-1"))
        .await
        .unwrap();
    station.boot().await.unwrap();
    let (charger, port) = station_charger(&server, "RES-1").await;
    let driver = server.token_for("driver").await.unwrap();

    // starts in 10 minutes: inside the 15-minute lead, so it is reserved at once
    let start = Utc::now() + Duration::minutes(10);
    let booking = confirmed_booking(&server, &driver, &charger, &port, start).await;
    let id = booking["id"].as_str().unwrap().to_owned();
    assert_eq!(booking["status"], "confirmed", "{booking}");

    let (msg_id, action, payload) = next_call(&mut station).await;
    assert_eq!(action, "ReserveNow", "{payload}");
    assert_eq!(payload["evseId"], 1);
    assert_eq!(payload["connectorType"], "cCCS2");
    let reservation_id = payload["id"].as_i64().expect("reservation id");
    // no card on file: a central token for the app to start with
    assert_eq!(payload["idToken"]["type"], "Central");
    assert_eq!(
        payload["idToken"]["idToken"],
        format!("BOOKING-{reservation_id}")
    );
    let expiry: DateTime<Utc> = payload["expiryDateTime"].as_str().unwrap().parse().unwrap();
    assert!(
        expiry > start && expiry <= start + Duration::minutes(60),
        "{expiry}"
    );
    station
        .answer(&msg_id, json!({"status": "Accepted"}))
        .await
        .unwrap();
    booking_reaches(&server, &driver, &id, "reservation_state", "accepted").await;

    // a station that authorizes remote starts asks about the central token: accepted while
    // the booking holds; a token the CSMS never issued is not
    let central = json!({"idToken": format!("BOOKING-{reservation_id}"), "type": "Central"});
    let asked = station
        .call("Authorize", json!({"idToken": central}))
        .await
        .unwrap();
    assert_eq!(asked["idTokenInfo"]["status"], "Accepted", "{asked}");
    let forged = station
        .call(
            "Authorize",
            json!({"idToken": {"idToken": "BOOKING-999999", "type": "Central"}}),
        )
        .await
        .unwrap();
    assert_ne!(forged["idTokenInfo"]["status"], "Accepted", "{forged}");

    let cancelled = server
        .post_json(&driver, &format!("/api/bookings/{id}/cancel"), &json!({}))
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    let (msg_id, action, payload) = next_call(&mut station).await;
    assert_eq!(action, "CancelReservation");
    assert_eq!(payload, json!({"reservationId": reservation_id}));
    station
        .answer(&msg_id, json!({"status": "Accepted"}))
        .await
        .unwrap();
    booking_reaches(&server, &driver, &id, "reservation_state", "cancelled").await;
    let asked = station
        .call("Authorize", json!({"idToken": central}))
        .await
        .unwrap();
    assert_ne!(asked["idTokenInfo"]["status"], "Accepted", "{asked}");
}

#[tokio::test]
async fn the_reserved_session_and_the_station_s_status_update_reach_the_booking() {
    let server = server().await;
    let mut station = OcppClient::connect(&server.ocpp_url("RES-2"))
        .await
        .unwrap();
    station.boot().await.unwrap();
    let (charger, port) = station_charger(&server, "RES-2").await;
    let driver = server.token_for("driver").await.unwrap();

    // a booking that has begun: the driver arrives and plugs in
    let start = Utc::now() + Duration::minutes(2);
    let first = confirmed_booking(&server, &driver, &charger, &port, start).await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    let (msg_id, action, payload) = next_call(&mut station).await;
    assert_eq!(action, "ReserveNow");
    let reservation_id = payload["id"].clone();
    station
        .answer(&msg_id, json!({"status": "Accepted"}))
        .await
        .unwrap();
    booking_reaches(&server, &driver, &first_id, "reservation_state", "accepted").await;

    let started = station
        .call(
            "TransactionEvent",
            json!({
                "eventType": "Started", "timestamp": rfc3339(Utc::now()),
                "triggerReason": "Authorized", "seqNo": 0,
                "transactionInfo": {"transactionId": "TX-RES-2"},
                "evse": {"id": 1, "connectorId": 1},
                "reservationId": reservation_id,
                "idToken": {"idToken": format!("BOOKING-{reservation_id}"), "type": "Central"},
            }),
        )
        .await
        .unwrap();
    assert!(started.is_object(), "{started}");
    let charging = booking_reaches(&server, &driver, &first_id, "status", "charging").await;
    assert_eq!(charging["reservation_state"], "used", "{charging}");

    // the station drops a reservation on its own: recorded, acknowledged with {}
    let answer = station
        .call(
            "ReservationStatusUpdate",
            json!({"reservationId": 987654, "reservationUpdateStatus": "Expired"}),
        )
        .await
        .unwrap();
    assert_eq!(answer, json!({}));
}

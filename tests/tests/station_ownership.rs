//! Stations belong to someone: a host binds a listing only to a station they proved is
//! theirs (its password, or an operator's approval), and a station drives one listing. Tried
//! as an attacker would, over the real REST interface.

use e2e_tests::charging::{claim_station, post};
use e2e_tests::{Server, ServerOptions};
use serde_json::{json, Value};

const PASSWORD: &str = "0123456789abcdef-pw";

fn listing(station: &str) -> Value {
    json!({"title": "My charger", "address": "Simweg 1, Amsterdam",
           "latitude": 52.37, "longitude": 4.89, "time_zone": "Europe/Amsterdam",
           "currency": "EUR", "device_kind": "ocpp", "device_id": station})
}

#[tokio::test]
async fn a_host_cannot_list_a_station_that_is_not_theirs() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    server
        .cli(&["station", "add", "--id", "CS-OWNED", "--profile", "0"])
        .await
        .unwrap();
    let owner = server.token_for("host").await.unwrap();
    let attacker = server.token_for("host").await.unwrap();
    let operator = server.token_for("operator").await.unwrap();

    // Unclaimed: nobody may bind it yet.
    let (status, body) = post(&server, &attacker, "/api/chargers", listing("CS-OWNED")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "device_id");

    claim_station(&server, &owner, &operator, "CS-OWNED").await;
    let (status, _) = post(&server, &owner, "/api/chargers", listing("CS-OWNED")).await;
    assert_eq!(status, 201);

    // The attacker still cannot bind it, nor claim it past its owner, nor bind it twice.
    let (status, _) = post(&server, &attacker, "/api/chargers", listing("CS-OWNED")).await;
    assert_eq!(status, 422);
    let (status, body) = post(
        &server,
        &attacker,
        "/api/stations/claims",
        json!({"stationId": "CS-OWNED"}),
    )
    .await;
    assert_eq!((status, &body["code"]), (409, &json!("station_owned")));
    let (status, body) = post(&server, &owner, "/api/chargers", listing("CS-OWNED")).await;
    assert_eq!(
        (status, &body["code"]),
        (409, &json!("device_already_bound"))
    );

    // Drivers cannot claim, hosts cannot approve their own claims.
    let driver = server.token_for("driver").await.unwrap();
    let (status, _) = post(
        &server,
        &driver,
        "/api/stations/claims",
        json!({"stationId": "CS-OWNED"}),
    )
    .await;
    assert_eq!(status, 403);
    server
        .cli(&["station", "add", "--id", "CS-FREE", "--profile", "0"])
        .await
        .unwrap();
    let (status, claim) = post(
        &server,
        &attacker,
        "/api/stations/claims",
        json!({"stationId": "CS-FREE"}),
    )
    .await;
    assert_eq!(status, 202);
    let path = format!(
        "/api/stations/claims/{}/approve",
        claim["id"].as_str().unwrap()
    );
    let (status, _) = post(&server, &attacker, &path, json!({})).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_station_password_proves_a_claim_and_guessing_is_limited() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    server
        .cli(&[
            "station",
            "add",
            "--id",
            "CS-PW",
            "--profile",
            "2",
            "--password",
            PASSWORD,
        ])
        .await
        .unwrap();
    let guesser = server.token_for("host").await.unwrap();
    for _ in 0..5 {
        let (status, body) = post(
            &server,
            &guesser,
            "/api/stations/claims",
            json!({"stationId": "CS-PW", "password": "wrong-password-1234"}),
        )
        .await;
        assert_eq!(status, 422, "{body}");
    }
    // Past five wrong tries an hour, even the right password waits.
    let (status, body) = post(
        &server,
        &guesser,
        "/api/stations/claims",
        json!({"stationId": "CS-PW", "password": PASSWORD}),
    )
    .await;
    assert_eq!((status, &body["code"]), (429, &json!("rate_limited")));

    let owner = server.token_for("host").await.unwrap();
    let (status, body) = post(
        &server,
        &owner,
        "/api/stations/claims",
        json!({"stationId": "CS-PW", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        (status, &body["status"]),
        (201, &json!("approved")),
        "{body}"
    );
    let (status, _) = post(&server, &owner, "/api/chargers", listing("CS-PW")).await;
    assert_eq!(status, 201);
}

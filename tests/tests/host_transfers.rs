//! A host is paid: a driver's session on the host's evsim-backed charger is paid from the
//! wallet, the ledger credits the host's 80 % share, and the server's transfer run pays it to
//! the host's payout account (local provider), listed at `GET /api/host/transfers`.

use e2e_tests::charging::{charging_session, dec, evsim_station, listed_station_charger_of, post};
use e2e_tests::{Server, ServerOptions};
use serde_json::json;

const STATION: &str = "SIM-PAYOUT";

#[tokio::test]
async fn a_wallet_paid_session_is_transferred_to_its_host() {
    let server = Server::start(ServerOptions {
        extra_args: ["--job-tick-ms", "100", "--host-transfers-secs", "1"]
            .into_iter()
            .chain(["--host-transfer-min-cents", "1"])
            .map(String::from)
            .collect(),
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let _sim = evsim_station(&server, STATION);
    let host = server.token_for("host").await.unwrap();
    let (status, account) = post(
        &server,
        &host,
        "/api/host/payout-account",
        json!({"return_url": "https://app.example.test/done",
               "refresh_url": "https://app.example.test/again"}),
    )
    .await;
    assert_eq!(status, 200, "{account}");
    let (charger, port) = listed_station_charger_of(&server, STATION, &host).await;

    let driver = server.token_for("driver").await.unwrap();
    let topup = json!({"amount_cents": 2000, "currency": "EUR", "payment_method": "local_test"});
    let (status, paid) = post(&server, &driver, "/api/wallet/topup", topup).await;
    assert_eq!(status, 201, "{paid}");
    let path = charging_session(&server, &driver, &charger, &port, 0.1).await;
    let (status, _) = post(&server, &driver, &format!("{path}/stop"), json!({})).await;
    assert_eq!(status, 202);
    server
        .eventually(&driver, &path, |s| s["cost"]["final"] == true)
        .await;
    let bill = server
        .get_json(&driver, &format!("{path}/billing"))
        .await
        .unwrap();
    let (share, places) = dec(&bill["split"]["host_share"]);
    let share = share * 10i128.pow(2 - places);
    assert!(share > 0, "{bill}");

    // the ledger takes the bill from the wallet, then the transfer run pays the host's share
    let page = server
        .eventually(&host, "/api/host/transfers", |p| {
            p["items"][0]["status"] == "paid"
        })
        .await;
    let transfer = &page["items"][0];
    assert_eq!(
        i128::from(transfer["amount_cents"].as_i64().unwrap()),
        share,
        "{page}"
    );
    assert_eq!(transfer["destination_account"], account["account_id"]);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    // a driver was transferred nothing
    let none = server
        .get_json(&driver, "/api/host/transfers")
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]), "{none}");
}

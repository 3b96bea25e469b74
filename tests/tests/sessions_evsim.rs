//! A charging session with the bundled station simulator (`evsim`) as the station: the app
//! starts it, evsim answers RequestStartTransaction and charges with periodic meter values,
//! the app stops it, the bill prices exactly the energy evsim metered, and the posted bill is
//! invoiced (JSON and PDF).

use e2e_tests::charging::{
    charging_session, dec, evsim_station, listed_station_charger, post, top_up,
};
use e2e_tests::{Server, ServerOptions};
use serde_json::{json, Value};

/// A money string in cents.
fn cents(v: &Value) -> i128 {
    let (digits, places) = dec(v);
    assert!(places <= 2, "{v}");
    digits * 10i128.pow(2 - places)
}

#[tokio::test]
async fn evsim_charges_and_the_bill_prices_its_meter() {
    let server = Server::start(ServerOptions {
        extra_args: vec!["--job-tick-ms".into(), "100".into()],
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let _sim = evsim_station(&server, "SIM-SESSION");
    let (id, port) = listed_station_charger(&server, "SIM-SESSION").await;

    let driver = server.token_for("driver").await.unwrap();
    top_up(&server, &driver, 10_000).await;
    let path = charging_session(&server, &driver, &id, &port, 0.1).await;
    let (status, stopping) = post(&server, &driver, &format!("{path}/stop"), json!({})).await;
    assert_eq!(status, 202, "{stopping}");
    let done = server
        .eventually(&driver, &path, |s| {
            s["status"] == "completed" && s["cost"]["final"] == true
        })
        .await;
    assert_eq!(done["status"], "completed", "{done}");

    let bill = server
        .get_json(&driver, &format!("{path}/billing"))
        .await
        .unwrap();
    let (kwh, places) = dec(&bill["energy_kwh"]);
    assert!(kwh > 10i128.pow(places) / 10, "{bill}");
    assert_eq!(done["energy_kwh"], bill["energy_kwh"], "{done}");
    // 0.40 per kWh with 21 % Dutch VAT included in the line, in cents, rounded once half-up:
    // kWh × 0.40 × 1.21 × 100 = kWh digits × 484 / 10^(places + 1)
    let (num, den) = (kwh * 484, 10i128.pow(places + 1));
    let energy = (2 * num + den) / (2 * den);
    let lines: Vec<(String, i128)> = bill["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap().to_owned(), cents(&l["amount"])))
        .collect();
    assert_eq!(
        lines,
        [("energy".to_owned(), energy), ("fee".to_owned(), 50)],
        "{bill}"
    );
    assert_eq!(cents(&bill["total"]), energy + 50, "{bill}");

    // the ledger job posts the bill and invoices it in the host's name, VAT stated
    let invoices = server
        .eventually(&driver, "/api/invoices?source=session_bill", |p| {
            p["total"] == 1
        })
        .await;
    let invoice = &invoices["items"][0];
    assert_eq!(
        i128::from(invoice["total_cents"].as_i64().unwrap()),
        energy + 50
    );
    let id = invoice["id"].as_str().unwrap();
    let full = server
        .get_json(&driver, &format!("/api/invoices/{id}"))
        .await
        .unwrap();
    assert_eq!(full["tax_kind"], "vat_included", "{full}");
    assert_eq!(full["tax_lines"][0]["name"], "VAT 21%", "{full}");
    let pdf = reqwest::Client::new()
        .get(server.url(&format!("/api/invoices/{id}/pdf")))
        .bearer_auth(&driver)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
}

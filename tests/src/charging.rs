//! Shared steps of the charging tests: a listed charger bound to a (simulated) OCPP station,
//! priced at a flat 0.40 per kWh, and the exact reading of decimal strings.

use serde_json::{json, Value};

use crate::Server;

/// POSTs `body` as `token`: the status and the JSON answer (null when there is none).
pub async fn post(server: &Server, token: &str, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Tops the signed-in driver's wallet up by `cents` EUR with the development provider (the
/// test servers run `--dev`): a session without a booking holds money before it starts.
pub async fn top_up(server: &Server, driver: &str, cents: i64) {
    let topup = json!({"amount_cents": cents, "currency": "EUR", "payment_method": "local_test"});
    let (status, paid) = post(server, driver, "/api/wallet/topup", topup).await;
    assert_eq!(status, 201, "{paid}");
}

/// A decimal string as (digits, places): "12.345" → (12345, 3); exact, no floats.
pub fn dec(v: &Value) -> (i128, u32) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("a decimal string, got {v}"));
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits: i128 = format!("{int}{frac}").parse().unwrap();
    (digits, frac.len() as u32)
}

/// Waits for `station` to be connected, then lists a charger bound to it (one 150 kW CCS2
/// port on EVSE 1, 0.40 per kWh flat, approved by the admin). Answers the charger's and the
/// port's ids.
pub async fn listed_station_charger(server: &Server, station: &str) -> (String, String) {
    let host = server.token_for("host").await.unwrap();
    listed_station_charger_of(server, station, &host).await
}

/// [`listed_station_charger`], listed by the host signed in with `host`.
pub async fn listed_station_charger_of(
    server: &Server,
    station: &str,
    host: &str,
) -> (String, String) {
    let operator = server.token_for("operator").await.unwrap();
    let booted = server
        .eventually(&operator, &format!("/api/stations/{station}"), |s| {
            s["connected"] == true
        })
        .await;
    assert_eq!(booted["connected"], true, "{booted}");

    let host = host.to_owned();
    claim_station(server, &host, &operator, station).await;
    let admin = server.token_for("admin").await.unwrap();
    let charger = server
        .post_json(
            &host,
            "/api/chargers",
            &json!({"title": format!("Simulated charger {station}"),
                    "address": "Simweg 1, Amsterdam",
                    "latitude": 52.37, "longitude": 4.89, "time_zone": "Europe/Amsterdam",
                    "currency": "EUR", "device_kind": "ocpp", "device_id": station}),
        )
        .await
        .unwrap();
    let id = charger["id"].as_str().unwrap().to_owned();
    let port = server
        .post_json(
            &host,
            &format!("/api/chargers/{id}/ports"),
            &json!({"connector_type": "CCS2", "power_kw": 150, "current_type": "DC",
                    "evse_id": 1, "connector_id": 1}),
        )
        .await
        .unwrap();
    let (status, pricing) = post(
        server,
        &host,
        &format!("/api/chargers/{id}/pricing"),
        json!({"simple": {"price_per_kwh": "0.40", "peak_multiplier": "1",
                          "night_multiplier": "1"}}),
    )
    .await;
    assert_eq!(status, 201, "{pricing}");
    for (who, path) in [
        (&host, format!("/api/chargers/{id}/submit")),
        (&admin, format!("/api/admin/chargers/{id}/approve")),
    ] {
        server.post_json(who, &path, &json!({})).await.unwrap();
    }
    (id, port["id"].as_str().unwrap().to_owned())
}

/// The host `host` claims `station` (no password: development stations have none) and the
/// operator approves the claim; the host owns the station afterwards.
pub async fn claim_station(server: &Server, host: &str, operator: &str, station: &str) {
    let (status, claim) = post(
        server,
        host,
        "/api/stations/claims",
        json!({"stationId": station}),
    )
    .await;
    assert_eq!(status, 202, "{claim}");
    let (status, decided) = post(
        server,
        operator,
        &format!(
            "/api/stations/claims/{}/approve",
            claim["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, &decided["status"]),
        (200, &json!("approved")),
        "{decided}"
    );
}

/// `station` provisioned (unauthenticated, accepted: the test servers run `--dev`) and
/// claimed by `host`, for tests that bind a listing before the station ever connects.
pub async fn provisioned_station_of(server: &Server, host: &str, station: &str) {
    server
        .cli(&["station", "add", "--id", station, "--profile", "0"])
        .await
        .unwrap();
    let operator = server.token_for("operator").await.unwrap();
    claim_station(server, host, &operator, station).await;
}

/// The command for an evsim station with one 150 kW EVSE metering every second, connecting
/// to `server` as `station`, stopped when dropped.
pub fn evsim_command(server: &Server, station: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(crate::server::bin("evsim"));
    command
        .args(["station", "--url", &server.ocpp_url(station)])
        .args([
            "--evses",
            "1",
            "--power-kw",
            "150",
            "--meter-interval",
            "1s",
        ])
        .kill_on_drop(true);
    command
}

/// [`evsim_command`] started, logging only warnings.
pub fn evsim_station(server: &Server, station: &str) -> tokio::process::Child {
    evsim_command(server, station)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("evsim starts")
}

/// The driver starts a session on the port and it charges past `min_kwh`; answers the
/// session's path (`/api/sessions/{id}`).
pub async fn charging_session(
    server: &Server,
    driver: &str,
    charger: &str,
    port: &str,
    min_kwh: f64,
) -> String {
    let (status, session) = post(
        server,
        driver,
        "/api/sessions/start",
        json!({"charger_id": charger, "port_id": port}),
    )
    .await;
    assert_eq!(status, 202, "{session}");
    let path = format!("/api/sessions/{}", session["id"].as_str().unwrap());
    let charging = server
        .eventually(driver, &path, |s| {
            s["status"] == "active"
                && s["energy_kwh"]
                    .as_str()
                    .and_then(|e| e.parse::<f64>().ok())
                    .is_some_and(|e| e > min_kwh)
        })
        .await;
    assert_eq!(charging["status"], "active", "{charging}");
    path
}

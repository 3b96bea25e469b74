//! Bookings through the real server: a host lists a charger, an admin approves it, a driver
//! books (with an Idempotency-Key), another driver is refused with a 409 naming the slot,
//! the booking is confirmed and cancelled with its refund, and the day's slots show it.

use chrono::{DateTime, Duration, Utc};
use e2e_tests::{Server, ServerOptions};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

struct Api<'a> {
    server: &'a Server,
    http: Client,
}

impl Api<'_> {
    async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, self.server.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(body);
        }
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        let res = req.send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        let body = res.json().await.unwrap_or(Value::Null);
        (status, headers, body)
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let (status, _, body) = self
            .send(reqwest::Method::POST, token, path, Some(body), None)
            .await;
        (status, body)
    }
}

/// A listed charger with one Type2 port at 2.50 an hour; answers (charger id, port id, host token).
async fn listed_charger(api: &Api<'_>) -> (String, String, String) {
    let host = api.server.token_for("host").await.unwrap();
    let admin = api.server.token_for("admin").await.unwrap();
    let (status, charger) = api
        .post(
            &host,
            "/api/chargers",
            &json!({
                "title": "Wallbox at the canal",
                "address": "Prinsengracht 1, Amsterdam",
                "latitude": 52.37, "longitude": 4.89,
                "time_zone": "Europe/Amsterdam",
                "currency": "EUR", "price_per_hour": "2.50",
            }),
        )
        .await;
    assert_eq!(status, 201, "{charger}");
    let id = charger["id"].as_str().unwrap().to_owned();
    let (status, port) = api
        .post(
            &host,
            &format!("/api/chargers/{id}/ports"),
            &json!({"connector_type": "Type2", "power_kw": 11, "current_type": "AC"}),
        )
        .await;
    assert_eq!(status, 201, "{port}");
    let (status, _) = api
        .post(&host, &format!("/api/chargers/{id}/submit"), &json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, listed) = api
        .post(
            &admin,
            &format!("/api/admin/chargers/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    (id, port["id"].as_str().unwrap().to_owned(), host)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn book_conflict_confirm_cancel_with_refund() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let api = Api {
        server: &server,
        http: Client::new(),
    };
    let (charger, port, host) = listed_charger(&api).await;
    let driver = server.token_for("driver").await.unwrap();
    let rival = server.token_for("driver").await.unwrap();

    // tomorrow at noon UTC: far more than 2 hours ahead, and the same date in Amsterdam
    let date = (Utc::now() + Duration::days(1)).date_naive();
    let start = date.and_hms_opt(12, 0, 0).unwrap().and_utc();
    let end = start + Duration::hours(1);
    let body = json!({
        "charger_id": charger, "port_id": port,
        "start_time": rfc3339(start), "end_time": rfc3339(end),
    });
    let (status, _, first) = api
        .send(
            reqwest::Method::POST,
            &driver,
            "/api/bookings",
            Some(&body),
            Some("trip-42"),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["status"], "pending");
    assert_eq!(first["amount_cents"], 250);
    assert_eq!(first["currency"], "EUR");
    let id = first["id"].as_str().unwrap().to_owned();

    // a retry (the app lost the answer) gets the same booking, not a second one
    let (status, headers, again) = api
        .send(
            reqwest::Method::POST,
            &driver,
            "/api/bookings",
            Some(&body),
            Some("trip-42"),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(headers["idempotent-replayed"], "true");

    // another driver, half an hour later on the same port: 409 naming the slot
    let overlapping = json!({
        "charger_id": charger, "port_id": port,
        "start_time": rfc3339(start + Duration::minutes(30)),
        "end_time": rfc3339(end + Duration::minutes(30)),
    });
    let (status, headers, conflict) = api
        .send(
            reqwest::Method::POST,
            &rival,
            "/api/bookings",
            Some(&overlapping),
            None,
        )
        .await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(conflict["code"], "slot_taken");
    assert_eq!(conflict["conflicting_slot"]["port_id"], json!(port));
    let taken_start: DateTime<Utc> = conflict["conflicting_slot"]["start_time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let taken_end: DateTime<Utc> = conflict["conflicting_slot"]["end_time"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!((taken_start, taken_end), (start, end));

    // confirming holds the booking's amount: with an empty wallet (and no card authorized
    // for it) it is refused and the booking stays pending
    let (status, refused) = api
        .post(&driver, &format!("/api/bookings/{id}/confirm"), &json!({}))
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "payment_required");
    // the driver tops up (development mode) and confirms
    let topup = json!({"amount_cents": 10000, "currency": "EUR", "payment_method": "local_test"});
    let (status, paid) = api.post(&driver, "/api/wallet/topup", &topup).await;
    assert!(status.is_success(), "{paid}");
    let (status, confirmed) = api
        .post(&driver, &format!("/api/bookings/{id}/confirm"), &json!({}))
        .await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(confirmed["status"], "confirmed");

    // the day's slots show the port held
    let slots = server
        .get_json(
            &driver,
            &format!("/api/chargers/{charger}/slots?date={date}"),
        )
        .await
        .unwrap();
    assert_eq!(
        slots["ports"][0]["booked"].as_array().unwrap().len(),
        1,
        "{slots}"
    );

    // the host sees it on their charger
    let hosted = server
        .get_json(&host, "/api/host/bookings?status=confirmed")
        .await
        .unwrap();
    assert_eq!(hosted["total"], 1, "{hosted}");

    // cancelled a day ahead: the whole 2.50 back
    let (status, cancelled) = api
        .post(
            &driver,
            &format!("/api/bookings/{id}/cancel"),
            &json!({"reason": "plans changed"}),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["refund"]["amount_cents"], 250);
    assert_eq!(cancelled["refund"]["percent"], 100);
    assert_eq!(cancelled["refund"]["cancelled_by"], "driver");

    // and the slot is free for the rival now
    let (status, rebooked) = api.post(&rival, "/api/bookings", &overlapping).await;
    assert_eq!(status, 201, "{rebooked}");
    let mine = server.get_json(&driver, "/api/bookings").await.unwrap();
    assert_eq!(mine["items"][0]["status"], "cancelled");
}

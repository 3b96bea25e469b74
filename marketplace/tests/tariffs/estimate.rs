//! Itemized estimates through the route: multipliers, plan discount, idle fee, VAT,
//! emergency bookings, and chargers that only have summary prices.

use axum::http::{Method, StatusCode};
use marketplace::accounts::Role;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::support::{app, charger, fields, send, simple, token};

#[sqlx::test(migrations = "../migrations")]
async fn estimates_are_itemized(pool: PgPool) {
    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let id = charger(&pool, &app, &host, false).await;
    send(
        &app,
        Method::POST,
        &format!("/api/chargers/{id}/pricing"),
        Some(&host),
        Some(simple()),
    )
    .await;

    // 17:00-19:00 CEST, 20 kWh, 2 h: 10 kWh and 1 h of it at peak. Premium plan.
    let body = json!({"charger_id": id, "start_time": "2031-06-10T15:00:00Z", "duration_minutes": 120,
                      "estimated_kwh": 20, "plan": "premium", "idle_minutes": 10});
    let (status, e) = send(
        &app,
        Method::POST,
        "/api/pricing/estimate",
        None,
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let lines: Vec<(&str, &str)> = e["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["amount"].as_str().unwrap()))
        .collect();
    // Gross (21 % VAT): energy 6.00 → 7.26; peak +1.50 → 1.82; time 4.00 → 4.84; peak +1.00
    // → 1.21; idle 10 min × 6.00/h = 1.00 → 1.21; −10 % of 13.50 net = 1.35 → −1.63; fee 0.50.
    assert_eq!(
        lines,
        [
            ("energy", "7.26"),
            ("multiplier", "1.82"),
            ("time", "4.84"),
            ("multiplier", "1.21"),
            ("parking", "1.21"),
            ("discount", "-1.63"),
            ("fee", "0.50")
        ]
    );
    assert_eq!(e["total"], "15.21");
    assert_eq!(e["tax"]["kind"], "vat_included");
    assert_eq!(e["tax"]["tax_amount"], "2.55"); // 14.71 × 21/121
    assert_eq!(e["tariff"]["version"], 1);
    assert_eq!(e["ocpi_totals"]["total_cost"]["excl_vat"], 13.5);

    let mut emergency = body.clone();
    emergency["emergency"] = json!(true);
    emergency["plan"] = json!("basic");
    let (_, e) = send(
        &app,
        Method::POST,
        "/api/pricing/estimate",
        None,
        Some(emergency),
    )
    .await;
    let kinds: Vec<&str> = e["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "multiplier").count(),
        4,
        "{e}"
    );
    assert_eq!(e["ocpi_totals"]["total_cost"]["excl_vat"], 26); // (6 + 1.5 + 4 + 1) × 2 + 1.00

    let (status, p) = send(&app, Method::POST, "/api/pricing/estimate", None,
        Some(json!({"charger_id": id, "start_time": "2031-06-10T15:00:00Z", "duration_minutes": 0, "estimated_kwh": -1}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&p), ["duration_minutes", "estimated_kwh"]);
    let mut unknown = body.clone();
    unknown["charger_id"] = json!(Uuid::now_v7());
    let (status, _) = send(
        &app,
        Method::POST,
        "/api/pricing/estimate",
        None,
        Some(unknown),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_charger_without_a_tariff_is_estimated_from_its_summary_prices(pool: PgPool) {
    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let id = charger(&pool, &app, &host, false).await;
    let body = json!({"charger_id": id, "start_time": "2031-06-10T08:00:00Z", "duration_minutes": 60, "estimated_kwh": 10});
    let (status, p) = send(
        &app,
        Method::POST,
        "/api/pricing/estimate",
        None,
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["code"], "no_pricing");
    sqlx::query("UPDATE listings SET price_per_kwh = 0.40 WHERE id = $1::uuid")
        .bind(&id)
        .execute(&pool)
        .await
        .unwrap();
    let (status, e) = send(
        &app,
        Method::POST,
        "/api/pricing/estimate",
        None,
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["tariff"], Value::Null);
    assert_eq!(e["ocpi_totals"]["total_cost"]["excl_vat"], 4.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn session_billing_uses_the_tariff_in_force_at_the_start(pool: PgPool) {
    use marketplace::tariffs::bill::Extras;
    use marketplace::tariffs::model::{Period, Session};
    use marketplace::tariffs::service;

    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let id = charger(&pool, &app, &host, false).await;
    let uri = format!("/api/chargers/{id}/pricing");
    send(&app, Method::POST, &uri, Some(&host), Some(simple())).await;
    let start = chrono::Utc::now();
    send(
        &app,
        Method::POST,
        &uri,
        Some(&host),
        Some(json!({"simple": {"price_per_kwh": 1}})),
    )
    .await;
    // A 30-minute session that started under version 1: 5 kWh × 0.30 + 0.5 h × 2.00 (the
    // clock of the test may put it in a multiplier window, so compare with the engine's own).
    let session = Session {
        start,
        end: start + chrono::Duration::minutes(30),
        periods: vec![Period {
            start,
            energy_kwh: "5".parse().unwrap(),
            charging_hours: "0.5".parse().unwrap(),
            ..Period::default()
        }],
    };
    let listing: Uuid = id.parse().unwrap();
    let (ctx, report, bill) =
        service::bill_session(&pool, listing, &session, false, Extras::default())
            .await
            .unwrap();
    assert_eq!(ctx.version.unwrap().version, 1);
    assert_eq!(bill.total, bill.lines.iter().map(|l| l.amount).sum());
    assert!(
        report.total_excl >= "2.00".parse().unwrap(),
        "{:?}",
        report.totals
    );
    assert!(
        report.total_excl <= "3.75".parse().unwrap(),
        "{:?}",
        report.totals
    );
    let _: Value = serde_json::to_value(&bill).unwrap();
}

//! Absurd numbers through the pricing routes: a 422 naming the field, never a 500 or a panic.

use axum::http::{Method, StatusCode};
use marketplace::accounts::Role;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::common::fixture_text;
use super::support::{app, charger, fields, send, simple, token};

#[sqlx::test(migrations = "../migrations")]
async fn absurd_estimates_are_422_naming_the_field(pool: PgPool) {
    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let id = charger(&pool, &app, &host, false).await;
    let uri = format!("/api/chargers/{id}/pricing");
    send(&app, Method::POST, &uri, Some(&host), Some(simple())).await;

    let base = json!({"charger_id": id, "start_time": "2031-06-10T15:00:00Z",
                      "duration_minutes": 60, "estimated_kwh": 10});
    let with = |field: &str, value: Value| {
        let mut b = base.clone();
        b[field] = value;
        b
    };
    let cases = [
        (
            with("duration_minutes", json!(i64::MAX)),
            vec!["duration_minutes"],
        ),
        (
            with("duration_minutes", json!(i64::MIN)),
            vec!["duration_minutes"],
        ),
        (with("idle_minutes", json!(i64::MAX)), vec!["idle_minutes"]),
        (with("estimated_kwh", json!(1e27)), vec!["estimated_kwh"]),
        // beyond any Decimal: refused while reading the body, still by name
        (with("estimated_kwh", json!(1e30)), vec!["estimated_kwh"]),
        (with("prepaid_kwh", json!(1e27)), vec!["prepaid_kwh"]),
        (
            with(
                "charger_subscription",
                json!({"fair_use_kwh": 1e27, "used_kwh": 0}),
            ),
            vec!["charger_subscription.fair_use_kwh"],
        ),
    ];
    for (body, expected) in cases {
        let (status, problem) = send(
            &app,
            Method::POST,
            "/api/pricing/estimate",
            None,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} -> {problem}"
        );
        assert_eq!(fields(&problem), expected, "{body} -> {problem}");
    }
    // the largest plausible estimate is priced
    let (status, e) = send(
        &app,
        Method::POST,
        "/api/pricing/estimate",
        None,
        Some(with("estimated_kwh", json!(1000))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{e}");
}

#[sqlx::test(migrations = "../migrations")]
async fn absurd_tariffs_are_422_naming_the_field(pool: PgPool) {
    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let id = charger(&pool, &app, &host, false).await;
    let uri = format!("/api/chargers/{id}/pricing");
    let tariff = || -> Value {
        let mut t: Value = serde_json::from_str(&fixture_text("complex.tariff.json")).unwrap();
        t["currency"] = json!("EUR");
        t
    };
    let component = "ocpi.elements[0].price_components[0]";
    let mut cases: Vec<(Value, Vec<String>)> = Vec::new();
    let mut t = tariff();
    t["elements"][0]["price_components"][0]["price"] = json!(1e27);
    cases.push((t, vec![format!("{component}.price")]));
    let mut t = tariff();
    t["elements"][0]["price_components"][0]["step_size"] = json!(u32::MAX);
    cases.push((t, vec![format!("{component}.step_size")]));
    let mut t = tariff();
    // beyond u32: refused while reading the body, by name
    t["elements"][0]["price_components"][0]["step_size"] = json!(1e20);
    cases.push((t, vec![format!("{component}.step_size")]));
    let mut t = tariff();
    t["elements"][1]["restrictions"]["max_duration"] = json!(u64::MAX);
    cases.push((t, vec!["ocpi.elements[1].restrictions.max_duration".into()]));
    let mut t = tariff();
    t["elements"][1]["restrictions"]["min_kwh"] = json!(1e27);
    cases.push((t, vec!["ocpi.elements[1].restrictions.min_kwh".into()]));
    let mut t = tariff();
    t["max_price"] = json!({"excl_vat": 1e27});
    cases.push((t, vec!["ocpi.max_price".into()]));
    for (t, expected) in cases {
        let (status, problem) = send(
            &app,
            Method::POST,
            &uri,
            Some(&host),
            Some(json!({"ocpi": t})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let mut got = fields(&problem);
        got.sort();
        let mut expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        expected.sort();
        assert_eq!(got, expected, "{problem}");
    }
    let (_, versions) = send(&app, Method::GET, &uri, Some(&host), None).await;
    assert_eq!(versions["history"], json!([]), "nothing stored");
}

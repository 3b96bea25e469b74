//! The pricing routes against a real database: versions and history, who may set pricing,
//! field-level errors, the tariff in force at a time, and the listing summary kept in step.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use marketplace::accounts::Role;
use marketplace::tariffs::service;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::common::fixture_text;
use super::support::{app, charger, fields, send, simple, token};

#[sqlx::test(migrations = "../migrations")]
async fn hosts_version_their_pricing_and_search_follows(pool: PgPool) {
    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let id = charger(&pool, &app, &host, false).await;
    let uri = format!("/api/chargers/{id}/pricing");

    let (status, v1) = send(&app, Method::POST, &uri, Some(&host), Some(simple())).await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["source"], "simple");
    assert_eq!(v1["tax"], json!({"kind": "vat_inclusive", "percent": "21"}));
    let elements = v1["tariff"]["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 3, "peak, night, standard");
    assert_eq!(
        elements[0]["restrictions"],
        json!({"start_time": "18:00", "end_time": "21:00"})
    );
    assert_eq!(
        elements[0]["price_components"][0],
        json!({"type": "ENERGY", "price": 0.45, "vat": 21, "step_size": 1})
    );
    assert_eq!(
        v1["tariff"]["min_price"],
        json!({"excl_vat": 1, "incl_vat": 1.21})
    );
    assert_eq!(v1["tariff"]["country_code"], "NL");

    let (_, listing) = send(
        &app,
        Method::GET,
        &format!("/api/chargers/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(listing["price_per_kwh"], "0.3000");
    assert_eq!(listing["price_per_hour"], "2.00");

    let body = json!({"simple": {"price_per_kwh": 0.35}, "emergency_multiplier": "1.5"});
    let (status, v2) = send(&app, Method::PUT, &uri, Some(&host), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["emergency_multiplier"], "1.5");
    let (_, listing) = send(
        &app,
        Method::GET,
        &format!("/api/chargers/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(listing["price_per_kwh"], "0.3500");
    assert_eq!(listing["price_per_hour"], Value::Null);

    let (status, pricing) = send(&app, Method::GET, &uri, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pricing["current"]["version"], 2);
    let versions: Vec<&Value> = pricing["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["version"])
        .collect();
    assert_eq!(versions, [&json!(2), &json!(1)]);
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_host_or_an_admin_sets_pricing(pool: PgPool) {
    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let other = token(&pool, "other@example.com", Role::Host).await;
    let driver = token(&pool, "driver@example.com", Role::Driver).await;
    let admin = token(&pool, "admin@example.com", Role::Admin).await;
    let listed = charger(&pool, &app, &host, false).await;
    let draft = charger(&pool, &app, &host, true).await;
    let post = |id: &str| format!("/api/chargers/{id}/pricing");

    let (status, _) = send(&app, Method::POST, &post(&listed), None, Some(simple())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for who in [&other, &driver] {
        let (status, body) = send(
            &app,
            Method::POST,
            &post(&listed),
            Some(who),
            Some(simple()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, _) = send(&app, Method::POST, &post(&draft), Some(who), Some(simple())).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = send(
        &app,
        Method::POST,
        &post(&draft),
        Some(&admin),
        Some(simple()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // A draft's pricing is the host's business; a listed one's is public.
    let (status, _) = send(&app, Method::GET, &post(&draft), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(&app, Method::GET, &post(&draft), Some(&host), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send(&app, Method::GET, &post(&listed), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["current"], Value::Null);
    let (status, _) = send(
        &app,
        Method::GET,
        "/api/chargers/not-a-uuid/pricing",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_pricing_names_the_fields(pool: PgPool) {
    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let id = charger(&pool, &app, &host, false).await;
    let uri = format!("/api/chargers/{id}/pricing");
    let cases = [
        (
            json!({"simple": {"price_per_kwh": "1.50", "peak_multiplier": 5}}),
            vec!["simple.price_per_kwh", "simple.peak_multiplier"],
        ),
        (json!({}), vec!["simple"]),
        (
            json!({"simple": {"price_per_kwh": 0.3}, "sales_tax_percent": 8}),
            vec!["sales_tax_percent"],
        ),
        (
            json!({"simple": {"price_per_kwh": 0.3}, "emergency_multiplier": 9}),
            vec!["emergency_multiplier"],
        ),
        (
            json!({"simple": {"price_per_kwh": 0.3, "price_per_kwhh": 1}}),
            vec!["simple.price_per_kwhh"],
        ),
        (
            json!({"simple": {"price_per_kwh": 0.3}, "ocpi": serde_json::from_str::<Value>(&fixture_text("complex.tariff.json")).unwrap()}),
            vec!["ocpi"],
        ),
    ];
    for (body, expected) in cases {
        let (status, problem) =
            send(&app, Method::POST, &uri, Some(&host), Some(body.clone())).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} -> {problem}"
        );
        assert_eq!(fields(&problem), expected, "{body}");
    }
    let mut usd: Value = serde_json::from_str(&fixture_text("simple_025kwh.tariff.json")).unwrap();
    usd["currency"] = json!("USD");
    usd["elements"][0]["price_components"][0]["step_size"] = json!(0);
    let (status, problem) = send(
        &app,
        Method::POST,
        &uri,
        Some(&host),
        Some(json!({"ocpi": usd})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&problem),
        [
            "ocpi.currency",
            "ocpi.elements[0].price_components[0].step_size"
        ]
    );
    let (_, versions) = send(&app, Method::GET, &uri, Some(&host), None).await;
    assert_eq!(versions["history"], json!([]), "nothing stored");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_ocpi_tariff_is_stored_as_sent(pool: PgPool) {
    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let id = charger(&pool, &app, &host, false).await;
    let tariff: Value = serde_json::from_str(&fixture_text("complex.tariff.json")).unwrap();
    let uri = format!("/api/chargers/{id}/pricing");
    let (status, v) = send(
        &app,
        Method::POST,
        &uri,
        Some(&host),
        Some(json!({"ocpi": tariff})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["source"], "ocpi");
    assert_eq!(v["settings"], Value::Null);
    let stored: marketplace::tariffs::Tariff = serde_json::from_value(v["tariff"].clone()).unwrap();
    let sent: marketplace::tariffs::Tariff = serde_json::from_value(tariff).unwrap();
    assert_eq!(stored.elements, sent.elements);
    assert_eq!(v["tariff"]["id"], "14");
    let (_, listing) = send(
        &app,
        Method::GET,
        &format!("/api/chargers/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(listing["price_per_kwh"], Value::Null, "no ENERGY component");
    assert_eq!(listing["price_per_hour"], "1.00", "the first TIME price");
}

#[sqlx::test(migrations = "../migrations")]
async fn sessions_are_priced_with_the_version_in_force_when_they_started(pool: PgPool) {
    let app = app(pool.clone());
    let host = token(&pool, "host@example.com", Role::Host).await;
    let id = charger(&pool, &app, &host, false).await;
    let listing_id: Uuid = id.parse().unwrap();
    let uri = format!("/api/chargers/{id}/pricing");
    let before = Utc::now();
    send(&app, Method::POST, &uri, Some(&host), Some(simple())).await;
    let between = Utc::now();
    let body = json!({"simple": {"price_per_kwh": "0.50"}});
    send(&app, Method::POST, &uri, Some(&host), Some(body)).await;

    assert_eq!(
        service::tariff_in_force(&pool, listing_id, before)
            .await
            .unwrap(),
        None
    );
    let v1 = service::tariff_in_force(&pool, listing_id, between)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.settings.unwrap().price_per_kwh, "0.30".parse().unwrap());
    let v2 = service::tariff_in_force(&pool, listing_id, Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v2.version, 2);
    assert!(v2.valid_from > v1.valid_from);
}

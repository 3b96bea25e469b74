//! Signing up: the first month leaves the wallet in the same transaction as the
//! subscription is made (the ledger balances), a wallet that cannot pay changes nothing,
//! retries with an Idempotency-Key charge once, and bad requests name their field.

use axum::http::{Method, StatusCode};
use marketplace::accounts::Role;
use marketplace::ledger::model::AccountKind;
use serde_json::json;
use sqlx::PgPool;

use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn the_catalogue_lists_every_product_with_its_prices(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    let a = app.get("/api/subscriptions/products", &driver).await;
    assert_eq!(a.status, StatusCode::OK);
    let price = |code: &str, currency: &str| {
        a.body
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == code)
            .and_then(|p| {
                p["prices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|x| x["currency"] == currency)
                    .map(|x| x["amount_cents"].as_i64().unwrap())
            })
    };
    assert_eq!(price("basic", "USD"), Some(0));
    assert_eq!(price("premium", "USD"), Some(999));
    assert_eq!(price("pro", "EUR"), Some(2499));
    assert_eq!(price("insurance", "EUR"), Some(499));
    assert_eq!(price("featured_listing", "USD"), Some(9900));
    assert_eq!(price("availability_api", "USD"), Some(19900));
    assert_eq!(price("analytics", "EUR"), Some(4900));
    let pro = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "pro")
        .unwrap();
    assert_eq!(pro["discount_percent"], 20);
    assert_eq!(pro["priority_booking"], true);
}

#[sqlx::test(migrations = "../migrations")]
async fn subscribing_pays_the_first_month_from_the_wallet(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 2000).await;

    let body = json!({"product": "premium"});
    let first = app
        .call(
            Method::POST,
            "/api/subscriptions",
            &driver,
            Some(body.clone()),
            Some("plan-1"),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let s = &first.body;
    assert_eq!(s["product"], "premium");
    assert_eq!(s["status"], "active");
    // the only wallet's currency was taken
    assert_eq!(s["currency"], "EUR");
    assert_eq!(s["current_period_start"], "2027-01-04T08:00:00Z");
    assert_eq!(s["current_period_end"], "2027-02-04T08:00:00Z");
    assert_eq!(charges(s), [("initial".into(), "paid".into(), 999)]);
    assert_eq!(wallet(&pool, driver.id).await, 1001);
    // 9.99 holds 21 % VAT: 1.73 of it is the tax office's, not revenue
    assert_eq!(s["charges"][0]["tax_cents"], 173);
    assert_eq!(revenue(&pool).await, 999 - 173);
    assert_eq!(tax_payable(&pool).await, 173);

    // a retry with the same key answers the same subscription and charges nothing
    let again = app
        .call(
            Method::POST,
            "/api/subscriptions",
            &driver,
            Some(body),
            Some("plan-1"),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(again.replayed);
    assert_eq!(again.body["id"], s["id"]);
    assert_eq!(wallet(&pool, driver.id).await, 1001);
    // the same key with another body is refused
    let other = app
        .call(
            Method::POST,
            "/api/subscriptions",
            &driver,
            Some(json!({"product": "pro"})),
            Some("plan-1"),
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&other.body), ["Idempotency-Key"]);

    // one live plan at a time
    let twice = app
        .post("/api/subscriptions", &driver, json!({"product": "pro"}))
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.body["code"], "already_subscribed");

    // the wallet history shows it; insurance coverage goes to the insurance reserve
    let history = app
        .get("/api/wallet/transactions?kind=subscription", &driver)
        .await;
    assert_eq!(history.body["total"], 1, "{}", history.body);
    assert_eq!(history.body["items"][0]["amount_cents"], -999);
    app.subscribe(&driver, "insurance").await;
    assert_eq!(
        balance(&pool, AccountKind::InsuranceReserve, None).await,
        499
    );
    assert_eq!(wallet(&pool, driver.id).await, 502);

    let list = app.get("/api/subscriptions", &driver).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
    let ent = app.get("/api/me/entitlements", &driver).await;
    assert_eq!(ent.body["plan"], "premium");
    assert_eq!(ent.body["discount_percent"], 10);
    assert_eq!(ent.body["insurance_coverage"], true);
    assert_eq!(ent.body["priority_booking"], false);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_wallet_that_cannot_pay_changes_nothing(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 3000).await;
    let a = app
        .post(
            "/api/subscriptions",
            &driver,
            json!({"product": "pro", "currency": "EUR"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let broke = user(&pool, Role::Driver).await;
    fund(&pool, broke.id, 998).await;
    let refused = app
        .post("/api/subscriptions", &broke, json!({"product": "premium"}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.body["code"], "insufficient_funds");
    assert_eq!(wallet(&pool, broke.id).await, 998);
    assert_eq!(subscription_postings(&pool).await, 1);
    let list = app.get("/api/subscriptions", &broke).await;
    assert_eq!(list.body["items"], json!([]));
    let ent = app.get("/api/me/entitlements", &broke).await;
    assert_eq!(ent.body["plan"], "basic");
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_requests_name_their_field(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 50_000).await;
    let cases = [
        (json!({"product": "gold"}), "product"),
        (json!({"product": "basic"}), "product"),
        (json!({"product": "premium", "currency": "eur"}), "currency"),
        (json!({"product": "premium", "currency": "GBP"}), "currency"),
        (json!({"product": "premium", "colour": "red"}), "colour"),
        (json!({"product": 7}), "product"),
    ];
    for (body, field) in cases {
        let a = app.post("/api/subscriptions", &driver, body.clone()).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            a.body
        );
        assert_eq!(fields(&a.body), [field], "{body}");
    }
    // host products are for hosts; a featured listing names one of the host's chargers
    let a = app
        .post(
            "/api/subscriptions",
            &driver,
            json!({"product": "analytics"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let c = charger(&pool, Spec::default()).await;
    fund(&pool, c.host.id, 50_000).await;
    let a = app
        .post(
            "/api/subscriptions",
            &c.host,
            json!({"product": "featured_listing"}),
        )
        .await;
    assert_eq!(fields(&a.body), ["listing_id"]);
    let other = charger(&pool, Spec::default()).await;
    let a = app
        .post(
            "/api/subscriptions",
            &c.host,
            json!({"product": "featured_listing", "listing_id": other.id}),
        )
        .await;
    assert_eq!(fields(&a.body), ["listing_id"], "{}", a.body);
    let a = app
        .post(
            "/api/subscriptions",
            &c.host,
            json!({"product": "analytics", "listing_id": c.id}),
        )
        .await;
    assert_eq!(fields(&a.body), ["listing_id"]);
    // no wallet yet, no currency given
    let newcomer = user(&pool, Role::Driver).await;
    let a = app
        .post(
            "/api/subscriptions",
            &newcomer,
            json!({"product": "premium"}),
        )
        .await;
    assert_eq!(fields(&a.body), ["currency"]);
    // someone else's subscription is not found
    let s = app.subscribe(&driver, "premium").await;
    let id = s["id"].as_str().unwrap();
    let a = app
        .post(
            &format!("/api/subscriptions/{id}/cancel"),
            &newcomer,
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = app
        .post("/api/subscriptions/nope/cancel", &driver, json!({}))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(subscription_postings(&pool).await, 1);
}

//! Changing product mid-period prorates the rest of the period and moves the net at once;
//! cancelling (or changing to Basic) ends the subscription at its period end, with nothing
//! charged after; resuming undoes a pending cancel.

use axum::http::StatusCode;
use chrono::Duration;
use marketplace::accounts::Role;
use serde_json::json;
use sqlx::PgPool;

use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn upgrading_charges_and_downgrading_credits_the_rest_of_the_period(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 5000).await;
    let s = app.subscribe(&driver, "premium").await;
    let id = s["id"].as_str().unwrap();
    let change = format!("/api/subscriptions/{id}/change");

    // halfway through the 31 days: 999/2 back (499, down), 2499/2 due (1250, up)
    app.clock.advance(Duration::hours(31 * 12));
    let up = app.post(&change, &driver, json!({"product": "pro"})).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.body);
    assert_eq!(up.body["product"], "pro");
    assert_eq!(up.body["price_cents"], 2499);
    // the period end stays
    assert_eq!(up.body["current_period_end"], "2027-02-04T08:00:00Z");
    assert_eq!(
        charges(&up.body),
        [
            ("initial".into(), "paid".into(), 999),
            ("proration".into(), "paid".into(), 751)
        ]
    );
    assert_eq!(wallet(&pool, driver.id).await, 5000 - 999 - 751);
    let ent = app.get("/api/me/entitlements", &driver).await;
    assert_eq!(ent.body["plan"], "pro");
    assert_eq!(ent.body["priority_booking"], true);

    // 8 days left: 2499 × 8/31 = 644.9 back (644), 999 × 8/31 = 257.8 due (258): 386 back
    app.clock.set(utc(2027, 1, 27, 8, 0));
    let down = app
        .post(&change, &driver, json!({"product": "premium"}))
        .await;
    assert_eq!(down.status, StatusCode::OK, "{}", down.body);
    assert_eq!(
        charges(&down.body).last().unwrap(),
        &("proration_credit".into(), "paid".into(), 386)
    );
    assert_eq!(wallet(&pool, driver.id).await, 5000 - 999 - 751 + 386);
    // VAT 21 % inside each: 173 + 130 - 67 (the credit gives back its share)
    assert_eq!(tax_payable(&pool).await, 173 + 130 - 67);
    assert_eq!(revenue(&pool).await, 999 + 751 - 386 - (173 + 130 - 67));

    // the same product, or one of another group, is refused
    let same = app
        .post(&change, &driver, json!({"product": "premium"}))
        .await;
    assert_eq!(fields(&same.body), ["product"]);
    let other = app
        .post(&change, &driver, json!({"product": "insurance"}))
        .await;
    assert_eq!(fields(&other.body), ["product"]);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_upgrade_the_wallet_cannot_pay_changes_nothing(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let s = app.subscribe(&driver, "premium").await;
    let id = s["id"].as_str().unwrap();
    let up = app
        .post(
            &format!("/api/subscriptions/{id}/change"),
            &driver,
            json!({"product": "pro"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::CONFLICT);
    assert_eq!(up.body["code"], "insufficient_funds");
    let s = app.subscription(&driver, id).await;
    assert_eq!(s["product"], "premium");
    assert_eq!(charges(&s).len(), 1);
    assert_eq!(wallet(&pool, driver.id).await, 1);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_ends_at_the_period_end_and_charges_nothing_more(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 5000).await;
    let s = app.subscribe(&driver, "pro").await;
    let id = s["id"].as_str().unwrap();

    app.clock.advance(Duration::days(3));
    // changing to Basic is cancelling at the period end
    let basic = app
        .post(
            &format!("/api/subscriptions/{id}/change"),
            &driver,
            json!({"product": "basic"}),
        )
        .await;
    assert_eq!(basic.status, StatusCode::OK, "{}", basic.body);
    assert_eq!(basic.body["cancel_at_period_end"], true);
    assert_eq!(basic.body["product"], "pro");
    // resumed, then cancelled for good
    let resumed = app
        .post(
            &format!("/api/subscriptions/{id}/resume"),
            &driver,
            json!({}),
        )
        .await;
    assert_eq!(resumed.body["cancel_at_period_end"], false);
    let cancelled = app
        .post(
            &format!("/api/subscriptions/{id}/cancel"),
            &driver,
            json!({}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert_eq!(cancelled.body["cancel_at_period_end"], true);
    assert_eq!(cancelled.body["status"], "active");

    // benefits last until the end of the period
    app.clock.set(utc(2027, 2, 4, 7, 59));
    assert_eq!(app.renew().await.ended, 0);
    assert_eq!(
        app.get("/api/me/entitlements", &driver).await.body["plan"],
        "pro"
    );
    app.clock.set(utc(2027, 2, 4, 8, 0));
    let report = app.renew().await;
    assert_eq!((report.ended, report.renewed), (1, 0));
    let s = app.subscription(&driver, id).await;
    assert_eq!(s["status"], "ended");
    assert_eq!(s["end_reason"], "cancelled");
    assert_eq!(s["ended_at"], "2027-02-04T08:00:00Z");
    assert_eq!(charges(&s), [("initial".into(), "paid".into(), 2499)]);
    assert_eq!(wallet(&pool, driver.id).await, 5000 - 2499);
    assert_eq!(
        app.get("/api/me/entitlements", &driver).await.body["plan"],
        "basic"
    );
    // a month later still nothing
    app.clock.set(utc(2027, 3, 10, 0, 0));
    assert_eq!(app.renew().await, Default::default());
    assert_eq!(wallet(&pool, driver.id).await, 5000 - 2499);
    assert!(mails(&pool, driver.id)
        .await
        .contains(&"Your subscription has ended".into()));
    // an ended subscription can no longer be resumed; a new one may start
    let again = app
        .post(
            &format!("/api/subscriptions/{id}/resume"),
            &driver,
            json!({}),
        )
        .await;
    assert_eq!(again.body["code"], "subscription_ended");
    app.subscribe(&driver, "premium").await;
    ledger_is_whole(&pool).await;
}

//! The renewal job: a period that ended is charged once however often (and however
//! concurrently) the job runs; months follow the day of subscribing; a renewal the wallet
//! cannot cover is retried after 1, 3 and 7 days with the benefits kept, then the
//! subscription ends as unpaid and the discount stops. The subscriber may pay at once.

use axum::http::StatusCode;
use marketplace::accounts::Role;
use serde_json::json;
use sqlx::PgPool;

use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn a_renewal_is_charged_once_however_often_the_job_runs(pool: PgPool) {
    // subscribed on 31 January: renewed on 28 February, then 31 March
    let app = app(&pool, utc(2027, 1, 31, 10, 0));
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 10_000).await;
    let s = app.subscribe(&driver, "premium").await;
    let id = s["id"].as_str().unwrap();
    assert_eq!(s["current_period_end"], "2027-02-28T10:00:00Z");

    app.clock.set(utc(2027, 2, 28, 10, 0));
    let (a, b) = tokio::join!(app.renew(), app.renew());
    assert_eq!(a.renewed + b.renewed, 1, "{a:?} {b:?}");
    assert_eq!(app.renew().await.renewed, 0);
    let s = app.subscription(&driver, id).await;
    assert_eq!(s["current_period_start"], "2027-02-28T10:00:00Z");
    assert_eq!(s["current_period_end"], "2027-03-31T10:00:00Z");
    assert_eq!(
        charges(&s),
        [
            ("initial".into(), "paid".into(), 999),
            ("renewal".into(), "paid".into(), 999)
        ]
    );
    assert_eq!(wallet(&pool, driver.id).await, 10_000 - 2 * 999);

    // a job that was down catches up period by period
    app.clock.set(utc(2027, 5, 1, 0, 0));
    assert_eq!(app.renew().await.renewed, 2);
    let s = app.subscription(&driver, id).await;
    assert_eq!(s["current_period_end"], "2027-05-31T10:00:00Z");
    assert_eq!(wallet(&pool, driver.id).await, 10_000 - 4 * 999);
    assert_eq!(subscription_postings(&pool).await, 4);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn dunning_retries_then_ends_the_subscription_and_its_discount(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 2499 + 100).await;
    let s = app.subscribe(&driver, "pro").await;
    let id = s["id"].as_str().unwrap().to_owned();

    // the renewal on 4 February finds 1.00 in the wallet
    app.clock.set(utc(2027, 2, 4, 8, 0));
    assert_eq!(app.renew().await.failed, 1);
    let s = app.subscription(&driver, &id).await;
    assert_eq!(s["status"], "past_due");
    assert_eq!(s["next_attempt_at"], "2027-02-05T08:00:00Z");
    assert_eq!(
        charges(&s).last().unwrap(),
        &("renewal".into(), "failed".into(), 2499)
    );
    assert_eq!(
        mails(&pool, driver.id).await,
        ["Your subscription payment failed"]
    );
    // benefits continue while past due; nothing more is tried before the next attempt
    assert_eq!(
        app.get("/api/me/entitlements", &driver).await.body["plan"],
        "pro"
    );
    app.clock.set(utc(2027, 2, 5, 7, 0));
    assert_eq!(app.renew().await, Default::default());
    // changing plan waits for the payment
    let change = app
        .post(
            &format!("/api/subscriptions/{id}/change"),
            &driver,
            json!({"product": "premium"}),
        )
        .await;
    assert_eq!(change.body["code"], "past_due");

    for (at, next) in [
        (utc(2027, 2, 5, 8, 0), Some("2027-02-07T08:00:00Z")),
        (utc(2027, 2, 7, 8, 0), Some("2027-02-11T08:00:00Z")),
        (utc(2027, 2, 11, 8, 0), None),
    ] {
        app.clock.set(at);
        let report = app.renew().await;
        let s = app.subscription(&driver, &id).await;
        match next {
            Some(next) => {
                assert_eq!(report.failed, 1);
                assert_eq!(s["next_attempt_at"], next);
            }
            None => {
                assert_eq!(report.ended, 1);
                assert_eq!(s["status"], "ended");
                assert_eq!(s["end_reason"], "unpaid");
            }
        }
    }
    let s = app.subscription(&driver, &id).await;
    let attempts: Vec<i64> = s["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "renewal")
        .map(|c| c["attempt"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 3, 4]);
    // the discount stops
    let ent = app.get("/api/me/entitlements", &driver).await;
    assert_eq!(ent.body["plan"], "basic");
    assert_eq!(ent.body["discount_percent"], 0);
    assert_eq!(
        mails(&pool, driver.id).await.last().unwrap(),
        "Your subscription has ended"
    );
    // no money moved after the first month
    assert_eq!(wallet(&pool, driver.id).await, 100);
    assert_eq!(subscription_postings(&pool).await, 1);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_past_due_subscriber_may_pay_at_once(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 999).await;
    let s = app.subscribe(&driver, "premium").await;
    let id = s["id"].as_str().unwrap();
    let retry = format!("/api/subscriptions/{id}/retry");
    let early = app.post(&retry, &driver, json!({})).await;
    assert_eq!(early.body["code"], "not_past_due");

    app.clock.set(utc(2027, 2, 4, 9, 0));
    assert_eq!(app.renew().await.failed, 1);
    // still not enough: refused, nothing recorded
    let refused = app.post(&retry, &driver, json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.body["code"], "insufficient_funds");
    assert_eq!(charges(&app.subscription(&driver, id).await).len(), 2);

    fund(&pool, driver.id, 1500).await;
    let paid = app
        .call(
            axum::http::Method::POST,
            &retry,
            &driver,
            None,
            Some("pay-now"),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(paid.body["status"], "active");
    assert_eq!(paid.body["next_attempt_at"], serde_json::Value::Null);
    assert_eq!(
        charges(&paid.body).last().unwrap(),
        &("renewal".into(), "paid".into(), 999)
    );
    let again = app
        .call(
            axum::http::Method::POST,
            &retry,
            &driver,
            None,
            Some("pay-now"),
        )
        .await;
    assert!(again.replayed);
    assert_eq!(wallet(&pool, driver.id).await, 1500 - 999);
    // the scheduled retry finds nothing to do
    app.clock.set(utc(2027, 2, 5, 9, 0));
    assert_eq!(app.renew().await, Default::default());
    assert_eq!(
        mails(&pool, driver.id).await.last().unwrap(),
        "Subscription payment received"
    );
    ledger_is_whole(&pool).await;
}

//! Every paid subscription charge is invoiced in the platform's series; a credit on a
//! cheaper change is a credit note against the latest invoice; failed renewals are not.

use chrono::Duration;
use marketplace::accounts::Role;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::support::*;

fn summary(page: &Value) -> Vec<(String, String, i64)> {
    let mut rows: Vec<(String, String, i64)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["number"].as_str().unwrap().to_owned(),
                i["kind"].as_str().unwrap().to_owned(),
                i["total_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[sqlx::test(migrations = "../migrations")]
async fn charges_and_credits_are_invoiced_by_the_platform(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 5000).await;
    let s = app.subscribe(&driver, "premium").await;
    let change = format!("/api/subscriptions/{}/change", s["id"].as_str().unwrap());
    app.clock.advance(Duration::hours(31 * 12));
    let up = app.post(&change, &driver, json!({"product": "pro"})).await;
    assert_eq!(up.status, 200, "{}", up.body);
    app.clock.set(utc(2027, 1, 27, 8, 0));
    let down = app
        .post(&change, &driver, json!({"product": "premium"}))
        .await;
    assert_eq!(down.status, 200, "{}", down.body);

    let page = app
        .get("/api/invoices?source=subscription_charge", &driver)
        .await;
    assert_eq!(
        summary(&page.body),
        [
            ("P-000001".into(), "invoice".into(), 999),
            ("P-000002".into(), "invoice".into(), 751),
            ("P-000003".into(), "credit_note".into(), -386),
        ]
    );
    // the credit note corrects the prorated upgrade's invoice
    let items = page.body["items"].as_array().unwrap();
    let by_number = |n: &str| items.iter().find(|i| i["number"] == n).unwrap();
    assert_eq!(
        by_number("P-000003")["corrects"],
        by_number("P-000002")["id"]
    );
    let first = app
        .get(
            &format!(
                "/api/invoices/{}",
                by_number("P-000001")["id"].as_str().unwrap()
            ),
            &driver,
        )
        .await;
    assert_eq!(first.body["issuer_id"], Value::Null);
    assert_eq!(first.body["tax_kind"], "vat_included");
    assert_eq!(first.body["lines"][0]["amount_cents"], 999);
    assert_eq!(first.body["total_cents"], 999);
    let vat = &first.body["tax_lines"][0];
    assert_eq!(
        (&vat["name"], &vat["taxable_cents"], &vat["tax_cents"]),
        (&json!("VAT 21%"), &json!(826), &json!(173))
    );
    // the credit note gives back the VAT the credit held
    let credit = app
        .get(
            &format!(
                "/api/invoices/{}",
                by_number("P-000003")["id"].as_str().unwrap()
            ),
            &driver,
        )
        .await;
    assert_eq!(credit.body["tax_lines"][0]["tax_cents"], -67);
    assert_eq!(credit.body["tax_lines"][0]["taxable_cents"], -319);
    assert!(
        first.body["subject"]
            .as_str()
            .unwrap()
            .contains("subscription, 2027-01-04 to 2027-02-04"),
        "{}",
        first.body
    );
    // what the invoices add up to is what left the wallet
    assert_eq!(wallet(&pool, driver.id).await, 5000 - (999 + 751 - 386));
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failed_renewal_is_not_invoiced_and_the_paid_retry_is(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 999).await;
    app.subscribe(&driver, "premium").await;
    // the period ends with an empty wallet: the renewal fails
    app.clock.set(utc(2027, 2, 4, 8, 0));
    app.renew().await;
    let page = app.get("/api/invoices", &driver).await;
    assert_eq!(page.body["total"], 1, "{}", page.body);
    // topped up, the first retry a day later pays and is invoiced
    fund(&pool, driver.id, 999).await;
    app.clock.advance(Duration::days(1));
    app.renew().await;
    let page = app.get("/api/invoices", &driver).await;
    assert_eq!(
        summary(&page.body),
        [
            ("P-000001".into(), "invoice".into(), 999),
            ("P-000002".into(), "invoice".into(), 999),
        ]
    );
    ledger_is_whole(&pool).await;
}

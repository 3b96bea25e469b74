//! VAT on the platform's own sales: inside the catalogue's prices at the currency's rate,
//! none on insurance coverage or in a currency without a rate, and a credit gives VAT back
//! at the rate of the charge it credits.

use marketplace::accounts::Role;
use marketplace::ledger::model::AccountKind;
use serde_json::json;
use sqlx::PgPool;

use super::support::*;

async fn invoices(app: &App, who: &marketplace::AuthUser) -> Vec<serde_json::Value> {
    let page = app
        .get("/api/invoices?source=subscription_charge", who)
        .await;
    let mut full = Vec::new();
    for i in page.body["items"].as_array().unwrap() {
        let id = i["id"].as_str().unwrap();
        full.push(app.get(&format!("/api/invoices/{id}"), who).await.body);
    }
    full.sort_by_key(|i| i["number"].as_str().unwrap().to_owned());
    full
}

#[sqlx::test(migrations = "../migrations")]
async fn insurance_and_a_currency_without_a_rate_are_untaxed(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let cover = app.subscribe(&driver, "insurance").await;
    assert_eq!(cover["charges"][0]["tax_cents"], 0);
    assert_eq!(
        balance(&pool, AccountKind::InsuranceReserve, None).await,
        499
    );

    let other = user(&pool, Role::Driver).await;
    fund_in(&pool, other.id, 1000, "USD").await;
    let plan = app
        .post(
            "/api/subscriptions",
            &other,
            json!({"product": "premium", "currency": "USD"}),
        )
        .await;
    assert_eq!(plan.status, 201, "{}", plan.body);
    assert_eq!(plan.body["charges"][0]["tax_cents"], 0);
    assert_eq!(tax_payable(&pool).await, 0);
    for who in [&driver, &other] {
        let issued = invoices(&app, who).await;
        assert_eq!(issued.len(), 1);
        assert_eq!(issued[0]["tax_kind"], "none");
        assert_eq!(issued[0]["tax_lines"], json!([]));
    }
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_credit_gives_vat_back_at_the_rate_it_was_charged_at(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 5000).await;
    let s = app.subscribe(&driver, "pro").await;
    // 24.99 at 21 %
    assert_eq!(s["charges"][0]["tax_cents"], 434);

    // the rate drops to 9 % mid-period
    sqlx::query("UPDATE platform_tax_rates SET percent = 9 WHERE currency = 'EUR'")
        .execute(&pool)
        .await
        .unwrap();
    // 8 days left: 644 back for Pro, 258 due for Premium, 386 back in all, its VAT at 21 %
    app.clock.set(utc(2027, 1, 27, 8, 0));
    let change = format!("/api/subscriptions/{}/change", s["id"].as_str().unwrap());
    let down = app
        .post(&change, &driver, json!({"product": "premium"}))
        .await;
    assert_eq!(down.status, 200, "{}", down.body);
    let credit = down.body["charges"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (
            &credit["kind"],
            &credit["amount_cents"],
            &credit["tax_cents"]
        ),
        (&json!("proration_credit"), &json!(386), &json!(67))
    );
    // the renewal is a new sale: 9.99 at 9 %
    app.clock.set(utc(2027, 2, 4, 8, 0));
    app.renew().await;
    let renewed = app.subscription(&driver, s["id"].as_str().unwrap()).await;
    let renewal = renewed["charges"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (&renewal["kind"], &renewal["tax_cents"]),
        (&json!("renewal"), &json!(82))
    );

    assert_eq!(tax_payable(&pool).await, 434 - 67 + 82);
    assert_eq!(revenue(&pool).await, (2499 - 434) - (386 - 67) + (999 - 82));
    let issued = invoices(&app, &driver).await;
    let vat: Vec<(String, i64)> = issued
        .iter()
        .map(|i| {
            (
                i["tax_lines"][0]["name"].as_str().unwrap().to_owned(),
                i["tax_lines"][0]["tax_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        vat,
        [
            ("VAT 21%".to_owned(), 434),
            ("VAT 21%".to_owned(), -67),
            ("VAT 9%".to_owned(), 82),
        ]
    );
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn reconciliation_matches_charges_with_their_postings(pool: PgPool) {
    let app = app(&pool, now());
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 2000).await;
    app.subscribe(&driver, "premium").await;
    ledger_is_whole(&pool).await;

    // past the guards (triggers off, as a careless restore would): the charge claims other
    // VAT than its posting put into tax payable, and the posting is no longer its
    let got =
        reconcile_after_tampering(&pool, "UPDATE subscription_charges SET tax_minor = 100").await;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, "subscription_charge_posted");
    assert!(got[0].1.contains("173 into tax payable"), "{}", got[0].1);

    let got = reconcile_after_tampering(
        &pool,
        "UPDATE subscription_charges SET tax_minor = 173, status = 'failed', \
           ledger_posting_id = NULL, failure_code = 'insufficient_funds'",
    )
    .await;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].1.contains("is no paid charge's"), "{}", got[0].1);
}

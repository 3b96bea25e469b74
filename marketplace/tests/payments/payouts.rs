//! Hosts' payout accounts and payouts with the local provider, and the `account.updated` /
//! `payout.paid` webhooks that keep them current.

use marketplace::accounts::Role;
use marketplace::payments::service::{self, PayoutAccountInput};
use marketplace::Error;
use serde_json::json;
use sqlx::PgPool;

use super::support::*;

fn urls() -> PayoutAccountInput {
    PayoutAccountInput {
        return_url: "https://app.example.test/payouts/done".into(),
        refresh_url: "https://app.example.test/payouts/again".into(),
        country: Some("NL".into()),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_host_opens_an_account_once_and_is_paid_out(pool: PgPool) {
    let p = provider();
    let host = user(&pool, Role::Host).await;
    let opened = service::open_payout_account(&pool, &p, &host, urls(), now())
        .await
        .unwrap();
    assert!(opened.account_id.starts_with("acct_local_"));
    assert!(opened.charges_enabled && opened.payouts_enabled);
    let url = opened.onboarding_url.unwrap();
    assert!(
        url.starts_with("https://app.example.test/payouts/done?account=acct_local_"),
        "{url}"
    );
    let again = service::open_payout_account(&pool, &p, &host, urls(), now())
        .await
        .unwrap();
    assert_eq!(again.account_id, opened.account_id);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM host_payout_accounts").await,
        1
    );

    let payout = service::create_payout(&pool, &p, host.id, 5000, "EUR", "week-1", now())
        .await
        .unwrap();
    assert_eq!(payout.status, "paid");
    let same = service::create_payout(&pool, &p, host.id, 5000, "EUR", "week-1", now())
        .await
        .unwrap();
    assert_eq!(same.id, payout.id);
    assert_eq!(count(&pool, "SELECT count(*) FROM host_payouts").await, 1);

    // drivers have no payout account
    let driver = user(&pool, Role::Driver).await;
    let err = service::open_payout_account(&pool, &p, &driver, urls(), now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden));
    let mut bad = urls();
    bad.return_url = "javascript:alert(1)".into();
    bad.country = Some("nl".into());
    let err = service::open_payout_account(&pool, &p, &host, bad, now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Validation(ref e) if e.len() == 2),
        "{err:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn webhooks_keep_accounts_and_payouts_current(pool: PgPool) {
    let p = provider();
    let host = user(&pool, Role::Host).await;
    let opened = service::open_payout_account(&pool, &p, &host, urls(), now())
        .await
        .unwrap();
    let payout = service::create_payout(&pool, &p, host.id, 700, "EUR", "k", now())
        .await
        .unwrap();
    let t = now().timestamp();
    let account = event(
        "evt_a",
        "account.updated",
        t,
        json!({
            "id": opened.account_id, "object": "account", "charges_enabled": false,
            "payouts_enabled": false, "details_submitted": true
        }),
    );
    assert_eq!(deliver(&pool, &account).await.unwrap().outcome, "applied");
    let shown = service::payout_account(&pool, &p, &host, now())
        .await
        .unwrap();
    // the local provider, asked again while not enabled, re-enables it at once
    assert!(shown.details_submitted);
    let failed = event(
        "evt_p",
        "payout.failed",
        t,
        json!({
            "id": payout.provider_payout_id.clone().unwrap(), "object": "payout", "amount": 700,
            "currency": "eur", "status": "failed", "arrival_date": t, "failure_code": "account_closed"
        }),
    );
    assert_eq!(deliver(&pool, &failed).await.unwrap().outcome, "applied");
    let status: (String, Option<String>) =
        sqlx::query_as("SELECT status, failure_code FROM host_payouts WHERE id = $1")
            .bind(payout.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        status,
        ("failed".to_owned(), Some("account_closed".to_owned()))
    );
}

//! "Money only moves when it was collected", through the routes: a booking is confirmed
//! only with its amount held (or a card authorization), and a driver who owes money can
//! neither book nor confirm until a top-up pays it off.

use axum::http::Method;
use marketplace::accounts::Role;
use marketplace::ledger::model::Charge;
use marketplace::ledger::service as ledger;
use marketplace::AuthUser;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::http::{app, send};
use super::support::*;

/// 10:00–11:00 UTC tomorrow (2.50 at 2.50/h).
fn slot(c: &Charger) -> serde_json::Value {
    json!({
        "charger_id": c.id, "port_id": c.ports[0],
        "start_time": "2027-01-05T10:00:00Z", "end_time": "2027-01-05T11:00:00Z",
    })
}

/// Leaves the driver owing `amount` EUR cents: a charge captured from an empty wallet.
async fn owe(pool: &PgPool, driver: Uuid, host: Uuid, amount: i64) {
    let mut tx = pool.begin().await.unwrap();
    let plan = ledger::capture(
        &mut tx,
        driver,
        "EUR",
        None,
        &Charge::fee(host, amount),
        format!("test_debt:{driver}"),
        "a bill the wallet could not cover",
        Default::default(),
        now(),
    )
    .await
    .unwrap();
    assert!(plan.is_some());
    tx.commit().await.unwrap();
}

async fn status_of(pool: &PgPool, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM bookings WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn confirming_needs_the_money_held(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver: AuthUser = user(&pool, Role::Driver).await;
    let app = app(pool.clone());
    let made = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(slot(&c)),
        None,
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();
    let confirm = format!("/api/bookings/{id}/confirm");

    // an empty wallet and no card authorization: 409, and the booking stays pending
    let refused = send(&app, Method::POST, &confirm, Some(&driver), None, None).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.body["code"], "payment_required");
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("top up") && detail.contains("authorize a card"),
        "{detail}"
    );
    assert_eq!(status_of(&pool, &id).await, "pending");
    assert_eq!(count(&pool, "SELECT count(*) FROM ledger_holds").await, 0);

    // a wallet short by one cent is the same answer
    fund(&pool, driver.id, 249).await;
    let refused = send(&app, Method::POST, &confirm, Some(&driver), None, None).await;
    assert_eq!(refused.body["code"], "payment_required", "{}", refused.body);
    assert_eq!(status_of(&pool, &id).await, "pending");

    // enough: confirmed, with the amount held
    fund(&pool, driver.id, 1).await;
    let ok = send(&app, Method::POST, &confirm, Some(&driver), None, None).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["status"], "confirmed");
    let held: i64 = sqlx::query_scalar(
        "SELECT amount_minor FROM ledger_holds WHERE booking_id = $1::uuid AND status = 'open'",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(held, 250);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unfunded_emergency_booking_is_not_made(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    let app = app(pool.clone());
    let body = json!({
        "charger_id": c.id, "port_id": c.ports[0], "emergency": true,
        "end_time": "2027-01-04T09:00:00Z",
    });
    let refused = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(body.clone()),
        None,
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.body["code"], "payment_required");
    assert_eq!(count(&pool, "SELECT count(*) FROM bookings").await, 0);
    fund(&pool, driver.id, 10_000).await;
    let made = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(body),
        None,
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["status"], "confirmed");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_driver_in_debt_can_neither_book_nor_confirm(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let app = app(pool.clone());
    // booked while owing nothing
    let made = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(slot(&c)),
        None,
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();

    // spend the wallet and owe 3.00 more
    owe(&pool, driver.id, c.host.id, 100_000 + 300).await;
    let confirm = send(
        &app,
        Method::POST,
        &format!("/api/bookings/{id}/confirm"),
        Some(&driver),
        None,
        None,
    )
    .await;
    assert_eq!(confirm.status, 409, "{}", confirm.body);
    assert_eq!(confirm.body["code"], "outstanding_debt");
    assert!(confirm.body["detail"].as_str().unwrap().contains("top up"));
    assert_eq!(status_of(&pool, &id).await, "pending");
    let mut other = slot(&c);
    other["start_time"] = json!("2027-01-05T12:00:00Z");
    other["end_time"] = json!("2027-01-05T13:00:00Z");
    let book = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(other.clone()),
        None,
    )
    .await;
    assert_eq!(book.status, 409, "{}", book.body);
    assert_eq!(book.body["code"], "outstanding_debt");

    // a top-up pays the debt off first; what is left confirms and books again
    fund(&pool, driver.id, 300 + 500).await;
    let confirm = send(
        &app,
        Method::POST,
        &format!("/api/bookings/{id}/confirm"),
        Some(&driver),
        None,
        None,
    )
    .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let book = send(
        &app,
        Method::POST,
        "/api/bookings",
        Some(&driver),
        Some(other),
        None,
    )
    .await;
    assert_eq!(book.status, 201, "{}", book.body);
}

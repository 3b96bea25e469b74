//! Bookings' money end to end through the services: confirming holds the amount when the
//! wallet covers it, cancelling posts the refund decision to the wallet at every tier of the
//! policy (the fee kept split 20/80), preemption refunds in full, no-shows keep the hold, and
//! decisions on bookings that held nothing are marked posted by the ledger's due work.

use chrono::{DateTime, Duration, Utc};
use marketplace::accounts::Role;
use marketplace::bookings::model::NewBooking;
use marketplace::bookings::service::{self, Created};
use marketplace::bookings::BookingStatus;
use marketplace::ledger::model::AccountKind;
use marketplace::ledger::{run_due, service as ledger, HoldPolicy};
use marketplace::listings::model::ConnectorType;
use marketplace::AuthUser;
use sqlx::PgPool;

use super::support::*;

fn start() -> DateTime<Utc> {
    utc(2027, 1, 5, 12, 0)
}

/// Books 12:00–14:00 (5.00 at 2.50/h) and confirms it.
async fn booked(pool: &PgPool, c: &Charger, driver: &AuthUser) -> marketplace::bookings::Booking {
    let req = request(c, 0, start(), start() + Duration::hours(2));
    confirmed(pool, driver, req, now()).await
}

async fn hold_of(pool: &PgPool, booking: uuid::Uuid) -> Option<(String, i64)> {
    sqlx::query_as("SELECT status, amount_minor FROM ledger_holds WHERE booking_id = $1")
        .bind(booking)
        .fetch_optional(pool)
        .await
        .unwrap()
}

async fn posted_at(pool: &PgPool, booking: uuid::Uuid) -> Option<DateTime<Utc>> {
    sqlx::query_scalar("SELECT posted_at FROM booking_refunds WHERE booking_id = $1")
        .bind(booking)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn confirming_holds_the_amount_when_the_wallet_covers_it(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let b = booked(&pool, &c, &driver).await;
    assert_eq!(b.amount_cents, 500);
    assert_eq!(hold_of(&pool, b.id).await, Some(("open".into(), 500)));
    assert_eq!(
        (wallet(&pool, driver.id).await, held(&pool, driver.id).await),
        (500, 500)
    );
    let hold: Option<String> = sqlx::query_scalar(
        "SELECT data->>'hold_id' FROM booking_events WHERE booking_id = $1 AND kind = 'confirmed'",
    )
    .bind(b.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(hold.is_some(), "the confirmation names its hold");

    // without the money: 409 payment_required, the booking stays pending, no wallet made
    let poor = user(&pool, Role::Driver).await;
    let req = request(
        &c,
        0,
        start() + Duration::hours(3),
        start() + Duration::hours(5),
    );
    let b = book(&pool, &poor, req, now()).await;
    let err = service::confirm(&pool, &poor, b.id, now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            marketplace::Error::Conflict {
                code: "payment_required",
                ..
            }
        ),
        "{err:?}"
    );
    let b = service::get(&pool, &poor, b.id).await.unwrap();
    assert_eq!(b.status, BookingStatus::Pending);
    assert_eq!(hold_of(&pool, b.id).await, None);
    assert_eq!(cached_wallet(&pool, poor.id).await, None);
    // a wallet payment's strict policy is a 409 insufficient_funds
    let mut tx = pool.begin().await.unwrap();
    let err = ledger::hold_for_booking(&mut tx, (&b).into(), None, HoldPolicy::Required, now())
        .await
        .unwrap_err();
    assert!(is_insufficient(&err), "{err:?}");
    drop(tx);
    assert_reconciles(&pool).await;
}

/// Cancels a funded booking `before` its start as the driver (or the host); answers
/// (wallet, host payable, commission) afterwards.
async fn cancel_before(pool: &PgPool, before: Duration, host: bool) -> (i64, i64, i64) {
    let c = charger(pool, Spec::default()).await;
    let driver = user(pool, Role::Driver).await;
    fund(pool, driver.id, 1000).await;
    let b = booked(pool, &c, &driver).await;
    let who = if host { &c.host } else { &driver };
    let b = service::cancel(pool, who, b.id, None, start() - before)
        .await
        .unwrap();
    assert_eq!(b.status, BookingStatus::Cancelled);
    assert!(
        posted_at(pool, b.id).await.is_some(),
        "posted in the cancellation"
    );
    assert_eq!(hold_of(pool, b.id).await.unwrap().0, "closed");
    assert_eq!(held(pool, driver.id).await, 0);
    (
        wallet(pool, driver.id).await,
        host_payable(pool, c.host.id).await,
        // one commission account for every test charger: read the posting's share
        sqlx::query_scalar(
            "SELECT coalesce(sum(e.amount_minor), 0)::bigint FROM ledger_entries e \
             JOIN ledger_postings p ON p.id = e.posting_id \
             JOIN ledger_accounts a ON a.id = e.account_id \
             WHERE p.booking_id = $1 AND a.kind = 'platform_commission'",
        )
        .bind(b.id)
        .fetch_one(pool)
        .await
        .unwrap(),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn cancellation_refunds_reach_the_wallet_at_every_tier(pool: PgPool) {
    let us = Duration::microseconds(1);
    let h = Duration::hours;
    let cases = [
        // more than 2 h: everything back
        (h(2) + us, false, (1000, 0, 0)),
        // exactly 2 h: 50 %, the 2.50 kept split 0.50 / 2.00
        (h(2), false, (750, 200, 50)),
        // exactly 1 h: nothing back
        (h(1), false, (500, 400, 100)),
        // the host cancels: everything back
        (Duration::minutes(10), true, (1000, 0, 0)),
    ];
    for (before, host, want) in cases {
        assert_eq!(
            cancel_before(&pool, before, host).await,
            want,
            "cancelled {before} before the start (host: {host})"
        );
    }
    assert_eq!(platform(&pool, AccountKind::PlatformCommission).await, 150);
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unfunded_cancellation_moves_nothing_and_is_marked_posted_later(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    // a booking confirmed without a hold, as bookings were before confirming required one
    let req = request(&c, 0, start(), start() + Duration::hours(2));
    let b = book(&pool, &driver, req, now()).await;
    sqlx::query("UPDATE bookings SET status = 'confirmed', confirmed_at = $2, expires_at = NULL WHERE id = $1")
        .bind(b.id)
        .bind(now())
        .execute(&pool)
        .await
        .unwrap();
    let b = service::cancel(&pool, &driver, b.id, None, now())
        .await
        .unwrap();
    assert_eq!(b.refund.unwrap().amount_cents, 500);
    assert_eq!(posted_at(&pool, b.id).await, None);
    let report = run_due(&pool, now()).await.unwrap();
    assert_eq!((report.refunds_without_hold, report.refunds_posted), (1, 0));
    assert_eq!(posted_at(&pool, b.id).await, Some(now()));
    assert_eq!(
        wallet(&pool, driver.id).await,
        0,
        "nothing was paid, nothing comes back"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM ledger_postings").await,
        0
    );
    // nothing left to do
    assert_eq!(run_due(&pool, now()).await.unwrap(), Default::default());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_preempted_booking_gets_its_hold_back_and_the_emergency_holds_its_own(pool: PgPool) {
    let c = charger(
        &pool,
        Spec {
            ports: vec![ConnectorType::Type2],
            ..Spec::default()
        },
    )
    .await;
    let (victim, rescuer) = (
        user(&pool, Role::Driver).await,
        user(&pool, Role::Driver).await,
    );
    fund(&pool, victim.id, 1000).await;
    fund(&pool, rescuer.id, 1000).await;
    let earlier = now() - Duration::hours(3);
    let slot = (now() + Duration::minutes(15), now() + Duration::minutes(75));
    let b = confirmed(&pool, &victim, request(&c, 0, slot.0, slot.1), earlier).await;
    assert_eq!(held(&pool, victim.id).await, 250);
    let rush = NewBooking {
        charger_id: c.id,
        port_id: c.ports[0],
        start_time: None,
        end_time: now() + Duration::minutes(60),
        emergency: true,
    };
    let e = match service::create(&pool, &rescuer, rush, None, now())
        .await
        .unwrap()
    {
        Created::New(e) => *e,
        Created::Replayed { .. } => unreachable!(),
    };
    let b = service::get(&pool, &victim, b.id).await.unwrap();
    assert_eq!(b.status, BookingStatus::Preempted);
    assert_eq!(
        (wallet(&pool, victim.id).await, held(&pool, victim.id).await),
        (1000, 0)
    );
    assert!(posted_at(&pool, b.id).await.is_some());
    assert_eq!(
        hold_of(&pool, e.id).await,
        Some(("open".into(), e.amount_cents))
    );
    assert_eq!(wallet(&pool, rescuer.id).await, 1000 - e.amount_cents);
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_no_show_keeps_the_hold_as_the_bookings_fee(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let b = booked(&pool, &c, &driver).await;
    let late = start() + Duration::minutes(15);
    // before the booking ends up a no-show, its hold stays
    assert_eq!(run_due(&pool, late).await.unwrap().holds_captured, 0);
    marketplace::bookings::run_due(&pool, late).await.unwrap();
    let report = run_due(&pool, late).await.unwrap();
    assert_eq!(report.holds_captured, 1);
    assert_eq!(hold_of(&pool, b.id).await.unwrap().0, "closed");
    assert_eq!(
        (wallet(&pool, driver.id).await, held(&pool, driver.id).await),
        (500, 0)
    );
    assert_eq!(host_payable(&pool, c.host.id).await, 400);
    assert_eq!(platform(&pool, AccountKind::PlatformCommission).await, 100);
    assert_eq!(run_due(&pool, late).await.unwrap().holds_captured, 0);
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_completed_booking_nobody_charged_on_is_captured_after_the_grace(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let b = booked(&pool, &c, &driver).await;
    service::check_in(&pool, &driver, b.id, start())
        .await
        .unwrap();
    let end = start() + Duration::hours(2);
    marketplace::bookings::run_due(&pool, end).await.unwrap();
    let b = service::get(&pool, &driver, b.id).await.unwrap();
    assert_eq!(b.status, BookingStatus::Completed);
    assert_eq!(
        run_due(&pool, end).await.unwrap().holds_captured,
        0,
        "waits for a bill"
    );
    let later = b.completed_at.unwrap() + ledger::COMPLETED_GRACE;
    assert_eq!(run_due(&pool, later).await.unwrap().holds_captured, 1);
    assert_eq!(host_payable(&pool, c.host.id).await, 400);
    assert_reconciles(&pool).await;
}

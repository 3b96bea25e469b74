//! Cancellation refunds at every boundary of the policy, recorded for the ledger.

use chrono::{DateTime, Duration, Utc};
use marketplace::accounts::Role;
use marketplace::bookings::refund::RefundTier;
use marketplace::bookings::rules::RulesInput;
use marketplace::bookings::service;
use marketplace::bookings::{BookingStatus, CancelledBy};
use sqlx::PgPool;

use super::support::*;

const START: (i32, u32, u32, u32, u32) = (2027, 1, 5, 12, 0);

fn start() -> DateTime<Utc> {
    let (y, m, d, h, min) = START;
    utc(y, m, d, h, min)
}

/// Books 12:00–14:00 (5.00 at 2.50/h), confirms it, cancels `before` the start as `who`;
/// answers the refunded cents and percent.
async fn cancel_before(pool: &PgPool, c: &Charger, before: Duration, host: bool) -> (i64, u8) {
    let driver = user(pool, Role::Driver).await;
    let req = request(c, 0, start(), start() + Duration::hours(2));
    let b = confirmed(pool, &driver, req, now()).await;
    assert_eq!(b.charged_cents(), 500);
    let who = if host { &c.host } else { &driver };
    let b = service::cancel(pool, who, b.id, None, start() - before)
        .await
        .unwrap();
    assert_eq!(b.status, BookingStatus::Cancelled);
    let r = b.refund.expect("a refund decision");
    assert_eq!(
        r.cancelled_by,
        if host {
            CancelledBy::Host
        } else {
            CancelledBy::Driver
        }
    );
    (r.amount_cents, r.percent)
}

#[sqlx::test(migrations = "../migrations")]
async fn every_boundary_of_the_default_policy(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let us = Duration::microseconds(1);
    let h = Duration::hours;
    let cases = [
        (h(5), 500, 100),
        (h(2) + us, 500, 100),
        // exactly 2 h is not "more than 2 h"
        (h(2), 250, 50),
        (h(2) - us, 250, 50),
        (h(1) + us, 250, 50),
        // exactly 1 h is "within 1 h"
        (h(1), 0, 0),
        (h(1) - us, 0, 0),
        (Duration::minutes(1), 0, 0),
        // after the start (a confirmed driver may still cancel before the no-show)
        (-Duration::minutes(5), 0, 0),
    ];
    for (before, cents, percent) in cases {
        let got = cancel_before(&pool, &c, before, false).await;
        assert_eq!(got, (cents, percent), "cancelled {before} before the start");
    }
    // every decision is recorded and, the booking's amount being held, posted with it
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM booking_refunds WHERE posted_at IS NOT NULL"
        )
        .await,
        cases.len() as i64
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_host_always_refunds_in_full(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    assert_eq!(
        cancel_before(&pool, &c, Duration::minutes(10), true).await,
        (500, 100)
    );
    assert_eq!(
        cancel_before(&pool, &c, Duration::hours(20), true).await,
        (500, 100)
    );
    // the driver hears about it
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox_messages WHERE subject = 'Your booking was cancelled'"
        )
        .await,
        2
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_pending_booking_charged_nothing(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = funded_driver(&pool).await;
    let b = book(
        &pool,
        &driver,
        request(&c, 0, start(), start() + Duration::hours(1)),
        now(),
    )
    .await;
    let b = service::cancel(&pool, &driver, b.id, Some("changed my mind".into()), now())
        .await
        .unwrap();
    let r = b.refund.unwrap();
    assert_eq!((r.amount_cents, r.percent), (0, 100));
    assert_eq!(b.cancel_reason.as_deref(), Some("changed my mind"));
    assert_eq!(b.cancelled_by, Some(CancelledBy::Driver));
    // and cancelling again is a state error
    let err = service::cancel(&pool, &driver, b.id, None, now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_booking_transition");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_listing_may_set_its_own_policy(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let tiers = vec![
        RefundTier {
            min_notice_minutes: 24 * 60,
            refund_percent: 100,
        },
        RefundTier {
            min_notice_minutes: 0,
            refund_percent: 25,
        },
    ];
    let input = RulesInput {
        refund_tiers: Some(tiers),
        ..RulesInput::default()
    };
    let view = service::set_rules(&pool, &c.host, c.id, input)
        .await
        .unwrap();
    assert!(view.custom);
    assert_eq!(
        cancel_before(&pool, &c, Duration::hours(25), false).await,
        (500, 100)
    );
    assert_eq!(
        cancel_before(&pool, &c, Duration::hours(24), false).await,
        (125, 25)
    );
    assert_eq!(
        cancel_before(&pool, &c, Duration::minutes(1), false).await,
        (125, 25)
    );
    assert_eq!(
        cancel_before(&pool, &c, Duration::zero(), false).await,
        (0, 0)
    );
    // someone else's listing: 403 (it is listed, so visible)
    let other = user(&pool, Role::Host).await;
    let err = service::set_rules(&pool, &other, c.id, RulesInput::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

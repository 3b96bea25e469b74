//! Fees a booking keeps are invoiced with the posting that keeps them; a full refund is not.

use chrono::Duration;
use marketplace::accounts::Role;
use marketplace::bookings::service;
use marketplace::invoices::{InvoiceKind, Source, TaxKind};
use sqlx::PgPool;

use super::fixtures::*;
use super::support::*;

fn start() -> chrono::DateTime<chrono::Utc> {
    utc(2027, 1, 5, 12, 0)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_late_cancellation_invoices_the_fee_kept_and_an_early_one_nothing(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 2000).await;
    // 12:00-14:00 at 2.50/h: 500, held
    let early = confirmed(
        &pool,
        &driver,
        request(&c, 0, start(), start() + Duration::hours(2)),
        now(),
    )
    .await;
    let late = confirmed(
        &pool,
        &driver,
        request(
            &c,
            0,
            start() + Duration::hours(3),
            start() + Duration::hours(5),
        ),
        now(),
    )
    .await;
    service::cancel(&pool, &driver, early.id, None, start() - Duration::hours(3))
        .await
        .unwrap();
    // 90 minutes before: the policy refunds 50 %
    let at = start() + Duration::hours(3) - Duration::minutes(90);
    service::cancel(&pool, &driver, late.id, None, at)
        .await
        .unwrap();

    assert!(
        invoice_of(&pool, Source::BookingFee, early.id, InvoiceKind::Invoice)
            .await
            .is_none(),
        "a full refund keeps nothing to invoice"
    );
    let fee = invoice_of(&pool, Source::BookingFee, late.id, InvoiceKind::Invoice)
        .await
        .expect("the fee kept is invoiced");
    assert_eq!(fee.total_cents, 250);
    assert_eq!(fee.tax_kind, TaxKind::None);
    assert!(fee.tax_lines.is_empty());
    assert_eq!(fee.issuer_id, Some(c.host.id));
    assert_eq!(fee.customer_id, driver.id);
    assert!(
        fee.lines[0].description.contains("50% of the booking kept"),
        "{}",
        fee.lines[0].description
    );
    assert_eq!(wallet(&pool, driver.id).await, 2000 - 250);
    assert_reconciles(&pool).await;
}

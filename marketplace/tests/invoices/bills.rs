//! A session bill is invoiced in the host's name when the ledger posts it; a corrected bill
//! cancels that invoice with a credit note and is invoiced anew.

use marketplace::accounts::Role;
use marketplace::invoices::{InvoiceKind, Issuer, Source, TaxKind};
use rust_decimal::Decimal;
use sqlx::PgPool;

use super::fixtures::*;
use super::support::*;

#[sqlx::test(migrations = "../migrations")]
async fn a_posted_bill_is_invoiced_in_the_hosts_name_once(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let s = session(&pool, &c, driver.id).await;
    let b = bill(&pool, s, None, 300).await;
    assert!(
        invoice_of(&pool, Source::SessionBill, b, InvoiceKind::Invoice)
            .await
            .is_none(),
        "nothing is invoiced before the money moves"
    );
    post(&pool, b).await;
    post(&pool, b).await;
    let inv = invoice_of(&pool, Source::SessionBill, b, InvoiceKind::Invoice)
        .await
        .expect("invoiced when posted");
    let prefix = Issuer::Host(c.host.id).prefix();
    assert_eq!(inv.number, format!("{prefix}-000001"));
    assert_eq!(inv.issuer_id, Some(c.host.id));
    assert_eq!(inv.customer_id, driver.id);
    assert_eq!(inv.customer_email, format!("{}@example.test", driver.id));
    assert!(
        inv.subject.starts_with("Charging session #"),
        "{}",
        inv.subject
    );
    // energy and the insurance fee are lines; the sales tax is the tax line
    let lines: Vec<(&str, i64)> = inv
        .lines
        .iter()
        .map(|l| (l.description.as_str(), l.amount_cents))
        .collect();
    assert_eq!(
        lines,
        [("Energy", 300), ("Insurance fee (damage reserve)", 50)]
    );
    assert_eq!(inv.lines[0].quantity, Some(Decimal::new(125, 1)));
    assert_eq!(inv.tax_kind, TaxKind::SalesTax);
    assert_eq!(inv.tax_lines.len(), 1);
    assert_eq!(inv.tax_lines[0].name, "Sales tax 10%");
    assert_eq!(
        (inv.tax_lines[0].taxable_cents, inv.tax_lines[0].tax_cents),
        (300, 30)
    );
    assert_eq!(
        (inv.lines_cents, inv.tax_cents, inv.total_cents),
        (350, 30, 380)
    );
    // what the invoice says was paid is what left the wallet
    assert_eq!(wallet(&pool, driver.id).await, 1000 - inv.total_cents);
    assert_eq!(
        numbers(&pool, &Issuer::Host(c.host.id).key()).await.len(),
        1
    );
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_corrected_bill_is_credited_and_invoiced_again(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 2000).await;
    let s = session(&pool, &c, driver.id).await;
    let first = bill(&pool, s, None, 300).await;
    post(&pool, first).await;
    let second = bill(&pool, s, Some((first, 1)), 500).await;
    post(&pool, second).await;

    let original = invoice_of(&pool, Source::SessionBill, first, InvoiceKind::Invoice)
        .await
        .unwrap();
    let note = invoice_of(&pool, Source::SessionBill, first, InvoiceKind::CreditNote)
        .await
        .expect("the first revision's invoice is cancelled");
    let again = invoice_of(&pool, Source::SessionBill, second, InvoiceKind::Invoice)
        .await
        .unwrap();
    assert_eq!(note.corrects, Some(original.id));
    assert_eq!(note.total_cents, -original.total_cents);
    assert_eq!(note.tax_cents, -original.tax_cents);
    assert_eq!(note.lines[0].quantity, Some(Decimal::new(-125, 1)));
    assert_eq!(again.total_cents, 500 + 50 + 50);
    let prefix = Issuer::Host(c.host.id).prefix();
    assert_eq!(
        numbers(&pool, &Issuer::Host(c.host.id).key()).await,
        [1, 2, 3].map(|n| format!("{prefix}-{n:06}"))
    );
    // invoiced net = what the driver paid
    let net = original.total_cents + note.total_cents + again.total_cents;
    assert_eq!(wallet(&pool, driver.id).await, 2000 - net);
    assert_reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_vat_bill_states_the_vat_its_lines_hold(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    let s = session(&pool, &c, driver.id).await;
    let b = uuid::Uuid::now_v7();
    let mut tx = pool.begin().await.unwrap();
    // 12.10 charging holding 2.10 VAT at 21 %; 0.50 insurance outside it
    sqlx::query(
        "INSERT INTO session_bills (id, session_id, revision, reason, currency, minor_digits, \
           total_cents, tax_kind, tax_percent, taxable_cents, tax_cents, commission_base_cents, \
           platform_commission_cents, host_share_cents, insurance_cents, session_start, \
           session_end, energy_wh, charging_seconds, idle_seconds, paused_seconds, ocpi_totals, \
           computed_at) \
         VALUES ($1, $2, 1, 'test', 'EUR', 2, 1260, 'vat_included', 21, 1210, 210, 1000, 200, \
           800, 50, $3, $3, 10000, 3600, 0, 0, '{}', $3)",
    )
    .bind(b)
    .bind(s)
    .bind(now())
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO session_bill_lines (bill_id, position, kind, description, amount_cents) \
         VALUES ($1, 1, 'energy', 'Energy', 1210), ($1, 2, 'fee', 'Insurance fee', 50)",
    )
    .bind(b)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    post(&pool, b).await;
    let inv = invoice_of(&pool, Source::SessionBill, b, InvoiceKind::Invoice)
        .await
        .unwrap();
    assert_eq!(inv.tax_kind, TaxKind::VatIncluded);
    assert_eq!(inv.tax_lines[0].name, "VAT 21%");
    // the base is the charging without the VAT it holds
    assert_eq!(
        (inv.tax_lines[0].taxable_cents, inv.tax_lines[0].tax_cents),
        (1000, 210)
    );
    assert_eq!((inv.lines_cents, inv.total_cents), (1260, 1260));
    // nothing in the wallet: the bill went on account, and is invoiced all the same
    assert_eq!(owed(&pool, driver.id).await, 1260);
}

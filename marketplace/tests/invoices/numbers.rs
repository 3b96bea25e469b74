//! Gap-free numbers per issuer: concurrent issuers, rolled-back issues, and the database's
//! own refusal of a gap or of any change to an issued invoice.

use marketplace::accounts::Role;
use marketplace::invoices::{issue, Draft, InvoiceKind, Issuer, Line, Source, TaxKind};
use sqlx::PgPool;
use uuid::Uuid;

use super::fixtures::*;
use super::support::*;

/// A platform invoice of `amount` to `customer` for a made-up subscription charge.
fn platform_draft(customer: Uuid, amount: i64) -> Draft {
    Draft {
        kind: InvoiceKind::Invoice,
        issuer: Issuer::Platform,
        customer_id: customer,
        subject: "Premium plan, January 2027".into(),
        currency: "EUR".into(),
        minor_digits: 2,
        tax_kind: TaxKind::None,
        lines: vec![Line {
            description: "Premium plan".into(),
            quantity: None,
            unit: None,
            unit_price: None,
            amount_cents: amount,
        }],
        tax_lines: Vec::new(),
        source: Source::SubscriptionCharge,
        source_id: Uuid::now_v7(),
        corrects: None,
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_issues_and_a_rollback_leave_no_gap(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    // a rolled-back issue gives its number back
    let mut tx = pool.begin().await.unwrap();
    issue::draft(&mut tx, &platform_draft(driver.id, 999), now())
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut tx = pool.begin().await.unwrap();
                issue::draft(&mut tx, &platform_draft(driver.id, 100 + i), now())
                    .await
                    .unwrap();
                // every third one changes its mind after taking a number
                if i % 3 == 0 {
                    tx.rollback().await.unwrap();
                } else {
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let got = numbers(&pool, "platform").await;
    let want: Vec<String> = (1..=8).map(|n| format!("P-{n:06}")).collect();
    assert_eq!(got, want);
    // a host's series is its own
    let c = charger(&pool, Spec::default()).await;
    let s = session(&pool, &c, driver.id).await;
    post(&pool, bill(&pool, s, None, 300).await).await;
    let host = numbers(&pool, &Issuer::Host(c.host.id).key()).await;
    assert_eq!(
        host,
        [format!("{}-000001", Issuer::Host(c.host.id).prefix())]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn issuing_the_same_source_twice_is_one_invoice(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    let draft = platform_draft(driver.id, 999);
    let mut conn = pool.acquire().await.unwrap();
    let a = issue::draft(&mut conn, &draft, now()).await.unwrap();
    let b = issue::draft(&mut conn, &draft, now()).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(numbers(&pool, "platform").await, ["P-000001"]);
}

/// Numbers an invoice `sequence` of the platform by hand (moving the series there), with
/// `amount` and no lines; answers why the commit was refused.
async fn raw_issue(pool: &PgPool, customer: Uuid, sequence: i64, amount: i64) -> sqlx::Error {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("UPDATE invoice_series SET last_number = $1 WHERE issuer_key = 'platform'")
        .bind(sequence)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO invoices (id, kind, issuer_key, issuer_name, sequence, number, customer_id, \
           customer_name, customer_email, subject, currency, minor_digits, tax_kind, \
           lines_cents, tax_cents, total_cents, source, source_id, issued_at) \
         VALUES (gen_random_uuid(), 'invoice', 'platform', 'x', $1, 'P-' || $1, $2, 'x', 'x', \
           'x', 'EUR', 2, 'none', $3, 0, $3, 'subscription_charge', gen_random_uuid(), now())",
    )
    .bind(sequence)
    .bind(customer)
    .bind(amount)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap_err()
}

fn constraint(err: &sqlx::Error) -> Option<String> {
    err.as_database_error()
        .and_then(|e| e.constraint().map(str::to_owned))
}

#[sqlx::test(migrations = "../migrations")]
async fn the_database_refuses_a_gap_and_any_change(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    let mut conn = pool.acquire().await.unwrap();
    let id = issue::draft(&mut conn, &platform_draft(driver.id, 999), now())
        .await
        .unwrap();
    drop(conn);

    for sql in [
        "UPDATE invoices SET total_cents = 1, lines_cents = 1 WHERE id = $1",
        "DELETE FROM invoices WHERE id = $1",
        "UPDATE invoice_lines SET amount_cents = 1 WHERE invoice_id = $1",
        "DELETE FROM invoice_lines WHERE invoice_id = $1",
    ] {
        let err = sqlx::query(sql).bind(id).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("immutable"), "{sql}: {err}");
    }

    // skipping a number by hand: refused when the transaction commits
    let err = raw_issue(&pool, driver.id, 3, 0).await;
    assert_eq!(
        constraint(&err).as_deref(),
        Some("invoices_gap_free"),
        "{err}"
    );
    // an invoice whose lines do not add up (it has none): refused too
    let err = raw_issue(&pool, driver.id, 2, 500).await;
    assert_eq!(
        constraint(&err).as_deref(),
        Some("invoices_lines_sum"),
        "{err}"
    );
    assert_eq!(numbers(&pool, "platform").await, ["P-000001"]);
}

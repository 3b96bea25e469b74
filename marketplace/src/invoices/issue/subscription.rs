//! Subscription charges are the platform's sales: each paid charge is invoiced in the
//! platform's series; a credit on a cheaper change is a credit note against the
//! subscription's latest invoice. Failed attempts moved no money and are not invoiced.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::super::model::{Draft, InvoiceKind, Issuer, Line, Source, TaxKind};
use super::super::store;
use crate::error::Error;
use crate::subscriptions::store::charges;
use crate::tariffs::model::minor_unit_digits;

/// The subscription's latest invoice (what a credit corrects).
async fn latest_invoice(
    conn: &mut PgConnection,
    subscription: Uuid,
) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT i.id FROM invoices i JOIN subscription_charges c ON c.id = i.source_id \
         WHERE i.source = 'subscription_charge' AND i.kind = 'invoice' \
           AND c.subscription_id = $1 \
         ORDER BY i.issued_at DESC, i.sequence DESC LIMIT 1",
    )
    .bind(subscription)
    .fetch_optional(conn)
    .await?)
}

/// Invoices a paid subscription charge (in the transaction that posted it), once.
pub async fn subscription_charge(
    conn: &mut PgConnection,
    charge: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let c = charges::charge(conn, charge)
        .await?
        .ok_or(Error::NotFound("subscription charge"))?;
    if c.status != "paid" || c.amount_minor <= 0 {
        return Ok(None);
    }
    let credit = c.kind == "proration_credit";
    let kind = if credit {
        InvoiceKind::CreditNote
    } else {
        InvoiceKind::Invoice
    };
    if let Some(id) = store::by_source(conn, Source::SubscriptionCharge, charge, kind).await? {
        return Ok(Some(id));
    }
    let corrects = if credit {
        // a credit without an invoice to correct would be a gift, not a correction
        Some(
            latest_invoice(conn, c.subscription_id)
                .await?
                .ok_or_else(|| {
                    Error::Internal(format!("credit {charge}: the subscription has no invoice"))
                })?,
        )
    } else {
        None
    };
    let (from, to) = (
        c.period_start.format("%Y-%m-%d"),
        c.period_end.format("%Y-%m-%d"),
    );
    let description = match c.kind.as_str() {
        "proration" => format!(
            "{}: the rest of the period, prorated on changing plan",
            c.product_name
        ),
        "proration_credit" => format!(
            "{}: credit for the unused rest of the period",
            c.product_name
        ),
        _ => format!("{}, one month", c.product_name),
    };
    let digits = minor_unit_digits(&c.currency);
    let amount = if credit {
        -c.amount_minor
    } else {
        c.amount_minor
    };
    let draft = Draft {
        kind,
        issuer: Issuer::Platform,
        customer_id: c.user_id,
        subject: format!("{} subscription, {from} to {to}", c.product_name),
        currency: c.currency.trim().to_owned(),
        minor_digits: i16::try_from(digits).unwrap_or(2),
        tax_kind: TaxKind::None,
        lines: vec![Line {
            description,
            quantity: Some(if credit { -Decimal::ONE } else { Decimal::ONE }),
            unit: Some("period".into()),
            unit_price: Some(Decimal::new(c.amount_minor, digits)),
            amount_cents: amount,
        }],
        tax_lines: Vec::new(),
        source: Source::SubscriptionCharge,
        source_id: charge,
        corrects,
    };
    store::insert(conn, &draft, now).await.map(Some)
}

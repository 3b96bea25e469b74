//! Subscription charges are the platform's sales: each paid charge is invoiced in the
//! platform's series, with the VAT it holds as a tax line; a credit on a cheaper change is a credit note against the
//! subscription's latest invoice. Failed attempts moved no money and are not invoiced.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::invoices::{self, Draft, InvoiceKind, Issuer, Line};
use crate::invoices::{Source, TaxKind, TaxLine};
use crate::money::minor_unit_digits;
use crate::subscriptions::store::charges;

/// Invoices a paid subscription charge (in the transaction that posted it), once.
pub async fn invoice_charge(
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
    let corrects = if credit {
        let ids: Vec<Uuid> = charges::of_subscriptions(conn, &[c.subscription_id])
            .await?
            .into_iter()
            .filter(|other| other.id != charge)
            .map(|other| other.id)
            .collect();
        // a credit without an invoice to correct would be a gift, not a correction
        let latest = invoices::issue::latest_of_sources(conn, Source::SubscriptionCharge, &ids)
            .await?
            .ok_or_else(|| {
                Error::Internal(format!("credit {charge}: the subscription has no invoice"))
            })?;
        Some(latest)
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
    let sign = if credit { -1 } else { 1 };
    let (tax_kind, tax_lines) = match (c.tax_name, c.tax_percent) {
        (Some(name), Some(percent)) => {
            let percent = percent
                .parse::<Decimal>()
                .map_err(|e| Error::Internal(format!("charge {charge}: tax rate: {e}")))?
                .normalize();
            let line = TaxLine {
                name: format!("{name} {percent}%"),
                percent,
                taxable_cents: sign * (c.amount_minor - c.tax_minor),
                tax_cents: sign * c.tax_minor,
            };
            (TaxKind::VatIncluded, vec![line])
        }
        _ => (TaxKind::None, Vec::new()),
    };
    let draft = Draft {
        kind: if credit {
            InvoiceKind::CreditNote
        } else {
            InvoiceKind::Invoice
        },
        issuer: Issuer::Platform,
        customer_id: c.user_id,
        subject: format!("{} subscription, {from} to {to}", c.product_name),
        currency: c.currency.trim().to_owned(),
        minor_digits: i16::try_from(digits).unwrap_or(2),
        tax_kind,
        lines: vec![Line {
            description,
            quantity: Some(if credit { -Decimal::ONE } else { Decimal::ONE }),
            unit: Some("period".into()),
            unit_price: Some(Decimal::new(c.amount_minor, digits)),
            amount_cents: amount,
        }],
        tax_lines,
        source: Source::SubscriptionCharge,
        source_id: charge,
        corrects,
    };
    invoices::issue::draft(conn, &draft, now).await.map(Some)
}

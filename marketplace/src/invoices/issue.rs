//! Issuing: each money event the driver pays for becomes an invoice in the transaction that
//! posts it to the ledger, so an invoice exists exactly when the money moved. Issuing twice
//! is a no-op (one invoice per source). A corrected session bill cancels the earlier
//! revision's invoice with a credit note, then invoices the new revision.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{Draft, InvoiceKind, Issuer, Line, Source, TaxKind, TaxLine};
use super::store;
use crate::error::Error;
use crate::money::{minor_unit_digits, Minor};

#[derive(sqlx::FromRow)]
struct BillRow {
    supersedes: Option<Uuid>,
    currency: String,
    minor_digits: i16,
    tax_kind: String,
    tax_percent: String,
    taxable_cents: Minor,
    tax_cents: Minor,
    total_cents: Minor,
    driver_id: Uuid,
    host_id: Uuid,
    number: i32,
    title: String,
    session_start: DateTime<Utc>,
    session_end: DateTime<Utc>,
}

type BillLine = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Minor,
);

/// The invoice a session bill makes: its lines but the sales-tax line, which becomes the
/// tax line (VAT is stated as what the lines contain).
async fn bill_draft(conn: &mut PgConnection, bill: Uuid) -> Result<(Draft, Option<Uuid>), Error> {
    let row: BillRow = sqlx::query_as(
        "SELECT b.supersedes, b.currency, b.minor_digits, b.tax_kind, b.tax_percent::text, \
           b.taxable_cents, b.tax_cents, b.total_cents, s.driver_id, l.host_id, s.number, l.title, \
           b.session_start, b.session_end \
         FROM session_bills b JOIN charging_sessions s ON s.id = b.session_id \
         JOIN listings l ON l.id = s.listing_id WHERE b.id = $1",
    )
    .bind(bill)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("session bill"))?;
    let bill_lines: Vec<BillLine> = sqlx::query_as(
        "SELECT kind, description, quantity::text, unit, unit_price::text, amount_cents \
         FROM session_bill_lines WHERE bill_id = $1 ORDER BY position",
    )
    .bind(bill)
    .fetch_all(&mut *conn)
    .await?;
    let lines = bill_lines
        .into_iter()
        .filter(|(kind, ..)| kind != "tax")
        .map(
            |(_, description, quantity, unit, unit_price, amount_cents)| {
                Ok(Line {
                    description,
                    quantity: store::decimal(quantity)?,
                    unit,
                    unit_price: store::decimal(unit_price)?,
                    amount_cents,
                })
            },
        )
        .collect::<Result<_, Error>>()?;
    let percent = store::decimal(Some(row.tax_percent))?
        .unwrap_or_default()
        .normalize();
    let (tax_kind, tax_lines) = match row.tax_kind.as_str() {
        _ if percent.is_zero() && row.tax_cents == 0 => (TaxKind::None, Vec::new()),
        "sales_tax" => (
            TaxKind::SalesTax,
            vec![TaxLine {
                name: format!("Sales tax {percent}%"),
                percent,
                taxable_cents: row.taxable_cents,
                tax_cents: row.tax_cents,
            }],
        ),
        _ => (
            TaxKind::VatIncluded,
            vec![TaxLine {
                name: format!("VAT {percent}%"),
                percent,
                taxable_cents: row.taxable_cents - row.tax_cents,
                tax_cents: row.tax_cents,
            }],
        ),
    };
    let draft = Draft {
        kind: InvoiceKind::Invoice,
        issuer: Issuer::Host(row.host_id),
        customer_id: row.driver_id,
        subject: format!(
            "Charging session #{} at {}, {} to {} UTC",
            row.number,
            row.title,
            row.session_start.format("%Y-%m-%d %H:%M"),
            row.session_end.format("%Y-%m-%d %H:%M"),
        ),
        currency: row.currency,
        minor_digits: row.minor_digits,
        tax_kind,
        lines,
        tax_lines,
        source: Source::SessionBill,
        source_id: bill,
        corrects: None,
    };
    if draft.total_cents() != row.total_cents {
        return Err(Error::Internal(format!(
            "bill {bill}: its lines and tax make {}, its total is {}",
            draft.total_cents(),
            row.total_cents
        )));
    }
    Ok((draft, row.supersedes))
}

/// Invoices a session bill as it is posted (in the posting's transaction). A bill that
/// corrects another first cancels the other's invoice with a credit note. A bill of nothing
/// is not invoiced. Answers the invoice, if there is one.
pub async fn session_bill(
    conn: &mut PgConnection,
    bill: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    if let Some(id) =
        store::by_source(conn, Source::SessionBill, bill, InvoiceKind::Invoice).await?
    {
        return Ok(Some(id));
    }
    let (draft, supersedes) = bill_draft(conn, bill).await?;
    if let Some(earlier) = supersedes {
        credit(conn, Source::SessionBill, earlier, now).await?;
    }
    if draft.total_cents() == 0 && draft.lines.iter().all(|l| l.amount_cents == 0) {
        return Ok(None);
    }
    store::insert(conn, &draft, now).await.map(Some)
}

/// Cancels the invoice of `source_id` with a credit note, once; nothing when it was never
/// invoiced.
async fn credit(
    conn: &mut PgConnection,
    source: Source,
    source_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(invoice) = store::by_source(conn, source, source_id, InvoiceKind::Invoice).await?
    else {
        return Ok(());
    };
    if store::by_source(conn, source, source_id, InvoiceKind::CreditNote)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let draft = match source {
        Source::SessionBill => bill_draft(conn, source_id).await?.0,
        Source::BookingFee | Source::SubscriptionCharge => {
            return Err(Error::Internal(format!(
                "no credit note for {source} invoices"
            )))
        }
    };
    store::insert(conn, &draft.credit_note(invoice), now).await?;
    Ok(())
}

/// What a booking's fee was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeeReason {
    /// Cancelled: the share of the price the refund policy keeps.
    Cancellation { kept_percent: i16 },
    /// Ended without charging (a no-show): the booking's price.
    NoCharge,
}

/// Invoices the fee a booking kept (in the posting's transaction), in the host's name;
/// no tax (the fee is not a supply of energy). Once per booking.
pub async fn booking_fee(
    conn: &mut PgConnection,
    booking: Uuid,
    amount: Minor,
    reason: FeeReason,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    if amount <= 0 {
        return Ok(None);
    }
    if let Some(id) =
        store::by_source(conn, Source::BookingFee, booking, InvoiceKind::Invoice).await?
    {
        return Ok(Some(id));
    }
    let (driver, host, currency, title, starts, ends): (
        Uuid,
        Uuid,
        String,
        String,
        DateTime<Utc>,
        DateTime<Utc>,
    ) = sqlx::query_as(
        "SELECT b.driver_id, l.host_id, b.currency, l.title, b.starts_at, b.ends_at \
         FROM bookings b JOIN listings l ON l.id = b.listing_id WHERE b.id = $1",
    )
    .bind(booking)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("booking"))?;
    let description = match reason {
        FeeReason::Cancellation { kept_percent } => {
            format!("Cancellation fee ({kept_percent}% of the booking kept by the policy)")
        }
        FeeReason::NoCharge => "Booking fee (the slot was held, no charging took place)".into(),
    };
    let digits = i16::try_from(minor_unit_digits(&currency)).unwrap_or(2);
    let draft = Draft {
        kind: InvoiceKind::Invoice,
        issuer: Issuer::Host(host),
        customer_id: driver,
        subject: format!(
            "Booking at {title}, {} to {} UTC",
            starts.format("%Y-%m-%d %H:%M"),
            ends.format("%Y-%m-%d %H:%M"),
        ),
        currency,
        minor_digits: digits,
        tax_kind: TaxKind::None,
        lines: vec![Line {
            description,
            quantity: Some(Decimal::ONE),
            unit: Some("booking".into()),
            unit_price: Some(Decimal::new(amount, u32::try_from(digits).unwrap_or(2))),
            amount_cents: amount,
        }],
        tax_lines: Vec::new(),
        source: Source::BookingFee,
        source_id: booking,
        corrects: None,
    };
    store::insert(conn, &draft, now).await.map(Some)
}

/// Issues a draft the caller built (a platform product such as a subscription charge),
/// once per source.
pub async fn draft(
    conn: &mut PgConnection,
    draft: &Draft,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    if let Some(id) = store::by_source(conn, draft.source, draft.source_id, draft.kind).await? {
        return Ok(id);
    }
    store::insert(conn, draft, now).await
}

/// The latest invoice (not credit note) issued for any of these sources: what a credit on
/// them corrects (subscriptions' proration credits).
pub async fn latest_of_sources(
    conn: &mut PgConnection,
    source: Source,
    source_ids: &[Uuid],
) -> Result<Option<Uuid>, Error> {
    store::latest_of_sources(conn, source, source_ids).await
}

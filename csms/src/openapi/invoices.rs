//! Invoices: what drivers and subscribers paid, numbered per issuer without gaps, immutable
//! (corrections are credit notes); JSON and PDF. Mirrors `marketplace::invoices::http`
//! (answers: `invoices::model::Invoice`).

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::route::{date_time, integer, one_of, uuid, Access, Route};

const TAG: &str = "invoices";

/// A line of an invoice (negated on a credit note).
#[derive(ToSchema)]
pub struct InvoiceLine {
    #[schema(example = "Energy")]
    pub description: String,
    /// Decimal string.
    #[schema(required, example = "12.5")]
    pub quantity: Option<String>,
    #[schema(required, example = "kWh")]
    pub unit: Option<String>,
    /// Decimal string, in major units.
    #[schema(required, example = "0.30")]
    pub unit_price: Option<String>,
    #[schema(example = 375)]
    pub amount_cents: i64,
}

/// The tax an invoice states.
#[derive(ToSchema)]
pub struct InvoiceTaxLine {
    #[schema(example = "VAT 21%")]
    pub name: String,
    /// Decimal string.
    #[schema(example = "21")]
    pub percent: String,
    /// What the rate applies to: the lines without the VAT they hold, or the lines under
    /// sales tax.
    #[schema(example = 1000)]
    pub taxable_cents: i64,
    #[schema(example = 210)]
    pub tax_cents: i64,
}

/// An issued invoice or credit note.
#[derive(ToSchema)]
pub struct Invoice {
    pub id: Uuid,
    #[schema(pattern = "^(invoice|credit_note)$", example = "invoice")]
    pub kind: String,
    /// The issuer's prefix and a gap-free sequence: `P-000042` (the platform), `H…-000007`
    /// (a host's series).
    #[schema(example = "P-000042")]
    pub number: String,
    /// The host in whose name it is issued; null for the platform.
    #[schema(required)]
    pub issuer_id: Option<Uuid>,
    pub issuer_name: String,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub customer_email: String,
    /// What it is for: the session, booking or subscription period.
    pub subject: String,
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(example = 2)]
    pub minor_digits: i16,
    /// `vat_included`: the lines hold the tax; `sales_tax`: added to them; `none`.
    #[schema(pattern = "^(vat_included|sales_tax|none)$", example = "vat_included")]
    pub tax_kind: String,
    pub lines_cents: i64,
    pub tax_cents: i64,
    /// `lines_cents`, plus `tax_cents` under sales tax.
    pub total_cents: i64,
    #[schema(pattern = "^(session_bill|booking_fee|subscription_charge)$")]
    pub source: String,
    pub source_id: Uuid,
    /// On a credit note: the invoice it cancels.
    #[schema(required)]
    pub corrects: Option<Uuid>,
    pub issued_at: DateTime<Utc>,
    /// Empty in lists.
    pub lines: Vec<InvoiceLine>,
    /// Empty in lists.
    pub tax_lines: Vec<InvoiceTaxLine>,
}

#[derive(ToSchema)]
pub struct InvoicePage {
    pub items: Vec<Invoice>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

const READERS: &str = "Readable by its customer, the host it is issued for, and admins; \
anyone else gets the same 404 as for a missing invoice.";

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/invoices", TAG, "My invoices")
            .access(Access::AnyUser)
            .describe(
                "Invoices made out to the caller, newest first, without their lines. \
                 `as=issuer`: those issued in the caller's name (a host's charging and \
                 booking fees). Admins see every invoice, or one customer's with `user_id`. \
                 Invoices are issued when the money moves: a session's bill when it is \
                 posted, a fee a cancelled or no-show booking keeps, a subscription charge.",
            )
            .query("as", "Whose side", one_of(&["customer", "issuer"]))
            .query("user_id", "Admins: this customer's", uuid())
            .query(
                "source",
                "Only this kind of source",
                one_of(&["session_bill", "booking_fee", "subscription_charge"]),
            )
            .query("from", "Issued from this instant (inclusive)", date_time())
            .query("to", "Issued before this instant", date_time())
            .query("limit", "Page size", integer(1, Some(100), Some(20)))
            .query("offset", "Rows to skip", integer(0, None, Some(0)))
            .problem(
                422,
                "A query parameter is unknown or out of range (named in `errors`)",
            )
            .ok::<InvoicePage>(200, "A page of invoices"),
        Route::get("/api/invoices/{id}", TAG, "An invoice")
            .access(Access::AnyUser)
            .uuid_param("id", "The invoice")
            .describe(READERS)
            .not_found("invoice")
            .ok::<Invoice>(200, "The invoice with its lines and tax lines"),
        Route::get("/api/invoices/{id}/pdf", TAG, "An invoice as PDF")
            .access(Access::AnyUser)
            .uuid_param("id", "The invoice")
            .describe(READERS)
            .not_found("invoice")
            .text(200, "application/pdf", "The invoice as an A4 PDF document"),
    ]
}

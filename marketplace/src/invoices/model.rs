//! Invoices as documents: who issues them, their numbers, lines and tax lines, and how an
//! amount in minor units is written. Pure.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::money::Minor;

text_enum!(
    /// An invoice, or a credit note cancelling one (a correction: then a new invoice).
    InvoiceKind {
        Invoice = "invoice",
        CreditNote = "credit_note",
    }
);

text_enum!(
    /// What is invoiced.
    #[schema(as = InvoiceSource)]
    Source {
        SessionBill = "session_bill",
        BookingFee = "booking_fee",
        SubscriptionCharge = "subscription_charge",
    }
);

text_enum!(
    /// `vat_included`: the lines hold the tax; `sales_tax`: the tax is on top of them.
    #[schema(as = InvoiceTaxKind)]
    TaxKind {
        VatIncluded = "vat_included",
        SalesTax = "sales_tax",
        None = "none",
    }
);

/// The name the platform issues its own invoices under.
pub const PLATFORM_NAME: &str = "EV Charging Marketplace";

/// Who issues an invoice; each has its own gap-free series of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuer {
    /// Subscriptions and other platform products.
    Platform,
    /// Charging and booking fees: the host sells, the platform issues on their behalf.
    Host(Uuid),
}

impl Issuer {
    pub fn key(self) -> String {
        match self {
            Self::Platform => "platform".to_owned(),
            Self::Host(id) => format!("host:{id}"),
        }
    }

    /// The series' prefix. A host's is taken from the random end of their id (the start of
    /// a v7 id is a timestamp, shared by hosts created in the same millisecond).
    pub fn prefix(self) -> String {
        match self {
            Self::Platform => "P".to_owned(),
            Self::Host(id) => {
                let hex = id.simple().to_string().to_ascii_uppercase();
                format!("H{}", &hex[hex.len() - 12..])
            }
        }
    }

    pub fn host(self) -> Option<Uuid> {
        match self {
            Self::Platform => None,
            Self::Host(id) => Some(id),
        }
    }
}

/// `P-000042`: the prefix and the sequence, zero-padded so numbers sort as text too.
pub fn number(prefix: &str, sequence: i64) -> String {
    format!("{prefix}-{sequence:06}")
}

/// A line of an invoice (negated on a credit note).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = InvoiceLine)]
pub struct Line {
    #[schema(example = "Energy")]
    pub description: String,
    #[schema(example = "12.5")]
    pub quantity: Option<Decimal>,
    #[schema(example = "kWh")]
    pub unit: Option<String>,
    /// In major units.
    #[schema(example = "0.30")]
    pub unit_price: Option<Decimal>,
    #[schema(example = 375)]
    pub amount_cents: Minor,
}

/// The tax an invoice states.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = InvoiceTaxLine)]
pub struct TaxLine {
    /// `VAT 21%`, `Sales tax 8.875%`.
    #[schema(example = "VAT 21%")]
    pub name: String,
    #[schema(example = "21")]
    pub percent: Decimal,
    /// What the rate applies to: the lines without the VAT they hold, or the lines under
    /// sales tax.
    pub taxable_cents: Minor,
    pub tax_cents: Minor,
}

/// An invoice to issue: everything but its number.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub kind: InvoiceKind,
    pub issuer: Issuer,
    pub customer_id: Uuid,
    /// What it is for, in words: the session, booking or subscription period.
    pub subject: String,
    pub currency: String,
    pub minor_digits: i16,
    pub tax_kind: TaxKind,
    pub lines: Vec<Line>,
    pub tax_lines: Vec<TaxLine>,
    pub source: Source,
    pub source_id: Uuid,
    pub corrects: Option<Uuid>,
}

impl Draft {
    pub fn lines_cents(&self) -> Minor {
        self.lines.iter().map(|l| l.amount_cents).sum()
    }

    pub fn tax_cents(&self) -> Minor {
        self.tax_lines.iter().map(|t| t.tax_cents).sum()
    }

    /// VAT is inside the lines; sales tax is added to them.
    pub fn total_cents(&self) -> Minor {
        match self.tax_kind {
            TaxKind::SalesTax => self.lines_cents() + self.tax_cents(),
            TaxKind::VatIncluded | TaxKind::None => self.lines_cents(),
        }
    }

    /// The credit note cancelling `invoice` (issued as `draft`): the same lines and tax,
    /// negated, from the same issuer to the same customer.
    pub fn credit_note(self, invoice: Uuid) -> Self {
        Self {
            kind: InvoiceKind::CreditNote,
            lines: self
                .lines
                .into_iter()
                .map(|l| Line {
                    quantity: l.quantity.map(|q| -q),
                    amount_cents: -l.amount_cents,
                    ..l
                })
                .collect(),
            tax_lines: self
                .tax_lines
                .into_iter()
                .map(|t| TaxLine {
                    taxable_cents: -t.taxable_cents,
                    tax_cents: -t.tax_cents,
                    ..t
                })
                .collect(),
            corrects: Some(invoice),
            ..self
        }
    }
}

/// An issued invoice or credit note.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Invoice {
    pub id: Uuid,
    pub kind: InvoiceKind,
    /// The issuer's prefix and a gap-free sequence: `P-000042` (the platform), `H…-000007`
    /// (a host's series).
    #[schema(example = "P-000042")]
    pub number: String,
    /// The host in whose name it is issued; null for the platform.
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
    pub tax_kind: TaxKind,
    pub lines_cents: Minor,
    pub tax_cents: Minor,
    /// `lines_cents`, plus `tax_cents` under sales tax.
    pub total_cents: Minor,
    pub source: Source,
    pub source_id: Uuid,
    /// On a credit note: the invoice it cancels.
    pub corrects: Option<Uuid>,
    pub issued_at: DateTime<Utc>,
    /// Empty in lists.
    pub lines: Vec<Line>,
    /// Empty in lists.
    pub tax_lines: Vec<TaxLine>,
}

/// `-12.50 EUR` style: the amount in major units with the currency's digits.
pub fn money(cents: Minor, digits: i16, currency: &str) -> String {
    let digits = u32::try_from(digits.clamp(0, 4)).unwrap_or(2);
    format!("{} {currency}", Decimal::new(cents, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(tax_kind: TaxKind) -> Draft {
        Draft {
            kind: InvoiceKind::Invoice,
            issuer: Issuer::Platform,
            customer_id: Uuid::nil(),
            subject: "Charging session".into(),
            currency: "EUR".into(),
            minor_digits: 2,
            tax_kind,
            lines: vec![
                Line {
                    description: "Energy".into(),
                    quantity: Some(Decimal::new(125, 1)),
                    unit: Some("kWh".into()),
                    unit_price: Some(Decimal::new(30, 2)),
                    amount_cents: 375,
                },
                Line {
                    description: "Insurance fee".into(),
                    quantity: Some(Decimal::ONE),
                    unit: Some("session".into()),
                    unit_price: Some(Decimal::new(50, 2)),
                    amount_cents: 50,
                },
            ],
            tax_lines: vec![TaxLine {
                name: "Tax".into(),
                percent: Decimal::TEN,
                taxable_cents: 375,
                tax_cents: 38,
            }],
            source: Source::SessionBill,
            source_id: Uuid::nil(),
            corrects: None,
        }
    }

    #[test]
    fn totals_follow_the_tax_kind() {
        assert_eq!(draft(TaxKind::SalesTax).total_cents(), 463);
        assert_eq!(draft(TaxKind::VatIncluded).total_cents(), 425);
    }

    #[test]
    fn a_credit_note_cancels_every_amount() {
        let original = draft(TaxKind::SalesTax);
        let id = Uuid::from_u128(7);
        let note = original.clone().credit_note(id);
        assert_eq!(note.kind, InvoiceKind::CreditNote);
        assert_eq!(note.corrects, Some(id));
        assert_eq!(note.total_cents(), -original.total_cents());
        assert_eq!(note.tax_cents(), -original.tax_cents());
        assert_eq!(note.lines[0].quantity, Some(Decimal::new(-125, 1)));
        assert_eq!(note.lines[0].unit_price, original.lines[0].unit_price);
    }

    #[test]
    fn numbers_and_prefixes() {
        assert_eq!(number("P", 42), "P-000042");
        assert_eq!(number("P", 1_234_567), "P-1234567");
        let host = Uuid::parse_str("01890a5d-ac96-774b-bcce-b302099a8057").unwrap();
        assert_eq!(Issuer::Host(host).prefix(), "HB302099A8057");
        assert_eq!(Issuer::Host(host).key(), format!("host:{host}"));
        assert_eq!(Issuer::Platform.host(), None);
    }

    #[test]
    fn money_is_written_with_the_currencys_digits() {
        assert_eq!(money(1234, 2, "EUR"), "12.34 EUR");
        assert_eq!(money(-50, 2, "USD"), "-0.50 USD");
        assert_eq!(money(500, 0, "JPY"), "500 JPY");
        assert_eq!(money(1, 3, "KWD"), "0.001 KWD");
    }
}

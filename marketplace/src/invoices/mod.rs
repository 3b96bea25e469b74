//! Invoices (migration `0011_invoices.sql`): every amount a driver or subscriber pays is
//! documented by an invoice with a gap-free sequential number of its issuer, tax lines, and
//! an issue date; immutable once issued (corrections are credit notes).
//!
//! - Issuers ([`model::Issuer`]): charging sessions and kept booking fees are invoiced in
//!   the host's name (the platform issues them on the host's behalf, each host with their own
//!   series), the platform's own products (subscriptions) in the platform's.
//! - Issued in the transaction that posts the money to the ledger ([`issue`]), so an
//!   invoice exists exactly when the money moved, once per source.
//! - Read as JSON or as a PDF ([`pdf`], printpdf with the standard fonts) at
//!   `/api/invoices/{id}[/pdf]` ([`http`]).

pub mod http;
pub mod issue;
pub mod model;
pub mod pdf;
pub mod store;

pub use model::{Draft, Invoice, InvoiceKind, Issuer, Line, Source, TaxKind, TaxLine};

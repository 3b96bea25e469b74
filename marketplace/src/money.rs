//! Amounts as every money module counts them: integer minor units of a currency. Here, at the
//! bottom, so that the modules documenting money (invoices) need not import the one moving it
//! (the ledger).

/// Integer minor units of a currency (cents).
pub type Minor = i64;

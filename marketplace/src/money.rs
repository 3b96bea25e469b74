//! Amounts as every money module counts them: integer minor units of a currency, and how many
//! digits a currency's minor unit has. Here, at the bottom, so that the modules pricing money
//! (tariffs), documenting it (invoices) and moving it (the ledger) need not import each other.

/// Integer minor units of a currency (cents).
pub type Minor = i64;

/// Digits after the decimal point of an ISO 4217 currency's minor unit.
pub fn minor_unit_digits(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

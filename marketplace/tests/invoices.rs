//! Invoices against a real PostgreSQL: issued with the money they document (session bills,
//! kept booking fees), gap-free numbers per issuer under concurrency and rollbacks, credit
//! notes for corrected bills, immutability, and the REST/PDF copies as a client reads them.

mod invoices {
    #[path = "../bookings/support.rs"]
    mod booking_support;
    #[path = "../ledger/support.rs"]
    mod support;

    mod bills;
    mod fees;
    mod fixtures;
    mod http;
    mod numbers;
}

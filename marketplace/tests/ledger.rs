//! The money ledger: property tests over the pure rules, and against a real PostgreSQL (each
//! `#[sqlx::test]` gets its own database with the workspace migrations applied; needs
//! `DATABASE_URL`) the database's own guards, races for the last balance, idempotent
//! postings, and bookings' and sessions' money posted end to end.

mod ledger {
    #[path = "../bookings/support.rs"]
    mod booking_support;

    mod bills;
    mod bookings;
    mod concurrency;
    mod db;
    mod http;
    mod pending_props;
    mod props;
    mod reconcile;
    mod support;
}

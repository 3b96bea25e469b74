//! Subscriptions against a real PostgreSQL (each `#[sqlx::test]` gets its own database with
//! the workspace migrations applied; needs `DATABASE_URL`), through the routes a client
//! calls and the renewal job, with a fixed clock: signing up from the wallet, proration on
//! change, cancellation at period end, renewals charged once, dunning, and the benefits
//! (plan discounts on real session bills, featured chargers in search, analytics, priority
//! booking). The ledger reconciles after every test that moved money.

mod subscriptions {
    #[path = "../bookings/support.rs"]
    mod booking_support;
    #[path = "../sessions/support.rs"]
    mod session_support;

    mod benefits;
    mod changes;
    mod invoices;
    mod renewals;
    mod signup;
    mod support;
    mod tax;
}

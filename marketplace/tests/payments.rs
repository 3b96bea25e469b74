//! Payments against a real PostgreSQL (each `#[sqlx::test]` gets its own database with the
//! workspace migrations applied; needs `DATABASE_URL`), through the services with the local
//! provider (Stripe's test cards, no network): saved cards, payments by card and wallet and
//! what the ledger makes of them, refunds, and signed webhooks (valid, forged, stale,
//! replayed, out of order).

mod payments {
    #[path = "../bookings/support.rs"]
    mod booking_support;

    mod authorizations;
    mod dashboard_refunds;
    mod disputes;
    mod methods;
    mod pay;
    mod payouts;
    mod refunds;
    mod sessions;
    mod support;
    mod topup;
    mod transfer_reversals;
    mod transfers;
    mod webhooks;
}

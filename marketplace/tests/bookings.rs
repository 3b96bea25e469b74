//! Bookings against a real PostgreSQL: each `#[sqlx::test]` gets its own database with the
//! workspace migrations applied (needs `DATABASE_URL`). Times are fixed instants passed to
//! the services (and a `FixedClock` for the HTTP tests), so nothing depends on today's date.

mod bookings {
    mod change;
    mod concurrency;
    mod create;
    mod emergency;
    mod funds_http;
    mod http;
    mod http_views;
    mod refunds;
    mod reservations;
    mod slots;
    mod support;
    mod sweep;
}

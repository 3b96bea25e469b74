//! Charging sessions: worked examples and property tests of the energy model and its bill
//! (pure), and the use cases, station news and routes against a real PostgreSQL
//! (`#[sqlx::test]`, needs `DATABASE_URL`) with a fake station.

mod sessions {
    mod events;
    mod examples;
    mod funds_http;
    mod http;
    mod props;
    mod service;
    mod session_holds;
    mod support;
}

//! Listings against a real PostgreSQL with PostGIS: each `#[sqlx::test]` gets its own fresh
//! database with the workspace migrations applied (needs `DATABASE_URL`).

mod listings {
    mod common;
    mod device_status;
    mod http;
    mod service;
}

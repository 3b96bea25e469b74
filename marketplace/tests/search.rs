//! Search against a real PostgreSQL + PostGIS: each `#[sqlx::test]` gets its own database with
//! the workspace migrations applied (needs `DATABASE_URL`). Listings are inserted with plain
//! SQL so these tests do not depend on the listings module.

mod search {
    mod area;
    mod availability;
    mod bench;
    mod http;
    mod nearby;
    mod route;
    mod support;
}

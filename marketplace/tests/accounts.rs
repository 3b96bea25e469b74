//! Accounts against a real PostgreSQL: each `#[sqlx::test]` gets its own fresh database with
//! the workspace migrations applied (needs `DATABASE_URL`).

mod accounts {
    mod http;
    mod service;
}

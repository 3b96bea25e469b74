//! Accounts against a real PostgreSQL: each `#[sqlx::test]` gets its own fresh database with
//! the workspace migrations applied (needs `DATABASE_URL`).

mod accounts {
    mod http;
    mod otp;
    mod otp_daily;
    mod otp_http;
    mod profile_http;
    mod reauth_http;
    mod revocation_http;
    mod service;
    mod support;
    mod throttle_http;
    mod totp_sealed;
    mod two_factor;
    mod two_factor_http;
    mod vehicles_http;
}

//! Tariffs: the OCPI price engine against the specification's own examples, worked examples
//! of the host settings and the bill, property tests, and the pricing routes against a real
//! PostgreSQL (`#[sqlx::test]`, needs `DATABASE_URL`).

mod tariffs {
    mod absurd;
    mod bill;
    mod common;
    mod engine;
    mod estimate;
    mod extremes;
    mod http;
    mod props;
    mod spec_examples;
    mod support;
}

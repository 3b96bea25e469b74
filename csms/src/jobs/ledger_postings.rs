//! Posts the money that became due: session bills not posted yet (captured against the
//! booking's hold), holds kept for no-shows and unused bookings, refund decisions without a
//! hold. `marketplace::ledger::run_due` is idempotent: every posting carries a key derived
//! from what caused it, so two nodes or a retried tick post nothing twice.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub async fn run(pool: PgPool, tick: Duration, shutdown: CancellationToken) {
    super::every("ledger-postings", tick, shutdown, || {
        let pool = pool.clone();
        async move {
            let report = marketplace::ledger::run_due(&pool, Utc::now()).await?;
            tracing::debug!(?report, "ledger postings");
            Ok(())
        }
    })
    .await;
}

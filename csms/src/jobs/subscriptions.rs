//! Subscriptions: renewals of periods that ended, ends of cancelled ones, dunning retries
//! of past-due ones (`marketplace::subscriptions::run_due`). The work list is the
//! subscriptions table; each subscription is handled under its row lock and its charges
//! carry unique keys, so two nodes or a retried tick charge nothing twice.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub async fn run(pool: PgPool, tick: Duration, shutdown: CancellationToken) {
    super::every("subscriptions", tick, shutdown, || {
        let pool = pool.clone();
        async move {
            let report = marketplace::subscriptions::run_due(&pool, Utc::now()).await?;
            if report != marketplace::subscriptions::RenewalReport::default() {
                tracing::info!(?report, "subscriptions renewed");
            }
            Ok(())
        }
    })
    .await;
}

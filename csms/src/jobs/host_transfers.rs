//! Pays hosts what the platform owes them: `marketplace::payments::service::pay_hosts`
//! transfers each connected host's host payable to their account. Each transfer is written
//! before the provider is asked (with a key derived from it), so a restart or a second node
//! transfers nothing twice.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use marketplace::payments::PaymentProvider;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How often hosts are paid, and the least one transfer carries (minor units).
#[derive(Debug, Clone, Copy)]
pub struct HostTransfers {
    pub every: Duration,
    pub minimum: i64,
}

pub async fn run(
    pool: PgPool,
    provider: Arc<dyn PaymentProvider>,
    config: HostTransfers,
    shutdown: CancellationToken,
) {
    super::every("host-transfers", config.every, shutdown, || {
        let (pool, provider) = (pool.clone(), provider.clone());
        async move {
            let report = marketplace::payments::service::pay_hosts(
                &pool,
                provider.as_ref(),
                config.minimum,
                Utc::now(),
            )
            .await?;
            if report.paid + report.refused + report.failures > 0 {
                tracing::info!(?report, "hosts paid");
            } else {
                tracing::debug!(?report, "host transfers");
            }
            Ok(())
        }
    })
    .await;
}

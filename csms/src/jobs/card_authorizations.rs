//! Settles card authorizations (manual-capture card payments) that became due: captured for
//! what a posted bill left owing or what an ended booking keeps, released when nothing is
//! owed or before the provider lets them lapse. `marketplace::payments::service::
//! settle_authorizations` reads its work from the tables each tick and writes each decision
//! before asking the provider (with a key derived from the payment and the action), so a
//! restart, a retried tick or a second node captures nothing twice.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use marketplace::payments::PaymentProvider;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub async fn run(
    pool: PgPool,
    provider: Arc<dyn PaymentProvider>,
    tick: Duration,
    shutdown: CancellationToken,
) {
    super::every("card-authorizations", tick, shutdown, || {
        let (pool, provider) = (pool.clone(), provider.clone());
        async move {
            let report = marketplace::payments::service::settle_authorizations(
                &pool,
                provider.as_ref(),
                Utc::now(),
            )
            .await?;
            if report.captured + report.cancelled + report.settled_elsewhere > 0 {
                tracing::info!(?report, "card authorizations settled");
            } else {
                tracing::debug!(?report, "card authorizations");
            }
            Ok(())
        }
    })
    .await;
}

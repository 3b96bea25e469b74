//! Pending bookings expire, confirmed ones become no-shows after the arrival window, and
//! checked-in ones complete at their end: `marketplace::bookings::sweep::run_due`.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub async fn run(pool: PgPool, tick: Duration, shutdown: CancellationToken) {
    super::every("booking-sweeps", tick, shutdown, || {
        let pool = pool.clone();
        async move {
            let report = marketplace::bookings::sweep::run_due(&pool, Utc::now()).await?;
            tracing::debug!(?report, "booking sweep");
            Ok(())
        }
    })
    .await;
}

//! `csms subscriptions renew-due [--at T]` runs the subscriptions' due work once: what the
//! server's periodic job does (renewals, dunning retries, period-end cancellations).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

pub async fn renew_due(pool: &PgPool, at: Option<DateTime<Utc>>) -> anyhow::Result<()> {
    let report = marketplace::subscriptions::run_due(pool, at.unwrap_or_else(Utc::now))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string(&report)?);
    if report.errors > 0 {
        anyhow::bail!(
            "{} subscriptions could not be renewed (see the log)",
            report.errors
        );
    }
    Ok(())
}

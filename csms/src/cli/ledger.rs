//! `csms ledger reconcile` proves the ledger whole from the stored rows and exits non-zero
//! on any discrepancy (for cron and CI); `csms ledger post-due` runs the ledger's due work
//! once (what a periodic job does in a running server).

use chrono::Utc;
use sqlx::PgPool;

pub async fn reconcile(pool: &PgPool, json: bool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let report = marketplace::ledger::reconcile(&mut conn)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "ledger: {} accounts, {} postings, {} entries",
            report.accounts, report.postings, report.entries
        );
        for c in &report.currencies {
            println!(
                "  {}: {} postings; {} in through providers, {} in drivers' wallets and holds \
                 (minor units)",
                c.currency, c.postings, c.provider_clearing_cents, c.drivers_cents
            );
        }
        for (check, what, _) in marketplace::ledger::reconcile::CHECKS {
            let found = report
                .discrepancies
                .iter()
                .filter(|d| d.check == *check)
                .count();
            let mark = if found == 0 { "ok" } else { "FAILED" };
            println!("  [{mark}] {check}: {what}");
        }
        for d in &report.discrepancies {
            println!("DISCREPANCY {}: {}", d.check, d.detail);
        }
    }
    if report.is_clean() {
        if !json {
            println!("the ledger reconciles");
        }
        Ok(())
    } else {
        anyhow::bail!(
            "the ledger does not reconcile: {} discrepancies",
            report.discrepancies.len()
        )
    }
}

pub async fn post_due(pool: &PgPool) -> anyhow::Result<()> {
    let report = marketplace::ledger::run_due(pool, Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string(&report)?);
    if report.failures > 0 {
        anyhow::bail!(
            "{} items could not be posted (see the log)",
            report.failures
        );
    }
    Ok(())
}

//! Paying hosts: what sessions paid from wallets credited to a host's `host_payable` is
//! transferred to the host's connected account by a periodic run ([`pay_hosts`]), and the
//! ledger settles the host payable against provider clearing. (Sessions paid by card to a
//! connected host are destination charges: the provider pays the host at once.)
//!
//! Three steps per host and currency, so that no transaction waits on the provider:
//! 1. decide under the host's payout account lock: a pending transfer is carried on, else
//!    one is written for what is owed (the host payable less the host's share of destination
//!    charges still in flight) when it reaches the run's minimum ([`MIN_TRANSFER`] by
//!    default);
//! 2. ask the provider with a key derived from the transfer, so a retry after a crash or a
//!    timeout is the same request and the provider makes it once;
//! 3. settle the ledger and mark the transfer paid in one transaction; a refusal marks it
//!    failed (nothing moved, the next run decides afresh).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;
use crate::ledger::service as ledger;
use crate::payments::provider::{NewTransfer, PaymentProvider, ProviderError};
use crate::payments::store::transfers::{self as store, TransferRow};

/// The default minimum (in minor units): below it what is owed waits for a later run, so a
/// few cents do not each cost a transfer.
pub const MIN_TRANSFER: Minor = 100;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TransferReport {
    /// Transfers made and settled in the ledger.
    pub paid: u32,
    /// Transfers the provider refused (nothing moved).
    pub refused: u32,
    /// Hosts that could not be paid this time (the provider unreachable): retried next run.
    pub failures: u32,
}

enum Outcome {
    Paid,
    Refused,
}

/// Transfers what every host with a connected account is owed, once it is at least
/// `minimum`. Each host is its own unit: one failing is logged, counted and retried next run
/// without holding up the rest.
pub async fn pay_hosts(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    minimum: Minor,
    now: DateTime<Utc>,
) -> Result<TransferReport, Error> {
    let mut report = TransferReport::default();
    let due = store::due(&mut *pool.acquire().await?, provider.name()).await?;
    for (host, currency) in due {
        match pay_host(pool, provider, host, currency.trim(), minimum, now).await {
            Ok(Some(Outcome::Paid)) => report.paid += 1,
            Ok(Some(Outcome::Refused)) => report.refused += 1,
            Ok(None) => {}
            Err(e) => {
                report.failures += 1;
                tracing::warn!(%host, %currency, error = %e,
                    "paying a host failed; retrying next run");
            }
        }
    }
    Ok(report)
}

/// Decides, asks and settles one host's transfer in one currency.
async fn pay_host(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    host: Uuid,
    currency: &str,
    minimum: Minor,
    now: DateTime<Utc>,
) -> Result<Option<Outcome>, Error> {
    let Some(transfer) = decide(pool, provider.name(), host, currency, minimum, now).await? else {
        return Ok(None);
    };
    let key = format!("transfer:{}", transfer.id);
    let request = NewTransfer {
        destination: &transfer.destination_account,
        amount: transfer.amount_minor,
        currency: &transfer.currency,
        metadata: BTreeMap::from([
            ("transfer_id".to_owned(), transfer.id.to_string()),
            ("host_id".to_owned(), host.to_string()),
        ]),
        idempotency_key: &key,
    };
    match provider.create_transfer(&request).await {
        Ok(made) => {
            let mut tx = pool.begin().await?;
            let posting = ledger::host_transfer(&mut tx, (&transfer).into(), now).await?;
            store::mark_paid(&mut tx, transfer.id, &made.id, posting, now).await?;
            tx.commit().await?;
            tracing::info!(%host, transfer = %transfer.id, amount = transfer.amount_minor,
                currency, "host paid");
            Ok(Some(Outcome::Paid))
        }
        // no answer, or one we could not read: the provider may have made it; the same key
        // next run finds out
        Err(e @ (ProviderError::Unavailable(_) | ProviderError::Unexpected(_))) => {
            let mut conn = pool.acquire().await?;
            store::mark_attempt(&mut conn, transfer.id, &e.to_string(), false, now).await?;
            Err(Error::Internal(format!("transfer {}: {e}", transfer.id)))
        }
        Err(e) => {
            let mut conn = pool.acquire().await?;
            store::mark_attempt(&mut conn, transfer.id, &e.to_string(), true, now).await?;
            tracing::warn!(%host, transfer = %transfer.id, error = %e,
                "the provider refused a transfer to a host");
            Ok(Some(Outcome::Refused))
        }
    }
}

/// The transfer to make: the pending one, else a new one for what is owed, written before
/// the provider is asked.
async fn decide(
    pool: &PgPool,
    provider: &str,
    host: Uuid,
    currency: &str,
    minimum: Minor,
    now: DateTime<Utc>,
) -> Result<Option<TransferRow>, Error> {
    let mut tx = pool.begin().await?;
    let Some(account) = store::lock_account(&mut tx, host, provider).await? else {
        return Ok(None);
    };
    if let Some(pending) = store::pending(&mut tx, host, currency).await? {
        return Ok(Some(pending));
    }
    let owed = store::owed(&mut tx, host, currency).await?;
    if owed < minimum.max(1) {
        return Ok(None);
    }
    let row = TransferRow {
        id: Uuid::now_v7(),
        host_id: host,
        provider: provider.to_owned(),
        destination_account: account,
        amount_minor: owed,
        currency: currency.to_owned(),
        status: "pending".into(),
        provider_transfer_id: None,
        ledger_posting_id: None,
        failure: None,
        attempts: 0,
        amount_reversed: 0,
        created_at: now,
        updated_at: now,
    };
    store::insert(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(Some(row))
}

/// A host's transfers, newest first.
pub async fn host_transfers(
    pool: &PgPool,
    host: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Vec<TransferRow>, Error> {
    store::of_host(&mut *pool.acquire().await?, host, limit, offset).await
}

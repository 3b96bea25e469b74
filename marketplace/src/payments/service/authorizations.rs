//! Settling card authorizations without anyone asking: a manual-capture card payment of a
//! booking or a session is captured for what its posted bill left owing or what its ended
//! booking keeps, and released otherwise or when it would lapse (rules:
//! [`crate::payments::authorizations`]). A periodic job runs [`settle_authorizations`]; the
//! work is read from the tables each time, so a restart loses nothing.
//!
//! Three steps per payment, so that no transaction waits on the provider:
//! 1. decide, under the payment's lock, and write the decision (`card_authorization_actions`);
//! 2. ask the provider, with a key derived from the payment and the action and the decided
//!    amount, so a retry (another tick, another node, after a crash) is the same request;
//! 3. record the answer as any provider answer is recorded ([`super::pay`]'s `apply`): money
//!    captured comes into the wallet through the ledger once, pays off what the bill left
//!    owing, and a kept fee is then charged from it in the same transaction; a cancel posts
//!    nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::finish;
use super::pay::{apply, Seen};
use crate::error::Error;
use crate::invoices::{self, issue::FeeReason};
use crate::ledger::model::{Cause, Charge, Minor};
use crate::ledger::service as ledger;
use crate::payments::authorizations::{self as rules, Action, Claim, Decision, Reason};
use crate::payments::model::Tracked;
use crate::payments::provider::{IntentStatus, PaymentProvider, PaymentState, ProviderError};
use crate::payments::store::{self, authorizations as auth_store, PaymentRow};

const BATCH: i64 = 200;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AuthorizationReport {
    /// Authorizations captured (for a bill, or a kept fee).
    pub captured: u32,
    /// Authorizations released (nothing owed, or nothing claimed them in time).
    pub cancelled: u32,
    /// Payments the provider had already settled otherwise (captured or cancelled by hand,
    /// lapsed): recorded as the provider has them.
    pub settled_elsewhere: u32,
    pub failures: u32,
}

/// Settles every authorization that became due. Each payment is its own unit: one failing
/// (the provider down) is logged, counted and retried next run without holding up the rest.
pub async fn settle_authorizations(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    now: DateTime<Utc>,
) -> Result<AuthorizationReport, Error> {
    let mut report = AuthorizationReport::default();
    let stale_before = now - provider.authorization_validity();
    let mut after = None;
    loop {
        let batch = auth_store::candidates(
            &mut *pool.acquire().await?,
            provider.name(),
            now,
            stale_before,
            after,
            BATCH,
        )
        .await?;
        for &(_, id) in &batch {
            match settle_one(pool, provider, id, now).await {
                Ok(Some(Settled::Captured)) => report.captured += 1,
                Ok(Some(Settled::Cancelled)) => report.cancelled += 1,
                Ok(Some(Settled::Elsewhere)) => report.settled_elsewhere += 1,
                Ok(None) => {}
                Err(e) => {
                    report.failures += 1;
                    tracing::warn!(payment = %id, error = %e,
                        "settling a card authorization failed; retrying next run");
                }
            }
        }
        if batch.len() < BATCH as usize {
            return Ok(report);
        }
        after = batch.last().copied();
    }
}

enum Settled {
    Captured,
    Cancelled,
    Elsewhere,
}

async fn settle_one(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Settled>, Error> {
    let Some((action, pi)) = decided(pool, provider, id, now).await? else {
        return Ok(None);
    };
    let kind: Action = action.action.parse().map_err(Error::Internal)?;
    let key = format!("auto_{kind}:{id}");
    let answer = match kind {
        Action::Capture => {
            provider
                .capture_payment(&pi, Some(action.amount_minor), &key)
                .await
        }
        Action::Cancel => provider.cancel_payment(&pi, &key).await,
    };
    let state = match answer {
        Ok(state) => state,
        // the payment moved on at the provider (captured or cancelled by hand, lapsed):
        // what it is now is the answer
        Err(ProviderError::InvalidRequest { .. }) => match provider.get_payment(&pi).await {
            Ok(state) => state,
            Err(e) => return Err(attempt_failed(pool, id, e, now).await),
        },
        Err(e) => return Err(attempt_failed(pool, id, e, now).await),
    };
    let outcome = record(pool, id, &state, now).await?;
    Ok(match outcome {
        Some(IntentStatus::Succeeded) if kind == Action::Capture => Some(Settled::Captured),
        Some(IntentStatus::Canceled) if kind == Action::Cancel => Some(Settled::Cancelled),
        Some(_) => Some(Settled::Elsewhere),
        None => None,
    })
}

async fn attempt_failed(pool: &PgPool, id: Uuid, err: ProviderError, now: DateTime<Utc>) -> Error {
    if let Ok(mut conn) = pool.acquire().await {
        if let Err(e) = auth_store::action_failed(&mut conn, id, &err.to_string(), now).await {
            tracing::warn!(payment = %id, error = %e, "could not note the failed attempt");
        }
    }
    Error::Unavailable(format!("payment provider: {err}"))
}

/// Step 1: the decision on the payment (made now if it is due), when it is still to be
/// carried out, with the provider's id of the payment.
async fn decided(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(auth_store::ActionRow, String)>, Error> {
    let mut tx = pool.begin().await?;
    let result = async {
        let Some(row) = store::payment(&mut tx, id, true).await? else {
            return Ok(None);
        };
        let Some(pi) = row.provider_payment_id.clone() else {
            return Ok(None);
        };
        if let Some(a) = auth_store::action(&mut tx, id).await? {
            return Ok(a.done_at.is_none().then_some((a, pi)));
        }
        if row.status != IntentStatus::RequiresCapture.as_str() || row.provider != provider.name() {
            return Ok(None);
        }
        let (claim, detail) = claim(&mut tx, &row, now).await?;
        let validity = provider.authorization_validity();
        let Some(decision) =
            rules::decide(&claim, row.amount_capturable, row.created_at, validity, now)
        else {
            return Ok(None);
        };
        let detail = match decision.reason {
            Reason::Stale => format!(
                "authorized at {}; nothing claimed it within the provider's {} days",
                row.created_at.to_rfc3339(),
                validity.num_days()
            ),
            _ => detail,
        };
        auth_store::insert_action(&mut tx, id, &decision, &detail, now).await?;
        tracing::info!(payment = %id, action = %decision.action, amount = decision.amount,
            reason = %decision.reason, %detail, "card authorization decided");
        Ok(auth_store::action(&mut tx, id).await?.map(|a| (a, pi)))
    }
    .await;
    finish(tx, result).await
}

/// What claims the authorization, read from the tables of what it pays for, and why (for
/// the record).
async fn claim(
    conn: &mut PgConnection,
    row: &PaymentRow,
    now: DateTime<Utc>,
) -> Result<(Claim, String), Error> {
    let open = || Ok((Claim::Open, String::new()));
    let sessions = match (row.booking_id, row.session_id) {
        (None, None) => return open(),
        (booking, session) => auth_store::sessions(conn, booking, session).await?,
    };
    if !sessions.is_empty() {
        if !sessions.iter().all(|s| s.billed()) {
            return open();
        }
        let ids: Vec<Uuid> = sessions.iter().map(|s| s.id).collect();
        let on_account = auth_store::on_account(conn, &ids).await?;
        let debt = ledger::debt(conn, row.user_id, &row.currency).await?;
        let detail = format!(
            "the bills of {} session(s) left {on_account} owing; {debt} owed now",
            ids.len()
        );
        return Ok((Claim::Billed { on_account, debt }, detail));
    }
    let Some(booking) = row.booking_id else {
        return open();
    };
    let Some(b) = auth_store::booking_facts(conn, booking).await? else {
        return open();
    };
    if b.currency != row.currency {
        return Err(Error::Internal(format!(
            "payment {} in {}, its booking in {}",
            row.id, row.currency, b.currency
        )));
    }
    let due = if b.confirmed { b.amount_cents } else { 0 };
    let ended = |refunded: Minor, why: String| {
        let fee = rules::kept_fee(due, refunded, b.kept_by_ledger);
        let detail = format!(
            "{why}: {due} due, {refunded} refunded, {} kept from a hold, {fee} kept by card",
            b.kept_by_ledger
        );
        Ok((Claim::Ended { fee }, detail))
    };
    match b.status.as_str() {
        // the refund decision is settled against any hold first (the ledger posts it)
        "cancelled" | "preempted" if b.refund_posted => ended(
            b.refund_cents.unwrap_or(0),
            format!(
                "booking {}: {}% refund",
                b.status,
                b.refund_percent.unwrap_or(0)
            ),
        ),
        "expired" => ended(due, "booking expired unconfirmed".into()),
        // a hold is captured as the fee by the ledger first
        "no_show" if !b.open_hold => ended(0, "no-show".into()),
        "completed"
            if !b.open_hold
                && b.completed_at
                    .is_some_and(|at| at <= now - ledger::COMPLETED_GRACE) =>
        {
            ended(0, "booking completed without charging".into())
        }
        _ => open(),
    }
}

/// Step 3: the provider's answer, recorded with what it brings into the ledger, and the
/// decision marked done once the payment is settled. Answers the payment's status when done.
async fn record(
    pool: &PgPool,
    id: Uuid,
    state: &PaymentState,
    now: DateTime<Utc>,
) -> Result<Option<IntentStatus>, Error> {
    let mut tx = pool.begin().await?;
    let result = async {
        let row = store::payment(&mut tx, id, true)
            .await?
            .ok_or(Error::NotFound("payment"))?;
        let seen = Seen {
            provider_payment_id: &state.id,
            tracked: Tracked {
                status: state.status,
                amount_capturable: state.amount_capturable,
                amount_received: state.amount_received,
                decline: state.decline.clone(),
                as_of: now,
            },
            client_secret: None,
            next_action: None,
            next_action_url: None,
        };
        let row = apply(&mut tx, &row, &seen, None, now).await?;
        // when the money came in before (a webhook), the fee was charged then; this is a
        // no-op, or the fee of a capture that raced the decision
        charge_claimed_fee(&mut tx, &row, now).await?;
        let status = row.status()?;
        // a concurrent worker recorded it first (the payment's lock orders us)
        let done = auth_store::action(&mut tx, id)
            .await?
            .is_none_or(|a| a.done_at.is_some());
        if done {
            return Ok(None);
        }
        if matches!(status, IntentStatus::Succeeded | IntentStatus::Canceled) {
            auth_store::action_done(&mut tx, id, status.as_str(), now).await?;
            return Ok(Some(status));
        }
        let why = format!("the provider answered {status}");
        auth_store::action_failed(&mut tx, id, &why, now).await?;
        Ok(None)
    }
    .await;
    finish(tx, result).await
}

/// A kept fee captured from the card: the money is in the wallet (it came in through the
/// ledger's top-up, paying off any debt first), and the fee is charged from it, split
/// 20/80 and invoiced as the ledger does every booking fee. Once per payment (the posting's
/// key; the invoice is once per booking); in the caller's transaction, which has the payment
/// locked.
pub(super) async fn charge_claimed_fee(
    conn: &mut PgConnection,
    row: &PaymentRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(booking) = row.booking_id.filter(|_| row.amount_received > 0) else {
        return Ok(());
    };
    let Some(a) = auth_store::action(conn, row.id).await? else {
        return Ok(());
    };
    if a.reason != Reason::Fee.as_str() {
        return Ok(());
    }
    let b = auth_store::booking_facts(conn, booking)
        .await?
        .ok_or(Error::NotFound("booking"))?;
    let fee = a.amount_minor.min(row.amount_received);
    ledger::capture(
        conn,
        row.user_id,
        &row.currency,
        None,
        &Charge::fee(b.host_id, fee),
        format!("card_fee:{}", row.id),
        "booking ended without charging: the fee kept, paid by card",
        Cause {
            booking_id: Some(booking),
            ..Cause::default()
        },
        now,
    )
    .await?;
    // invoiced as the ledger invoices a fee it keeps from a hold (once per booking)
    let reason = match b.refund_percent {
        Some(refunded) if b.status != "no_show" => FeeReason::Cancellation {
            kept_percent: 100 - refunded,
        },
        _ => FeeReason::NoCharge,
    };
    invoices::issue::booking_fee(conn, booking, fee, reason, now).await?;
    Ok(())
}

/// The decision on a payment, if one was made (for tests and the admin's eyes).
pub async fn authorization_action(
    pool: &PgPool,
    payment: Uuid,
) -> Result<Option<(Decision, auth_store::ActionRow)>, Error> {
    let Some(a) = auth_store::action(&mut *pool.acquire().await?, payment).await? else {
        return Ok(None);
    };
    let decision = Decision {
        action: a.action.parse().map_err(Error::Internal)?,
        amount: a.amount_minor,
        reason: a.reason.parse().map_err(Error::Internal)?,
    };
    Ok(Some((decision, a)))
}

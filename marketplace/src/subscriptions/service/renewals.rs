//! Renewals and dunning, for the periodic job (`csms subscriptions renew-due` runs it once):
//! a period that ended is renewed at the product's price — or the subscription ends, when it
//! was cancelled — and a renewal the wallet cannot cover makes it past due: retried after 1,
//! 3 and 7 days (benefits continue meanwhile), then ended as unpaid. The subscriber is told
//! by e-mail, through the outbox, in the same transaction.
//!
//! The work list is the subscriptions table itself (`current_period_end`, `next_attempt_at`),
//! so restarts lose nothing. Each subscription is handled in its own transaction under its
//! row lock and re-checked once locked: two job runs at once charge once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::idem::{self, Answer};
use super::pay::{self, Due};
use super::{finish, lock_own, micros, view};
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::plumbing::{Notifier, Outbox};
use crate::subscriptions::model::{next_attempt, ChargeKind, EndReason, Group, Status};
use crate::subscriptions::period::period;
use crate::subscriptions::store::{self, charges, spans, Subscription};

const BATCH: i64 = 200;
/// A job that was down for months catches up one period per round.
const MAX_ROUNDS: usize = 24;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewalReport {
    pub renewed: u32,
    /// Renewals (or retries) the wallet could not cover.
    pub failed: u32,
    /// Past-due subscriptions paid on a retry.
    pub recovered: u32,
    /// Cancelled at their period end, unpaid after the last retry, or of a deleted listing.
    pub ended: u32,
    /// Subscriptions whose step failed (logged, tried again next run).
    pub errors: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Renewed,
    Failed,
    Recovered,
    Ended,
    /// Someone else did it meanwhile.
    Nothing,
}

pub async fn run_due(pool: &PgPool, now: DateTime<Utc>) -> Result<RenewalReport, Error> {
    let now = micros(now);
    let mut report = RenewalReport::default();
    let mut broken: Vec<Uuid> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let ids = store::due(&mut *pool.acquire().await?, now, BATCH).await?;
        let ids: Vec<Uuid> = ids.into_iter().filter(|id| !broken.contains(id)).collect();
        if ids.is_empty() {
            break;
        }
        let mut moved = false;
        for id in ids {
            match step(pool, id, now).await {
                Ok(outcome) => {
                    moved |= outcome != Outcome::Nothing;
                    match outcome {
                        Outcome::Renewed => report.renewed += 1,
                        Outcome::Failed => report.failed += 1,
                        Outcome::Recovered => report.recovered += 1,
                        Outcome::Ended => report.ended += 1,
                        Outcome::Nothing => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(subscription = %id, error = %e, "subscription renewal failed");
                    report.errors += 1;
                    broken.push(id);
                }
            }
        }
        if !moved {
            break;
        }
    }
    Ok(report)
}

async fn step(pool: &PgPool, id: Uuid, now: DateTime<Utc>) -> Result<Outcome, Error> {
    let mut tx = pool.begin().await?;
    let result = async {
        let Some(mut s) = store::get(&mut tx, id, true).await? else {
            return Ok(Outcome::Nothing);
        };
        let outcome = match s.status()? {
            Status::Active if s.current_period_end <= now => renew(&mut tx, &mut s, now).await?,
            Status::PastDue if s.next_attempt_at.is_some_and(|t| t <= now) => {
                collect(&mut tx, &mut s, None, now).await?
            }
            _ => return Ok(Outcome::Nothing),
        };
        store::save(&mut tx, &s, now).await?;
        Ok(outcome)
    }
    .await;
    finish(tx, result).await
}

async fn renew(
    conn: &mut PgConnection,
    s: &mut Subscription,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let end = s.current_period_end;
    if s.cancel_at_period_end {
        store::end(s, EndReason::Cancelled, end);
        spans::close(conn, s.id, end).await?;
        tell(
            conn,
            s,
            "Your subscription has ended",
            "as you asked, at the end of its period; nothing more will be charged",
        )
        .await?;
        return Ok(Outcome::Ended);
    }
    if s.group()? == Group::FeaturedListing && !listing_kept(conn, s).await? {
        store::end(s, EndReason::Replaced, end);
        spans::close(conn, s.id, end).await?;
        return Ok(Outcome::Ended);
    }
    let n = u32::try_from(s.period_number).unwrap_or(1) + 1;
    let (start, new_end) = period(s.anchor_at, n)
        .ok_or_else(|| Error::Internal("a period past the calendar's end".into()))?;
    // a catalogue price change applies from the next renewal
    if let Some(price) = store::price(conn, &s.product_code, s.currency.trim()).await? {
        s.price_minor = price;
    }
    s.period_number = i32::try_from(n).unwrap_or(i32::MAX);
    s.current_period_start = start;
    s.current_period_end = new_end;
    match collect(conn, s, None, now).await? {
        Outcome::Recovered => Ok(Outcome::Renewed),
        other => Ok(other),
    }
}

/// A featured listing still exists and is still its subscriber's.
async fn listing_kept(conn: &mut PgConnection, s: &Subscription) -> Result<bool, Error> {
    let Some(id) = s.listing_id else {
        return Ok(false);
    };
    Ok(store::listing_owner(conn, id)
        .await?
        .is_some_and(|(host, _)| host == s.user_id))
}

/// Charges the current period's renewal (the next attempt). Failing: past due with the next
/// retry scheduled, or ended when the retries are used up. `actor` is the subscriber paying
/// by hand (`retry`), whose failure is a 409 instead of a recorded attempt.
async fn collect(
    conn: &mut PgConnection,
    s: &mut Subscription,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let attempt = charges::attempts(conn, s.id, s.current_period_start).await? + 1;
    let due = Due {
        kind: ChargeKind::Renewal,
        period: s.period(),
        amount: s.price_minor,
        attempt,
        actor,
    };
    let paid = if actor.is_some() {
        Some(pay::pay(conn, s, due, now).await?)
    } else {
        pay::attempt(conn, s, due, now).await?
    };
    if paid.is_some() {
        s.status = Status::Active.as_str().into();
        s.next_attempt_at = None;
        if s.past_due_since.take().is_some() {
            tell(
                conn,
                s,
                "Subscription payment received",
                "it is paid up again",
            )
            .await?;
        }
        return Ok(Outcome::Recovered);
    }
    let since = *s.past_due_since.get_or_insert(now);
    match next_attempt(since, u32::try_from(attempt).unwrap_or(u32::MAX)) {
        Some(next) => {
            s.status = Status::PastDue.as_str().into();
            s.next_attempt_at = Some(next);
            let body = format!(
                "your wallet did not cover the renewal of {} ({} {}); we will try again on {}. \
                 Top up your wallet, or pay now with POST /api/subscriptions/{}/retry",
                s.product_code,
                s.price_minor,
                s.currency.trim(),
                next.format("%Y-%m-%d %H:%M UTC"),
                s.id
            );
            tell(conn, s, "Your subscription payment failed", &body).await?;
            Ok(Outcome::Failed)
        }
        None => {
            store::end(s, EndReason::Unpaid, now);
            spans::close(conn, s.id, now).await?;
            tell(
                conn,
                s,
                "Your subscription has ended",
                "its renewal stayed unpaid after the last retry",
            )
            .await?;
            Ok(Outcome::Ended)
        }
    }
}

async fn tell(
    conn: &mut PgConnection,
    s: &Subscription,
    subject: &str,
    what: &str,
) -> Result<(), Error> {
    let body = format!("Subscription {} ({}): {what}.", s.id, s.product_code);
    Outbox.tell_user(conn, s.user_id, subject, &body).await
}

/// `POST /api/subscriptions/{id}/retry`: the subscriber pays a past-due renewal now
/// (409 `insufficient_funds` when the wallet still cannot cover it; nothing is recorded).
pub async fn retry(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Answer, Error> {
    let key = crate::plumbing::idempotency::checked(key)?;
    let now = micros(now);
    let scope = format!("POST /api/subscriptions/{id}/retry");
    let mut tx = pool.begin().await?;
    if let Some(answer) = idem::claim(&mut tx, caller, &scope, key, &id, now).await? {
        tx.rollback().await?;
        return Ok(answer);
    }
    let result = async {
        let mut s = lock_own(&mut tx, caller, id).await?;
        if s.status()? != Status::PastDue {
            return Err(Error::Conflict {
                code: "not_past_due",
                detail: "only a past-due subscription has a payment to retry".into(),
            });
        }
        collect(&mut tx, &mut s, Some(caller.id), now).await?;
        store::save(&mut tx, &s, now).await?;
        let view = view(&mut tx, s).await?;
        idem::save(&mut tx, caller, &scope, key, 200, &view).await?;
        Ok(Answer::New(Box::new(view)))
    }
    .await;
    finish(tx, result).await
}

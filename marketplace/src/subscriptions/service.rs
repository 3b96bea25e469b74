//! The use cases. Each runs in one transaction that locks the subscription's row first
//! (then the ledger takes the subscriber's wallet): the money moved and the subscription's
//! new state commit together or not at all.

mod change;
mod idem;
mod pay;
mod renewals;
mod subscribe;

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use change::{change, ChangeInput};
pub use idem::Answer;
pub use renewals::{retry, run_due, RenewalReport};
pub use subscribe::{subscribe, SubscribeInput};

use super::entitlements::{self, Benefits};
use super::model::{EndReason, Status};
use super::store::{self, charges, spans, Subscription};
use super::view::{ChargeView, ProductView, SubscriptionList, SubscriptionView};
use crate::accounts::{AuthUser, Role};
use crate::error::Error;

/// The database keeps microseconds: work with what will be stored, so keys and answers
/// agree with the rows read back.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

use crate::plumbing::tx::finish;

pub async fn products(pool: &PgPool) -> Result<Vec<ProductView>, Error> {
    let mut conn = pool.acquire().await?;
    Ok(store::catalogue(&mut conn)
        .await?
        .into_iter()
        .map(|(p, prices)| ProductView::new(p, prices))
        .collect())
}

/// The caller's subscriptions (admins: anyone's, with `user_id`).
pub async fn list(
    pool: &PgPool,
    caller: &AuthUser,
    user_id: Option<Uuid>,
) -> Result<SubscriptionList, Error> {
    let user = match user_id {
        Some(u) if u != caller.id => {
            caller.require(&[Role::Admin])?;
            u
        }
        _ => caller.id,
    };
    let mut conn = pool.acquire().await?;
    let rows = store::of_user(&mut conn, user).await?;
    let items = views(&mut conn, rows).await?;
    Ok(SubscriptionList { items })
}

pub async fn entitlements(
    pool: &PgPool,
    caller: &AuthUser,
    now: DateTime<Utc>,
) -> Result<Benefits, Error> {
    entitlements::benefits_at(&mut *pool.acquire().await?, caller.id, now).await
}

async fn views(
    conn: &mut PgConnection,
    rows: Vec<Subscription>,
) -> Result<Vec<SubscriptionView>, Error> {
    let ids: Vec<Uuid> = rows.iter().map(|s| s.id).collect();
    let mut all = charges::of_subscriptions(conn, &ids).await?;
    let names: Vec<(String, String)> = store::catalogue(conn)
        .await?
        .into_iter()
        .map(|(p, _)| (p.code, p.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|s| {
            let (mine, rest) = all.drain(..).partition(|c| c.subscription_id == s.id);
            all = rest;
            let name = names
                .iter()
                .find(|(code, _)| *code == s.product_code)
                .map_or_else(|| s.product_code.clone(), |(_, n)| n.clone());
            let charges: Vec<ChargeView> = mine.into_iter().map(Into::into).collect();
            SubscriptionView::new(s, name, charges)
        })
        .collect())
}

async fn view(conn: &mut PgConnection, s: Subscription) -> Result<SubscriptionView, Error> {
    Ok(views(conn, vec![s]).await?.remove(0))
}

/// The subscription, locked, if the caller may act on it (its subscriber, or an admin).
async fn lock_own(
    conn: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
) -> Result<Subscription, Error> {
    match store::get(conn, id, true).await? {
        Some(s) if s.user_id == caller.id || caller.role == Role::Admin => Ok(s),
        _ => Err(Error::NotFound("subscription")),
    }
}

fn ended() -> Error {
    Error::Conflict {
        code: "subscription_ended",
        detail: "the subscription has ended; subscribe again".into(),
    }
}

/// Cancels at the period end: benefits last until then and nothing more is charged. A
/// past-due subscription (its period unpaid) ends at once.
pub async fn cancel(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, Error> {
    let now = micros(now);
    let mut tx = pool.begin().await?;
    let result = async {
        let mut s = lock_own(&mut tx, caller, id).await?;
        match s.status()? {
            Status::Ended => return Err(ended()),
            Status::PastDue => {
                store::end(&mut s, EndReason::Cancelled, now);
                spans::close(&mut tx, s.id, now).await?;
            }
            Status::Active if !s.cancel_at_period_end => {
                s.cancel_at_period_end = true;
                s.cancel_requested_at = Some(now);
            }
            Status::Active => {}
        }
        store::save(&mut tx, &s, now).await?;
        view(&mut tx, s).await
    }
    .await;
    finish(tx, result).await
}

/// Undoes a pending cancellation: the subscription renews again.
pub async fn resume(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, Error> {
    let now = micros(now);
    let mut tx = pool.begin().await?;
    let result = async {
        let mut s = lock_own(&mut tx, caller, id).await?;
        if s.status()? == Status::Ended {
            return Err(ended());
        }
        if s.cancel_at_period_end {
            s.cancel_at_period_end = false;
            s.cancel_requested_at = None;
            store::save(&mut tx, &s, now).await?;
        }
        view(&mut tx, s).await
    }
    .await;
    finish(tx, result).await
}

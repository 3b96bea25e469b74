//! Moving a subscription's money: the ledger posting (VAT apart), the charge row that names
//! it and its invoice (a credit note for a credit), in the caller's transaction (which holds the
//! subscription's row lock).

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;
use crate::ledger::service::{post_subscription, Direction, SubscriptionPosting};
use crate::subscriptions::invoice;
use crate::subscriptions::model::{posting_key, ChargeKind, ChargeStatus};
use crate::subscriptions::store::charges::{self, NewCharge};
use crate::subscriptions::store::Subscription;
use crate::subscriptions::tax::{self, ChargeTax};

/// One charge (or credit) to make.
#[derive(Debug, Clone, Copy)]
pub struct Due {
    pub kind: ChargeKind,
    pub period: (DateTime<Utc>, DateTime<Utc>),
    pub amount: Minor,
    pub attempt: i16,
    pub actor: Option<Uuid>,
}

fn memo(s: &Subscription, due: &Due) -> String {
    let (from, to) = due.period;
    let what = match due.kind {
        ChargeKind::ProrationCredit => "credit on changing to",
        ChargeKind::Proration => "prorated change to",
        ChargeKind::Initial | ChargeKind::Renewal => "subscription",
    };
    format!(
        "{what} {} {} to {}",
        s.product_code,
        from.format("%Y-%m-%d"),
        to.format("%Y-%m-%d")
    )
}

/// Posts the money and records the paid charge; answers the charge's id. A fee the wallet
/// cannot cover is a 409 `insufficient_funds` and writes nothing.
pub async fn pay(
    conn: &mut PgConnection,
    s: &Subscription,
    due: Due,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let group = s.group()?;
    let tax = tax::of_charge(conn, s, due.kind, due.amount).await?;
    let posting = SubscriptionPosting {
        subscriber: s.user_id,
        revenue: group.revenue_account(),
        direction: match due.kind {
            ChargeKind::ProrationCredit => Direction::Credit,
            _ => Direction::Fee,
        },
        amount: due.amount,
        tax: tax.minor,
        currency: s.currency.trim(),
        key: posting_key(s.id, due.period.0, due.kind, due.attempt),
        memo: memo(s, &due),
        actor: due.actor,
    };
    let posting_id = post_subscription(conn, &posting, now).await?;
    let id = Uuid::now_v7();
    let paid = Recorded {
        status: ChargeStatus::Paid,
        posting: Some(posting_id),
        tax: &tax,
    };
    record(conn, s, &due, id, paid, now).await?;
    invoice::invoice_charge(conn, id, now).await?;
    Ok(id)
}

/// Tries to pay; a wallet that cannot cover the fee records a failed attempt instead and
/// answers `None`. The attempt runs under a savepoint, so a refused posting leaves the
/// caller's transaction usable.
pub async fn attempt(
    conn: &mut PgConnection,
    s: &Subscription,
    due: Due,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let mut savepoint = conn.begin().await?;
    match pay(&mut savepoint, s, due, now).await {
        Ok(id) => {
            savepoint.commit().await?;
            Ok(Some(id))
        }
        Err(Error::Conflict {
            code: "insufficient_funds",
            ..
        }) => {
            savepoint.rollback().await?;
            let id = Uuid::now_v7();
            let failed = Recorded {
                status: ChargeStatus::Failed,
                posting: None,
                tax: &ChargeTax::default(),
            };
            record(conn, s, &due, id, failed, now).await?;
            Ok(None)
        }
        Err(other) => {
            savepoint.rollback().await?;
            Err(other)
        }
    }
}

/// How a charge ended: paid (its posting and VAT) or failed (neither).
struct Recorded<'a> {
    status: ChargeStatus,
    posting: Option<Uuid>,
    tax: &'a ChargeTax,
}

async fn record(
    conn: &mut PgConnection,
    s: &Subscription,
    due: &Due,
    id: Uuid,
    outcome: Recorded<'_>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Recorded {
        status,
        posting,
        tax,
    } = outcome;
    let new = NewCharge {
        id,
        subscription_id: s.id,
        user_id: s.user_id,
        product_code: &s.product_code,
        kind: due.kind,
        period: due.period,
        amount: due.amount,
        currency: s.currency.trim(),
        tax: tax.minor,
        tax_rate: tax.rate.as_ref(),
        status,
        attempt: due.attempt,
        posting,
        failure_code: (status == ChargeStatus::Failed).then_some("insufficient_funds"),
        at: now,
    };
    if charges::insert(conn, &new).await? {
        Ok(())
    } else {
        // the row lock makes this unreachable; refuse rather than post twice
        Err(Error::Conflict {
            code: "already_charged",
            detail: "this charge was already made".into(),
        })
    }
}

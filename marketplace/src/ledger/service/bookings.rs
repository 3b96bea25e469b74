//! Bookings' money, in the bookings' own transactions: confirming holds the booking's amount
//! on the driver's wallet, cancelling settles that hold by the refund decision, and a
//! booking that ends without a bill (a no-show) has its hold captured as a fee.
//!
//! Bookings call these (never the other way round): what the ledger needs of a booking comes
//! in as plain data ([`BookedAmount`]) or is read from its own sources.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{capture, planned, write};
use crate::error::Error;
use crate::invoices::{self, issue::FeeReason};
use crate::ledger::model::{Cause, Charge, Minor, PostingKind};
use crate::ledger::plan::{self, Funds};
use crate::ledger::store::{self, holds, sources, NewPosting};

/// What the ledger needs of a booking to hold its price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookedAmount<'a> {
    pub booking_id: Uuid,
    pub driver_id: Uuid,
    pub currency: &'a str,
    /// The booking's price, in minor units.
    pub amount: Minor,
}

/// What holding a booking's amount does when the driver's wallet does not cover it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldPolicy {
    /// Hold it when the wallet covers it, else hold nothing. Only for money arriving for a
    /// booking that is already confirmed (a card payment's money reaching the wallet): the
    /// booking was secured when it was confirmed.
    IfFunded,
    /// The wallet must cover it: 409 `insufficient_funds` (a wallet payment of a booking).
    Required,
    /// Confirming a booking: the wallet hold, or else a card authorization of the booking
    /// that covers its amount (answers `None`: the money is secured at the provider); with
    /// neither, 409 `payment_required` and the booking stays pending.
    Secured,
}

/// Holds the booking's amount on its driver's wallet, in the caller's transaction (the
/// booking's confirmation). Answers the hold, or `None` when nothing was held (nothing to
/// pay, a card authorization secures it, or not funded under [`HoldPolicy::IfFunded`]). A
/// booking already holding keeps its hold.
pub async fn hold_for_booking(
    conn: &mut PgConnection,
    booking: BookedAmount<'_>,
    actor: Option<Uuid>,
    policy: HoldPolicy,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let amount = booking.amount;
    if amount <= 0 {
        return Ok(None);
    }
    let (driver, currency) = (booking.driver_id, booking.currency);
    if let Some(h) = holds::open_for_booking(conn, booking.booking_id, false).await? {
        return Ok(Some(h.id));
    }
    // a look without locking (or creating a wallet) first: most drivers hold no money yet
    let balance = store::wallet_balance(conn, driver, currency).await?;
    if policy != HoldPolicy::Required && balance < amount {
        return not_funded(conn, booking, policy, balance).await;
    }
    // `hold` locks the balances and plans on them: a wallet that cannot cover it is refused
    // there, before anything is written, so the transaction goes on without the hold
    match super::hold(
        conn,
        driver,
        Some(booking.booking_id),
        currency,
        amount,
        actor,
        now,
    )
    .await
    {
        Ok(id) => Ok(Some(id)),
        Err(Error::Conflict {
            code: "insufficient_funds",
            ..
        }) if policy != HoldPolicy::Required => not_funded(conn, booking, policy, balance).await,
        Err(other) => Err(other),
    }
}

/// The wallet does not cover the booking: nothing held under `IfFunded`; under `Secured`
/// a card authorization of the booking will do, else `payment_required`.
async fn not_funded(
    conn: &mut PgConnection,
    booking: BookedAmount<'_>,
    policy: HoldPolicy,
    balance: Minor,
) -> Result<Option<Uuid>, Error> {
    let (amount, currency) = (booking.amount, booking.currency);
    if policy == HoldPolicy::IfFunded
        || sources::card_authorization_covers(conn, booking.booking_id, currency, amount).await?
    {
        return Ok(None);
    }
    Err(super::secured::payment_required(balance, amount, currency))
}

/// Posts the booking's refund decision against its hold, in the caller's transaction (the
/// cancellation that decided it): the refund goes back to the driver (paying off any debt
/// first), the fee kept is split 20/80, the hold closes and the decision is marked posted.
/// Without a hold nothing was paid: the decision is left for [`super::run_due`], which
/// marks it posted with nothing to move. Answers the posting, if one was made.
pub async fn post_booking_refund(
    conn: &mut PgConnection,
    booking_id: Uuid,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let Some(r) = sources::refund_of_booking(conn, booking_id).await? else {
        return Ok(None);
    };
    if r.posted_at.is_some() {
        return Ok(None);
    }
    let Some(h) = holds::open_for_booking(conn, booking_id, true).await? else {
        return Ok(None);
    };
    if h.currency != r.currency {
        return Err(Error::Internal(format!(
            "booking {booking_id}: hold in {}, refund in {}",
            h.currency, r.currency
        )));
    }
    let lock = store::lock_driver(conn, r.driver_id, &h.currency).await?;
    let funds = Funds {
        wallet: lock.wallet,
        hold: h.remaining_minor,
        debt: lock.debt,
    };
    let plan = plan::refund_hold(r.driver_id, r.host_id, funds, r.due_cents, r.amount_cents)
        .map_err(planned)?;
    let mut posted = None;
    if let Some(plan) = plan {
        let memo = format!(
            "booking cancelled: {}% refund ({} back, {} kept)",
            r.percent, plan.refunded, plan.kept
        );
        let posting = NewPosting::new(
            PostingKind::Refund,
            &h.currency,
            format!("booking_refund:{}", r.id),
            now,
        )
        .memo(memo)
        .cause(Cause {
            user_id: actor,
            booking_id: Some(booking_id),
            booking_refund_id: Some(r.id),
            ..Cause::default()
        })
        .hold(h.id);
        posted = Some(write(conn, &posting, &plan.entries).await?.id());
        let reason = FeeReason::Cancellation {
            kept_percent: 100 - r.percent,
        };
        invoices::issue::booking_fee(conn, booking_id, plan.kept, reason, now).await?;
    }
    holds::close(conn, h.id, now).await?;
    sources::mark_refund_posted(conn, r.id, now).await?;
    Ok(posted)
}

/// A completed booking's hold waits this long for a charging session to bill it.
pub const COMPLETED_GRACE: Duration = Duration::minutes(15);

/// Captures the whole hold of a booking that ended without a bill — a no-show, or a
/// completed booking nobody charged on — as the booking's fee (split 20/80), in the
/// caller's transaction. `false` when the hold no longer qualifies.
pub async fn settle_ended_hold(
    conn: &mut PgConnection,
    hold_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let Some(h) = holds::by_id(conn, hold_id, true).await? else {
        return Ok(false);
    };
    let qualifies = holds::ended_without_bill(conn, now, COMPLETED_GRACE, 1, Some(hold_id))
        .await?
        .contains(&hold_id);
    let Some(booking) = h.booking_id.filter(|_| qualifies && h.is_open()) else {
        return Ok(false);
    };
    let host = sources::booking_host(conn, booking)
        .await?
        .ok_or(Error::NotFound("booking"))?;
    let fee = Charge::fee(host, h.remaining_minor);
    capture(
        conn,
        h.driver_id,
        &h.currency,
        Some(hold_id),
        &fee,
        format!("hold_fee:{hold_id}"),
        "booking ended without charging: the booking's price is kept",
        Cause {
            booking_id: Some(booking),
            ..Cause::default()
        },
        now,
    )
    .await?;
    let kept = h.remaining_minor;
    invoices::issue::booking_fee(conn, booking, kept, FeeReason::NoCharge, now).await?;
    Ok(true)
}

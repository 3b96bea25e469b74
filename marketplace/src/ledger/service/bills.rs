//! Charging sessions' bills: the first revision is captured against the booking's hold
//! (then the wallet, then on account) and split host / commission / insurance / tax as the
//! bill says; a later revision posts only its difference to the one before. Each posted
//! revision is invoiced in the same transaction (a later one cancelling the earlier's
//! invoice with a credit note).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{capture, planned, withhold, write};
use crate::error::Error;
use crate::invoices;
use crate::ledger::model::{Cause, Minor, PostingKind};
use crate::ledger::plan::{self, Funds};
use crate::ledger::store::shares::{self, StoredShare};
use crate::ledger::store::{self, holds, sources, NewPosting, Posted};

/// Posts a session bill (and, first, any earlier revision not posted yet), in the caller's
/// transaction, and marks it posted. A bill already posted is left alone. Answers whether
/// this call posted it.
pub async fn post_session_bill(
    conn: &mut PgConnection,
    bill_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    // the chain of revisions up to this one, oldest first, stopping at a posted one
    let mut chain = Vec::new();
    let mut next = Some(bill_id);
    while let Some(id) = next {
        let bill = sources::bill(conn, id)
            .await?
            .ok_or(Error::NotFound("session bill"))?;
        if bill.posted_at.is_some() {
            chain.push((bill, true));
            break;
        }
        next = bill.supersedes;
        chain.push((bill, false));
    }
    chain.reverse();
    if chain.last().is_some_and(|(_, posted)| *posted) {
        return Ok(false);
    }
    let mut before: Option<sources::SessionBill> = None;
    for (bill, posted) in chain {
        if !posted {
            post_one(conn, &bill, before.as_ref(), now).await?;
            sources::mark_bill_posted(conn, bill.id, now).await?;
            invoices::issue::session_bill(conn, bill.id, now).await?;
        }
        before = Some(bill);
    }
    Ok(true)
}

async fn post_one(
    conn: &mut PgConnection,
    bill: &sources::SessionBill,
    before: Option<&sources::SessionBill>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let cause = Cause {
        booking_id: bill.booking_id,
        session_id: Some(bill.session_id),
        session_bill_id: Some(bill.id),
        ..Cause::default()
    };
    let key = format!("session_bill:{}", bill.id);
    let Some(before) = before else {
        let ours = |h: &holds::Hold| h.currency == bill.currency && h.driver_id == bill.driver_id;
        let booked = match bill.booking_id {
            Some(b) => holds::open_for_booking(conn, b, true).await?.filter(ours),
            None => None,
        };
        let own = holds::open_for_session(conn, bill.session_id, true)
            .await?
            .filter(ours);
        // a booked session that charged past its booking topped up a hold of its own: that
        // goes back to the wallet, and the capture takes the booking's hold, then the wallet
        let hold = match (booked, own) {
            (Some(booked), Some(own)) => {
                super::release(conn, own.id, None, None, now).await?;
                Some(booked)
            }
            (booked, own) => booked.or(own),
        };
        let memo = "charging session";
        capture(
            conn,
            bill.driver_id,
            &bill.currency,
            hold.map(|h| h.id),
            &bill.charge(),
            key,
            memo,
            cause,
            now,
        )
        .await?;
        return Ok(());
    };
    if before.currency != bill.currency {
        return Err(Error::Internal(format!(
            "bill {} is in {}, the revision it corrects in {}",
            bill.id, bill.currency, before.currency
        )));
    }
    let lock = store::lock_driver(conn, bill.driver_id, &bill.currency).await?;
    let funds = Funds {
        wallet: lock.wallet,
        hold: 0,
        debt: lock.debt,
    };
    let delta = bill.charge().minus(&before.charge());
    let host = delta.host;
    let open = shares::open_of_session(conn, bill.session_id, host).await?;
    let withheld_now = open.iter().map(|s| s.share().withheld()).sum();
    let Some(adjusted) =
        plan::adjust(bill.driver_id, funds, &delta, withheld_now).map_err(planned)?
    else {
        return Ok(());
    };
    // a fall first shrinks what this session's shares still withhold and still count as
    // owed, so the debt it cancels is not mistaken for a payment
    shrink(
        conn,
        &open,
        adjusted.unwithheld,
        adjusted.debt_cancelled,
        now,
    )
    .await?;
    let memo = format!(
        "charging session bill corrected (revision {})",
        bill.revision
    );
    let posting = NewPosting::new(PostingKind::Adjustment, &bill.currency, key, now)
        .memo(memo)
        .cause(cause);
    if let Posted::New(id) = write(conn, &posting, &adjusted.entries).await? {
        let session = Some(bill.session_id);
        let (owed, held) = (adjusted.on_account, adjusted.withheld);
        withhold(
            conn,
            id,
            bill.driver_id,
            &bill.currency,
            session,
            host,
            owed,
            held,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Takes `unwithheld` of the host's withheld share and `cancelled` of the debt off a
/// session's open shares, newest first.
async fn shrink(
    conn: &mut PgConnection,
    open: &[StoredShare],
    mut unwithheld: Minor,
    mut cancelled: Minor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    for s in open {
        if unwithheld <= 0 && cancelled <= 0 {
            break;
        }
        let figures = s.share();
        let less_share = unwithheld.min(figures.withheld()).max(0);
        let less_owed = cancelled.min(figures.outstanding()).max(0);
        unwithheld -= less_share;
        cancelled -= less_owed;
        let next = StoredShare {
            share_minor: s.share_minor - less_share,
            owed_minor: s.owed_minor - less_owed,
            ..s.clone()
        };
        shares::update(conn, &next, now).await?;
    }
    Ok(())
}

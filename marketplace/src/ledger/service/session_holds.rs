//! Money secured for a charging session that no booking pays for (a walk-up start from the
//! app, a driver's own card at the station): a hold on the wallet, tied to the session. It is
//! captured by the session's bill, topped up from the wallet while the session charges past
//! it, and released when the session never started.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{planned, secured::session_payment_required, write};
use crate::error::Error;
use crate::ledger::model::{Cause, Minor, PostingKind};
use crate::ledger::plan::{self, Funds};
use crate::ledger::store::{self, holds, sources, NewPosting};

/// How much a session's hold asks of the wallet: `target` (the estimate, capped) when the
/// wallet has it, else what the wallet has as long as that is at least `minimum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldAsk {
    pub target: Minor,
    pub minimum: Minor,
}

/// Holds money for the session (in the caller's transaction). 409 `payment_required` when
/// the wallet has less than the minimum. Answers what was held (0 when nothing is needed).
pub async fn hold_for_session(
    conn: &mut PgConnection,
    driver: Uuid,
    session: Uuid,
    currency: &str,
    ask: HoldAsk,
    now: DateTime<Utc>,
) -> Result<Minor, Error> {
    if ask.target <= 0 {
        return Ok(0);
    }
    let lock = store::lock_driver(conn, driver, currency).await?;
    let minimum = ask.minimum.clamp(1, ask.target);
    if lock.wallet < minimum {
        return Err(session_payment_required(lock.wallet, minimum, currency));
    }
    let amount = ask.target.min(lock.wallet);
    let id = Uuid::now_v7();
    holds::insert(conn, id, driver, None, Some(session), currency, amount, now).await?;
    let funds = Funds {
        wallet: lock.wallet,
        ..Funds::default()
    };
    let entries = plan::hold(driver, funds, amount).map_err(planned)?;
    // keyed by the hold: a session revived after its hold was given back gets a new one
    let posting = NewPosting::new(
        PostingKind::Hold,
        currency,
        format!("session_hold:{id}"),
        now,
    )
    .memo("held for a charging session")
    .cause(Cause {
        user_id: Some(driver),
        session_id: Some(session),
        ..Cause::default()
    })
    .hold(id);
    write(conn, &posting, &entries).await?;
    Ok(amount)
}

/// What secures a session now: what is left of its own hold and its booking's hold, and a
/// card authorization of its booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Secured {
    pub held: Minor,
    pub authorized: Minor,
}

impl Secured {
    pub fn total(&self) -> Minor {
        self.held.saturating_add(self.authorized)
    }
}

pub async fn secured(
    conn: &mut PgConnection,
    session: Uuid,
    booking: Option<Uuid>,
    currency: &str,
) -> Result<Secured, Error> {
    let mut held = holds::open_for_session(conn, session, false)
        .await?
        .filter(|h| h.currency == currency)
        .map_or(0, |h| h.remaining_minor);
    let mut authorized = 0;
    if let Some(b) = booking {
        held += holds::open_for_booking(conn, b, false)
            .await?
            .filter(|h| h.currency == currency)
            .map_or(0, |h| h.remaining_minor);
        authorized = sources::card_authorized(conn, b, currency).await?;
    }
    Ok(Secured { held, authorized })
}

/// Tops the session's hold up from the wallet by at most `step` (opening one when the
/// session has none yet, as a booked session that charges past its booking does). Answers
/// what was added: 0 when the wallet is empty.
pub async fn extend_session_hold(
    conn: &mut PgConnection,
    driver: Uuid,
    session: Uuid,
    currency: &str,
    step: Minor,
    now: DateTime<Utc>,
) -> Result<Minor, Error> {
    let Some(h) = holds::open_for_session(conn, session, true).await? else {
        let ask = HoldAsk {
            target: step,
            minimum: 1,
        };
        return match hold_for_session(conn, driver, session, currency, ask, now).await {
            Ok(added) => Ok(added),
            Err(Error::Conflict { .. }) => Ok(0),
            Err(e) => Err(e),
        };
    };
    let lock = store::lock_driver(conn, driver, &h.currency).await?;
    let amount = step.min(lock.wallet);
    if amount <= 0 {
        return Ok(0);
    }
    let funds = Funds {
        wallet: lock.wallet,
        ..Funds::default()
    };
    let entries = plan::hold(driver, funds, amount).map_err(planned)?;
    holds::grow(conn, h.id, amount).await?;
    let posting = NewPosting::new(
        PostingKind::Hold,
        &h.currency,
        format!("session_hold:{}:{}", h.id, h.amount_minor + amount),
        now,
    )
    .memo("the charging session's hold topped up from the wallet")
    .cause(Cause {
        session_id: Some(session),
        ..Cause::default()
    })
    .hold(h.id);
    write(conn, &posting, &entries).await?;
    Ok(amount)
}

/// Gives a session's open hold back to the wallet (a session that never started).
pub async fn release_session_hold(
    conn: &mut PgConnection,
    session: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let Some(h) = holds::open_for_session(conn, session, true).await? else {
        return Ok(false);
    };
    super::release(conn, h.id, None, None, now).await?;
    Ok(true)
}

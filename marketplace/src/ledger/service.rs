//! The ledger's use cases. Each runs in one transaction: its own (the pool-taking functions)
//! or the caller's (the connection-taking ones, so a booking's decision and its money move
//! commit together).
//!
//! Lock order, to never deadlock: the row being decided on (booking, refund, bill), then the
//! hold, then the driver's balances ([`store::lock_driver`]), then the posting's entries.
//! Decisions are planned (`plan`) on the locked balances; the database's CHECK and balance
//! trigger refuse anything that slips through all the same.

mod bills;
mod bookings;
mod due;
mod provider_moves;
mod reads;
mod secured;
mod session_holds;
mod subscriptions;
mod wallet;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{Cause, Charge, Entries, LedgerError, Leg, Minor, PostingKind};
use super::plan::{self, Funds};
use super::store::{self, holds, shares, NewPosting, Posted};
use crate::error::Error;
use crate::invoices::model::money;
use crate::money::minor_unit_digits;
use crate::plumbing::{Notifier, Outbox};

pub use bills::post_session_bill;
pub use bookings::{
    hold_for_booking, post_booking_refund, settle_ended_hold, BookedAmount, HoldPolicy,
    COMPLETED_GRACE,
};
pub use due::{run_due, DueReport};
pub use provider_moves::{
    destination_charge, fee_charged, given_back, goodwill_to_wallet, host_transfer, refund_to_card,
    taken_back, transfer_reversed, PaymentFacts, ProviderMove, TransferFacts,
};
pub use reads::{
    booking_hold, booking_refund, debt, debts, hold_by_id, lock_bill_chain, lock_driver,
    wallet_balance,
};
pub use secured::{
    booking_secured, ensure_no_debt, MAX_DEBT_MINOR, OUTSTANDING_DEBT, PAYMENT_REQUIRED,
};
pub use session_holds::{
    extend_session_hold, hold_for_session, release_session_hold, secured, HoldAsk, Secured,
};
pub use subscriptions::{plan_subscription, post_subscription, Direction, SubscriptionPosting};
pub use wallet::{
    account, accounts, set_settings, topup, transactions, wallet, Topup, TopupInput, LOCAL_TEST,
    THRESHOLD_MAX_MINOR, TOPUP_MAX_MINOR, TOPUP_MIN_MINOR,
};

/// Ends a use case's transaction ([`crate::plumbing::tx::finish`]); a commit refused by the
/// wallet CHECK (a spend that raced another) is the same answer as the planned refusal.
pub(super) async fn finish<T>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    result: Result<T, Error>,
) -> Result<T, Error> {
    crate::plumbing::tx::finish(tx, result)
        .await
        .map_err(insufficient)
}

pub(super) fn insufficient_funds(available: Minor, needed: Minor) -> Error {
    Error::Conflict {
        code: "insufficient_funds",
        detail: format!("the wallet has {available} (minor units) available; {needed} are needed"),
    }
}

/// The wallet CHECK, hit by a spend that raced another: the same answer as the planned
/// refusal.
pub(super) fn insufficient(err: impl Into<Error>) -> Error {
    let err = err.into();
    if store::is_insufficient(&err) {
        Error::Conflict {
            code: "insufficient_funds",
            detail: "the wallet does not hold enough for this".into(),
        }
    } else {
        err
    }
}

pub(super) fn planned(err: LedgerError) -> Error {
    match err {
        LedgerError::InsufficientFunds { available, needed } => {
            insufficient_funds(available, needed)
        }
        LedgerError::NotPositive => Error::invalid("amount_cents", "must be positive"),
        other => Error::Internal(format!("ledger plan: {other}")),
    }
}

pub(super) async fn write(
    conn: &mut PgConnection,
    posting: &NewPosting,
    entries: &Entries,
) -> Result<Posted, Error> {
    store::post(conn, posting, entries)
        .await
        .map_err(insufficient)
}

/// `^[A-Z]{3}$`: an ISO 4217 code as the ledger stores it.
pub fn valid_currency(currency: &str) -> bool {
    currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase())
}

/// A payment a provider confirmed (a top-up); `event_id` is the provider's id for it
/// (a webhook event or payment id), unique per provider.
#[derive(Debug, Clone)]
pub struct ProviderPayment<'a> {
    /// `local_test` for now; `stripe` once the adapter exists.
    pub provider: &'a str,
    pub event_id: &'a str,
    pub driver: Uuid,
    pub amount: Minor,
    pub currency: &'a str,
    /// Who asked (the driver topping up); `None` for a webhook.
    pub actor: Option<Uuid>,
    pub memo: String,
}

/// The seam for payment providers: money a provider collected for a driver goes from
/// provider clearing into their wallet, once per (provider, event) however often it is
/// reported; it first pays off anything the driver owes. In the caller's transaction.
pub async fn record_provider_payment(
    conn: &mut PgConnection,
    payment: &ProviderPayment<'_>,
    now: DateTime<Utc>,
) -> Result<Posted, Error> {
    if !valid_currency(payment.currency) {
        return Err(Error::invalid(
            "currency",
            "must be an ISO 4217 code such as EUR",
        ));
    }
    let entries = plan::topup(payment.driver, payment.amount).map_err(planned)?;
    let event = format!("{}:{}", payment.provider, payment.event_id);
    let lock = store::lock_driver(conn, payment.driver, payment.currency).await?;
    let posting = NewPosting::new(
        PostingKind::Topup,
        payment.currency,
        format!("provider:{event}"),
        now,
    )
    .memo(payment.memo.clone())
    .cause(Cause {
        user_id: payment.actor,
        provider_event_id: Some(event),
        ..Cause::default()
    });
    let posted = write(conn, &posting, &entries).await?;
    if let Posted::New(id) = posted {
        let funds = Funds {
            wallet: lock.wallet + payment.amount,
            hold: 0,
            debt: lock.debt,
        };
        receipt(conn, payment, lock.debt, id).await?;
        if let Some(entries) = plan::settle_debt(payment.driver, funds) {
            let settle = NewPosting::new(
                PostingKind::Settlement,
                payment.currency,
                format!("settle:{id}"),
                now,
            )
            .memo("paid off from the top-up")
            .cause(Cause {
                user_id: payment.actor,
                ..Cause::default()
            });
            write(conn, &settle, &entries).await?;
        }
    }
    Ok(posted)
}

/// The receipt of money received, e-mailed through the outbox in the posting's transaction
/// (once: only a new posting sends one). A top-up is stored value, not a sale, so it gets a
/// receipt rather than an invoice; what it buys is invoiced when the money is used.
async fn receipt(
    conn: &mut PgConnection,
    payment: &ProviderPayment<'_>,
    debt: Minor,
    posting: Uuid,
) -> Result<(), Error> {
    let body = receipt_text(payment, payment.amount.min(debt.max(0)), posting);
    Outbox
        .tell_user(conn, payment.driver, "Payment received", &body)
        .await
}

/// What the receipt says: how much came in and where it went (`paid_off` of it to what the
/// driver owed, the rest to the wallet).
fn receipt_text(payment: &ProviderPayment<'_>, paid_off: Minor, posting: Uuid) -> String {
    let digits = i16::try_from(minor_unit_digits(payment.currency)).unwrap_or(2);
    let amount = money(payment.amount, digits, payment.currency);
    let whereto = if paid_off == 0 {
        "It is in your wallet.".to_owned()
    } else if paid_off == payment.amount {
        "It paid what you owed.".to_owned()
    } else {
        format!(
            "{} of it paid what you owed; the rest is in your wallet.",
            money(paid_off, digits, payment.currency)
        )
    };
    format!(
        "We received {amount} ({}). {whereto} Reference: {posting}.",
        payment.memo
    )
}

/// Sets `amount` of the driver's wallet aside (for a booking); 409 `insufficient_funds`
/// when the wallet does not cover it. Answers the hold's id.
pub async fn hold(
    conn: &mut PgConnection,
    driver: Uuid,
    booking: Option<Uuid>,
    currency: &str,
    amount: Minor,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let lock = store::lock_driver(conn, driver, currency).await?;
    let funds = Funds {
        wallet: lock.wallet,
        ..Funds::default()
    };
    let entries = plan::hold(driver, funds, amount).map_err(planned)?;
    let id = Uuid::now_v7();
    holds::insert(conn, id, driver, booking, None, currency, amount, now).await?;
    let key = match booking {
        Some(b) => format!("booking_hold:{b}"),
        None => format!("hold:{id}"),
    };
    let posting = NewPosting::new(PostingKind::Hold, currency, key, now)
        .memo("held for a booking")
        .cause(Cause {
            user_id: actor,
            booking_id: booking,
            ..Cause::default()
        })
        .hold(id);
    match write(conn, &posting, &entries).await? {
        Posted::New(_) => Ok(id),
        Posted::Existing(_) => Err(Error::Conflict {
            code: "already_held",
            detail: "the booking already has a hold".into(),
        }),
    }
}

/// A hold, locked, that must still be open.
async fn open_hold(conn: &mut PgConnection, id: Uuid) -> Result<holds::Hold, Error> {
    let hold = holds::by_id(conn, id, true)
        .await?
        .ok_or(Error::NotFound("hold"))?;
    if !hold.is_open() {
        return Err(Error::Conflict {
            code: "hold_closed",
            detail: "the hold was already captured or released".into(),
        });
    }
    Ok(hold)
}

/// Gives `amount` of a hold back (all of what is left when `None`); the hold closes when
/// nothing is left.
pub async fn release(
    conn: &mut PgConnection,
    hold_id: Uuid,
    amount: Option<Minor>,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, Error> {
    let h = open_hold(conn, hold_id).await?;
    store::lock_driver(conn, h.driver_id, &h.currency).await?;
    let amount = amount.unwrap_or(h.remaining_minor);
    let mut posted = None;
    if h.remaining_minor > 0 {
        let funds = Funds {
            hold: h.remaining_minor,
            ..Funds::default()
        };
        let entries = plan::release(h.driver_id, funds, amount).map_err(planned)?;
        let n = holds_postings(conn, hold_id).await?;
        let posting = NewPosting::new(
            PostingKind::Release,
            &h.currency,
            format!("hold_release:{hold_id}:{n}"),
            now,
        )
        .memo("released")
        .cause(Cause {
            user_id: actor,
            booking_id: h.booking_id,
            ..Cause::default()
        })
        .hold(hold_id);
        posted = Some(write(conn, &posting, &entries).await?.id());
    }
    if amount >= h.remaining_minor {
        holds::close(conn, hold_id, now).await?;
    }
    Ok(posted)
}

/// How many postings a hold has had: part of the key of a partial release, so two partial
/// releases are two postings while a retried posting stays one.
async fn holds_postings(conn: &mut PgConnection, hold_id: Uuid) -> Result<i64, Error> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM ledger_postings WHERE hold_id = $1")
            .bind(hold_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Captures `charge` against the driver's money: the hold (if any, which closes), the
/// wallet, then on account. `key` names what is being paid (one capture per key).
#[allow(clippy::too_many_arguments)]
pub async fn capture(
    conn: &mut PgConnection,
    driver: Uuid,
    currency: &str,
    hold_id: Option<Uuid>,
    charge: &Charge,
    key: String,
    memo: &str,
    cause: Cause,
    now: DateTime<Utc>,
) -> Result<Option<plan::Capture>, Error> {
    if charge.total() < 0 {
        // a bill that pays the driver is a broken bill, not a capture: refuse it loudly
        return Err(Error::Internal(format!(
            "{key}: a charge of {} cannot be captured",
            charge.total()
        )));
    }
    let hold = match hold_id {
        Some(id) => Some(open_hold(conn, id).await?),
        None => None,
    };
    let lock = store::lock_driver(conn, driver, currency).await?;
    let funds = Funds {
        wallet: lock.wallet,
        hold: hold.as_ref().map_or(0, |h| h.remaining_minor),
        debt: lock.debt,
    };
    let Some(plan) = plan::capture(driver, funds, charge).map_err(planned)? else {
        if let Some(h) = &hold {
            holds::close(conn, h.id, now).await?;
        }
        return Ok(None);
    };
    let session = cause.session_id;
    let mut posting = NewPosting::new(PostingKind::Capture, currency, key, now)
        .memo(memo)
        .cause(cause);
    posting.hold_id = hold_id;
    if let Posted::New(id) = write(conn, &posting, &plan.entries).await? {
        withhold(
            conn,
            id,
            driver,
            currency,
            session,
            charge.host,
            plan.on_account,
            plan.withheld,
            now,
        )
        .await?;
    }
    if let Some(h) = &hold {
        holds::close(conn, h.id, now).await?;
    }
    Ok(Some(plan))
}

/// Records the host's `withheld` share of `owed` left by a posting, so it is released as the
/// driver pays (nothing when no share was withheld).
#[allow(clippy::too_many_arguments)]
pub(super) async fn withhold(
    conn: &mut PgConnection,
    posting: Uuid,
    driver: Uuid,
    currency: &str,
    session: Option<Uuid>,
    host: Uuid,
    owed: Minor,
    withheld: Minor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if withheld <= 0 {
        return Ok(());
    }
    let share = shares::NewShare {
        driver,
        host,
        currency,
        posting,
        session,
        owed,
        share: withheld,
    };
    shares::insert(conn, &share, now).await
}

/// A correction: the exact negation of a posting, once. Postings of a hold are settled by
/// releasing or capturing it instead (409 `hold_posting`). A wallet that no longer holds
/// what a reversed top-up brought is a 409 `insufficient_funds`.
pub async fn reverse(
    conn: &mut PgConnection,
    posting_id: Uuid,
    actor: Option<Uuid>,
    memo: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let original = store::posting(conn, posting_id)
        .await?
        .ok_or(Error::NotFound("posting"))?;
    if original.hold_id.is_some() {
        return Err(Error::Conflict {
            code: "hold_posting",
            detail: "a hold's postings are settled by releasing or capturing it".into(),
        });
    }
    let stored = store::entries_of(conn, posting_id).await?;
    let mut drivers: Vec<Uuid> = stored
        .iter()
        .filter(|e| e.kind == "driver_wallet" || e.kind == "driver_hold")
        .filter_map(|e| e.owner_id)
        .collect();
    drivers.sort();
    drivers.dedup();
    for d in drivers {
        store::lock_driver(conn, d, &original.currency).await?;
    }
    let legs = stored
        .iter()
        .map(|e| Ok(Leg::new(e.account()?, e.amount_minor)))
        .collect::<Result<Vec<_>, Error>>()?;
    let entries = Entries::balance(legs).map_err(planned)?.reversed();
    let mut posting = NewPosting::new(
        PostingKind::Reversal,
        &original.currency,
        format!("reversal:{posting_id}"),
        now,
    )
    .memo(memo)
    .cause(Cause {
        user_id: actor,
        ..Cause::default()
    });
    posting.reverses = Some(posting_id);
    Ok(write(conn, &posting, &entries).await?.id())
}

/// What the driver's wallet holds in `currency` right now (0 without a wallet).
pub async fn balance(
    conn: &mut PgConnection,
    driver: Uuid,
    currency: &str,
) -> Result<Minor, Error> {
    store::wallet_balance(conn, driver, currency).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receipt_says_where_the_money_went() {
        let payment = ProviderPayment {
            provider: "local",
            event_id: "pi_1",
            driver: Uuid::nil(),
            amount: 2500,
            currency: "EUR",
            actor: None,
            memo: "card top-up".into(),
        };
        let id = Uuid::nil();
        let text = |paid_off| receipt_text(&payment, paid_off, id);
        assert_eq!(
            text(0),
            format!("We received 25.00 EUR (card top-up). It is in your wallet. Reference: {id}.")
        );
        assert!(text(2500).contains("It paid what you owed."));
        assert!(
            text(700).contains("7.00 EUR of it paid what you owed; the rest is in your wallet.")
        );
    }
}

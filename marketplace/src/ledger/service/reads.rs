//! What other modules read of the ledger, in their own transaction: a driver's balances and
//! debts, the holds of a booking, a cancellation's refund decision, and the ledger's lock
//! order for a session's bill. Payments and sessions use these rather than the ledger's store.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;
use crate::ledger::store::holds::{self, Hold};
use crate::ledger::store::sources::{self, BookingRefund};
use crate::ledger::store::{self, DriverLock};

/// The wallet's balance without locking or creating anything (0 when there is no wallet).
pub async fn wallet_balance(
    conn: &mut PgConnection,
    driver: Uuid,
    currency: &str,
) -> Result<Minor, Error> {
    store::wallet_balance(conn, driver, currency).await
}

/// What the driver owes in `currency` (0 when nothing).
pub async fn debt(conn: &mut PgConnection, driver: Uuid, currency: &str) -> Result<Minor, Error> {
    store::debt(conn, driver, currency).await
}

/// Every currency the driver owes money in, with what is owed (positive), largest first.
pub async fn debts(conn: &mut PgConnection, driver: Uuid) -> Result<Vec<(String, Minor)>, Error> {
    store::debts(conn, driver).await
}

/// Locks the driver's wallet and hold balances in `currency` until the transaction ends (the
/// ledger's lock order: after the row being decided on and its hold) and reads them.
pub async fn lock_driver(
    conn: &mut PgConnection,
    driver: Uuid,
    currency: &str,
) -> Result<DriverLock, Error> {
    store::lock_driver(conn, driver, currency).await
}

/// The open hold of a booking, if any; locked when `lock`.
pub async fn booking_hold(
    conn: &mut PgConnection,
    booking: Uuid,
    lock: bool,
) -> Result<Option<Hold>, Error> {
    holds::open_for_booking(conn, booking, lock).await
}

/// A hold, open or closed; locked when `lock`.
pub async fn hold_by_id(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<Hold>, Error> {
    holds::by_id(conn, id, lock).await
}

/// The refund decided when a booking was cancelled, if it was.
pub async fn booking_refund(
    conn: &mut PgConnection,
    booking: Uuid,
) -> Result<Option<BookingRefund>, Error> {
    sources::refund_of_booking(conn, booking).await
}

/// Locks a bill and the unposted revisions it corrects, newest first, as the ledger's
/// posting of it does, so that taking the driver's balances after it keeps the ledger's
/// lock order.
pub async fn lock_bill_chain(conn: &mut PgConnection, bill: Uuid) -> Result<(), Error> {
    let mut next = Some(bill);
    while let Some(id) = next {
        let b = sources::bill(conn, id)
            .await?
            .ok_or(Error::NotFound("session bill"))?;
        next = b.supersedes.filter(|_| b.posted_at.is_none());
    }
    Ok(())
}

//! "Money only moves when it was collected": a driver books and charges only with money
//! secured first (a wallet hold or a card authorization), and never while owing money.
//!
//! What a bill's capture cannot cover (the hold, then the wallet) becomes debt, the
//! driver's `driver_receivable`. A driver who owes anything, in any currency, cannot create
//! or confirm a booking or start a session until a top-up pays it off (top-ups pay debt
//! first): 409 `outstanding_debt`.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;
use crate::ledger::store::{self, holds, sources};

/// The most a single session's bill is meant to put a driver into debt, in minor units of
/// the bill's currency (10.00): the budget for what a station delivers between the session
/// reaching the money secured for it and its stop (`sessions::funds`: one check interval and
/// the station's stop latency at the port's power). The ledger still records a larger
/// shortfall as owed (energy delivered is never written off silently), and the debt gate
/// below stops the driver from booking or charging again until it is paid, so the exposure
/// is one session.
pub const MAX_DEBT_MINOR: Minor = 1_000;

/// The stable code of the debt gate.
pub const OUTSTANDING_DEBT: &str = "outstanding_debt";
/// The stable code of a booking or session with no money secured for it.
pub const PAYMENT_REQUIRED: &str = "payment_required";

/// Refuses (409 `outstanding_debt`) when the driver owes anything in any currency.
pub async fn ensure_no_debt(conn: &mut PgConnection, driver: Uuid) -> Result<(), Error> {
    let owed = store::debts(conn, driver).await?;
    match owed.first() {
        None => Ok(()),
        Some((currency, amount)) => Err(Error::Conflict {
            code: OUTSTANDING_DEBT,
            detail: format!(
                "you owe {amount} (minor units, {currency}) from an earlier charge; top up \
                 your wallet (POST /api/wallet/topup) to pay it off before booking or charging"
            ),
        }),
    }
}

/// Whether the booking has money secured for it: an open wallet hold, or a card
/// authorization (a manual-capture payment still to capture) of at least its amount.
pub async fn booking_secured(
    conn: &mut PgConnection,
    booking: Uuid,
    currency: &str,
    amount: Minor,
) -> Result<bool, Error> {
    if amount <= 0
        || holds::open_for_booking(conn, booking, false)
            .await?
            .is_some()
    {
        return Ok(true);
    }
    sources::card_authorization_covers(conn, booking, currency, amount).await
}

/// The refusal of a session without a booking that the wallet cannot secure.
pub fn session_payment_required(available: Minor, needed: Minor, currency: &str) -> Error {
    Error::Conflict {
        code: PAYMENT_REQUIRED,
        detail: format!(
            "the wallet has {available} (minor units, {currency}) available and a charging \
             session here holds at least {needed} while it charges: top up the wallet \
             (POST /api/wallet/topup) and start again, or book the charger (a booking can be \
             secured by a card authorization)"
        ),
    }
}

/// The refusal of a booking with nothing secured for it.
pub fn payment_required(available: Minor, needed: Minor, currency: &str) -> Error {
    Error::Conflict {
        code: PAYMENT_REQUIRED,
        detail: format!(
            "the wallet has {available} (minor units, {currency}) available and {needed} must \
             be held: top up the wallet (POST /api/wallet/topup) or authorize a card for this \
             booking (POST /api/payments with purpose booking and capture manual), then confirm"
        ),
    }
}

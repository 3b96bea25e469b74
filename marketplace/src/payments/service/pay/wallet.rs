//! A payment by wallet: the ledger holds the booking's amount or posts the session's bill
//! in the payment's own transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::target::Target;
use crate::accounts::AuthUser;
use crate::bookings::BookingStatus;
use crate::error::Error;
use crate::ledger::service::{self as ledger, HoldPolicy};
use crate::payments::provider::IntentStatus;
use crate::payments::store::PaymentRow;

/// A wallet payment, in the caller's transaction: the booking's amount is held on the wallet;
/// the session's bill is posted (hold, then wallet).
pub(super) async fn by_wallet(
    conn: &mut PgConnection,
    caller: &AuthUser,
    target: &Target,
    row: &mut PaymentRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if let Some(b) = &target.booking {
        if b.status == BookingStatus::Pending {
            return Err(Error::Conflict {
                code: "booking_not_confirmed",
                detail: "confirm the booking: confirming holds its amount on the wallet when \
                         the wallet covers it"
                    .into(),
            });
        }
        let hold =
            ledger::hold_for_booking(conn, b.into(), Some(caller.id), HoldPolicy::Required, now)
                .await?
                .ok_or_else(|| Error::Internal("a paid booking without a hold".into()))?;
        row.ledger_hold_id = Some(hold);
    }
    if let Some(s) = &target.session {
        let bill = s
            .bill_id
            .ok_or_else(|| Error::Internal("a billed session without a bill".into()))?;
        // the ledger's lock order: the bill, the hold, then the balances
        ledger::lock_bill_chain(conn, bill).await?;
        let held = match s.booking_id {
            Some(b) => ledger::booking_hold(conn, b, true)
                .await?
                .filter(|h| h.currency == target.currency)
                .map_or(0, |h| h.remaining_minor),
            None => 0,
        };
        let lock = ledger::lock_driver(conn, s.driver_id, &target.currency).await?;
        if lock.wallet + held < target.amount {
            return Err(Error::Conflict {
                code: "insufficient_funds",
                detail: format!(
                    "the wallet and the booking's hold have {} (minor units); the bill is {}",
                    lock.wallet + held,
                    target.amount
                ),
            });
        }
        ledger::post_session_bill(conn, bill, now).await?;
    }
    row.status = IntentStatus::Succeeded.as_str().into();
    row.amount_received = target.amount;
    Ok(())
}

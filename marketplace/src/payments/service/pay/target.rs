//! What is being paid — a booking, a session's bill, a top-up — resolved for the caller
//! and checked, with what a card owes of a session.

use sqlx::PgConnection;

use super::input::PayInput;
use crate::accounts::AuthUser;
use crate::bookings::{Booking, BookingStatus};
use crate::error::Error;
use crate::ledger::model::Minor;
use crate::ledger::service as ledger;
use crate::payments::model::{Method, Purpose};
use crate::payments::store::{self, SessionDue};

/// What is being paid, resolved and checked.
pub(super) struct Target {
    pub(super) amount: Minor,
    pub(super) currency: String,
    pub(super) booking: Option<Booking>,
    pub(super) session: Option<SessionDue>,
}

pub(super) fn already_paid(what: &str) -> Error {
    Error::Conflict {
        code: "already_paid",
        detail: format!("the {what} is already paid (or a payment of it is under way)"),
    }
}

pub(super) const PAYABLE: [BookingStatus; 4] = [
    BookingStatus::Pending,
    BookingStatus::Confirmed,
    BookingStatus::CheckedIn,
    BookingStatus::Charging,
];

pub(super) async fn resolve(
    conn: &mut PgConnection,
    caller: &AuthUser,
    input: &PayInput,
) -> Result<Target, Error> {
    match input.purpose {
        Purpose::Booking => {
            let id = input.booking_id.unwrap_or_default();
            let b = crate::bookings::service::by_id(conn, id, true)
                .await?
                .filter(|b| b.driver_id == caller.id)
                .ok_or(Error::NotFound("booking"))?;
            if !PAYABLE.contains(&b.status) {
                return Err(Error::Conflict {
                    code: "booking_not_payable",
                    detail: format!("the booking is {}", b.status.as_str()),
                });
            }
            if b.amount_cents <= 0 {
                return Err(Error::Conflict {
                    code: "nothing_to_pay",
                    detail: "the booking costs nothing".into(),
                });
            }
            if ledger::booking_hold(conn, b.id, false).await?.is_some() {
                return Err(already_paid("booking"));
            }
            Ok(Target {
                amount: b.amount_cents,
                currency: b.currency.clone(),
                booking: Some(b),
                session: None,
            })
        }
        Purpose::Session => {
            let id = input.session_id.unwrap_or_default();
            let s = store::session_due(conn, id)
                .await?
                .filter(|s| s.driver_id == caller.id)
                .ok_or(Error::NotFound("session"))?;
            let (Some(total), Some(currency)) = (s.total_cents, s.currency.clone()) else {
                return Err(Error::Conflict {
                    code: "session_not_billed",
                    detail: "the session has no bill yet: it is billed when charging ends".into(),
                });
            };
            let amount = match input.method {
                Method::Wallet if s.posted => return Err(already_paid("session")),
                Method::Wallet => total,
                Method::Card => card_due(conn, &s, total, &currency).await?,
            };
            Ok(Target {
                amount,
                currency,
                booking: None,
                session: Some(s),
            })
        }
        Purpose::Topup => Ok(Target {
            amount: input.amount_cents.unwrap_or_default(),
            currency: input.currency.clone().unwrap_or_default(),
            booking: None,
            session: None,
        }),
    }
}

/// What a card pays of a session: the difference the booking's hold and the wallet do not
/// cover before the bill is posted; what the driver still owes after.
async fn card_due(
    conn: &mut PgConnection,
    s: &SessionDue,
    total: Minor,
    currency: &str,
) -> Result<Minor, Error> {
    if s.posted {
        let debt = ledger::debt(conn, s.driver_id, currency).await?;
        if debt <= 0 {
            return Err(already_paid("session"));
        }
        return Ok(debt.min(total));
    }
    let held = match s.booking_id {
        Some(b) => ledger::booking_hold(conn, b, false)
            .await?
            .filter(|h| h.currency == currency)
            .map_or(0, |h| h.remaining_minor),
        None => 0,
    };
    let wallet = ledger::wallet_balance(conn, s.driver_id, currency).await?;
    let due = total - held - wallet;
    if due <= 0 {
        return Err(Error::Conflict {
            code: "covered_by_wallet",
            detail: "the booking's hold and the wallet cover the bill: pay it by `wallet`".into(),
        });
    }
    Ok(due)
}

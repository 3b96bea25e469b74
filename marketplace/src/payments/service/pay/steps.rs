//! A payment after it was made: read it, list them, and a card payment's later steps
//! (3-D Secure done, capture, cancel).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::record::record;
use crate::accounts::{AuthUser, Role};
use crate::error::Error;
use crate::ledger::model::Minor;
use crate::payments::model::Method;
use crate::payments::provider::{IntentStatus, PaymentProvider};
use crate::payments::service::provider_error;
use crate::payments::store::{self, PaymentRow};
use crate::payments::view::{PaymentPage, PaymentView};

/// A manual capture or cancel while the platform settles the authorization itself would
/// race it to the provider with another amount: refused, naming what is under way.
async fn not_settling(pool: &PgPool, payment: Uuid) -> Result<(), Error> {
    let action = store::authorizations::action(&mut *pool.acquire().await?, payment).await?;
    match action {
        Some(a) if a.done_at.is_none() => Err(Error::Conflict {
            code: "settling",
            detail: match a.action.as_str() {
                "capture" => format!(
                    "the platform is capturing {} of this authorization ({}); it completes \
                     on its own",
                    a.amount_minor, a.reason
                ),
                _ => format!(
                    "the platform is releasing this authorization ({}); it completes on its own",
                    a.reason
                ),
            },
        }),
        _ => Ok(()),
    }
}

/// The payment, for its payer or an admin.
async fn visible(
    conn: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
    lock: bool,
) -> Result<PaymentRow, Error> {
    store::payment(conn, id, lock)
        .await?
        .filter(|p| p.user_id == caller.id || caller.role == Role::Admin)
        .ok_or(Error::NotFound("payment"))
}

pub async fn get(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<PaymentView, Error> {
    Ok(visible(&mut *pool.acquire().await?, caller, id, false)
        .await?
        .into())
}

pub async fn list(
    pool: &PgPool,
    caller: &AuthUser,
    limit: i64,
    offset: i64,
) -> Result<PaymentPage, Error> {
    let (rows, total) =
        store::payments_of(&mut *pool.acquire().await?, caller.id, limit, offset).await?;
    Ok(PaymentPage {
        items: rows.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    })
}

/// A card payment's provider id, for the steps after creation.
fn card_of(row: &PaymentRow, provider: &dyn PaymentProvider) -> Result<String, Error> {
    if row.method != Method::Card.as_str() {
        return Err(Error::Conflict {
            code: "not_a_card_payment",
            detail: "a wallet payment has no card step".into(),
        });
    }
    if row.provider != provider.name() {
        return Err(Error::Conflict {
            code: "provider_changed",
            detail: format!("the payment was made with the `{}` provider", row.provider),
        });
    }
    row.provider_payment_id.clone().ok_or(Error::Conflict {
        code: "payment_processing",
        detail: "the provider has not answered yet; retry the payment with its Idempotency-Key"
            .into(),
    })
}

/// After 3-D Secure was completed in the app: the payment as the provider has it now
/// (the local provider completes its simulated challenge here).
pub async fn confirm(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    let row = visible(&mut *pool.acquire().await?, caller, id, false).await?;
    let pi = card_of(&row, provider)?;
    if row.status != IntentStatus::RequiresAction.as_str() {
        return Ok(row.into());
    }
    let state = provider
        .complete_action(&pi, &format!("confirm:{id}"))
        .await
        .map_err(|e| provider_error(e, "id"))?;
    record(pool, id, &state, now).await
}

/// Captures an authorized (manual capture) card payment: `amount` at most what is
/// authorized (default all of it); the rest is released.
pub async fn capture(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    id: Uuid,
    amount: Option<Minor>,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    // what no payment accepts is refused before the state is looked at, also on a retry
    if amount.is_some_and(|a| a < 1) {
        return Err(Error::invalid("amount_cents", "must be at least 1"));
    }
    let row = visible(&mut *pool.acquire().await?, caller, id, false).await?;
    let pi = card_of(&row, provider)?;
    if row.status == IntentStatus::Succeeded.as_str() {
        return Ok(row.into());
    }
    not_settling(pool, id).await?;
    if row.status != IntentStatus::RequiresCapture.as_str() {
        return Err(Error::Conflict {
            code: "not_capturable",
            detail: format!("the payment is {}, not requires_capture", row.status),
        });
    }
    if let Some(a) = amount {
        // the provider keeps the whole application fee of a partly captured destination
        // charge, so the host would get less than its share of what the driver paid
        if row.destination_account.is_some() && a != row.amount_capturable {
            return Err(Error::invalid(
                "amount_cents",
                "a payment of a host's whole bill is captured whole or cancelled, not in part",
            ));
        }
        if a < 1 || a > row.amount_capturable {
            return Err(Error::invalid(
                "amount_cents",
                format!(
                    "must be 1 to {} (what is authorized)",
                    row.amount_capturable
                ),
            ));
        }
    }
    let state = provider
        .capture_payment(&pi, amount, &format!("capture:{id}"))
        .await
        .map_err(|e| provider_error(e, "amount_cents"))?;
    record(pool, id, &state, now).await
}

/// Cancels a card payment not captured yet (an authorization is released; a pending 3-D
/// Secure is abandoned).
pub async fn cancel(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    let row = visible(&mut *pool.acquire().await?, caller, id, false).await?;
    let pi = card_of(&row, provider)?;
    if row.status == IntentStatus::Canceled.as_str() {
        return Ok(row.into());
    }
    not_settling(pool, id).await?;
    let open = [
        IntentStatus::RequiresCapture,
        IntentStatus::RequiresAction,
        IntentStatus::Failed,
    ];
    if !open.iter().any(|s| s.as_str() == row.status) {
        return Err(Error::Conflict {
            code: "not_cancelable",
            detail: format!(
                "the payment is {}; a captured payment is refunded instead",
                row.status
            ),
        });
    }
    let state = provider
        .cancel_payment(&pi, &format!("cancel:{id}"))
        .await
        .map_err(|e| provider_error(e, "id"))?;
    record(pool, id, &state, now).await
}

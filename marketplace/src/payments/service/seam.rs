//! The seam between payments and the ledger for money movements the ledger's service has no
//! function for yet. Each is one small function here, built only from the ledger's public
//! plan/store pieces (balanced entries, idempotency keys derived from what caused them), so
//! the ledger can take them over unchanged:
//!
//! - [`refund_to_card`]: money going back to a card leaves the driver's wallet for provider
//!   clearing (the exact opposite of a top-up).
//! - [`goodwill_to_wallet`]: an admin's refund into the wallet of money the platform already
//!   spent (captured by a bill), at the platform's cost (`platform_refunds`).
//! - [`destination_charge`]: a Connect destination charge sends the host's share to the
//!   host's connected account at once; the ledger's host payable should then be lowered by
//!   that share (host payable → provider clearing). The ledger has no posting kind for a
//!   provider transfer yet, so nothing is posted here: the payment row keeps
//!   `destination_account` and `application_fee_minor`, which is everything that posting
//!   needs.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::{AccountKind, AccountRef, Cause, Entries, Leg, Minor, PostingKind};
use crate::ledger::plan;
use crate::ledger::store::{self as ledger_store, NewPosting};
use crate::payments::store::PaymentRow;

fn insufficient(err: Error) -> Error {
    if ledger_store::is_insufficient(&err) {
        Error::Conflict {
            code: "insufficient_funds",
            detail: "the payment's money is no longer in the wallet (it was spent or held)".into(),
        }
    } else {
        err
    }
}

/// Wallet → provider clearing for a refund to the card, once per provider refund. 409
/// `insufficient_funds` when the wallet no longer holds it.
pub async fn refund_to_card(
    conn: &mut PgConnection,
    payment: &PaymentRow,
    amount: Minor,
    provider_refund_id: &str,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let entries = plan::topup(payment.user_id, amount)
        .map_err(|e| Error::Internal(format!("refund plan: {e}")))?
        .reversed();
    ledger_store::lock_driver(conn, payment.user_id, &payment.currency).await?;
    let event = format!("{}:{provider_refund_id}", payment.provider);
    let posting = NewPosting::new(
        PostingKind::Refund,
        &payment.currency,
        format!("provider_refund:{event}"),
        now,
    )
    .memo(format!("refund to the card of payment {}", payment.id))
    .cause(Cause {
        user_id: actor,
        booking_id: payment.booking_id,
        session_id: payment.session_id,
        provider_event_id: Some(event),
        ..Cause::default()
    });
    ledger_store::post(conn, &posting, &entries)
        .await
        .map(|p| p.id())
        .map_err(insufficient)
}

/// Platform refunds → the driver's wallet: an admin gives money back that was already spent.
pub async fn goodwill_to_wallet(
    conn: &mut PgConnection,
    payment: &PaymentRow,
    amount: Minor,
    refund_id: Uuid,
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let entries = Entries::balance([
        Leg::new(AccountRef::wallet(payment.user_id), amount),
        Leg::new(AccountRef::platform(AccountKind::PlatformRefunds), -amount),
    ])
    .map_err(|e| Error::Internal(format!("refund plan: {e}")))?;
    ledger_store::lock_driver(conn, payment.user_id, &payment.currency).await?;
    let posting = NewPosting::new(
        PostingKind::Refund,
        &payment.currency,
        format!("payment_refund:{refund_id}"),
        now,
    )
    .memo(format!("refund of payment {} to the wallet", payment.id))
    .cause(Cause {
        user_id: Some(actor),
        booking_id: payment.booking_id,
        session_id: payment.session_id,
        ..Cause::default()
    });
    ledger_store::post(conn, &posting, &entries)
        .await
        .map(|p| p.id())
        .map_err(insufficient)
}

/// A destination charge's host share went to the host's connected account. See the module
/// documentation: the ledger's posting of it is the ledger's to add.
pub async fn destination_charge(
    _conn: &mut PgConnection,
    payment: &PaymentRow,
    received: Minor,
    _now: DateTime<Utc>,
) -> Result<(), Error> {
    tracing::info!(
        payment = %payment.id,
        account = payment.destination_account.as_deref().unwrap_or_default(),
        host_share = received - payment.application_fee_minor.unwrap_or(0),
        "destination charge: the host's share was transferred by the provider"
    );
    Ok(())
}

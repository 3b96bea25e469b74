//! Disputes (chargebacks): `charge.dispute.created|updated|funds_withdrawn|funds_reinstated|
//! closed`. The provider takes the disputed amount, and its fee, out of the platform's
//! balance when the card's issuer asks for it, and gives the amount back when the platform
//! wins. The driver's money is what went: it leaves the wallet, or becomes owed when it was
//! spent ([`ledger::taken_back`]); the fee is the platform's expense (`provider_fees`). Won
//! back, the amount pays off the driver's debt first, then reaches the wallet
//! ([`ledger::given_back`]).
//!
//! Each dispute is one row (`payment_disputes`), locked while an event applies; its
//! withdrawal and its reinstatement are each posted once (the row keeps their postings, the
//! keys are derived from the dispute; a fee reported only by a later event is posted then,
//! by difference), and a reinstatement reported first posts the
//! withdrawal before it. The status follows the newest event. So replays and any order of
//! deliveries end in the same place.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::PostingKind;
use crate::ledger::service::{self as ledger, ProviderMove};
use crate::payments::store::disputes::{self, DisputeRow};
use crate::payments::store::PaymentRow;
use crate::payments::webhook::{DisputeObject, Envelope};

pub(super) async fn apply(
    conn: &mut PgConnection,
    event: &Envelope,
    payment: &PaymentRow,
    dp: &DisputeObject,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let seen = DisputeRow {
        id: Uuid::now_v7(),
        payment_id: payment.id,
        provider: payment.provider.clone(),
        provider_dispute_id: dp.id.clone(),
        amount_minor: dp.amount,
        fee_minor: 0,
        fee_later_minor: 0,
        fee_returned_minor: 0,
        currency: payment.currency.clone(),
        status: dp.status.clone(),
        reason: dp.reason.clone(),
        status_at: event.created_at(),
        withdrawal_posting_id: None,
        reinstatement_posting_id: None,
    };
    let mut row = disputes::lock_or_insert(conn, &seen, now).await?;
    let moves = dp.moves(&event.kind);
    let key = |what: &str| {
        format!(
            "dispute_{what}:{}:{}",
            row.provider, row.provider_dispute_id
        )
    };
    if moves.withdrawn && row.withdrawal_posting_id.is_none() {
        row.fee_minor = moves.fee;
        let m = ProviderMove {
            payment: payment.into(),
            amount: row.amount_minor,
            fee: row.fee_minor,
            kind: PostingKind::Adjustment,
            key: key("withdrawn"),
            provider_event: None,
            memo: format!(
                "disputed at the provider ({}): {} taken back from payment {}",
                row.provider_dispute_id, row.amount_minor, payment.id
            ),
        };
        row.withdrawal_posting_id = Some(ledger::taken_back(conn, &m, now).await?);
    } else if moves.withdrawn && moves.fee > row.fee_minor + row.fee_later_minor {
        // the fee came with a later event than the withdrawal: the rest of it, once per total
        let extra = moves.fee - row.fee_minor - row.fee_later_minor;
        row.fee_later_minor += extra;
        let key = format!("{}:{}", key("fee"), row.fee_later_minor);
        let memo = format!(
            "dispute {}: the provider's fee, reported later",
            row.provider_dispute_id
        );
        ledger::fee_charged(conn, payment.into(), extra, key, memo, now).await?;
    }
    if moves.reinstated && row.reinstatement_posting_id.is_none() {
        row.fee_returned_minor = moves.fee_returned.min(row.fee_minor + row.fee_later_minor);
        let m = ProviderMove {
            payment: payment.into(),
            amount: row.amount_minor,
            fee: row.fee_returned_minor,
            kind: PostingKind::Adjustment,
            key: key("reinstated"),
            provider_event: None,
            memo: format!(
                "dispute {} won: {} of payment {} given back",
                row.provider_dispute_id, row.amount_minor, payment.id
            ),
        };
        row.reinstatement_posting_id = Some(ledger::given_back(conn, &m, now).await?);
    }
    row.status = seen.status;
    row.reason = seen.reason;
    row.status_at = seen.status_at;
    disputes::update(conn, &row, now).await
}

//! Refunds made at the provider (its dashboard), not through `POST /api/refunds`: the money
//! already went back to the card, so it leaves the driver's wallet as far as the wallet
//! holds it, and what the driver already spent becomes owed ([`ledger::taken_back`]), against
//! provider clearing, in the webhook's transaction.
//!
//! Two events tell of such a refund, in either order: `charge.refunded` (only the charge's
//! cumulative `amount_refunded`, unless the API version embeds the refunds) and
//! `refund.created|updated` (the refund itself, with its id). The first to arrive records
//! and posts it; the other finds it: a refund event adopts the unnamed row a charge event
//! made for the same amount, and a charge event only records what its rows do not explain.
//! So each provider refund is posted once.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::{Minor, PostingKind};
use crate::ledger::service::{self as ledger, ProviderMove};
use crate::payments::provider::RefundStatus;
use crate::payments::store::{self, PaymentRow, RefundRow};
use crate::payments::webhook::{refund_status, Envelope, RefundObject};

fn provider_row(
    payment: &PaymentRow,
    provider_refund_id: Option<&str>,
    amount: Minor,
    status: RefundStatus,
    reason: String,
    key: String,
    now: DateTime<Utc>,
) -> RefundRow {
    RefundRow {
        id: Uuid::now_v7(),
        payment_id: payment.id,
        destination: "original_method".into(),
        origin: "provider".into(),
        provider_refund_id: provider_refund_id.map(str::to_owned),
        amount_minor: amount,
        currency: payment.currency.clone(),
        status: status.as_str().into(),
        reason,
        requested_by: None,
        basis: "provider".into(),
        idempotency_key: key,
        ledger_posting_id: None,
        ledger_reversal_id: None,
        failure_reason: None,
        created_at: now,
        updated_at: now,
    }
}

/// Records and posts `amount` refunded at the provider (capped by what is left of the
/// payment to refund). `provider_id` is the refund's id, or the event's when only a charge
/// told of it; it keys the posting.
async fn post_new(
    conn: &mut PgConnection,
    payment: &PaymentRow,
    mut row: RefundRow,
    provider_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<RefundRow>, Error> {
    let room = payment.amount_received - payment.amount_refunded;
    row.amount_minor = row.amount_minor.min(room);
    if row.amount_minor <= 0 {
        tracing::warn!(payment = %payment.id, provider_id,
            "a refund at the provider exceeds what the payment received: not recorded");
        return Ok(None);
    }
    let event = format!("{}:{provider_id}", payment.provider);
    let posting = ledger::taken_back(
        conn,
        &ProviderMove {
            payment: payment.into(),
            amount: row.amount_minor,
            fee: 0,
            kind: PostingKind::Refund,
            key: format!("provider_refund:{event}"),
            provider_event: Some(event),
            memo: format!(
                "refund to the card of payment {} made at the provider",
                payment.id
            ),
        },
        now,
    )
    .await?;
    row.ledger_posting_id = Some(posting);
    store::insert_refund(conn, &row).await?;
    store::add_refunded(conn, payment.id, row.amount_minor, now).await?;
    Ok(Some(row))
}

/// `charge.refunded` said `amount` more was refunded than our rows explain, and named no
/// refund: recorded unnamed (keyed by the event) until a refund event names it.
pub(super) async fn unnamed(
    conn: &mut PgConnection,
    event: &Envelope,
    payment: &PaymentRow,
    amount: Minor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let row = provider_row(
        payment,
        None,
        amount,
        RefundStatus::Succeeded,
        format!("refunded at the provider (event {})", event.id),
        format!("event:{}", event.id),
        now,
    );
    post_new(conn, payment, row, &event.id, now).await?;
    Ok(())
}

/// A refund event for a refund we have no row of, on `payment` (locked). Answers the row
/// now standing for it, if any: an unnamed one adopted (its status still to apply), or a
/// new one recorded and posted. A refund that failed at the provider moved nothing and is
/// not recorded.
pub(super) async fn named(
    conn: &mut PgConnection,
    payment: &PaymentRow,
    r: &RefundObject,
    now: DateTime<Utc>,
) -> Result<Option<RefundRow>, Error> {
    // ours are recorded with their id before the payment's lock is let go
    if let Some(row) = store::refund_by_provider_id(conn, &r.id).await? {
        return Ok(Some(row));
    }
    let status = refund_status(r.status.as_deref());
    if matches!(status, RefundStatus::Failed | RefundStatus::Canceled) {
        return Ok(None);
    }
    if let Some(row) = store::unnamed_provider_refund(conn, payment.id, r.amount).await? {
        store::name_refund(conn, row.id, &r.id, now).await?;
        return Ok(Some(RefundRow {
            provider_refund_id: Some(r.id.clone()),
            ..row
        }));
    }
    let row = provider_row(
        payment,
        Some(&r.id),
        r.amount,
        status,
        "refunded at the provider".into(),
        format!("provider_refund:{}", r.id),
        now,
    );
    post_new(conn, payment, row, &r.id, now).await
}

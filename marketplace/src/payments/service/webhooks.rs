//! `POST /api/webhooks/stripe`: a verified event is recorded once (`provider_events`, UNIQUE
//! on the event id) and applied in the same transaction; a redelivery answers 200 and
//! changes nothing. Events are applied by the state their object carries, folded into ours
//! by rules that do not depend on order ([`crate::payments::model::advance`], amounts that
//! only grow), so a refund reported before the payment's success, or an old failure after
//! it, ends in the same place.

use chrono::{DateTime, TimeZone, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::pay::{apply, Seen};
use super::{disputes, finish, provider_refunds, transfer_reversals};
use crate::error::Error;
use crate::ledger::service as ledger;
use crate::payments::model::Tracked;
use crate::payments::provider::{AccountState, IntentStatus, PayoutState, RefundStatus};
use crate::payments::store::{self, PaymentRow};
use crate::payments::view::WebhookAck;
use crate::payments::webhook::{
    self, payout_status, refund_status, AccountObject, ChargeObject, DisputeObject, Envelope,
    IntentObject, Object, PayoutObject, RefundObject, SignatureError,
};

pub const PROVIDER: &str = "stripe";

/// The event types acted on; others are recorded and acknowledged.
const HANDLED: &[&str] = &[
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.requires_action",
    "payment_intent.amount_capturable_updated",
    "payment_intent.processing",
    "charge.succeeded",
    "charge.captured",
    "charge.refunded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "payout.paid",
    "payout.failed",
    "payout.canceled",
    "payout.updated",
    "account.updated",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "charge.dispute.closed",
    "transfer.reversed",
    "transfer.updated",
];

fn bad(code: &'static str, detail: String) -> Error {
    Error::BadRequest { code, detail }
}

pub async fn stripe_webhook(
    pool: &PgPool,
    secret: &str,
    signature: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<WebhookAck, Error> {
    webhook::verify(signature, body, secret, now).map_err(|e| {
        let code = match e {
            SignatureError::Missing => "missing_signature",
            SignatureError::Malformed => "malformed_signature",
            SignatureError::NoMatch => "invalid_signature",
            SignatureError::Stale(_) => "stale_signature",
        };
        bad(code, e.to_string())
    })?;
    let payload: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| bad("malformed_event", format!("the body is not JSON: {e}")))?;
    let event: Envelope = serde_json::from_value(payload.clone())
        .map_err(|e| bad("malformed_event", format!("not a Stripe event: {e}")))?;
    let mut tx = pool.begin().await?;
    let result = async {
        let fresh = store::insert_event(
            &mut tx,
            PROVIDER,
            &event.id,
            &event.kind,
            event.created_at(),
            &payload,
            now,
        )
        .await?;
        if !fresh {
            return Ok(WebhookAck {
                received: true,
                duplicate: true,
                outcome: "duplicate".into(),
            });
        }
        let outcome = if HANDLED.contains(&event.kind.as_str()) {
            let object = event
                .object()
                .map_err(|e| bad("malformed_event", format!("the event's object: {e}")))?;
            process(&mut tx, &event, object, now).await?
        } else {
            "ignored"
        };
        store::set_event_outcome(&mut tx, PROVIDER, &event.id, outcome).await?;
        tracing::info!(event = %event.id, kind = %event.kind, outcome, "stripe event");
        Ok(WebhookAck {
            received: true,
            duplicate: false,
            outcome: outcome.into(),
        })
    }
    .await;
    finish(tx, result).await
}

async fn process(
    conn: &mut PgConnection,
    event: &Envelope,
    object: Object,
    now: DateTime<Utc>,
) -> Result<&'static str, Error> {
    let applied = |done: bool| if done { "applied" } else { "unknown_object" };
    Ok(match object {
        Object::Intent(pi) => applied(intent(conn, event, &pi, now).await?),
        Object::Charge(ch) => applied(charge(conn, event, &ch, now).await?),
        Object::Refund(r) => applied(refund(conn, &r, now).await?),
        Object::Payout(po) => applied(payout(conn, &po, now).await?),
        Object::Account(a) => applied(account(conn, &a, now).await?),
        Object::Dispute(dp) => applied(dispute(conn, event, &dp, now).await?),
        Object::Transfer(tr) => applied(transfer_reversals::apply(conn, &tr, now).await?),
        Object::Other => "ignored",
    })
}

/// Our payment for a provider payment: by its id, or (an event that overtook our own
/// recording of the provider's answer) by the payment id we put in its metadata.
async fn find_payment(
    conn: &mut PgConnection,
    provider_id: &str,
    metadata_id: Option<&String>,
) -> Result<Option<PaymentRow>, Error> {
    if let Some(p) = store::payment_by_provider_id(conn, provider_id, true).await? {
        return Ok(Some(p));
    }
    let Some(id) = metadata_id.and_then(|m| m.parse::<Uuid>().ok()) else {
        return Ok(None);
    };
    Ok(store::payment(conn, id, true)
        .await?
        .filter(|p| p.provider_payment_id.is_none()))
}

async fn intent(
    conn: &mut PgConnection,
    event: &Envelope,
    pi: &IntentObject,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let Some(row) = find_payment(conn, &pi.id, pi.metadata.get("payment_id")).await? else {
        return Ok(false);
    };
    let status = webhook::intent_status(&pi.status);
    let decline = pi
        .last_payment_error
        .as_ref()
        .filter(|_| status == IntentStatus::Failed)
        .map(|e| e.decline());
    let seen = Seen {
        provider_payment_id: &pi.id,
        tracked: Tracked {
            status,
            amount_capturable: pi.amount_capturable,
            amount_received: pi.amount_received,
            decline,
            as_of: event.created_at(),
        },
        client_secret: None,
        next_action: None,
        next_action_url: None,
    };
    apply(conn, &row, &seen, Some(&event.id), now).await?;
    Ok(true)
}

/// A charge tells what was captured and what was refunded, cumulatively: a captured charge
/// means its payment succeeded (even when that event has not arrived yet), and refunds the
/// provider made that we did not ask for are recorded and taken out of the wallet
/// ([`provider_refunds`]): those it embeds by their ids, the rest of `amount_refunded` that
/// our rows do not explain unnamed.
async fn charge(
    conn: &mut PgConnection,
    event: &Envelope,
    ch: &ChargeObject,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let Some(pi) = ch.payment_intent.as_deref() else {
        return Ok(false);
    };
    let Some(row) = find_payment(conn, pi, ch.metadata.get("payment_id")).await? else {
        return Ok(false);
    };
    if ch.captured && ch.amount_captured > 0 {
        let seen = Seen {
            provider_payment_id: pi,
            tracked: Tracked {
                status: IntentStatus::Succeeded,
                amount_capturable: 0,
                amount_received: ch.amount_captured,
                decline: None,
                as_of: event.created_at(),
            },
            client_secret: None,
            next_action: None,
            next_action_url: None,
        };
        apply(conn, &row, &seen, Some(&event.id), now).await?;
    }
    for r in ch.refunds.iter().flat_map(|list| &list.data) {
        refund(conn, r, now).await?;
    }
    let Some(row) = store::payment(conn, row.id, true).await? else {
        return Ok(false);
    };
    let ours = store::refunded_to_card(conn, row.id).await?;
    let extra = ch.amount_refunded - ours;
    if extra > 0 {
        provider_refunds::unnamed(conn, event, &row, extra, now).await?;
    }
    Ok(true)
}

/// A refund's outcome: one that failed after we took it out of the wallet is put back (a
/// reversing posting). A refund we have no row of was made at the provider: recorded and
/// posted first ([`provider_refunds::named`]).
async fn refund(
    conn: &mut PgConnection,
    r: &RefundObject,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let row = match store::refund_by_provider_id(conn, &r.id).await? {
        Some(row) => row,
        None => {
            let Some(pi) = r.payment_intent.as_deref() else {
                return Ok(false);
            };
            let Some(payment) = find_payment(conn, pi, r.metadata.get("payment_id")).await? else {
                return Ok(false);
            };
            match provider_refunds::named(conn, &payment, r, now).await? {
                Some(row) => row,
                None => return Ok(true),
            }
        }
    };
    let status = refund_status(r.status.as_deref());
    let was_live = !matches!(row.status.as_str(), "failed" | "canceled");
    let failed = matches!(status, RefundStatus::Failed | RefundStatus::Canceled);
    let mut reversal = None;
    if failed && was_live {
        if let (Some(posting), None) = (row.ledger_posting_id, row.ledger_reversal_id) {
            let memo = "the refund to the card failed: the money is back in the wallet";
            reversal = Some(ledger::reverse(conn, posting, None, memo, now).await?);
        }
        store::add_refunded(conn, row.payment_id, -row.amount_minor, now).await?;
    }
    if failed || was_live {
        store::update_refund(
            conn,
            row.id,
            status.as_str(),
            r.failure_reason.as_deref(),
            reversal,
            now,
        )
        .await?;
    }
    Ok(true)
}

/// A dispute of one of our payments (found by its PaymentIntent), applied by
/// [`disputes::apply`].
async fn dispute(
    conn: &mut PgConnection,
    event: &Envelope,
    dp: &DisputeObject,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let Some(pi) = dp.payment_intent.as_deref() else {
        return Ok(false);
    };
    let Some(payment) = find_payment(conn, pi, None).await? else {
        return Ok(false);
    };
    disputes::apply(conn, event, &payment, dp, now).await?;
    Ok(true)
}

async fn payout(
    conn: &mut PgConnection,
    po: &PayoutObject,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let state = PayoutState {
        id: po.id.clone(),
        amount: po.amount,
        currency: po.currency.to_ascii_uppercase(),
        status: payout_status(&po.status),
        arrival_date: po
            .arrival_date
            .and_then(|t| Utc.timestamp_opt(t, 0).single()),
        failure_code: po.failure_code.clone(),
    };
    store::update_payout(conn, None, &state, now).await
}

async fn account(
    conn: &mut PgConnection,
    a: &AccountObject,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let state = AccountState {
        id: a.id.clone(),
        charges_enabled: a.charges_enabled,
        payouts_enabled: a.payouts_enabled,
        details_submitted: a.details_submitted,
    };
    store::update_payout_account(conn, &state, now).await
}

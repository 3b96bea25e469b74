//! What the provider says about a card payment, from its answers and webhooks, folded into
//! the payment; money received comes into the ledger once and is used for what it paid.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::target::PAYABLE;
use crate::error::Error;
use crate::ledger::model::Minor;
use crate::ledger::service::{self as ledger, HoldPolicy, ProviderPayment};
use crate::payments::model::{self, Tracked};
use crate::payments::provider::PaymentState;
use crate::payments::service::finish;
use crate::payments::store::{self, PaymentRow, ProviderUpdate};
use crate::payments::view::PaymentView;

/// What the provider answered us directly (true as of now).
fn seen_now(state: &PaymentState, now: DateTime<Utc>) -> Tracked {
    Tracked {
        status: state.status,
        amount_capturable: state.amount_capturable,
        amount_received: state.amount_received,
        decline: state.decline.clone(),
        as_of: now,
    }
}

pub(super) async fn record(
    pool: &PgPool,
    id: Uuid,
    state: &PaymentState,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    let mut tx = pool.begin().await?;
    let result = async {
        let row = store::payment(&mut tx, id, true)
            .await?
            .ok_or(Error::NotFound("payment"))?;
        let seen = Seen {
            provider_payment_id: &state.id,
            tracked: seen_now(state, now),
            client_secret: state.client_secret.as_deref(),
            next_action: state.next_action.as_ref().map(|a| a.kind.as_str()),
            next_action_url: state
                .next_action
                .as_ref()
                .and_then(|a| a.redirect_url.as_deref()),
        };
        apply(&mut tx, &row, &seen, None, now)
            .await
            .map(PaymentView::from)
    }
    .await;
    finish(tx, result).await
}

/// What the provider said about a payment, from an answer or a webhook.
pub(in crate::payments::service) struct Seen<'a> {
    pub provider_payment_id: &'a str,
    pub tracked: Tracked,
    pub client_secret: Option<&'a str>,
    pub next_action: Option<&'a str>,
    pub next_action_url: Option<&'a str>,
}

/// Folds the provider's news into a (locked) payment and, the first time money was
/// received, brings it into the ledger. `event` is the webhook event that said so, if any.
pub(in crate::payments::service) async fn apply(
    conn: &mut PgConnection,
    row: &PaymentRow,
    seen: &Seen<'_>,
    event: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PaymentRow, Error> {
    let current = Tracked {
        status: row.status()?,
        amount_capturable: row.amount_capturable,
        amount_received: row.amount_received,
        decline: row
            .failure_code
            .clone()
            .map(|code| crate::payments::provider::Decline {
                code,
                decline_code: row.decline_code.clone(),
                message: row.failure_message.clone().unwrap_or_default(),
            }),
        as_of: row.state_as_of,
    };
    let mut next = model::advance(&current, &seen.tracked);
    // a provider never takes more than was asked; the ledger must not believe otherwise
    next.amount_received = next.amount_received.min(row.amount_minor);
    let update = ProviderUpdate {
        provider_payment_id: row
            .provider_payment_id
            .as_deref()
            .unwrap_or(seen.provider_payment_id),
        tracked: &next,
        client_secret: seen.client_secret,
        next_action: seen.next_action.or(row.next_action.as_deref()),
        next_action_url: seen.next_action_url.or(row.next_action_url.as_deref()),
    };
    store::update_state(conn, row.id, &update, now).await?;
    if next.amount_received > 0 && row.ledger_posting_id.is_none() {
        let fresh = store::payment(conn, row.id, false)
            .await?
            .ok_or(Error::NotFound("payment"))?;
        received(conn, &fresh, next.amount_received, event, now).await?;
    }
    store::payment(conn, row.id, false)
        .await?
        .ok_or(Error::NotFound("payment"))
}

/// Money received by card: into the driver's wallet through the ledger (once per provider
/// payment, however often reported), then used for what it paid.
async fn received(
    conn: &mut PgConnection,
    row: &PaymentRow,
    amount: Minor,
    event: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let provider_id = row
        .provider_payment_id
        .clone()
        .ok_or_else(|| Error::Internal(format!("payment {} received without an id", row.id)))?;
    let memo = match event {
        Some(e) => format!("card payment ({}), reported by event {e}", row.purpose),
        None => format!("card payment ({})", row.purpose),
    };
    // the ledger's lock order: what is paid for (the booking, the bill) before the driver's
    // balances, which recording the money locks
    let booking = match row.booking_id {
        Some(id) => crate::bookings::service::by_id(conn, id, true).await?,
        None => None,
    };
    let bill = match row.session_id {
        Some(id) => store::session_due(conn, id)
            .await?
            .and_then(|s| s.bill_id.filter(|_| !s.posted)),
        None => None,
    };
    if let Some(b) = bill {
        ledger::lock_bill_chain(conn, b).await?;
    }
    let posted = ledger::record_provider_payment(
        conn,
        &ProviderPayment {
            provider: &row.provider,
            event_id: &provider_id,
            driver: row.user_id,
            amount,
            currency: &row.currency,
            actor: Some(row.user_id),
            memo,
        },
        now,
    )
    .await?;
    let mut hold = None;
    // a pending booking is held when confirmed (the money waits in the wallet)
    if let Some(b) = booking.filter(|b| PAYABLE[1..].contains(&b.status)) {
        hold = ledger::hold_for_booking(
            conn,
            (&b).into(),
            Some(row.user_id),
            HoldPolicy::IfFunded,
            now,
        )
        .await?;
    }
    if let Some(b) = bill {
        ledger::post_session_bill(conn, b, now).await?;
    }
    store::set_ledger(conn, row.id, Some(posted.id()), hold, now).await?;
    if row.destination_account.is_some() {
        let fee = row.application_fee_minor.unwrap_or(0);
        let destination = row.destination_account.as_deref().unwrap_or_default();
        ledger::destination_charge(conn, row.into(), amount, fee, destination, now).await?;
    }
    // a fee the platform captured on its own is charged from this money at once, however
    // the news of the capture arrived (our answer or a webhook)
    crate::payments::service::authorizations::charge_claimed_fee(conn, row, now).await
}

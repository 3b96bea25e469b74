//! A payment by card: the card and customer chosen, then the provider asked with a key
//! derived from the payment's row.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::input::PayInput;
use super::record::record;
use super::target::Target;
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::payments::model::{self};
use crate::payments::provider::{Destination, NewPayment, PaymentProvider, ProviderError};
use crate::payments::service::provider_error;
use crate::payments::store::{self, PaymentRow};
use crate::payments::view::PaymentView;

/// A card payment's row before the provider is asked: the card, the customer, a Connect
/// destination when the card pays a whole session bill of a host who can take charges.
pub(super) async fn prepare_card(
    conn: &mut PgConnection,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    input: &PayInput,
    target: &Target,
    row: &mut PaymentRow,
) -> Result<(), Error> {
    let method = match input.payment_method_id {
        Some(id) => store::method(conn, caller.id, id, false)
            .await?
            .ok_or_else(|| Error::invalid("payment_method_id", "is not one of your cards"))?,
        None => store::default_method(conn, caller.id)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                "payment_method_id",
                "is required: you have no default card (add one with POST /api/payment-methods)",
            )
            })?,
    };
    if method.provider != provider.name() {
        return Err(Error::invalid(
            "payment_method_id",
            format!(
                "was saved with the `{}` payment provider, which is not in use; add the card again",
                method.provider
            ),
        ));
    }
    row.provider = provider.name().into();
    row.payment_method_id = Some(method.id);
    if let Some(s) = &target.session {
        let whole = s.total_cents == Some(target.amount);
        if let (true, Some(share)) = (whole, s.host_share_cents) {
            if let Some(account) = store::charges_account(conn, s.host_id, provider.name()).await? {
                row.destination_account = Some(account);
                row.application_fee_minor = Some(model::application_fee(target.amount, share));
            }
        }
    }
    Ok(())
}

/// Asks the provider for a card payment whose row is committed as `processing`, with a key
/// derived from the row (a retry sends the same one), and records the answer.
pub(super) async fn send(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    row: &PaymentRow,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    let mut conn = pool.acquire().await?;
    let method = match row.payment_method_id {
        Some(id) => store::method_by_id(&mut conn, id).await?,
        None => None,
    }
    .ok_or_else(|| Error::Internal(format!("card payment {} without a card", row.id)))?;
    let customer = store::customer(&mut conn, row.user_id, &row.provider)
        .await?
        .ok_or_else(|| Error::Internal(format!("card payment {} without a customer", row.id)))?;
    drop(conn);
    let mut metadata = BTreeMap::from([
        ("payment_id".to_owned(), row.id.to_string()),
        ("user_id".to_owned(), row.user_id.to_string()),
        ("purpose".to_owned(), row.purpose.clone()),
    ]);
    if let Some(b) = row.booking_id {
        metadata.insert("booking_id".into(), b.to_string());
    }
    if let Some(s) = row.session_id {
        metadata.insert("session_id".into(), s.to_string());
    }
    let capture = row
        .capture_method
        .parse()
        .map_err(|e: String| Error::Internal(e))?;
    let key = format!("payment:{}", row.id);
    let request = NewPayment {
        amount: row.amount_minor,
        currency: &row.currency,
        customer: &customer,
        payment_method: &method.provider_method_id,
        capture,
        destination: row.destination_account.clone().map(|account| Destination {
            account,
            application_fee: row.application_fee_minor.unwrap_or(0),
        }),
        description: Some(format!("EV charging: {}", row.purpose)),
        metadata,
        idempotency_key: &key,
    };
    match provider.create_payment(&request).await {
        Ok(state) => record(pool, row.id, &state, now).await,
        // the provider may have taken the payment (no answer, or one we could not read): the
        // row stays `processing`, so a retry sends the same key and a webhook can settle it
        Err(err @ (ProviderError::Unavailable(_) | ProviderError::Unexpected(_))) => {
            Err(provider_error(err, "payment_method_id"))
        }
        Err(err) => {
            let mut conn = pool.acquire().await?;
            store::mark_failed(&mut conn, row.id, "provider_refused", &err.to_string(), now)
                .await?;
            Err(provider_error(err, "payment_method_id"))
        }
    }
}

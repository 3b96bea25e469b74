//! Paying: the payment's row, made once per `Idempotency-Key`, by wallet at once or by
//! card through the provider.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::card::{prepare_card, send};
use super::input::{validate, Paid, PayInput};
use super::target::{already_paid, resolve, Target};
use super::wallet::by_wallet;
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::payments::model::Method;
use crate::payments::provider::{CaptureMethod, IntentStatus, PaymentProvider};
use crate::payments::service::finish;
use crate::payments::store::{self, PaymentRow};
use crate::plumbing::idempotency;

fn map_insert(err: Error) -> Error {
    match err {
        Error::Database(sqlx::Error::Database(db)) => match db.constraint() {
            Some(store::BOOKING_LIVE) => already_paid("booking"),
            Some(store::SESSION_LIVE) => already_paid("session"),
            Some(store::PAYMENT_KEY) => Error::Conflict {
                code: "idempotency_key_in_use",
                detail: "a request with this Idempotency-Key is still being processed".into(),
            },
            _ => Error::Database(sqlx::Error::Database(db)),
        },
        other => other,
    }
}

enum Step {
    New(PaymentRow),
    Existing(PaymentRow),
}

fn new_row(
    caller: &AuthUser,
    input: &PayInput,
    target: &Target,
    key: &str,
    hash: Vec<u8>,
    now: DateTime<Utc>,
) -> PaymentRow {
    PaymentRow {
        id: Uuid::now_v7(),
        user_id: caller.id,
        purpose: input.purpose.as_str().into(),
        booking_id: input.booking_id,
        session_id: input.session_id,
        method: input.method.as_str().into(),
        provider: "wallet".into(),
        payment_method_id: None,
        provider_payment_id: None,
        amount_minor: target.amount,
        currency: target.currency.clone(),
        capture_method: input
            .capture
            .unwrap_or(CaptureMethod::Automatic)
            .as_str()
            .into(),
        status: IntentStatus::Processing.as_str().into(),
        amount_capturable: 0,
        amount_received: 0,
        amount_refunded: 0,
        client_secret: None,
        next_action: None,
        next_action_url: None,
        failure_code: None,
        decline_code: None,
        failure_message: None,
        destination_account: None,
        application_fee_minor: None,
        idempotency_key: key.into(),
        request_hash: hash,
        ledger_posting_id: None,
        ledger_hold_id: None,
        state_as_of: now,
        created_at: now,
        updated_at: now,
    }
}

/// Pays for something. With an `Idempotency-Key`, a retry answers the payment made first (as
/// it stands now; a card payment whose provider call was cut off is sent again with the same
/// provider key); the same key with another request is a 422. A declined card is not an
/// error: the payment answers `failed` with the decline.
pub async fn pay(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    input: PayInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Paid, Error> {
    validate(&input, key)?;
    let key = key.map_or_else(|| format!("auto:{}", Uuid::now_v7()), str::to_owned);
    let hash = idempotency::request_hash(&input)?.to_vec();
    let mut tx = pool.begin().await?;
    let step = async {
        if let Some(existing) = store::payment_by_key(&mut tx, caller.id, &key, true).await? {
            if existing.request_hash != hash {
                return Err(idempotency::reused());
            }
            return Ok(Step::Existing(existing));
        }
        let target = resolve(&mut tx, caller, &input).await?;
        let mut row = new_row(caller, &input, &target, &key, hash, now);
        match input.method {
            Method::Wallet => by_wallet(&mut tx, caller, &target, &mut row, now).await?,
            Method::Card => {
                prepare_card(&mut tx, provider, caller, &input, &target, &mut row).await?
            }
        }
        store::insert_payment(&mut tx, &row)
            .await
            .map_err(map_insert)?;
        Ok(Step::New(row))
    }
    .await;
    let card = |row: &PaymentRow| {
        row.method == Method::Card.as_str() && row.status == IntentStatus::Processing.as_str()
    };
    match finish(tx, step).await? {
        Step::Existing(row) if card(&row) => {
            send(pool, provider, &row, now).await.map(Paid::Replayed)
        }
        Step::Existing(row) => Ok(Paid::Replayed(row.into())),
        Step::New(row) if card(&row) => send(pool, provider, &row, now).await.map(Paid::New),
        Step::New(row) => Ok(Paid::New(row.into())),
    }
}

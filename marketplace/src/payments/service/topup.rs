//! `POST /api/wallet/topup`: money into the wallet from a payment method. `local_test` is
//! the ledger's development provider (credited at once); `card` (the caller's default card)
//! or a saved card's id goes through the payment provider as a top-up payment, and the money
//! reaches the wallet when the provider has it (at once, after 3-D Secure, or by webhook).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::pay::{pay, Paid, PayInput};
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::ledger::service::{self as ledger, TopupInput};
use crate::ledger::view::{CurrencyWallet, TransactionView};
use crate::payments::model::{Method, Purpose};
use crate::payments::provider::PaymentProvider;
use crate::payments::view::PaymentView;

/// What a top-up did: the ledger transaction when the money is in (always for
/// `local_test`), the card payment for a card, and the wallet in that currency afterwards
/// (none before its first money).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = TopupAnswer)]
pub struct WalletTopupView {
    /// The ledger transaction: always for `local_test`; null for a card (see `payment`, and
    /// the wallet's history once the money is in).
    #[schema(required)]
    pub transaction: Option<TransactionView>,
    /// A card top-up's payment: `succeeded` (in the wallet), `requires_action` (3-D Secure:
    /// `POST /api/payments/{id}/confirm`), or `failed` with the card's reason.
    #[schema(required)]
    pub payment: Option<PaymentView>,
    /// The wallet of the top-up's currency, as it is now (null before its first money).
    #[schema(required)]
    pub wallet: Option<CurrencyWallet>,
}

#[derive(Debug, Clone)]
pub struct WalletTopup {
    pub view: WalletTopupView,
    /// A retry with the same `Idempotency-Key`.
    pub replayed: bool,
}

/// The card a method names: `card` the default one (`Some(None)`), a UUID that saved card;
/// `None` for anything else (the ledger's top-up then takes it, or names it as invalid along
/// with any other bad field).
fn card_of(method: &str) -> Option<Option<Uuid>> {
    match method {
        "card" => Some(None),
        other => other.parse::<Uuid>().ok().map(Some),
    }
}

pub async fn wallet_topup(
    pool: &sqlx::PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    input: TopupInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<WalletTopup, Error> {
    let Some(payment_method_id) = card_of(&input.payment_method) else {
        let done = ledger::topup(pool, caller, input, key, now).await?;
        return Ok(WalletTopup {
            view: WalletTopupView {
                transaction: Some(done.view.transaction),
                payment: None,
                wallet: Some(done.view.wallet),
            },
            replayed: done.replayed,
        });
    };
    let currency = input.currency.clone();
    let paid = pay(
        pool,
        provider,
        caller,
        PayInput {
            purpose: Purpose::Topup,
            booking_id: None,
            session_id: None,
            amount_cents: Some(input.amount_cents),
            currency: Some(input.currency),
            method: Method::Card,
            payment_method_id,
            capture: None,
        },
        key,
        now,
    )
    .await?;
    let (payment, replayed) = match paid {
        Paid::New(p) => (p, false),
        Paid::Replayed(p) => (p, true),
    };
    let wallet = ledger::wallet(pool, caller)
        .await?
        .wallets
        .into_iter()
        .find(|w| w.currency == currency);
    Ok(WalletTopup {
        view: WalletTopupView {
            transaction: None,
            payment: Some(payment),
            wallet,
        },
        replayed,
    })
}

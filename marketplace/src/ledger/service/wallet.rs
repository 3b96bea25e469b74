//! The wallet REST's use cases: top-up (through the development provider for now), the
//! wallet, its history, its settings; and the admins' view of any account.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{finish, record_provider_payment, valid_currency, ProviderPayment};
use crate::accounts::AuthUser;
use crate::error::{Error, FieldError};
use crate::ledger::model::Minor;
use crate::ledger::store::history::{self, AccountFilter, TransactionFilter};
use crate::ledger::store::{self, holds, Posted};
use crate::ledger::view::{
    AccountDetail, AccountPage, AccountView, CurrencyWallet, SettingsView, TopupView,
    TransactionPage, TransactionView, WalletView,
};

/// A top-up is 1.00 to 1,000.00 of a two-decimal currency (100 to 100,000 minor units).
pub const TOPUP_MIN_MINOR: Minor = 100;
pub const TOPUP_MAX_MINOR: Minor = 100_000;
pub const THRESHOLD_MAX_MINOR: Minor = 1_000_000;
/// The development provider: credits at once, through provider clearing, like a Stripe
/// test-mode payment that succeeded. Cards are paid through `payments` (which routes the
/// top-up).
pub const LOCAL_TEST: &str = "local_test";

/// `POST /api/wallet/topup`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TopupBody)]
pub struct TopupInput {
    /// Minor units: 100 to 100000 (1.00 to 1,000.00 of a two-decimal currency).
    #[schema(minimum = 100, maximum = 100000, example = 2000)]
    pub amount_cents: Minor,
    /// ISO 4217, capitals.
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: String,
    /// `card` (the caller's default saved card), the id of a saved card, or `local_test`
    /// (the development provider, which credits at once like a Stripe test-mode payment that
    /// succeeded; development mode only).
    #[schema(
        pattern = r"^(?:card|local_test|[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}|[Uu][Rr][Nn]:[Uu][Uu][Ii][Dd]:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$",
        example = "card"
    )]
    pub payment_method: String,
}

#[derive(Debug, Clone)]
pub struct Topup {
    pub view: TopupView,
    /// A retry with the same `Idempotency-Key`: nothing new was posted.
    pub replayed: bool,
}

fn validate(input: &TopupInput, key: Option<&str>) -> Result<(), Error> {
    let mut errors = Vec::new();
    if !(TOPUP_MIN_MINOR..=TOPUP_MAX_MINOR).contains(&input.amount_cents) {
        errors.push(FieldError::new(
            "amount_cents",
            format!("must be from {TOPUP_MIN_MINOR} to {TOPUP_MAX_MINOR} (minor units)"),
        ));
    }
    if !valid_currency(&input.currency) {
        errors.push(FieldError::new(
            "currency",
            "must be an ISO 4217 code in capitals, such as EUR",
        ));
    }
    if input.payment_method != LOCAL_TEST {
        errors.push(FieldError::new(
            "payment_method",
            "must be `card` (your default card), the id of one of your saved cards, or \
             `local_test` (the development provider)",
        ));
    }
    if let Some(key) = key {
        if !crate::plumbing::idempotency::is_valid(key) {
            errors.push(crate::plumbing::idempotency::key_field_error());
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// Tops up the caller's wallet. With an `Idempotency-Key`, a retry posts nothing and answers
/// the same transaction (and the wallet as it is now); the same key with another amount or
/// currency is a 422.
pub async fn topup(
    pool: &PgPool,
    caller: &AuthUser,
    input: TopupInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Topup, Error> {
    validate(&input, key)?;
    let event_id = match key {
        Some(key) => format!("{}:{key}", caller.id),
        None => Uuid::now_v7().to_string(),
    };
    let payment = ProviderPayment {
        provider: LOCAL_TEST,
        event_id: &event_id,
        driver: caller.id,
        amount: input.amount_cents,
        currency: &input.currency,
        actor: Some(caller.id),
        memo: "top-up (local test provider)".into(),
    };
    let mut tx = pool.begin().await?;
    let result = async {
        let posted = record_provider_payment(&mut tx, &payment, now).await?;
        if let Posted::Existing(id) = posted {
            let same = store::posting(&mut tx, id)
                .await?
                .is_some_and(|p| p.currency == input.currency)
                && store::entries_of(&mut tx, id).await?.iter().any(|e| {
                    e.kind == "driver_wallet"
                        && e.owner_id == Some(caller.id)
                        && e.amount_minor == input.amount_cents
                });
            if !same {
                return Err(Error::invalid(
                    "Idempotency-Key",
                    "was already used with a different request",
                ));
            }
        }
        let filter = TransactionFilter {
            id: Some(posted.id()),
            limit: 1,
            ..TransactionFilter::default()
        };
        let (rows, _) = history::transactions(&mut tx, caller.id, &filter).await?;
        let transaction = rows
            .into_iter()
            .next()
            .map(TransactionView::from)
            .ok_or_else(|| Error::Internal("the top-up posting vanished".into()))?;
        let wallet = wallet_of(&mut tx, caller.id)
            .await?
            .wallets
            .into_iter()
            .find(|w| w.currency == input.currency)
            .ok_or_else(|| Error::Internal("the topped-up wallet vanished".into()))?;
        Ok(Topup {
            view: TopupView {
                transaction,
                wallet,
            },
            replayed: matches!(posted, Posted::Existing(_)),
        })
    }
    .await;
    finish(tx, result).await
}

pub async fn wallet(pool: &PgPool, caller: &AuthUser) -> Result<WalletView, Error> {
    wallet_of(&mut *pool.acquire().await?, caller.id).await
}

async fn wallet_of(conn: &mut PgConnection, driver: Uuid) -> Result<WalletView, Error> {
    let threshold = history::threshold(conn, driver).await?;
    let mut by_currency: BTreeMap<String, CurrencyWallet> = BTreeMap::new();
    for a in history::driver_accounts(conn, driver).await? {
        let w = by_currency
            .entry(a.currency.clone())
            .or_insert_with(|| CurrencyWallet {
                currency: a.currency.clone(),
                balance_cents: 0,
                held_cents: 0,
                outstanding_cents: 0,
                low_balance: false,
                holds: Vec::new(),
            });
        match a.kind.as_str() {
            "driver_wallet" => w.balance_cents = a.balance_minor,
            "driver_hold" => w.held_cents = a.balance_minor,
            _ => w.outstanding_cents = -a.balance_minor,
        }
    }
    for h in holds::open_of_driver(conn, driver).await? {
        if let Some(w) = by_currency.get_mut(&h.currency) {
            w.holds.push(h.into());
        }
    }
    let mut wallets: Vec<CurrencyWallet> = by_currency.into_values().collect();
    for w in &mut wallets {
        w.low_balance = threshold.is_some_and(|t| w.balance_cents < t);
    }
    Ok(WalletView {
        wallets,
        low_balance_threshold_cents: threshold,
    })
}

pub async fn transactions(
    pool: &PgPool,
    caller: &AuthUser,
    filter: TransactionFilter,
) -> Result<TransactionPage, Error> {
    let mut conn = pool.acquire().await?;
    let (rows, total) = history::transactions(&mut conn, caller.id, &filter).await?;
    Ok(TransactionPage {
        items: rows.into_iter().map(Into::into).collect(),
        total,
        limit: filter.limit,
        offset: filter.offset,
    })
}

/// Sets (or, with `None`, clears) the caller's low-balance threshold.
pub async fn set_settings(
    pool: &PgPool,
    caller: &AuthUser,
    threshold: Option<Minor>,
    now: DateTime<Utc>,
) -> Result<SettingsView, Error> {
    if threshold.is_some_and(|t| !(0..=THRESHOLD_MAX_MINOR).contains(&t)) {
        return Err(Error::invalid(
            "low_balance_threshold_cents",
            format!("must be from 0 to {THRESHOLD_MAX_MINOR} (minor units), or null"),
        ));
    }
    let mut conn = pool.acquire().await?;
    history::set_threshold(&mut conn, caller.id, threshold, now).await?;
    Ok(SettingsView {
        low_balance_threshold_cents: threshold,
    })
}

/// Any account with a page of its entries (admins; the route checks the role).
pub async fn account(
    pool: &PgPool,
    id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<AccountDetail, Error> {
    let mut conn = pool.acquire().await?;
    let account = history::account(&mut conn, id)
        .await?
        .ok_or(Error::NotFound("account"))?;
    let entries = history::entries(&mut conn, id, limit, offset).await?;
    Ok(AccountDetail {
        account: account.into(),
        entries: entries.into_iter().map(Into::into).collect(),
        limit,
        offset,
    })
}

pub async fn accounts(pool: &PgPool, filter: AccountFilter) -> Result<AccountPage, Error> {
    let mut conn = pool.acquire().await?;
    let (rows, total) = history::accounts(&mut conn, &filter).await?;
    Ok(AccountPage {
        items: rows.into_iter().map(AccountView::from).collect(),
        total,
        limit: filter.limit,
        offset: filter.offset,
    })
}

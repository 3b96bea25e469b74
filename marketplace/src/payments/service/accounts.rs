//! Hosts' payout accounts (Stripe Connect Express): opened on first request, with an
//! onboarding link each time; kept up to date by `account.updated` webhooks. And payouts from
//! such an account to the host's bank.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::provider_error;
use crate::accounts::{AuthUser, Role};
use crate::error::{Error, FieldError};
use crate::ledger::model::Minor;
use crate::ledger::service::valid_currency;
use crate::payments::provider::{
    LinkRequest, NewAccount, NewPayout, PaymentProvider, PayoutStatus,
};
use crate::payments::store::{self, PayoutRow};
use crate::payments::view::PayoutAccountView;

pub const URL_MAX: usize = 2000;

/// `POST /api/host/payout-account`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PayoutAccountBody)]
pub struct PayoutAccountInput {
    /// Where the provider sends the host back when onboarding is left: an http(s) URL of
    /// visible ASCII characters.
    #[schema(
        max_length = 2000,
        pattern = "^https?://[!-~]*$",
        example = "https://app.example.com/host/payouts/done"
    )]
    pub return_url: String,
    /// Where the provider sends the host when the link expired (ask for a new one there).
    #[schema(
        max_length = 2000,
        pattern = "^https?://[!-~]*$",
        example = "https://app.example.com/host/payouts/refresh"
    )]
    pub refresh_url: String,
    /// ISO 3166-1 alpha-2 of the host's business; default: asked during onboarding.
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{2}$", example = "NL")]
    pub country: Option<String>,
}

fn validate(input: &PayoutAccountInput) -> Result<(), Error> {
    let mut errors = Vec::new();
    for (field, url) in [
        ("return_url", &input.return_url),
        ("refresh_url", &input.refresh_url),
    ] {
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= URL_MAX
            && url.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            errors.push(FieldError::new(
                field,
                format!("must be an http(s) URL of at most {URL_MAX} characters"),
            ));
        }
    }
    if let Some(c) = &input.country {
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::new(
                "country",
                "must be an ISO 3166-1 alpha-2 code in capitals, such as NL",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// Opens the caller's payout account (once) and answers it with a fresh onboarding link.
pub async fn open_payout_account(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    input: PayoutAccountInput,
    now: DateTime<Utc>,
) -> Result<PayoutAccountView, Error> {
    caller.require(&[Role::Host])?;
    validate(&input)?;
    let mut conn = pool.acquire().await?;
    if store::payout_account(&mut conn, caller.id, provider.name())
        .await?
        .is_none()
    {
        let email = store::user_email(&mut conn, caller.id)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let key = format!("connect_account:{}", caller.id);
        let account = provider
            .create_account(&NewAccount {
                host_id: caller.id,
                email: &email,
                country: input.country.as_deref(),
                idempotency_key: &key,
            })
            .await
            .map_err(|e| provider_error(e, "country"))?;
        store::insert_payout_account(
            &mut conn,
            caller.id,
            provider.name(),
            input.country.as_deref(),
            &account,
            now,
        )
        .await?;
    }
    let row = store::payout_account(&mut conn, caller.id, provider.name())
        .await?
        .ok_or_else(|| Error::Internal("the payout account vanished".into()))?;
    let key = format!("account_link:{}:{}", caller.id, Uuid::now_v7());
    let link = provider
        .onboarding_link(&LinkRequest {
            account: &row.provider_account_id,
            refresh_url: &input.refresh_url,
            return_url: &input.return_url,
            idempotency_key: &key,
        })
        .await
        .map_err(|e| provider_error(e, "return_url"))?;
    let mut view = PayoutAccountView::from(row);
    view.onboarding_url = Some(link.url);
    view.onboarding_expires_at = Some(link.expires_at);
    Ok(view)
}

/// The caller's payout account, refreshed from the provider while onboarding is not complete
/// (webhooks keep it current otherwise; a provider that does not answer leaves it as stored).
pub async fn payout_account(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    now: DateTime<Utc>,
) -> Result<PayoutAccountView, Error> {
    caller.require(&[Role::Host])?;
    let mut conn = pool.acquire().await?;
    let row = store::payout_account(&mut conn, caller.id, provider.name())
        .await?
        .ok_or(Error::NotFound("payout account"))?;
    if !(row.charges_enabled && row.payouts_enabled) {
        match provider.get_account(&row.provider_account_id).await {
            Ok(state) => {
                store::update_payout_account(&mut conn, &state, now).await?;
            }
            Err(err) => tracing::warn!(error = %err, "payout account not refreshed"),
        }
    }
    store::payout_account(&mut conn, caller.id, provider.name())
        .await?
        .map(PayoutAccountView::from)
        .ok_or(Error::NotFound("payout account"))
}

/// Pays `amount` out of the host's connected account to their bank, once per `key`. The seam
/// for the ledger's payout run: what the host is owed is the ledger's to decide.
pub async fn create_payout(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    host: Uuid,
    amount: Minor,
    currency: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<PayoutRow, Error> {
    if amount < 1 {
        return Err(Error::invalid("amount_cents", "must be positive"));
    }
    if !valid_currency(currency) {
        return Err(Error::invalid(
            "currency",
            "must be an ISO 4217 code such as EUR",
        ));
    }
    crate::plumbing::idempotency::checked(Some(key))?;
    let mut conn = pool.acquire().await?;
    let account = store::payout_account(&mut conn, host, provider.name())
        .await?
        .filter(|a| a.payouts_enabled)
        .ok_or(Error::Conflict {
            code: "payouts_not_enabled",
            detail: "the host has no payout account that can be paid out yet".into(),
        })?;
    let row = match store::payout_by_key(&mut conn, host, key).await? {
        Some(row) if row.provider_payout_id.is_some() => return Ok(row),
        Some(row) => row,
        None => {
            let row = PayoutRow {
                id: Uuid::now_v7(),
                host_id: host,
                provider: provider.name().into(),
                provider_payout_id: None,
                amount_minor: amount,
                currency: currency.into(),
                status: PayoutStatus::Pending.as_str().into(),
                arrival_date: None,
                failure_code: None,
                idempotency_key: key.into(),
                created_at: now,
                updated_at: now,
            };
            store::insert_payout(&mut conn, &row).await?;
            row
        }
    };
    let provider_key = format!("payout:{}", row.id);
    let state = provider
        .create_payout(&NewPayout {
            account: &account.provider_account_id,
            amount: row.amount_minor,
            currency: &row.currency,
            metadata: BTreeMap::from([("payout_id".to_owned(), row.id.to_string())]),
            idempotency_key: &provider_key,
        })
        .await
        .map_err(|e| provider_error(e, "amount_cents"))?;
    store::update_payout(&mut conn, Some(row.id), &state, now).await?;
    store::payout_by_key(&mut conn, host, key)
        .await?
        .ok_or_else(|| Error::Internal("the payout vanished".into()))
}

//! Wallet routes (any signed-in user: the wallet is the caller's own) and the admins' ledger
//! accounts. Thin: parse, call the service with the context's clock, shape the answer.
//! `POST /api/wallet/topup` is routed by payments (a card top-up is a payment).

mod query;

use axum::extract::{FromRef, Path, Query, State};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use uuid::Uuid;

use super::model::Minor;
use super::service;
use super::view::{AccountDetail, AccountPage, SettingsView, TransactionPage, WalletView};
use crate::accounts::{AuthUser, RequireAdmin};
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/wallet", get(wallet))
        .route("/api/wallet/transactions", get(transactions))
        .route("/api/wallet/settings", get(settings).put(set_settings))
        .route("/api/admin/ledger/accounts", get(accounts))
        .route("/api/admin/ledger/accounts/{id}", get(account))
}

type Reply<T> = Result<ApiJson<T>, Error>;

async fn wallet(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<WalletView> {
    Ok(ApiJson(service::wallet(&ctx.pool, &caller).await?))
}

async fn transactions(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<TransactionPage> {
    let filter = query::transactions(&params)?;
    Ok(ApiJson(
        service::transactions(&ctx.pool, &caller, filter).await?,
    ))
}

async fn settings(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<SettingsView> {
    let view = service::wallet(&ctx.pool, &caller).await?;
    Ok(ApiJson(SettingsView {
        low_balance_threshold_cents: view.low_balance_threshold_cents,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    /// `null` (or left out) clears it.
    #[serde(default)]
    low_balance_threshold_cents: Option<Minor>,
}

async fn set_settings(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Reply<SettingsView> {
    let view = service::set_settings(
        &ctx.pool,
        &caller,
        body.low_balance_threshold_cents,
        ctx.clock.now(),
    )
    .await?;
    Ok(ApiJson(view))
}

async fn accounts(
    State(ctx): State<ApiContext>,
    RequireAdmin(_): RequireAdmin,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<AccountPage> {
    let filter = query::accounts(&params)?;
    Ok(ApiJson(service::accounts(&ctx.pool, filter).await?))
}

async fn account(
    State(ctx): State<ApiContext>,
    RequireAdmin(_): RequireAdmin,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<AccountDetail> {
    // a malformed id names nothing: the same 404 as an unknown one
    let id: Uuid = id.parse().map_err(|_| Error::NotFound("account"))?;
    let (limit, offset) = query::page(&params)?;
    Ok(ApiJson(
        service::account(&ctx.pool, id, limit, offset).await?,
    ))
}

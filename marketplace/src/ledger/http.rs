//! Wallet routes (any signed-in user: the wallet is the caller's own) and the admins' ledger
//! accounts. Thin: parse, call the service with the context's clock, shape the answer.
//! `POST /api/wallet/topup` is routed by payments (a card top-up is a payment); its
//! description is kept here for now, with the wallet's (see [`topup`]).

mod query;

use axum::extract::{FromRef, Path, Query, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::model::{AccountKind, Minor};
use super::service;
use super::view::{AccountDetail, AccountPage, SettingsView, TransactionPage, WalletView};
use crate::accounts::{AuthUser, RequireAdmin};
use crate::error::Error;
use crate::http::doc::{BadQuery, JsonBody, Problem, RoleOnly, SignedIn};
use crate::http::{ApiContext, ApiJson};

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .routes(routes!(wallet))
        .routes(routes!(transactions))
        .routes(routes!(settings, set_settings))
        .routes(routes!(accounts))
        .routes(routes!(account))
}

type Reply<T> = Result<ApiJson<T>, Error>;

/// My wallet
///
/// **Roles:** any signed-in user.
///
/// The caller's balance, what is held (for bookings and charging sessions) and what is owed,
/// per currency, with the open holds. Confirming a booking holds its amount when the balance
/// covers it (else a card authorization of the booking must secure it); cancelling gives the
/// hold back by the listing's refund policy; a session's bill is taken from the hold first,
/// then the balance, and what neither covers is owed (the next top-up pays it off first).
#[utoipa::path(
    get,
    path = "/api/wallet",
    tag = "wallet",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The wallet", body = WalletView),
        SignedIn,
    )
)]
async fn wallet(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<WalletView> {
    Ok(ApiJson(service::wallet(&ctx.pool, &caller).await?))
}

/// My wallet's history
///
/// **Roles:** any signed-in user.
///
/// Every movement of the caller's money, newest first.
#[utoipa::path(
    get,
    path = "/api/wallet/transactions",
    tag = "wallet",
    security(("bearer" = [])),
    params(
        ("kind" = Option<String>, Query,
            pattern = r"^\s*(?:topup|hold|release|capture|refund|settlement|adjustment|reversal|subscription|share_release)\s*(?:,\s*(?:topup|hold|release|capture|refund|settlement|adjustment|reversal|subscription|share_release)\s*)*$",
            example = "topup,refund",
            description = "Only these kinds (comma-separated, or the parameter repeated)"),
        ("currency" = Option<String>, Query, pattern = "^[A-Z]{3}$", example = "EUR",
            description = "Only this currency (ISO 4217, capitals)"),
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query,
            description = "Only from this instant (inclusive)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query,
            description = "Only before this instant; after `from`"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip"),
    ),
    responses(
        (status = 200, description = "A page of transactions", body = TransactionPage),
        SignedIn,
        BadQuery,
    )
)]
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

/// My wallet settings
///
/// **Roles:** any signed-in user.
#[utoipa::path(
    get,
    path = "/api/wallet/settings",
    tag = "wallet",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = SettingsView),
        SignedIn,
    )
)]
async fn settings(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<SettingsView> {
    let view = service::wallet(&ctx.pool, &caller).await?;
    Ok(ApiJson(SettingsView {
        low_balance_threshold_cents: view.low_balance_threshold_cents,
    }))
}

/// `PUT /api/wallet/settings`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WalletSettingsUpdate)]
struct SettingsBody {
    /// Minor units, 0 to 1000000; `null` (or left out) turns the alert off.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000, example = 1000)]
    low_balance_threshold_cents: Option<Minor>,
}

/// Set my wallet settings
///
/// **Roles:** any signed-in user.
///
/// Below the low-balance threshold the wallet shows `low_balance` (and the notifications
/// send an alert).
#[utoipa::path(
    put,
    path = "/api/wallet/settings",
    tag = "wallet",
    security(("bearer" = [])),
    request_body = SettingsBody,
    responses(
        (status = 200, description = "The settings now", body = SettingsView),
        SignedIn,
        JsonBody,
    )
)]
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

/// Ledger accounts
///
/// **Roles:** admin.
///
/// Every account of the ledger, by kind, currency and creation, with its balance.
#[utoipa::path(
    get,
    path = "/api/admin/ledger/accounts",
    tag = "wallet",
    security(("bearer" = [])),
    params(
        ("kind" = Option<AccountKind>, Query, description = "Only this kind"),
        ("owner_id" = Option<Uuid>, Query, description = "Only this user's"),
        ("currency" = Option<String>, Query, pattern = "^[A-Z]{3}$", example = "EUR",
            description = "Only this currency (ISO 4217, capitals)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip"),
    ),
    responses(
        (status = 200, description = "A page of accounts with their balances",
            body = AccountPage),
        RoleOnly,
        BadQuery,
    )
)]
async fn accounts(
    State(ctx): State<ApiContext>,
    RequireAdmin(_): RequireAdmin,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<AccountPage> {
    let filter = query::accounts(&params)?;
    Ok(ApiJson(service::accounts(&ctx.pool, filter).await?))
}

/// A ledger account
///
/// **Roles:** admin.
///
/// The account, its balance and a page of its entries, newest first.
#[utoipa::path(
    get,
    path = "/api/admin/ledger/accounts/{id}",
    tag = "wallet",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The account"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100,
            description = "Entries per page (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Entries to skip"),
    ),
    responses(
        (status = 200, description = "The account", body = AccountDetail),
        RoleOnly,
        (status = 404, description = "No such account (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        BadQuery,
    )
)]
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

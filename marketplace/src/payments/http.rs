//! Payment routes: saved cards, payments, refunds, the Stripe webhook and hosts' payout
//! accounts. Thin: parse, call the service with the context's provider and clock, shape the
//! answer. Ids in paths are parsed here: a malformed id names nothing (the same 404 as an
//! unknown one).

use axum::body::Bytes;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use serde::Deserialize;
use uuid::Uuid;

use super::model::Method;
use super::service::{self, MethodInput, Paid, PayInput, PayoutAccountInput, RefundInput};
use super::view::{
    MethodView, PaymentPage, PaymentView, PayoutAccountView, TransferPage, TransferView, WebhookAck,
};
use super::webhook::SIGNATURE_HEADER;
use crate::accounts::AuthUser;
use crate::error::{Error, FieldError};
use crate::http::{paging, ApiContext, ApiJson};
use crate::ledger::model::Minor;
use crate::ledger::service::TopupInput;
use crate::plumbing::idempotency;

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/payment-methods", get(list_methods).post(add_method))
        .route("/api/payment-methods/{id}", delete(remove_method))
        .route("/api/payment-methods/{id}/default", post(set_default))
        .route("/api/payments", get(list).post(pay))
        .route("/api/payments/{id}", get(show))
        .route("/api/payments/{id}/confirm", post(confirm))
        .route("/api/payments/{id}/capture", post(capture))
        .route("/api/payments/{id}/cancel", post(cancel))
        .route("/api/wallet/topup", post(wallet_topup))
        .route("/api/refunds", post(refund))
        .route("/api/webhooks/stripe", post(stripe_webhook))
        .route(
            "/api/host/payout-account",
            get(payout_account).post(open_payout_account),
        )
        .route("/api/host/transfers", get(transfers))
}

type Reply<T> = Result<ApiJson<T>, Error>;

fn method_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("payment method"))
}

fn payment_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("payment"))
}

/// The provider, for routes that cannot work without one: on a server that has none the
/// answer is `503 payments_not_configured`, before anything is written.
fn card_processor(ctx: &ApiContext) -> Result<&dyn super::PaymentProvider, Error> {
    let provider = ctx.payments.as_ref();
    if provider.configured() {
        Ok(provider)
    } else {
        Err(Error::PaymentsNotConfigured)
    }
}

async fn add_method(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MethodInput>,
) -> Result<Response, Error> {
    let key = idempotency::from_headers(&headers)?;
    let provider = card_processor(&ctx)?;
    let view =
        service::add_method(&ctx.pool, provider, &caller, body, key, ctx.clock.now()).await?;
    Ok((StatusCode::CREATED, ApiJson(view)).into_response())
}

async fn list_methods(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<Vec<MethodView>> {
    Ok(ApiJson(service::list_methods(&ctx.pool, &caller).await?))
}

async fn remove_method(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    let id = method_id(&id)?;
    service::remove_method(
        &ctx.pool,
        ctx.payments.as_ref(),
        &caller,
        id,
        ctx.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_default(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<MethodView> {
    Ok(ApiJson(
        service::set_default(&ctx.pool, &caller, method_id(&id)?).await?,
    ))
}

async fn pay(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PayInput>,
) -> Result<Response, Error> {
    let key = idempotency::from_headers(&headers)?;
    let provider = match body.method {
        Method::Card => card_processor(&ctx)?,
        Method::Wallet => ctx.payments.as_ref(),
    };
    let paid = service::pay(&ctx.pool, provider, &caller, body, key, ctx.clock.now()).await?;
    let (view, again) = match paid {
        Paid::New(v) => (v, false),
        Paid::Replayed(v) => (v, true),
    };
    Ok(idempotency::mark_replayed(
        (StatusCode::CREATED, ApiJson(view)).into_response(),
        again,
    ))
}

/// Wallet top-ups live here rather than with the wallet: a card top-up is a payment, and
/// the ledger does not depend on payments.
async fn wallet_topup(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TopupInput>,
) -> Result<Response, Error> {
    let key = idempotency::from_headers(&headers)?;
    let test_money = body.payment_method == crate::ledger::service::LOCAL_TEST;
    let provider = if test_money && ctx.dev {
        ctx.payments.as_ref()
    } else {
        card_processor(&ctx)?
    };
    if test_money && !ctx.dev {
        return Err(Error::invalid(
            "payment_method",
            "`local_test` exists only in development mode; use `card` or a saved card's id",
        ));
    }
    let done =
        service::wallet_topup(&ctx.pool, provider, &caller, body, key, ctx.clock.now()).await?;
    let response = (StatusCode::CREATED, ApiJson(done.view)).into_response();
    Ok(idempotency::mark_replayed(response, done.replayed))
}

/// `limit` (1–100, default 20) and `offset`, the only parameters of a list.
fn page(params: &[(String, String)]) -> Result<(i64, i64), Error> {
    let (mut limit, mut offset) = (20, 0);
    let mut errors = Vec::new();
    for (name, value) in params {
        let parsed = match name.as_str() {
            "limit" => paging::limit(value, 100).map(|v| limit = v),
            "offset" => paging::offset(value).map(|v| offset = v),
            _ => Err("is not a known parameter".to_owned()),
        };
        if let Err(message) = parsed {
            errors.push(FieldError::new(name.clone(), message));
        }
    }
    if errors.is_empty() {
        Ok((limit, offset))
    } else {
        Err(Error::Validation(errors))
    }
}

async fn list(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<PaymentPage> {
    let (limit, offset) = page(&params)?;
    Ok(ApiJson(
        service::list(&ctx.pool, &caller, limit, offset).await?,
    ))
}

/// The caller's transfers (what the platform paid them as a host), newest first.
async fn transfers(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<TransferPage> {
    let (limit, offset) = page(&params)?;
    let rows = service::host_transfers(&ctx.pool, caller.id, limit, offset).await?;
    Ok(ApiJson(TransferPage {
        items: rows.into_iter().map(TransferView::from).collect(),
        limit,
        offset,
    }))
}

async fn show(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<PaymentView> {
    Ok(ApiJson(
        service::get(&ctx.pool, &caller, payment_id(&id)?).await?,
    ))
}

async fn confirm(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<PaymentView> {
    let id = payment_id(&id)?;
    let provider = card_processor(&ctx)?;
    Ok(ApiJson(
        service::confirm(&ctx.pool, provider, &caller, id, ctx.clock.now()).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CaptureBody {
    #[serde(default)]
    amount_cents: Option<Minor>,
}

/// The body may be left out: all that is authorized is captured.
async fn capture(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply<PaymentView> {
    let id = payment_id(&id)?;
    let body: CaptureBody = ApiJson::optional(&headers, &body)?.unwrap_or_default();
    let provider = card_processor(&ctx)?;
    let now = ctx.clock.now();
    Ok(ApiJson(
        service::capture(&ctx.pool, provider, &caller, id, body.amount_cents, now).await?,
    ))
}

async fn cancel(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<PaymentView> {
    let id = payment_id(&id)?;
    let provider = card_processor(&ctx)?;
    Ok(ApiJson(
        service::cancel(&ctx.pool, provider, &caller, id, ctx.clock.now()).await?,
    ))
}

async fn refund(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefundInput>,
) -> Result<Response, Error> {
    let key = idempotency::from_headers(&headers)?;
    let provider = ctx.payments.as_ref();
    let done = service::refund(&ctx.pool, provider, &caller, body, key, ctx.clock.now()).await?;
    Ok(idempotency::mark_replayed(
        (StatusCode::CREATED, ApiJson(done.view)).into_response(),
        done.replayed,
    ))
}

/// The raw body is what is signed: it is read as bytes, verified, then parsed.
async fn stripe_webhook(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply<WebhookAck> {
    let Some(secret) = ctx.stripe_webhook_secret.as_deref() else {
        return Err(Error::NotFound(
            "Stripe webhook endpoint (no webhook secret is configured)",
        ));
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let ack = service::stripe_webhook(&ctx.pool, secret, signature, &body, ctx.clock.now()).await?;
    Ok(ApiJson(ack))
}

async fn open_payout_account(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<PayoutAccountInput>,
) -> Reply<PayoutAccountView> {
    let provider = card_processor(&ctx)?;
    Ok(ApiJson(
        service::open_payout_account(&ctx.pool, provider, &caller, body, ctx.clock.now()).await?,
    ))
}

async fn payout_account(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
) -> Reply<PayoutAccountView> {
    let provider = ctx.payments.as_ref();
    Ok(ApiJson(
        service::payout_account(&ctx.pool, provider, &caller, ctx.clock.now()).await?,
    ))
}

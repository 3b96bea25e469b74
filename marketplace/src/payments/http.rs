//! Payment routes: saved cards, payments, refunds, the Stripe webhook and hosts' payout
//! accounts. Thin: parse, call the service with the context's provider and clock, shape the
//! answer. Ids in paths are parsed here: a malformed id names nothing (the same 404 as an
//! unknown one).

use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::openapi::Required;
use utoipa::IntoResponses;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;
use uuid::Uuid;

use super::model::Method;
use super::service::{
    self, MethodInput, Paid, PayInput, PayoutAccountInput, RefundInput, WalletTopupView,
};
use super::view::{
    MethodView, PaymentPage, PaymentView, PayoutAccountView, RefundView, TransferPage,
    TransferView, WebhookAck,
};
use super::webhook::SIGNATURE_HEADER;
use crate::accounts::AuthUser;
use crate::error::{Error, FieldError};
use crate::http::doc::{BadQuery, IdempotencyKey, JsonBody, Problem, RoleOnly, SignedIn};
use crate::http::{paging, ApiContext, ApiJson, RawBody};
use crate::ledger::model::Minor;
use crate::ledger::service::TopupInput;
use crate::plumbing::idempotency;

const TAG: &str = "payments";

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .routes(routes!(list_methods, add_method))
        .routes(routes!(remove_method))
        .routes(routes!(set_default))
        .routes(routes!(list, pay))
        .routes(routes!(show))
        .routes(routes!(confirm))
        .routes(body_optional(routes!(capture)))
        .routes(routes!(cancel))
        .routes(routes!(wallet_topup))
        .routes(routes!(refund))
        .routes(routes!(stripe_webhook))
        .routes(routes!(payout_account, open_payout_account))
        .routes(routes!(transfers))
}

/// Documents a route's JSON body as one that may be left out. utoipa marks a body `required`
/// unless its type is an `Option`, and an `Option` would document `null` as a body too, which
/// the handler refuses like any other value that is not the object.
fn body_optional<S>(mut route: UtoipaMethodRouter<S>) -> UtoipaMethodRouter<S> {
    for item in route.1.paths.values_mut() {
        let operations = [&mut item.post, &mut item.put, &mut item.patch];
        for body in operations
            .into_iter()
            .flatten()
            .filter_map(|op| op.request_body.as_mut())
        {
            body.required = Some(Required::False);
        }
    }
    route
}

/// Routes that cannot work without a card processor, and call it.
#[derive(IntoResponses)]
pub enum CardProcessor {
    /// The payment provider refused the platform's credentials, or answered something that
    /// could not be read (`provider_error`)
    #[response(status = 502, content_type = "application/problem+json")]
    BadGateway(Problem),
    /// This server has no payment provider (`payments_not_configured`: nothing was charged,
    /// credited or written); or the provider did not answer (`service_unavailable`): send the
    /// same request again (with the same `Idempotency-Key` where the route takes one)
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Routes that call the payment provider when the thing they act on was made with it (a
/// server without a provider never gets that far).
#[derive(IntoResponses)]
pub enum ProviderCall {
    /// The payment provider refused the platform's credentials, or answered something that
    /// could not be read (`provider_error`)
    #[response(status = 502, content_type = "application/problem+json")]
    BadGateway(Problem),
    /// The payment provider did not answer (`service_unavailable`): send the same request
    /// again (with the same `Idempotency-Key` where the route takes one)
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
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

/// Save a card
///
/// **Roles:** any signed-in user.
///
/// Attaches the card to the caller's customer at the payment provider (made on first use)
/// and keeps its brand, last four digits and expiry. The first card, or one sent with
/// `make_default`, becomes the default. A card the provider declines is a 422 on
/// `card_number` (or `token`); the local provider takes Stripe's test card numbers only. A
/// token the provider does not know is a 409 `provider_refused`. With an `Idempotency-Key`,
/// a retry attaches the card once at the provider and answers the same saved card.
#[utoipa::path(
    post,
    path = "/api/payment-methods",
    tag = TAG,
    security(("bearer" = [])),
    params(IdempotencyKey),
    request_body = MethodInput,
    responses(
        (status = 201, description = "Saved", body = MethodView),
        SignedIn,
        JsonBody,
        (status = 409, description = "The token is saved by another user, or was removed \
            (`payment_method_taken`); the provider refused the request \
            (`provider_refused`)",
            body = Problem, content_type = "application/problem+json"),
        CardProcessor,
    )
)]
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

/// My cards
///
/// **Roles:** any signed-in user.
#[utoipa::path(
    get,
    path = "/api/payment-methods",
    tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The default card first, then newest first",
            body = Vec<MethodView>),
        SignedIn,
    )
)]
async fn list_methods(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<Vec<MethodView>> {
    Ok(ApiJson(service::list_methods(&ctx.pool, &caller).await?))
}

/// Remove a card
///
/// **Roles:** any signed-in user.
///
/// Detached at the provider (a card saved with a provider no longer in use is only
/// forgotten); when it was the default, the newest other card becomes it. Payments keep
/// naming it.
#[utoipa::path(
    delete,
    path = "/api/payment-methods/{id}",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment method id")),
    responses(
        (status = 204, description = "Removed"),
        SignedIn,
        (status = 404, description = "No such card, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The provider refused to detach it \
            (`provider_refused`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The provider refused the card, named on `id` \
            (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
        ProviderCall,
    )
)]
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

/// Make a card the default
///
/// **Roles:** any signed-in user.
#[utoipa::path(
    post,
    path = "/api/payment-methods/{id}/default",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment method id")),
    responses(
        (status = 200, description = "The card, now the default", body = MethodView),
        SignedIn,
        (status = 404, description = "No such card, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_default(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<MethodView> {
    Ok(ApiJson(
        service::set_default(&ctx.pool, &caller, method_id(&id)?).await?,
    ))
}

/// Pay a booking, a session or a top-up
///
/// **Roles:** any signed-in user.
///
/// By wallet: a booking's amount is held on the wallet (the session's bill takes it); a
/// session's bill is paid from the booking's hold and the wallet. By card: the provider takes
/// (or with `capture: manual` authorizes) the amount; money received goes into the wallet and
/// is held for the booking or taken by the session's bill (a session paid by card pays what
/// hold and wallet do not cover). A session's card payment of the whole bill to a host with a
/// payout account is a Connect destination charge (`application_fee_cents`: all but the
/// host's share). A declined card is not an error: the payment answers `failed` with
/// `failure`; `requires_action` means 3-D Secure (see `next_action`, then
/// `POST /api/payments/{id}/confirm`).
///
/// Send an `Idempotency-Key` header to retry safely: a retry with the same key and body
/// answers the payment made first, as it stands now (with `Idempotent-Replayed: true`; a card
/// payment whose provider call was cut off is sent again with the same provider key); the
/// same key with another body is a 422.
#[utoipa::path(
    post,
    path = "/api/payments",
    tag = TAG,
    security(("bearer" = [])),
    params(IdempotencyKey),
    request_body = PayInput,
    responses(
        (status = 201, description = "The payment (or the replayed first one)",
            body = PaymentView,
            headers(("Idempotent-Replayed" = String,
                description = "`true` when this answers a retry with the same \
                    `Idempotency-Key`"))),
        SignedIn,
        JsonBody,
        (status = 404, description = "No such booking or session, or not the caller's \
            (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_paid`; `booking_not_payable` (its status); \
            `booking_not_confirmed` (by wallet); `nothing_to_pay`; `session_not_billed`; \
            `covered_by_wallet` (pay the session by wallet); `insufficient_funds` (wallet); \
            `provider_refused`; `idempotency_key_in_use` (the first request with the key is \
            still being processed)",
            body = Problem, content_type = "application/problem+json"),
        CardProcessor,
    )
)]
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

// Wallet top-ups live here rather than with the wallet: a card top-up is a payment, and the
// ledger does not depend on payments.

/// Top up
///
/// **Roles:** any signed-in user.
///
/// Adds money through a payment method. A card (`card` for the default one, or a saved
/// card's id) is charged through the payment provider as a top-up payment; the money is in
/// the wallet once the provider has it (at once, after 3-D Secure, or by webhook).
/// `local_test` (the development provider, development mode only) credits at once. Anything
/// owed is paid off first.
///
/// Send an `Idempotency-Key` header to retry safely: a retry with the same key and body
/// moves nothing and answers the same transaction or payment (with `Idempotent-Replayed:
/// true`; the wallet as it is now); the same key with another body is a 422.
#[utoipa::path(
    post,
    path = "/api/wallet/topup",
    tag = "wallet",
    security(("bearer" = [])),
    params(IdempotencyKey),
    request_body = TopupInput,
    responses(
        (status = 201, description = "Topped up (or the replayed first transaction or \
            payment)",
            body = WalletTopupView,
            headers(("Idempotent-Replayed" = String,
                description = "`true` when this answers a retry with the same \
                    `Idempotency-Key`"))),
        SignedIn,
        JsonBody,
        (status = 409, description = "The provider refused the payment (`provider_refused`); \
            the first request with the key is still being processed \
            (`idempotency_key_in_use`)",
            body = Problem, content_type = "application/problem+json"),
        CardProcessor,
    )
)]
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

/// My payments
///
/// **Roles:** any signed-in user.
#[utoipa::path(
    get,
    path = "/api/payments",
    tag = TAG,
    security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip"),
    ),
    responses(
        (status = 200, description = "Newest first", body = PaymentPage),
        SignedIn,
        BadQuery,
    )
)]
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

/// What I was paid as a host
///
/// **Roles:** any signed-in user (only hosts are ever paid: anyone else's list is empty).
///
/// What sessions paid from wallets earned the caller (their 80 % share, in `host_payable`) is
/// transferred to their payout account by a periodic run (`--host-transfers-secs`, hourly by
/// default) once it reaches 1.00; sessions paid by card to a connected host are paid by the
/// provider at once (destination charges) and are not listed here.
#[utoipa::path(
    get,
    path = "/api/host/transfers",
    tag = TAG,
    security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip"),
    ),
    responses(
        (status = 200, description = "Newest first", body = TransferPage),
        SignedIn,
        BadQuery,
    )
)]
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

/// One payment
///
/// **Roles:** any signed-in user. The payment's payer, or an admin; anyone else gets the
/// same 404 as for a missing payment.
#[utoipa::path(
    get,
    path = "/api/payments/{id}",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The payment as it is now", body = PaymentView),
        SignedIn,
        (status = 404, description = "No such payment, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn show(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<PaymentView> {
    Ok(ApiJson(
        service::get(&ctx.pool, &caller, payment_id(&id)?).await?,
    ))
}

/// After 3-D Secure
///
/// **Roles:** any signed-in user. The payment's payer, or an admin.
///
/// Reads the payment back from the provider once the app completed 3-D Secure (the
/// provider's SDK with `next_action.client_secret`); the local provider completes its
/// simulated challenge here. A payment that is not `requires_action` is answered as it is.
#[utoipa::path(
    post,
    path = "/api/payments/{id}/confirm",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The payment as it is now", body = PaymentView),
        SignedIn,
        (status = 404, description = "No such payment, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_a_card_payment`; `provider_changed` (made with \
            another provider than the one in use); `payment_processing` (the provider has not \
            answered yet: retry the payment with its `Idempotency-Key`); `provider_refused`",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The provider refused the card, named on `id` \
            (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
        CardProcessor,
    )
)]
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

/// `POST /api/payments/{id}/capture`; the body may be left out (captures everything
/// authorized).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CaptureBody {
    /// At most what is authorized (`amount_capturable_cents`); default: all of it.
    #[serde(default)]
    #[schema(minimum = 1, example = 1000)]
    amount_cents: Option<Minor>,
}

/// Capture an authorization
///
/// **Roles:** any signed-in user. The payment's payer, or an admin.
///
/// Takes at most what a `capture: manual` card payment authorized (all of it without a
/// body); the rest is released. A payment of a host's whole bill (a destination charge) is
/// captured whole or cancelled, not in part. A payment already `succeeded` is answered as it
/// is.
#[utoipa::path(
    post,
    path = "/api/payments/{id}/capture",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    request_body(content = CaptureBody,
        description = "May be left out (or empty): captures everything authorized"),
    responses(
        (status = 200, description = "The payment as it is now", body = PaymentView),
        SignedIn,
        (status = 400, description = "The body is not JSON, or not the JSON value the route \
            takes (`malformed_json`, `invalid_body`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payment, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_capturable` (not `requires_capture`); \
            `not_a_card_payment`; `provider_changed`; `payment_processing`; `settling` (the \
            platform is already capturing or releasing it for its bill or booking); \
            `provider_refused`",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the server accepts \
            (`payload_too_large`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A body was sent that is not `application/json` \
            (`unsupported_media_type`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field has the wrong type or breaks a rule, or \
            `amount_cents` is more than is authorized (or part of a destination charge); each \
            such field is named in `errors` (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
        CardProcessor,
    )
)]
async fn capture(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Reply<PaymentView> {
    let id = payment_id(&id)?;
    let body: CaptureBody = ApiJson::optional(&headers, &body)?.unwrap_or_default();
    let provider = card_processor(&ctx)?;
    let now = ctx.clock.now();
    Ok(ApiJson(
        service::capture(&ctx.pool, provider, &caller, id, body.amount_cents, now).await?,
    ))
}

/// Cancel a card payment not captured
///
/// **Roles:** any signed-in user. The payment's payer, or an admin.
///
/// An authorization is released; a pending 3-D Secure is abandoned. A captured payment is
/// refunded instead (`POST /api/refunds`). A payment already `canceled` is answered as it is.
#[utoipa::path(
    post,
    path = "/api/payments/{id}/cancel",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The payment as it is now", body = PaymentView),
        SignedIn,
        (status = 404, description = "No such payment, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_cancelable` (captured payments are refunded \
            instead); `not_a_card_payment`; `provider_changed`; `payment_processing`; \
            `settling` (the platform is already capturing or releasing it); \
            `provider_refused`",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The provider refused the card, named on `id` \
            (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
        CardProcessor,
    )
)]
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

/// Refund a payment
///
/// **Roles:** any signed-in user. Admins refund any payment; a driver their own.
///
/// Admins refund any payment up to what was received and not refunded, to the card or into
/// the wallet. A driver gets, back to the card, what the booking's refund policy decided when
/// it was cancelled (the ledger put it into the wallet then; this moves it to the card).
///
/// Send an `Idempotency-Key` header to retry safely: a retry with the same key, amount and
/// destination answers the first refund again (with `Idempotent-Replayed: true`); the same
/// key with another amount or destination is a 422.
#[utoipa::path(
    post,
    path = "/api/refunds",
    tag = TAG,
    security(("bearer" = [])),
    params(IdempotencyKey),
    request_body = RefundInput,
    responses(
        (status = 201, description = "The refund (or the replayed first one)",
            body = RefundView,
            headers(("Idempotent-Replayed" = String,
                description = "`true` when this answers a retry with the same \
                    `Idempotency-Key`"))),
        SignedIn,
        (status = 403, description = "A driver asking for a refund into the wallet \
            (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 404, description = "No such payment, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`no_refund_due`; `already_refunded`; \
            `nothing_to_refund`; `insufficient_funds` (the money is no longer in the \
            wallet); `provider_changed`; `provider_refused`",
            body = Problem, content_type = "application/problem+json"),
        ProviderCall,
    )
)]
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

// The raw body is what is signed: it is read as bytes, verified, then parsed.

/// Stripe webhook endpoint
///
/// **Roles:** none: for Stripe only, which signs each delivery.
///
/// The raw body must carry a valid `Stripe-Signature` (HMAC-SHA256 with the endpoint's secret
/// over `{t}.{body}`, at most 300 s old). Each event is processed once, in one transaction; a
/// redelivery answers 200 with `duplicate: true`. Events are applied by the state of their
/// object, so their order does not matter; types the platform does not act on are recorded
/// and acknowledged (`ignored`). Answers 404 on a server without a webhook secret.
#[utoipa::path(
    post,
    path = "/api/webhooks/stripe",
    tag = TAG,
    params(("Stripe-Signature" = String, Header,
        description = "`t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=...]`, as Stripe sends it")),
    request_body(content = Object, content_type = "application/json",
        description = "A Stripe event (`id`, `type`, `created`, `data.object`), exactly as \
            Stripe sent it"),
    responses(
        (status = 200, description = "Received", body = WebhookAck),
        (status = 400, description = "`missing_signature`, `malformed_signature`, \
            `invalid_signature`, `stale_signature`, `malformed_event`",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No webhook secret is configured (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A transfer's reversal reported before the transfer is \
            recorded as paid (`transfer_not_settled`): Stripe delivers it again later",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the server accepts \
            (`payload_too_large`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn stripe_webhook(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    RawBody(body): RawBody,
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

/// Open my payout account (Stripe Connect)
///
/// **Roles:** host, admin.
///
/// Opens the caller's Express account on first use and answers it with a fresh onboarding
/// link. With the local provider the account is enabled at once and the link is the return
/// URL.
#[utoipa::path(
    post,
    path = "/api/host/payout-account",
    tag = TAG,
    security(("bearer" = [])),
    request_body = PayoutAccountInput,
    responses(
        (status = 200, description = "The account and its onboarding link",
            body = PayoutAccountView),
        RoleOnly,
        JsonBody,
        (status = 409, description = "The provider refused the request \
            (`provider_refused`)",
            body = Problem, content_type = "application/problem+json"),
        CardProcessor,
    )
)]
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

/// My payout account
///
/// **Roles:** host, admin.
///
/// Refreshed from the provider while onboarding is incomplete (a provider that does not
/// answer leaves it as stored; webhooks keep it current otherwise).
#[utoipa::path(
    get,
    path = "/api/host/payout-account",
    tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account, refreshed while onboarding is incomplete",
            body = PayoutAccountView),
        RoleOnly,
        (status = 404, description = "The caller has no payout account (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn payout_account(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
) -> Reply<PayoutAccountView> {
    let provider = ctx.payments.as_ref();
    Ok(ApiJson(
        service::payout_account(&ctx.pool, provider, &caller, ctx.clock.now()).await?,
    ))
}

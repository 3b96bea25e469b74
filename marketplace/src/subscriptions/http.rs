//! Subscription routes. Thin: parse, call the service with the context's clock, shape the
//! answer. A malformed id in a path names nothing (the same 404 as an unknown one).

use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::entitlements::Benefits;
use super::service::{self, Answer, ChangeInput, SubscribeInput};
use super::view::{ProductView, SubscriptionList, SubscriptionView};
use crate::accounts::AuthUser;
use crate::error::{Error, FieldError};
use crate::http::doc::{BadQuery, IdempotencyKey, JsonBody, Problem, SignedIn};
use crate::http::{ApiContext, ApiJson};
use crate::plumbing::idempotency;

const TAG: &str = "subscriptions";

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .routes(routes!(products))
        .routes(routes!(list, subscribe))
        .routes(routes!(change))
        .routes(routes!(cancel))
        .routes(routes!(resume))
        .routes(routes!(retry))
        .routes(routes!(entitlements))
}

type Reply<T> = Result<ApiJson<T>, Error>;

fn subscription_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("subscription"))
}

fn answer(a: Answer, status: StatusCode) -> Response {
    match a {
        Answer::New(view) => (status, ApiJson(*view)).into_response(),
        Answer::Replayed { status: s, body } => {
            let s = StatusCode::from_u16(s).unwrap_or(status);
            idempotency::mark_replayed((s, axum::Json(body)).into_response(), true)
        }
    }
}

/// The catalogue
///
/// **Roles:** none needed.
///
/// Every product with its monthly prices per currency.
#[utoipa::path(
    get,
    path = "/api/subscriptions/products",
    tag = TAG,
    responses(
        (status = 200, description = "Driver plans first, then insurance coverage, then host \
            products", body = Vec<ProductView>),
    )
)]
async fn products(State(ctx): State<ApiContext>) -> Reply<Vec<ProductView>> {
    Ok(ApiJson(service::products(&ctx.pool).await?))
}

/// My subscriptions
///
/// **Roles:** any signed-in user; admins may read anyone's with `user_id`.
///
/// Every subscription of the caller (ended ones too), with its charges.
#[utoipa::path(
    get,
    path = "/api/subscriptions",
    tag = TAG,
    security(("bearer" = [])),
    params(
        ("user_id" = Option<Uuid>, Query,
            description = "Admins: this user's subscriptions instead of their own"),
    ),
    responses(
        (status = 200, description = "With their charges", body = SubscriptionList),
        SignedIn,
        (status = 403, description = "`user_id` names another user and the caller is not an \
            admin (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        BadQuery,
    )
)]
async fn list(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<SubscriptionList> {
    let mut user_id = None;
    let mut errors = Vec::new();
    for (name, value) in &params {
        match name.as_str() {
            "user_id" => match value.parse::<Uuid>() {
                Ok(id) => user_id = Some(id),
                Err(_) => errors.push(FieldError::new("user_id", "must be a UUID")),
            },
            _ => errors.push(FieldError::new(name.clone(), "is not a known parameter")),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(ApiJson(service::list(&ctx.pool, &caller, user_id).await?))
}

/// Subscribe
///
/// **Roles:** any signed-in user; host products (`featured_listing`, `availability_api`,
/// `analytics`) need the host role (or admin).
///
/// Pays the first month from the caller's wallet at once (a `subscription` wallet
/// transaction) and renews monthly on the same day of the month (clamped at month ends).
/// `featured_listing` names one of the caller's chargers.
///
/// Send an `Idempotency-Key` header to retry safely: a retry with the same key and body
/// answers the first result again (with `Idempotent-Replayed: true`) and moves no money; the
/// same key with another body is a 422.
#[utoipa::path(
    post,
    path = "/api/subscriptions",
    tag = TAG,
    security(("bearer" = [])),
    params(IdempotencyKey),
    request_body = SubscribeInput,
    responses(
        (status = 201, description = "Subscribed (or the replayed first answer)",
            body = SubscriptionView,
            headers(("Idempotent-Replayed" = String,
                description = "`true` when this answers a retry with the same \
                    `Idempotency-Key`"))),
        SignedIn,
        (status = 403, description = "A host product, and the caller is not a host \
            (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 409, description = "`insufficient_funds`: the wallet does not cover the \
            first month (nothing happened); `already_subscribed`: a live subscription of the \
            group (and charger) exists (change or cancel it)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn subscribe(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubscribeInput>,
) -> Result<Response, Error> {
    let key = idempotency::from_headers(&headers)?;
    let a = service::subscribe(&ctx.pool, &caller, body, key, ctx.clock.now()).await?;
    Ok(answer(a, StatusCode::CREATED))
}

/// Change product
///
/// **Roles:** any signed-in user. The subscriber, or an admin.
///
/// Within the group (Premium ↔ Pro). The rest of the period is prorated: credit at the old
/// price (rounded down), charge at the new one (rounded up); the net is taken from or given
/// back to the wallet at once; the period end stays. `basic` cancels the plan at its period
/// end.
///
/// Send an `Idempotency-Key` header to retry safely: a retry with the same key and body
/// answers the first result again (with `Idempotent-Replayed: true`) and moves no money; the
/// same key with another body is a 422.
#[utoipa::path(
    post,
    path = "/api/subscriptions/{id}/change",
    tag = TAG,
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Subscription id"),
        IdempotencyKey,
    ),
    request_body = ChangeInput,
    responses(
        (status = 200, description = "Changed (or the replayed first answer)",
            body = SubscriptionView,
            headers(("Idempotent-Replayed" = String,
                description = "`true` when this answers a retry with the same \
                    `Idempotency-Key`"))),
        SignedIn,
        JsonBody,
        (status = 404, description = "No such subscription, or not the caller's \
            (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`insufficient_funds`; `past_due` (pay the renewal \
            first); `subscription_ended`",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn change(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangeInput>,
) -> Result<Response, Error> {
    let id = subscription_id(&id)?;
    let key = idempotency::from_headers(&headers)?;
    let a = service::change(&ctx.pool, &caller, id, body, key, ctx.clock.now()).await?;
    Ok(answer(a, StatusCode::OK))
}

/// Cancel at period end
///
/// **Roles:** any signed-in user. The subscriber, or an admin.
///
/// Benefits last until the period end; nothing more is charged. A past-due subscription ends
/// at once. Cancelling again changes nothing.
#[utoipa::path(
    post,
    path = "/api/subscriptions/{id}/cancel",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Cancelled (at period end)", body = SubscriptionView),
        SignedIn,
        (status = 404, description = "No such subscription, or not the caller's \
            (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The subscription has ended (`subscription_ended`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn cancel(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<SubscriptionView> {
    let id = subscription_id(&id)?;
    Ok(ApiJson(
        service::cancel(&ctx.pool, &caller, id, ctx.clock.now()).await?,
    ))
}

/// Undo a pending cancel
///
/// **Roles:** any signed-in user. The subscriber, or an admin.
///
/// The subscription renews again; one without a pending cancel is answered as it is.
#[utoipa::path(
    post,
    path = "/api/subscriptions/{id}/resume",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "Renews again", body = SubscriptionView),
        SignedIn,
        (status = 404, description = "No such subscription, or not the caller's \
            (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The subscription has ended (`subscription_ended`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn resume(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<SubscriptionView> {
    let id = subscription_id(&id)?;
    Ok(ApiJson(
        service::resume(&ctx.pool, &caller, id, ctx.clock.now()).await?,
    ))
}

/// Pay a past-due renewal now
///
/// **Roles:** any signed-in user. The subscriber, or an admin.
///
/// Instead of waiting for the next retry (after a top-up, say).
///
/// Send an `Idempotency-Key` header to retry safely: a retry with the same key answers the
/// first result again (with `Idempotent-Replayed: true`) and moves no money.
#[utoipa::path(
    post,
    path = "/api/subscriptions/{id}/retry",
    tag = TAG,
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Subscription id"),
        IdempotencyKey,
    ),
    responses(
        (status = 200, description = "Paid: active again (or the replayed first answer)",
            body = SubscriptionView,
            headers(("Idempotent-Replayed" = String,
                description = "`true` when this answers a retry with the same \
                    `Idempotency-Key`"))),
        SignedIn,
        (status = 404, description = "No such subscription, or not the caller's \
            (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`insufficient_funds` (nothing recorded); \
            `not_past_due`",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The `Idempotency-Key` is not 1 to 255 visible ASCII \
            characters (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn retry(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let id = subscription_id(&id)?;
    let key = idempotency::from_headers(&headers)?;
    let a = service::retry(&ctx.pool, &caller, id, key, ctx.clock.now()).await?;
    Ok(answer(a, StatusCode::OK))
}

/// My entitlements
///
/// **Roles:** any signed-in user.
///
/// What the caller's subscriptions give now: the plan and its discount, priority booking,
/// insurance coverage, host products.
#[utoipa::path(
    get,
    path = "/api/me/entitlements",
    tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the caller's subscriptions give now",
            body = Benefits),
        SignedIn,
    )
)]
async fn entitlements(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<Benefits> {
    Ok(ApiJson(
        service::entitlements(&ctx.pool, &caller, ctx.clock.now()).await?,
    ))
}

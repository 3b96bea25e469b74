//! Subscription routes. Thin: parse, call the service with the context's clock, shape the
//! answer. A malformed id in a path names nothing (the same 404 as an unknown one).

use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use uuid::Uuid;

use super::entitlements::Benefits;
use super::service::{self, Answer, ChangeInput, SubscribeInput};
use super::view::{ProductView, SubscriptionList, SubscriptionView};
use crate::accounts::AuthUser;
use crate::error::{Error, FieldError};
use crate::http::{ApiContext, ApiJson};
use crate::plumbing::idempotency;

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/subscriptions/products", get(products))
        .route("/api/subscriptions", get(list).post(subscribe))
        .route("/api/subscriptions/{id}/change", post(change))
        .route("/api/subscriptions/{id}/cancel", post(cancel))
        .route("/api/subscriptions/{id}/resume", post(resume))
        .route("/api/subscriptions/{id}/retry", post(retry))
        .route("/api/me/entitlements", get(entitlements))
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

async fn products(State(ctx): State<ApiContext>) -> Reply<Vec<ProductView>> {
    Ok(ApiJson(service::products(&ctx.pool).await?))
}

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

async fn entitlements(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<Benefits> {
    Ok(ApiJson(
        service::entitlements(&ctx.pool, &caller, ctx.clock.now()).await?,
    ))
}

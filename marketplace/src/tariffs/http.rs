//! Pricing routes: parse, call the service, shape the answer. Ids in paths are parsed here, so
//! a malformed id is the same 404 problem+json as an unknown one (as in listings). The
//! estimate (`POST /api/pricing/estimate`) is served by sessions, which add the driver's
//! subscriptions to it.

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use uuid::Uuid;

use super::rules::PricingInput;
use super::service::{self, PricingView, VersionView};
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/api/chargers/{id}/pricing",
        get(show).post(create).put(replace),
    )
}

fn listing_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("listing"))
}

async fn show(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Result<ApiJson<PricingView>, Error> {
    let view = service::pricing(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(view))
}

/// POST: a new version (201).
async fn create(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PricingInput>,
) -> Result<(StatusCode, ApiJson<VersionView>), Error> {
    let version = service::set_pricing(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok((StatusCode::CREATED, ApiJson(version)))
}

/// PUT: the same as POST (history is never rewritten), answered 200.
async fn replace(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PricingInput>,
) -> Result<ApiJson<VersionView>, Error> {
    let version = service::set_pricing(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok(ApiJson(version))
}

//! Pricing routes: parse, call the service, shape the answer. Ids in paths are parsed here, so
//! a malformed id is the same 404 problem+json as an unknown one (as in listings). The
//! estimate (`POST /api/pricing/estimate`) is served by sessions, which add the driver's
//! subscriptions to it.

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::rules::PricingInput;
use super::service::{self, PricingView, VersionView};
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::http::doc::{JsonBody, OptionalToken, Problem, SignedIn};
use crate::http::{ApiContext, ApiJson};

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default().routes(routes!(show, create, replace))
}

fn listing_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("listing"))
}

/// A charger's pricing and its history
///
/// **Roles:** none needed; a bearer token is optional: without one (or for another host's
/// charger) only listed chargers' pricing is visible.
///
/// The version in force now and every version, newest first. Money and rates are decimal
/// strings; inside the OCPI tariff they are JSON numbers, as OCPI says.
#[utoipa::path(
    get,
    path = "/api/chargers/{id}/pricing",
    tag = "pricing",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "The version in force and every version, newest first",
            body = PricingView),
        OptionalToken,
        (status = 404, description = "No such listing, or one the caller may not see \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn show(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Result<ApiJson<PricingView>, Error> {
    let view = service::pricing(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(view))
}

/// Set pricing (new version)
///
/// **Roles:** any signed-in user. Only the listing's host or an admin.
///
/// Host settings (`simple`) or a full OCPI 2.2.1 tariff (`ocpi`). Each call appends a version
/// in force from now (history is never rewritten); the listing's price summary follows. Every
/// amount may be sent as a number or a decimal string.
#[utoipa::path(
    post,
    path = "/api/chargers/{id}/pricing",
    tag = "pricing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    request_body = PricingInput,
    responses(
        (status = 201, description = "The new version", body = VersionView),
        SignedIn,
        JsonBody,
        (status = 403, description = "A listed charger of another host (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing, or another host's that is not listed \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PricingInput>,
) -> Result<(StatusCode, ApiJson<VersionView>), Error> {
    let version = service::set_pricing(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok((StatusCode::CREATED, ApiJson(version)))
}

/// Set pricing (new version), as POST
///
/// **Roles:** any signed-in user. Only the listing's host or an admin.
///
/// The same as `POST` (history is never rewritten: a new version in force from now), answered
/// 200.
#[utoipa::path(
    put,
    path = "/api/chargers/{id}/pricing",
    tag = "pricing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    request_body = PricingInput,
    responses(
        (status = 200, description = "The new version", body = VersionView),
        SignedIn,
        JsonBody,
        (status = 403, description = "A listed charger of another host (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing, or another host's that is not listed \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn replace(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PricingInput>,
) -> Result<ApiJson<VersionView>, Error> {
    let version = service::set_pricing(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok(ApiJson(version))
}

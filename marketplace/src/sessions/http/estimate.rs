//! `POST /api/pricing/estimate`: what a session would cost ([`crate::sessions::estimate`]).
//! Its own router, merged by the crate's router beside the sessions' routes.

use axum::extract::{FromRef, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::AuthUser;
use crate::error::Error;
use crate::http::doc::{JsonBody, OptionalToken, Problem};
use crate::http::{ApiContext, ApiJson};
use crate::sessions::estimate;
use crate::tariffs::quote::EstimateInput;
use crate::tariffs::service::EstimateView;

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default().routes(routes!(estimate))
}

/// Itemized price estimate
///
/// **Roles:** none needed; a bearer token is optional: without one only listed chargers can be
/// estimated; hosts may estimate their own, and a signed-in driver's plan and subscriptions
/// apply.
///
/// The tariff in force at `start_time`, evaluated in the charger's time zone (peak/night
/// windows split the session), then the plan discount, prepaid package, charger subscription,
/// the $0.50 insurance fee and tax. A charger without a tariff version is priced from its
/// summary prices.
#[utoipa::path(
    post,
    path = "/api/pricing/estimate",
    tag = "pricing",
    security((), ("bearer" = [])),
    request_body = EstimateInput,
    responses(
        (status = 200, description = "Lines and their total", body = EstimateView),
        OptionalToken,
        JsonBody,
        (status = 404, description = "No such charger, or one the caller may not see \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`no_pricing`: the charger has no prices yet",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn estimate(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    ApiJson(body): ApiJson<EstimateInput>,
) -> Result<ApiJson<EstimateView>, Error> {
    Ok(ApiJson(
        estimate::estimate(&ctx.pool, caller.as_ref(), body).await?,
    ))
}

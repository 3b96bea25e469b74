//! `POST /api/pricing/estimate`: what a session would cost ([`crate::sessions::estimate`]).
//! Its own router, merged by the crate's router beside the sessions' routes.

use axum::extract::{FromRef, State};
use axum::routing::post;
use axum::Router;

use crate::accounts::AuthUser;
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};
use crate::sessions::estimate;
use crate::tariffs::quote::EstimateInput;
use crate::tariffs::service::EstimateView;

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/api/pricing/estimate", post(estimate))
}

async fn estimate(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    ApiJson(body): ApiJson<EstimateInput>,
) -> Result<ApiJson<EstimateView>, Error> {
    Ok(ApiJson(
        estimate::estimate(&ctx.pool, caller.as_ref(), body).await?,
    ))
}

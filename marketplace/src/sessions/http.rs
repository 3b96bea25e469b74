//! Session routes: parse, call the service with the context's clock and station control,
//! shape the answer. A malformed id in a path is the same 404 as an unknown one.

pub mod estimate;
mod live;
mod query;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use uuid::Uuid;

use super::analytics::{self, HostAnalytics};
use super::service::{self, BillingView, StartInput, Stats};
use super::store::pages::SessionSummary;
use super::view::SessionView;
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};

pub use live::LIVE_EVERY;

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/sessions", get(list))
        .route("/api/sessions/start", post(start))
        .route("/api/sessions/stats", get(stats))
        .route("/api/sessions/{id}", get(show))
        .route("/api/sessions/{id}/live", get(live))
        .route("/api/sessions/{id}/billing", get(billing))
        .route("/api/sessions/{id}/pause", post(pause))
        .route("/api/sessions/{id}/resume", post(resume))
        .route("/api/sessions/{id}/stop", post(stop))
        .route("/api/host/analytics", get(host_analytics))
}

fn session_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("session"))
}

type Reply<T> = Result<ApiJson<T>, Error>;

/// 202: the station was asked and accepted; the session is `start` until it reports the
/// transaction.
async fn start(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<StartInput>,
) -> Result<(StatusCode, ApiJson<SessionView>), Error> {
    let view = service::start(
        &ctx.pool,
        ctx.station_control.as_ref(),
        &ctx.session_funds,
        &caller,
        body,
        ctx.clock.now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, ApiJson(view)))
}

async fn show(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<SessionView> {
    let view = service::get(&ctx.pool, &caller, session_id(&id)?, ctx.clock.now()).await?;
    Ok(ApiJson(view))
}

async fn live(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let id = session_id(&id)?;
    // not visible: a problem+json 404 before any event
    service::visible(&ctx.pool, &caller, id).await?;
    let events = live::events(ctx.pool.clone(), caller, id, ctx.clock.clone());
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

async fn billing(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<BillingView> {
    Ok(ApiJson(
        service::billing(&ctx.pool, &caller, session_id(&id)?).await?,
    ))
}

async fn pause(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<SessionView> {
    pause_or_resume(ctx, caller, &id, true).await
}

async fn resume(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<SessionView> {
    pause_or_resume(ctx, caller, &id, false).await
}

async fn pause_or_resume(
    ctx: ApiContext,
    caller: AuthUser,
    id: &str,
    pause: bool,
) -> Reply<SessionView> {
    let view = service::pause_or_resume(
        &ctx.pool,
        ctx.station_control.as_ref(),
        &caller,
        session_id(id)?,
        pause,
        ctx.clock.now(),
    )
    .await?;
    Ok(ApiJson(view))
}

/// 202: the station accepted to stop; the session completes with its Ended event.
async fn stop(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<SessionView>), Error> {
    let view = service::stop(
        &ctx.pool,
        ctx.station_control.as_ref(),
        &caller,
        session_id(&id)?,
        ctx.clock.now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, ApiJson(view)))
}

#[derive(Serialize)]
struct Page {
    items: Vec<SessionSummary>,
    total: i64,
    limit: i64,
    offset: i64,
}

async fn list(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<impl IntoResponse, Error> {
    let filter = query::list_filter(&params, caller.id)?;
    let (limit, offset) = (filter.limit, filter.offset);
    let (items, total) = service::list(&ctx.pool, &filter).await?;
    Ok(ApiJson(Page {
        items,
        total,
        limit,
        offset,
    }))
}

async fn stats(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<Stats> {
    Ok(ApiJson(service::stats(&ctx.pool, &caller).await?))
}

async fn host_analytics(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<HostAnalytics> {
    let (charger, from, to) = query::analytics(&params)?;
    let now = ctx.clock.now();
    let window = analytics::window(from, to, now)?;
    Ok(ApiJson(
        analytics::host_analytics(&ctx.pool, &caller, charger, window, now).await?,
    ))
}

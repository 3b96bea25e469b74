//! Listing routes: parse, call the service, shape the answer.
//!
//! Ids in paths are parsed here: a malformed id names nothing, so it is the same 404
//! problem+json as an unknown one (axum's `Path<Uuid>` would answer 400 in plain text).

mod query;
mod views;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::Router;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::model::{Blackout, ListingInput, OpeningWindow, Port, PortInput};
use super::service;
use crate::accounts::{AuthUser, RequireAdmin};
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};
use views::{ListingView, Page};

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/chargers", get(list).post(create))
        .route("/api/chargers/{id}", get(show).put(update).delete(remove))
        .route("/api/chargers/{id}/submit", post(submit))
        .route("/api/chargers/{id}/unlist", post(unlist))
        .route("/api/chargers/{id}/relist", post(relist))
        .route("/api/admin/chargers/{id}/approve", post(approve))
        .route("/api/admin/chargers/{id}/reject", post(reject))
        .route("/api/chargers/{id}/ports", get(ports).post(add_port))
        .route(
            "/api/chargers/{id}/ports/{port_id}",
            put(update_port).delete(delete_port),
        )
        .route(
            "/api/chargers/{id}/opening-hours",
            get(opening_hours).put(set_opening_hours),
        )
        .route(
            "/api/chargers/{id}/blackouts",
            get(blackouts).post(add_blackout),
        )
        .route(
            "/api/chargers/{id}/blackouts/{starts_on}",
            delete(delete_blackout),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason: String,
}

fn uuid(text: &str, what: &'static str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound(what))
}

fn listing_id(text: &str) -> Result<Uuid, Error> {
    uuid(text, "listing")
}

type Reply<T> = Result<ApiJson<T>, Error>;

async fn list(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<Page> {
    let filter = query::list_filter(&params)?;
    let (limit, offset) = (filter.limit, filter.offset);
    let (listings, total) = service::list(&ctx.pool, caller.as_ref(), filter).await?;
    Ok(ApiJson(Page {
        items: listings.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    }))
}

async fn create(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<ListingInput>,
) -> Result<(StatusCode, ApiJson<ListingView>), Error> {
    let details = service::create(&ctx.pool, &caller, body).await?;
    Ok((StatusCode::CREATED, ApiJson(details.into())))
}

async fn show(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::get(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

async fn update(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ListingInput>,
) -> Reply<ListingView> {
    let details = service::update(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok(ApiJson(details.into()))
}

async fn remove(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    service::delete(&ctx.pool, &caller, listing_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn submit(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::submit(&ctx.pool, &caller, listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

async fn unlist(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::unlist(&ctx.pool, &caller, listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

async fn relist(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::relist(&ctx.pool, &caller, listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

async fn approve(
    State(ctx): State<ApiContext>,
    RequireAdmin(admin): RequireAdmin,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::approve(&ctx.pool, &admin, listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

async fn reject(
    State(ctx): State<ApiContext>,
    RequireAdmin(admin): RequireAdmin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Reply<ListingView> {
    let details = service::reject(&ctx.pool, &admin, listing_id(&id)?, &body.reason).await?;
    Ok(ApiJson(details.into()))
}

async fn ports(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<Vec<Port>> {
    let ports = service::ports(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(ports))
}

async fn add_port(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PortInput>,
) -> Result<(StatusCode, ApiJson<Port>), Error> {
    let port = service::add_port(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok((StatusCode::CREATED, ApiJson(port)))
}

async fn update_port(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path((id, port_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<PortInput>,
) -> Reply<Port> {
    let (id, port_id) = (listing_id(&id)?, uuid(&port_id, "port")?);
    let port = service::update_port(&ctx.pool, &caller, id, port_id, body).await?;
    Ok(ApiJson(port))
}

async fn delete_port(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path((id, port_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    let (id, port_id) = (listing_id(&id)?, uuid(&port_id, "port")?);
    service::delete_port(&ctx.pool, &caller, id, port_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn opening_hours(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<Vec<OpeningWindow>> {
    let hours = service::opening_hours(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(hours))
}

async fn set_opening_hours(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Vec<OpeningWindow>>,
) -> Reply<Vec<OpeningWindow>> {
    let hours = service::set_opening_hours(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok(ApiJson(hours))
}

async fn blackouts(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<Vec<Blackout>> {
    let list = service::blackouts(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(list))
}

async fn add_blackout(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Blackout>,
) -> Result<(StatusCode, ApiJson<Blackout>), Error> {
    let blackout = service::add_blackout(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok((StatusCode::CREATED, ApiJson(blackout)))
}

async fn delete_blackout(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path((id, starts_on)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    let starts_on: NaiveDate = starts_on.parse().map_err(|_| Error::NotFound("blackout"))?;
    service::delete_blackout(&ctx.pool, &caller, listing_id(&id)?, starts_on).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Listing routes: parse, call the service, shape the answer.
//!
//! Ids in paths are parsed here: a malformed id names nothing, so it is the same 404
//! problem+json as an unknown one (axum's `Path<Uuid>` would answer 400 in plain text).
//!
//! Who may do what (see [`super::model::access`]): a caller who cannot see a listing gets
//! 404; one who sees it (it is listed) but may not change it gets 403; a change the
//! listing's status does not allow is a 409 (`invalid_listing_transition`).

mod query;
mod views;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::model::{Blackout, ListingInput, ListingStatus, OpeningWindow, Port, PortInput};
use super::schema::{ListingBody, OpeningHours, PortBody};
use super::service;
use crate::accounts::{AuthUser, RequireAdmin};
use crate::error::Error;
use crate::http::doc::{BadQuery, JsonBody, OptionalToken, Problem, RoleOnly, SignedIn};
use crate::http::{ApiContext, ApiJson};
use views::{ListingView, Page};

const TAG: &str = "listings";

/// The answers of every route on one host's listing.
#[derive(utoipa::IntoResponses)]
pub enum HostsListing {
    /// The listing is listed but not the caller's (`forbidden`)
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such listing, or not visible to the caller (`not_found`)
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(submit))
        .routes(routes!(unlist))
        .routes(routes!(relist))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(ports, add_port))
        .routes(routes!(update_port, delete_port))
        .routes(routes!(opening_hours, set_opening_hours))
        .routes(routes!(blackouts, add_blackout))
        .routes(routes!(delete_blackout))
}

/// Why an admin turns a submitted listing down; its host reads it on the listing.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ListingRejection)]
struct RejectBody {
    /// 1 to 1000 characters once trimmed.
    #[schema(
        pattern = r"^\s*\S([\s\S]{0,998}\S)?\s*$",
        example = "The photos do not show the charger"
    )]
    reason: String,
}

fn uuid(text: &str, what: &'static str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound(what))
}

fn listing_id(text: &str) -> Result<Uuid, Error> {
    uuid(text, "listing")
}

type Reply<T> = Result<ApiJson<T>, Error>;

/// Listings the caller may see
///
/// **Roles:** none needed; a bearer token is optional: without one, and for drivers and
/// operators, only `listed` listings; a host sees their own in any status (and no one else's),
/// an admin every listing.
///
/// Newest first. Any other query parameter is a 422.
#[utoipa::path(
    get,
    path = "/api/chargers",
    tag = TAG,
    security((), ("bearer" = [])),
    params(
        ("status" = Option<ListingStatus>, Query, description = "Only this status"),
        ("host_id" = Option<Uuid>, Query, description = "Only this host's"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip (0)"),
    ),
    responses(
        (status = 200, description = "A page of listings", body = Page),
        OptionalToken,
        BadQuery,
    )
)]
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

/// Create a listing (draft)
///
/// **Roles:** host, admin.
///
/// The caller is its host. Ports, opening hours and blackouts are added through their own
/// routes. An `ocpp` charger's `device_id` must be a station the caller claimed (otherwise a
/// 422 naming `device_id`).
#[utoipa::path(
    post,
    path = "/api/chargers",
    tag = TAG,
    security(("bearer" = [])),
    request_body = ListingBody,
    responses(
        (status = 201, description = "Created, without ports or calendar", body = ListingView),
        RoleOnly,
        JsonBody,
        (status = 409, description = "The device already drives another listing (`device_already_bound`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<ListingInput>,
) -> Result<(StatusCode, ApiJson<ListingView>), Error> {
    let details = service::create(&ctx.pool, &caller, body).await?;
    Ok((StatusCode::CREATED, ApiJson(details.into())))
}

/// One listing
///
/// **Roles:** none needed; a bearer token is optional: without one (or for another user's
/// listing) only `listed` listings are visible; hosts see their own in any status, admins
/// all.
#[utoipa::path(
    get,
    path = "/api/chargers/{id}",
    tag = TAG,
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "The listing with its ports and calendar", body = ListingView),
        OptionalToken,
        (status = 404, description = "No such listing, or not visible to the caller (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn show(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::get(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

/// Replace a listing's fields
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// Not while `submitted`; a listed charger stays listed. Changing the device forgets the
/// ports' last reported status. Making a charger `plain` while ports are bound to EVSEs is a
/// 422 naming `device_kind`; an `ocpp` charger's `device_id` must be a station the host
/// claimed (a 422 naming `device_id`).
#[utoipa::path(
    put,
    path = "/api/chargers/{id}",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    request_body = ListingBody,
    responses(
        (status = 200, description = "Updated, with its ports and calendar", body = ListingView),
        SignedIn,
        HostsListing,
        (status = 409, description = "Not allowed while `submitted` (`invalid_listing_transition`), or the device already drives another listing (`device_already_bound`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
async fn update(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ListingInput>,
) -> Reply<ListingView> {
    let details = service::update(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok(ApiJson(details.into()))
}

/// Delete a listing
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// Only a draft, rejected or unlisted listing, with its ports and calendar. A charger that
/// has bookings keeps them as history: unlist it instead.
#[utoipa::path(
    delete,
    path = "/api/chargers/{id}",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 204, description = "Deleted with its ports and calendar"),
        SignedIn,
        HostsListing,
        (status = 409, description = "Only draft, rejected or unlisted listings are deleted (`invalid_listing_transition`); the charger or a port has bookings (`charger_has_bookings`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    service::delete(&ctx.pool, &caller, listing_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submit for review
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// From draft or rejected; an admin then approves or rejects it. It needs a port first.
#[utoipa::path(
    post,
    path = "/api/chargers/{id}/submit",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "The listing in its new status", body = ListingView),
        SignedIn,
        HostsListing,
        (status = 409, description = "Only from draft or rejected (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The charger has no port yet; `errors` names `ports` (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn submit(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::submit(&ctx.pool, &caller, listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

/// Hide from search
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// A listed charger leaves search and cannot be booked; its host may relist it.
#[utoipa::path(
    post,
    path = "/api/chargers/{id}/unlist",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "The listing in its new status", body = ListingView),
        SignedIn,
        HostsListing,
        (status = 409, description = "Only from listed (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn unlist(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::unlist(&ctx.pool, &caller, listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

/// Show in search again
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// An unlisted charger is listed again without a new review: it was approved before.
#[utoipa::path(
    post,
    path = "/api/chargers/{id}/relist",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "The listing in its new status", body = ListingView),
        SignedIn,
        HostsListing,
        (status = 409, description = "Only from unlisted (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn relist(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::relist(&ctx.pool, &caller, listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

/// Approve a submitted listing
///
/// **Roles:** admin.
///
/// The listing is listed: search shows it and drivers can book it.
#[utoipa::path(
    post,
    path = "/api/admin/chargers/{id}/approve",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "Listed", body = ListingView),
        RoleOnly,
        (status = 404, description = "No such listing (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only a submitted listing is reviewed (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn approve(
    State(ctx): State<ApiContext>,
    RequireAdmin(admin): RequireAdmin,
    Path(id): Path<String>,
) -> Reply<ListingView> {
    let details = service::approve(&ctx.pool, &admin, listing_id(&id)?).await?;
    Ok(ApiJson(details.into()))
}

/// Reject a submitted listing
///
/// **Roles:** admin.
///
/// Its host reads the reason on the listing, may edit it and submit it again.
#[utoipa::path(
    post,
    path = "/api/admin/chargers/{id}/reject",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    request_body = RejectBody,
    responses(
        (status = 200, description = "Rejected, with the reason", body = ListingView),
        RoleOnly,
        (status = 404, description = "No such listing (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only a submitted listing is reviewed (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
async fn reject(
    State(ctx): State<ApiContext>,
    RequireAdmin(admin): RequireAdmin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Reply<ListingView> {
    let details = service::reject(&ctx.pool, &admin, listing_id(&id)?, &body.reason).await?;
    Ok(ApiJson(details.into()))
}

/// A listing's ports
///
/// **Roles:** none needed; a bearer token is optional: without one (or for another user's
/// listing) only `listed` listings are visible; hosts see their own in any status, admins
/// all.
#[utoipa::path(
    get,
    path = "/api/chargers/{id}/ports",
    tag = TAG,
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "Ports (a plain array), in the order they were added",
            body = Vec<Port>),
        OptionalToken,
        (status = 404, description = "No such listing, or not visible to the caller (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn ports(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<Vec<Port>> {
    let ports = service::ports(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(ports))
}

/// Add a port
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// Not while `submitted`. `evse_id` and `connector_id` bind the port to the device's
/// connector; on a plain charger they are a 422.
#[utoipa::path(
    post,
    path = "/api/chargers/{id}/ports",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    request_body = PortBody,
    responses(
        (status = 201, description = "Created", body = Port),
        SignedIn,
        HostsListing,
        (status = 409, description = "Another port of the charger is bound to that EVSE and connector (`port_exists`); not allowed while `submitted` (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
async fn add_port(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PortInput>,
) -> Result<(StatusCode, ApiJson<Port>), Error> {
    let port = service::add_port(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok((StatusCode::CREATED, ApiJson(port)))
}

/// Replace a port
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// Not while `submitted`. Binding the port to another EVSE or connector forgets its last
/// reported status.
#[utoipa::path(
    put,
    path = "/api/chargers/{id}/ports/{port_id}",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing"), ("port_id" = Uuid, Path, description = "The port")),
    request_body = PortBody,
    responses(
        (status = 200, description = "Updated", body = Port),
        SignedIn,
        (status = 403, description = "The listing is listed but not the caller's (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing (or not visible to the caller), or no such port on it (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another port of the charger is bound to that EVSE and connector (`port_exists`); not allowed while `submitted` (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
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

/// Delete a port
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// Not while `submitted`. A listed charger keeps at least one port: unlist it first. A port
/// with bookings keeps them as history.
#[utoipa::path(
    delete,
    path = "/api/chargers/{id}/ports/{port_id}",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing"), ("port_id" = Uuid, Path, description = "The port")),
    responses(
        (status = 204, description = "Deleted"),
        SignedIn,
        (status = 403, description = "The listing is listed but not the caller's (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing (or not visible to the caller), or no such port on it (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The listed charger's last port (`last_port`); the port has bookings (`charger_has_bookings`); not allowed while `submitted` (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn delete_port(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path((id, port_id)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    let (id, port_id) = (listing_id(&id)?, uuid(&port_id, "port")?);
    service::delete_port(&ctx.pool, &caller, id, port_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Weekly opening hours
///
/// **Roles:** none needed; a bearer token is optional: without one (or for another user's
/// listing) only `listed` listings are visible; hosts see their own in any status, admins
/// all.
#[utoipa::path(
    get,
    path = "/api/chargers/{id}/opening-hours",
    tag = TAG,
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "The week (a plain array, by weekday and opening time; empty: always open)",
            body = Vec<OpeningWindow>),
        OptionalToken,
        (status = 404, description = "No such listing, or not visible to the caller (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn opening_hours(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<Vec<OpeningWindow>> {
    let hours = service::opening_hours(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(hours))
}

/// Replace the weekly opening hours
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// Not while `submitted`. Times are local to the listing's time zone. Each window closes
/// after it opens (a 422 naming `[i].closes` otherwise), and windows of one weekday must not
/// overlap (a 422 naming `opening_hours`).
#[utoipa::path(
    put,
    path = "/api/chargers/{id}/opening-hours",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    request_body = OpeningHours,
    responses(
        (status = 200, description = "The new week, sorted", body = Vec<OpeningWindow>),
        SignedIn,
        HostsListing,
        (status = 409, description = "Not allowed while `submitted` (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
async fn set_opening_hours(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Vec<OpeningWindow>>,
) -> Reply<Vec<OpeningWindow>> {
    let hours = service::set_opening_hours(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok(ApiJson(hours))
}

/// Blackout days
///
/// **Roles:** none needed; a bearer token is optional: without one (or for another user's
/// listing) only `listed` listings are visible; hosts see their own in any status, admins
/// all.
#[utoipa::path(
    get,
    path = "/api/chargers/{id}/blackouts",
    tag = TAG,
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "Blackouts (a plain array), earliest first", body = Vec<Blackout>),
        OptionalToken,
        (status = 404, description = "No such listing, or not visible to the caller (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn blackouts(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<Vec<Blackout>> {
    let list = service::blackouts(&ctx.pool, caller.as_ref(), listing_id(&id)?).await?;
    Ok(ApiJson(list))
}

/// Add a blackout
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// Not while `submitted`. Whole local days, `starts_on` to `ends_on` included; `ends_on`
/// before `starts_on`, or 366 days or more after it, is a 422 naming `ends_on`.
#[utoipa::path(
    post,
    path = "/api/chargers/{id}/blackouts",
    tag = TAG,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    request_body = Blackout,
    responses(
        (status = 201, description = "Created (the reason trimmed)", body = Blackout),
        SignedIn,
        HostsListing,
        (status = 409, description = "A blackout of the listing already starts that day (`blackout_exists`); not allowed while `submitted` (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
async fn add_blackout(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Blackout>,
) -> Result<(StatusCode, ApiJson<Blackout>), Error> {
    let blackout = service::add_blackout(&ctx.pool, &caller, listing_id(&id)?, body).await?;
    Ok((StatusCode::CREATED, ApiJson(blackout)))
}

/// Remove a blackout
///
/// **Roles:** any signed-in user; only the listing's host or an admin may change it.
///
/// Not while `submitted`. A blackout is named by its first day.
#[utoipa::path(
    delete,
    path = "/api/chargers/{id}/blackouts/{starts_on}",
    tag = TAG,
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The listing"),
        ("starts_on" = NaiveDate, Path, description = "First day of the blackout"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        SignedIn,
        (status = 403, description = "The listing is listed but not the caller's (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing (or not visible to the caller), or no blackout of it starts that day (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed while `submitted` (`invalid_listing_transition`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn delete_blackout(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path((id, starts_on)): Path<(String, String)>,
) -> Result<StatusCode, Error> {
    let starts_on: NaiveDate = starts_on.parse().map_err(|_| Error::NotFound("blackout"))?;
    service::delete_blackout(&ctx.pool, &caller, listing_id(&id)?, starts_on).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/api/me/vehicles` and `/api/me/vehicles/{id}`.

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::model::{Vehicle, VehicleInput};
use super::service;
use crate::accounts::extract::AuthUser;
use crate::error::Error;
use crate::http::doc::{JsonBody, Problem, SignedIn};
use crate::http::{ApiContext, ApiJson};

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .routes(routes!(list, create))
        .routes(routes!(show, replace, remove))
}

/// `{"items": [...]}`, default first: an object, like the other list answers, so fields can
/// be added later without breaking clients.
#[derive(Serialize, utoipa::ToSchema)]
struct VehicleList {
    items: Vec<Vehicle>,
}

/// The caller's vehicles
///
/// **Roles:** any signed-in user.
///
/// The default vehicle first, then the others, oldest first.
#[utoipa::path(
    get,
    path = "/api/me/vehicles",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Vehicles, default first", body = VehicleList),
        SignedIn,
    )
)]
async fn list(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
) -> Result<ApiJson<VehicleList>, Error> {
    let items = service::list_vehicles(&ctx.pool, caller.id).await?;
    Ok(ApiJson(VehicleList { items }))
}

/// Add a vehicle
///
/// **Roles:** any signed-in user.
///
/// `is_default: true` takes the default from the caller's other vehicles.
#[utoipa::path(
    post,
    path = "/api/me/vehicles",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = VehicleInput,
    responses(
        (status = 201, description = "Created", body = Vehicle),
        SignedIn,
        (status = 409, description = "Another vehicle became the default at the same time; \
            retry (`default_vehicle_conflict`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
async fn create(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<VehicleInput>,
) -> Result<(StatusCode, ApiJson<Vehicle>), Error> {
    let vehicle = service::add_vehicle(&ctx.pool, caller.id, body).await?;
    Ok((StatusCode::CREATED, ApiJson(vehicle)))
}

/// One vehicle
///
/// **Roles:** any signed-in user. Someone else's vehicle is the same 404 as a missing one.
#[utoipa::path(
    get,
    path = "/api/me/vehicles/{id}",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Vehicle id")),
    responses(
        (status = 200, description = "The vehicle", body = Vehicle),
        SignedIn,
        (status = 404, description = "No such vehicle, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn show(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<ApiJson<Vehicle>, Error> {
    let id = vehicle_id(&id)?;
    Ok(ApiJson(
        service::get_vehicle(&ctx.pool, caller.id, id).await?,
    ))
}

/// Replace a vehicle
///
/// **Roles:** any signed-in user. Someone else's vehicle is the same 404 as a missing one.
///
/// Every field is replaced; left-out optional fields are cleared (`is_default` becomes
/// `false`).
#[utoipa::path(
    put,
    path = "/api/me/vehicles/{id}",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Vehicle id")),
    request_body = VehicleInput,
    responses(
        (status = 200, description = "Updated", body = Vehicle),
        SignedIn,
        (status = 404, description = "No such vehicle, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another vehicle became the default at the same time; \
            retry (`default_vehicle_conflict`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
async fn replace(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VehicleInput>,
) -> Result<ApiJson<Vehicle>, Error> {
    let id = vehicle_id(&id)?;
    Ok(ApiJson(
        service::replace_vehicle(&ctx.pool, caller.id, id, body).await?,
    ))
}

/// Delete a vehicle
///
/// **Roles:** any signed-in user. Someone else's vehicle is the same 404 as a missing one.
#[utoipa::path(
    delete,
    path = "/api/me/vehicles/{id}",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Vehicle id")),
    responses(
        (status = 204, description = "Deleted"),
        SignedIn,
        (status = 404, description = "No such vehicle, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    let id = vehicle_id(&id)?;
    service::delete_vehicle(&ctx.pool, caller.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A path that is not a UUID names no vehicle: 404 problem+json, like an unknown id, rather
/// than axum's plain-text 400.
fn vehicle_id(raw: &str) -> Result<Uuid, Error> {
    raw.parse().map_err(|_| Error::NotFound("vehicle"))
}

//! `/api/me/vehicles` and `/api/me/vehicles/{id}`.

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use uuid::Uuid;

use super::model::{Vehicle, VehicleInput};
use super::service;
use crate::accounts::extract::AuthUser;
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/me/vehicles", get(list).post(create))
        .route(
            "/api/me/vehicles/{id}",
            get(show).put(replace).delete(remove),
        )
}

/// `{"items": [...]}`, default first: an object, like the other list answers, so fields can
/// be added later without breaking clients.
#[derive(Serialize)]
struct VehicleList {
    items: Vec<Vehicle>,
}

async fn list(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
) -> Result<ApiJson<VehicleList>, Error> {
    let items = service::list_vehicles(&ctx.pool, caller.id).await?;
    Ok(ApiJson(VehicleList { items }))
}

async fn create(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<VehicleInput>,
) -> Result<(StatusCode, ApiJson<Vehicle>), Error> {
    let vehicle = service::add_vehicle(&ctx.pool, caller.id, body).await?;
    Ok((StatusCode::CREATED, ApiJson(vehicle)))
}

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

//! Vehicle use cases, each one transaction, each scoped to the owner: someone else's vehicle
//! is `NotFound`, never `Forbidden`, so ids cannot be probed.

use sqlx::PgPool;
use uuid::Uuid;

use super::model::{validate_vehicle, Vehicle, VehicleInput};
use super::store;
use crate::error::Error;

pub async fn list_vehicles(pool: &PgPool, owner: Uuid) -> Result<Vec<Vehicle>, Error> {
    store::list(&mut *pool.acquire().await?, owner).await
}

pub async fn get_vehicle(pool: &PgPool, owner: Uuid, id: Uuid) -> Result<Vehicle, Error> {
    store::get(&mut *pool.acquire().await?, owner, id)
        .await?
        .ok_or(Error::NotFound("vehicle"))
}

/// Adds a vehicle; `is_default` takes the default from the owner's other vehicles.
pub async fn add_vehicle(
    pool: &PgPool,
    owner: Uuid,
    input: VehicleInput,
) -> Result<Vehicle, Error> {
    let valid = validate_vehicle(&input).map_err(Error::Validation)?;
    let mut tx = pool.begin().await?;
    if valid.is_default {
        store::clear_default(&mut tx, owner, None).await?;
    }
    let vehicle = store::insert(&mut tx, owner, &valid).await?;
    tx.commit().await?;
    Ok(vehicle)
}

/// Replaces every field of a vehicle.
pub async fn replace_vehicle(
    pool: &PgPool,
    owner: Uuid,
    id: Uuid,
    input: VehicleInput,
) -> Result<Vehicle, Error> {
    let valid = validate_vehicle(&input).map_err(Error::Validation)?;
    let mut tx = pool.begin().await?;
    if valid.is_default {
        store::clear_default(&mut tx, owner, Some(id)).await?;
    }
    let vehicle = store::update(&mut tx, owner, id, &valid)
        .await?
        .ok_or(Error::NotFound("vehicle"))?;
    tx.commit().await?;
    Ok(vehicle)
}

pub async fn delete_vehicle(pool: &PgPool, owner: Uuid, id: Uuid) -> Result<(), Error> {
    if store::delete(&mut *pool.acquire().await?, owner, id).await? {
        Ok(())
    } else {
        Err(Error::NotFound("vehicle"))
    }
}

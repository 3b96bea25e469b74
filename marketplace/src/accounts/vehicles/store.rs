//! SQL for vehicles. Every query is scoped by owner, so another user's id finds nothing.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{ValidVehicle, Vehicle};
use crate::error::{Error, ResultExt};

const COLUMNS: &str = "id, make, model, year, battery_kwh, connector_types, nickname, \
                       is_default, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct VehicleRow {
    id: Uuid,
    make: String,
    model: String,
    year: Option<i32>,
    battery_kwh: f64,
    connector_types: Vec<String>,
    nickname: Option<String>,
    is_default: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<VehicleRow> for Vehicle {
    type Error = Error;

    fn try_from(row: VehicleRow) -> Result<Self, Error> {
        // The CHECK on connector_types makes a parse failure unreachable unless they drift.
        let connector_types = row
            .connector_types
            .iter()
            .map(|c| c.parse())
            .collect::<Result<_, _>>()
            .map_err(|err| Error::Internal(format!("vehicle {}: {err}", row.id)))?;
        Ok(Vehicle {
            id: row.id,
            make: row.make,
            model: row.model,
            year: row.year,
            battery_kwh: row.battery_kwh,
            connector_types,
            nickname: row.nickname,
            is_default: row.is_default,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

fn connector_names(v: &ValidVehicle) -> Vec<&'static str> {
    v.connector_types.iter().map(|c| c.as_str()).collect()
}

/// The partial unique index allows one default per owner; a race that breaks it is a 409.
fn default_taken(_: Box<dyn sqlx::error::DatabaseError>) -> Error {
    Error::Conflict {
        code: "default_vehicle_conflict",
        detail: "another vehicle became the default at the same time; try again".into(),
    }
}

pub(super) async fn list(conn: &mut PgConnection, owner: Uuid) -> Result<Vec<Vehicle>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM vehicles WHERE user_id = $1 ORDER BY is_default DESC, created_at"
    );
    sqlx::query_as::<_, VehicleRow>(&sql)
        .bind(owner)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(Vehicle::try_from)
        .collect()
}

pub(super) async fn get(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
) -> Result<Option<Vehicle>, Error> {
    let sql = format!("SELECT {COLUMNS} FROM vehicles WHERE id = $1 AND user_id = $2");
    sqlx::query_as::<_, VehicleRow>(&sql)
        .bind(id)
        .bind(owner)
        .fetch_optional(conn)
        .await?
        .map(Vehicle::try_from)
        .transpose()
}

pub(super) async fn insert(
    conn: &mut PgConnection,
    owner: Uuid,
    v: &ValidVehicle,
) -> Result<Vehicle, Error> {
    let sql = format!(
        "INSERT INTO vehicles (id, user_id, make, model, year, battery_kwh, connector_types, \
                               nickname, is_default) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
    );
    sqlx::query_as::<_, VehicleRow>(&sql)
        .bind(Uuid::now_v7())
        .bind(owner)
        .bind(&v.make)
        .bind(&v.model)
        .bind(v.year)
        .bind(v.battery_kwh)
        .bind(connector_names(v))
        .bind(&v.nickname)
        .bind(v.is_default)
        .fetch_one(conn)
        .await
        .on_constraint("vehicles_one_default_key", default_taken)?
        .try_into()
}

pub(super) async fn update(
    conn: &mut PgConnection,
    owner: Uuid,
    id: Uuid,
    v: &ValidVehicle,
) -> Result<Option<Vehicle>, Error> {
    let sql = format!(
        "UPDATE vehicles SET make = $3, model = $4, year = $5, battery_kwh = $6, \
             connector_types = $7, nickname = $8, is_default = $9, updated_at = now() \
         WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
    );
    sqlx::query_as::<_, VehicleRow>(&sql)
        .bind(id)
        .bind(owner)
        .bind(&v.make)
        .bind(&v.model)
        .bind(v.year)
        .bind(v.battery_kwh)
        .bind(connector_names(v))
        .bind(&v.nickname)
        .bind(v.is_default)
        .fetch_optional(conn)
        .await
        .on_constraint("vehicles_one_default_key", default_taken)?
        .map(Vehicle::try_from)
        .transpose()
}

/// Un-defaults the owner's other vehicles, before one becomes the default.
pub(super) async fn clear_default(
    conn: &mut PgConnection,
    owner: Uuid,
    except: Option<Uuid>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE vehicles SET is_default = false, updated_at = now() \
         WHERE user_id = $1 AND is_default AND id IS DISTINCT FROM $2",
    )
    .bind(owner)
    .bind(except)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn delete(conn: &mut PgConnection, owner: Uuid, id: Uuid) -> Result<bool, Error> {
    let done = sqlx::query("DELETE FROM vehicles WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(owner)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

//! SQL for listings and their ports, and nothing else. Every function takes a connection so
//! the service can run several of them in one transaction.
//!
//! Queries are checked at run time (`query_as`, not `query!`), as in accounts. Decimals cross
//! the wire as text (`::text` out, `::numeric` in) because sqlx's `rust_decimal` feature is
//! not enabled in the workspace, and turning it on would rebuild sqlx for every crate.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{Listing, ListingFields, ListingStatus, Port, PortInput};
use crate::error::{Error, ResultExt};

mod calendar;
mod device_status;
mod rows;

pub use calendar::*;
pub use device_status::apply_device_status;
use rows::{ListingRow, PortRow};

const LISTING_COLUMNS: &str = "id, host_id, title, description, photos, address, \
     ST_Y(location::geometry) AS latitude, ST_X(location::geometry) AS longitude, time_zone, \
     amenities, access_instructions, device_kind, device_id, currency::text AS currency, \
     price_per_kwh::text AS price_per_kwh, price_per_hour::text AS price_per_hour, \
     rating_avg::float8 AS rating_avg, rating_count, status, rejection_reason, submitted_at, \
     decided_at, connector_types, max_power_kw::float8 AS max_power_kw, ports_total, \
     ports_available, created_at, updated_at";

const PORT_COLUMNS: &str =
    "id, label, connector_type, power_kw::float8 AS power_kw, current_type, \
     evse_id, connector_id, live_status, live_status_at";

/// Which listings a caller may page through, before their own filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    OwnedBy(Uuid),
    Listed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    pub scope: Scope,
    pub status: Option<ListingStatus>,
    pub host_id: Option<Uuid>,
    pub limit: i64,
    pub offset: i64,
}

fn decimal_text(value: Option<Decimal>) -> Option<String> {
    value.map(|d| d.to_string())
}

pub async fn insert_listing(
    conn: &mut PgConnection,
    host_id: Uuid,
    f: &ListingFields,
) -> Result<Listing, Error> {
    let sql = format!(
        "INSERT INTO listings (id, host_id, title, description, photos, address, location, \
           time_zone, amenities, access_instructions, device_kind, device_id, currency, \
           price_per_kwh, price_per_hour) \
         VALUES ($1, $2, $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($8, $7), 4326)::geography, \
           $9, $10, $11, $12, $13, $14, $15::numeric, $16::numeric) \
         RETURNING {LISTING_COLUMNS}"
    );
    let row = bind_fields(
        sqlx::query_as::<_, ListingRow>(&sql)
            .bind(Uuid::now_v7())
            .bind(host_id),
        f,
    )
    .fetch_one(conn)
    .await;
    device_rules(row, f)?.try_into()
}

pub async fn update_listing(
    conn: &mut PgConnection,
    id: Uuid,
    f: &ListingFields,
) -> Result<Listing, Error> {
    let sql = format!(
        "UPDATE listings SET title = $2, description = $3, photos = $4, address = $5, \
           location = ST_SetSRID(ST_MakePoint($7, $6), 4326)::geography, time_zone = $8, \
           amenities = $9, access_instructions = $10, device_kind = $11, device_id = $12, \
           currency = $13, price_per_kwh = $14::numeric, price_per_hour = $15::numeric, \
           updated_at = now() \
         WHERE id = $1 RETURNING {LISTING_COLUMNS}"
    );
    let row = bind_fields(sqlx::query_as::<_, ListingRow>(&sql).bind(id), f)
        .fetch_one(conn)
        .await;
    device_rules(row, f)?.try_into()
}

/// The database's rules on a listing's device, as answers: the station must be the host's
/// (claimed), and a device drives one listing.
fn device_rules(
    row: Result<ListingRow, sqlx::Error>,
    f: &ListingFields,
) -> Result<ListingRow, Error> {
    let device = f.device_id.clone().unwrap_or_default();
    row.on_constraint("listings_station_owned", |_| {
        Error::invalid(
            "device_id",
            format!("station {device} is not yours: claim it first (POST /api/stations/claims)"),
        )
    })
    .on_constraint("listings_one_per_device", |_| Error::Conflict {
        code: "device_already_bound",
        detail: format!("{device} already drives another listing"),
    })
}

/// Binds the fields, in the order both the insert and the update list them, after the
/// parameters already bound.
fn bind_fields<'q>(
    query: sqlx::query::QueryAs<'q, sqlx::Postgres, ListingRow, sqlx::postgres::PgArguments>,
    f: &'q ListingFields,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, ListingRow, sqlx::postgres::PgArguments> {
    query
        .bind(&f.title)
        .bind(&f.description)
        .bind(&f.photos)
        .bind(&f.address)
        .bind(f.latitude)
        .bind(f.longitude)
        .bind(f.time_zone.name())
        .bind(&f.amenities)
        .bind(&f.access_instructions)
        .bind(f.device_kind.as_str())
        .bind(&f.device_id)
        .bind(&f.currency)
        .bind(decimal_text(f.price_per_kwh))
        .bind(decimal_text(f.price_per_hour))
}

/// `for_update` locks the row until the transaction ends: every change to a listing or its
/// ports takes this lock first, so the denormalised port columns are recomputed by one
/// transaction at a time and never from a stale view.
pub async fn listing_by_id(
    conn: &mut PgConnection,
    id: Uuid,
    for_update: bool,
) -> Result<Option<Listing>, Error> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {LISTING_COLUMNS} FROM listings WHERE id = $1{lock}");
    sqlx::query_as::<_, ListingRow>(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(Listing::try_from)
        .transpose()
}

/// Moves a listing to `status`, stamping the review columns the move implies.
pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: ListingStatus,
    rejection_reason: Option<&str>,
) -> Result<Listing, Error> {
    let sql = format!(
        "UPDATE listings SET status = $2, rejection_reason = $3, updated_at = now(), \
           submitted_at = CASE WHEN $2 = 'submitted' THEN now() ELSE submitted_at END, \
           decided_at = CASE WHEN $2 IN ('listed', 'rejected') AND status = 'submitted' \
                             THEN now() ELSE decided_at END \
         WHERE id = $1 RETURNING {LISTING_COLUMNS}"
    );
    sqlx::query_as::<_, ListingRow>(&sql)
        .bind(id)
        .bind(status.as_str())
        .bind(rejection_reason)
        .fetch_one(conn)
        .await?
        .try_into()
}

pub async fn delete_listing(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
    sqlx::query("DELETE FROM listings WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One page, newest first, and the total number of matches.
pub async fn list_listings(
    conn: &mut PgConnection,
    filter: &ListFilter,
) -> Result<(Vec<Listing>, i64), Error> {
    let (owner, listed_only) = match filter.scope {
        Scope::All => (None, false),
        Scope::OwnedBy(id) => (Some(id), false),
        Scope::Listed => (None, true),
    };
    let condition = "($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR host_id = $2) \
         AND ($3::uuid IS NULL OR host_id = $3) AND (NOT $4 OR status = 'listed')";
    let status = filter.status.map(ListingStatus::as_str);
    let sql = format!(
        "SELECT {LISTING_COLUMNS} FROM listings WHERE {condition} \
         ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6"
    );
    let rows = sqlx::query_as::<_, ListingRow>(&sql)
        .bind(status)
        .bind(filter.host_id)
        .bind(owner)
        .bind(listed_only)
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(&mut *conn)
        .await?;
    let total: i64 =
        sqlx::query_scalar(&format!("SELECT count(*) FROM listings WHERE {condition}"))
            .bind(status)
            .bind(filter.host_id)
            .bind(owner)
            .bind(listed_only)
            .fetch_one(conn)
            .await?;
    let listings = rows
        .into_iter()
        .map(Listing::try_from)
        .collect::<Result<_, _>>()?;
    Ok((listings, total))
}

pub async fn ports_of(conn: &mut PgConnection, listing_id: Uuid) -> Result<Vec<Port>, Error> {
    let sql = format!(
        "SELECT {PORT_COLUMNS} FROM listing_ports WHERE listing_id = $1 ORDER BY created_at, id"
    );
    sqlx::query_as::<_, PortRow>(&sql)
        .bind(listing_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(Port::try_from)
        .collect()
}

fn port_exists(_: Box<dyn sqlx::error::DatabaseError>) -> Error {
    Error::Conflict {
        code: "port_exists",
        detail: "another port of this charger is bound to that EVSE and connector".into(),
    }
}

pub async fn insert_port(
    conn: &mut PgConnection,
    listing_id: Uuid,
    port: &PortInput,
) -> Result<Port, Error> {
    let sql = format!(
        "INSERT INTO listing_ports (id, listing_id, label, connector_type, power_kw, \
           current_type, evse_id, connector_id) \
         VALUES ($1, $2, $3, $4, $5::numeric, $6, $7, $8) RETURNING {PORT_COLUMNS}"
    );
    sqlx::query_as::<_, PortRow>(&sql)
        .bind(Uuid::now_v7())
        .bind(listing_id)
        .bind(port.label.trim())
        .bind(port.connector_type.as_str())
        .bind(port.power_kw)
        .bind(port.current_type.as_str())
        .bind(port.evse_id)
        .bind(port.connector_id)
        .fetch_one(conn)
        .await
        .on_constraint("listing_ports_evse_key", port_exists)?
        .try_into()
}

/// `None` when the port is not one of the listing's. Re-binding a port to another EVSE
/// forgets its live status: it described a different connector.
pub async fn update_port(
    conn: &mut PgConnection,
    listing_id: Uuid,
    port_id: Uuid,
    port: &PortInput,
) -> Result<Option<Port>, Error> {
    let sql = format!(
        "UPDATE listing_ports SET label = $3, connector_type = $4, power_kw = $5::numeric, \
           current_type = $6, \
           live_status = CASE WHEN evse_id IS NOT DISTINCT FROM $7 \
                               AND connector_id IS NOT DISTINCT FROM $8 \
                              THEN live_status ELSE 'Unknown' END, \
           live_status_at = CASE WHEN evse_id IS NOT DISTINCT FROM $7 \
                                  AND connector_id IS NOT DISTINCT FROM $8 \
                                 THEN live_status_at END, \
           evse_id = $7, connector_id = $8 \
         WHERE listing_id = $1 AND id = $2 RETURNING {PORT_COLUMNS}"
    );
    sqlx::query_as::<_, PortRow>(&sql)
        .bind(listing_id)
        .bind(port_id)
        .bind(port.label.trim())
        .bind(port.connector_type.as_str())
        .bind(port.power_kw)
        .bind(port.current_type.as_str())
        .bind(port.evse_id)
        .bind(port.connector_id)
        .fetch_optional(conn)
        .await
        .on_constraint("listing_ports_evse_key", port_exists)?
        .map(Port::try_from)
        .transpose()
}

/// Whether the port existed on that listing.
pub async fn delete_port(
    conn: &mut PgConnection,
    listing_id: Uuid,
    port_id: Uuid,
) -> Result<bool, Error> {
    let done = sqlx::query("DELETE FROM listing_ports WHERE listing_id = $1 AND id = $2")
        .bind(listing_id)
        .bind(port_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// After the listing changes device, no port's last status is about the new device.
pub async fn forget_live_status(conn: &mut PgConnection, listing_id: Uuid) -> Result<(), Error> {
    sqlx::query(
        "UPDATE listing_ports SET live_status = 'Unknown', live_status_at = NULL \
         WHERE listing_id = $1",
    )
    .bind(listing_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The search columns of listings, recomputed from their ports. `{scope}` selects the
/// listings (a predicate on `l`); one statement serves a single listing and a million.
///
/// A port counts as available when its device says so; a plain socket reports nothing, so
/// its ports count as available unless someone said otherwise (search would hide every plain
/// charger from "available now" otherwise).
const PORT_SUMMARY: &str = "UPDATE listings l SET \
       connector_types = COALESCE(s.types, '{}'), max_power_kw = COALESCE(s.max_kw, 0), \
       ports_total = COALESCE(s.total, 0), ports_available = COALESCE(s.available, 0), \
       updated_at = now() \
     FROM listings l2 LEFT JOIN LATERAL ( \
       SELECT array_agg(DISTINCT p.connector_type ORDER BY p.connector_type) AS types, \
              max(p.power_kw) AS max_kw, count(*)::int AS total, \
              (count(*) FILTER (WHERE p.live_status = 'Available' \
                  OR (p.live_status = 'Unknown' AND l2.device_kind = 'plain')))::int AS available \
       FROM listing_ports p WHERE p.listing_id = l2.id) s ON true \
     WHERE l2.id = l.id AND {scope}";

/// Recomputes the search columns of one listing. Call it in the transaction that changed its
/// ports, after locking the listing ([`listing_by_id`] with `for_update`).
pub async fn refresh_port_summary(conn: &mut PgConnection, listing_id: Uuid) -> Result<(), Error> {
    refresh_port_summaries(conn, &[listing_id]).await
}

pub async fn refresh_port_summaries(
    conn: &mut PgConnection,
    listing_ids: &[Uuid],
) -> Result<(), Error> {
    sqlx::query(&PORT_SUMMARY.replace("{scope}", "l.id = ANY($1)"))
        .bind(listing_ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Recomputes the search columns of every listing of these hosts (bulk seeding).
pub async fn refresh_port_summaries_of_hosts(
    conn: &mut PgConnection,
    host_ids: &[Uuid],
) -> Result<(), Error> {
    sqlx::query(&PORT_SUMMARY.replace("{scope}", "l.host_id = ANY($1)"))
        .bind(host_ids)
        .execute(conn)
        .await?;
    Ok(())
}

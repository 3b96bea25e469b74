//! Database rows and their conversion into model types. The CHECK constraints make the
//! conversion errors unreachable unless the schema and the model drift apart.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::Error;
use crate::listings::model::{Listing, ListingFields, Port};

#[derive(sqlx::FromRow)]
pub(super) struct ListingRow {
    id: Uuid,
    host_id: Uuid,
    title: String,
    description: String,
    photos: Vec<String>,
    address: String,
    latitude: f64,
    longitude: f64,
    time_zone: String,
    amenities: Vec<String>,
    access_instructions: String,
    device_kind: String,
    device_id: Option<String>,
    currency: String,
    price_per_kwh: Option<String>,
    price_per_hour: Option<String>,
    rating_avg: f64,
    rating_count: i32,
    status: String,
    rejection_reason: Option<String>,
    submitted_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    connector_types: Vec<String>,
    max_power_kw: f64,
    ports_total: i32,
    ports_available: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn parse<T: FromStr>(what: &str, id: Uuid, text: &str) -> Result<T, Error> {
    text.parse()
        .map_err(|_| Error::Internal(format!("listing {id}: bad {what} `{text}` in the database")))
}

fn decimal(what: &str, id: Uuid, text: Option<String>) -> Result<Option<Decimal>, Error> {
    text.map(|t| parse::<Decimal>(what, id, &t)).transpose()
}

impl TryFrom<ListingRow> for Listing {
    type Error = Error;

    fn try_from(r: ListingRow) -> Result<Self, Error> {
        let id = r.id;
        let connector_types = r
            .connector_types
            .iter()
            .map(|c| parse("connector type", id, c))
            .collect::<Result<_, _>>()?;
        Ok(Listing {
            id,
            host_id: r.host_id,
            fields: ListingFields {
                title: r.title,
                description: r.description,
                photos: r.photos,
                address: r.address,
                latitude: r.latitude,
                longitude: r.longitude,
                time_zone: parse("time zone", id, &r.time_zone)?,
                amenities: r.amenities,
                access_instructions: r.access_instructions,
                device_kind: parse("device kind", id, &r.device_kind)?,
                device_id: r.device_id,
                currency: r.currency,
                price_per_kwh: decimal("price", id, r.price_per_kwh)?,
                price_per_hour: decimal("price", id, r.price_per_hour)?,
            },
            status: parse("status", id, &r.status)?,
            rejection_reason: r.rejection_reason,
            rating_avg: r.rating_avg,
            rating_count: r.rating_count,
            connector_types,
            max_power_kw: r.max_power_kw,
            ports_total: r.ports_total,
            ports_available: r.ports_available,
            submitted_at: r.submitted_at,
            decided_at: r.decided_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PortRow {
    id: Uuid,
    label: String,
    connector_type: String,
    power_kw: f64,
    current_type: String,
    evse_id: Option<i32>,
    connector_id: Option<i32>,
    live_status: String,
    live_status_at: Option<DateTime<Utc>>,
}

impl TryFrom<PortRow> for Port {
    type Error = Error;

    fn try_from(r: PortRow) -> Result<Self, Error> {
        Ok(Port {
            id: r.id,
            label: r.label,
            connector_type: parse("connector type", r.id, &r.connector_type)?,
            power_kw: r.power_kw,
            current_type: parse("current type", r.id, &r.current_type)?,
            evse_id: r.evse_id,
            connector_id: r.connector_id,
            live_status: parse("live status", r.id, &r.live_status)?,
            live_status_at: r.live_status_at,
        })
    }
}

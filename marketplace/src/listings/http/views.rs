//! What clients read: the JSON shapes of listings and pages of them (snake_case).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::listings::model::{
    Blackout, ConnectorType, DeviceKind, Listing, ListingDetails, ListingStatus, OpeningWindow,
    Port,
};

#[derive(Serialize)]
pub(super) struct Rating {
    average: f64,
    count: i32,
}

/// A listing without its ports and calendar, as pages of listings show it.
#[derive(Serialize)]
pub(super) struct ListingSummary {
    id: Uuid,
    host_id: Uuid,
    status: ListingStatus,
    rejection_reason: Option<String>,
    title: String,
    description: String,
    photos: Vec<String>,
    address: String,
    latitude: f64,
    longitude: f64,
    time_zone: &'static str,
    amenities: Vec<String>,
    access_instructions: String,
    device_kind: DeviceKind,
    device_id: Option<String>,
    currency: String,
    /// Decimal strings ("0.35") so no client rounds money through a float.
    price_per_kwh: Option<Decimal>,
    price_per_hour: Option<Decimal>,
    rating: Rating,
    connector_types: Vec<ConnectorType>,
    max_power_kw: f64,
    ports_total: i32,
    ports_available: i32,
    submitted_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Listing> for ListingSummary {
    fn from(l: Listing) -> Self {
        let f = l.fields;
        Self {
            id: l.id,
            host_id: l.host_id,
            status: l.status,
            rejection_reason: l.rejection_reason,
            title: f.title,
            description: f.description,
            photos: f.photos,
            address: f.address,
            latitude: f.latitude,
            longitude: f.longitude,
            time_zone: f.time_zone.name(),
            amenities: f.amenities,
            access_instructions: f.access_instructions,
            device_kind: f.device_kind,
            device_id: f.device_id,
            currency: f.currency,
            price_per_kwh: f.price_per_kwh,
            price_per_hour: f.price_per_hour,
            rating: Rating {
                average: l.rating_avg,
                count: l.rating_count,
            },
            connector_types: l.connector_types,
            max_power_kw: l.max_power_kw,
            ports_total: l.ports_total,
            ports_available: l.ports_available,
            submitted_at: l.submitted_at,
            decided_at: l.decided_at,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Serialize)]
pub(super) struct ListingView {
    #[serde(flatten)]
    summary: ListingSummary,
    ports: Vec<Port>,
    opening_hours: Vec<OpeningWindow>,
    blackouts: Vec<Blackout>,
}

impl From<ListingDetails> for ListingView {
    fn from(d: ListingDetails) -> Self {
        Self {
            summary: d.listing.into(),
            ports: d.ports,
            opening_hours: d.opening_hours,
            blackouts: d.blackouts,
        }
    }
}

#[derive(Serialize)]
pub(super) struct Page {
    pub items: Vec<ListingSummary>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

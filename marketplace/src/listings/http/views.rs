//! What clients read: the JSON shapes of listings and pages of them (snake_case).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use crate::listings::model::{
    Blackout, ConnectorType, DeviceKind, Listing, ListingDetails, ListingStatus, OpeningWindow,
    Port,
};

/// Drivers' reviews of a charger.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ListingRating)]
pub(super) struct Rating {
    #[schema(minimum = 0, maximum = 5, example = 4.5)]
    average: f64,
    #[schema(minimum = 0)]
    count: i32,
}

/// A listing without its ports and calendar, as pages of listings show it.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ListingSummary {
    id: Uuid,
    host_id: Uuid,
    status: ListingStatus,
    /// Set while `rejected`.
    #[schema(required)]
    rejection_reason: Option<String>,
    #[schema(example = "22 kW wall box, Jordaan")]
    title: String,
    description: String,
    photos: Vec<String>,
    #[schema(example = "Westerstraat 112, 1015 MN Amsterdam")]
    address: String,
    #[schema(example = 52.3791)]
    latitude: f64,
    #[schema(example = 4.8826)]
    longitude: f64,
    #[schema(value_type = crate::listings::schema::TimeZoneName)]
    time_zone: &'static str,
    amenities: Vec<String>,
    access_instructions: String,
    device_kind: DeviceKind,
    /// Null for a plain charger.
    #[schema(required)]
    device_id: Option<String>,
    #[schema(example = "EUR")]
    currency: String,
    /// Decimal strings ("0.35") so no client rounds money through a float.
    #[schema(required, example = "0.35")]
    price_per_kwh: Option<Decimal>,
    #[schema(required, example = "1.50")]
    price_per_hour: Option<Decimal>,
    rating: Rating,
    /// Of its ports, distinct.
    connector_types: Vec<ConnectorType>,
    /// The most powerful port's; 0 without ports.
    max_power_kw: f64,
    ports_total: i32,
    /// Ports a device reports free (a plain charger's ports count as free unless reported
    /// otherwise).
    ports_available: i32,
    #[schema(required)]
    submitted_at: Option<DateTime<Utc>>,
    /// When an admin approved or rejected it last.
    #[schema(required)]
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

/// A listing with its ports and calendar: every `ListingSummary` field plus these three.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Listing)]
pub(super) struct ListingView {
    #[serde(flatten)]
    summary: ListingSummary,
    /// In the order they were added.
    ports: Vec<Port>,
    /// The week, by weekday and opening time; empty: open around the clock.
    opening_hours: Vec<OpeningWindow>,
    /// Earliest first.
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

/// A page of listings, newest first.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ListingPage)]
pub(super) struct Page {
    pub items: Vec<ListingSummary>,
    /// Listings that match, on every page.
    pub total: i64,
    #[schema(example = 20)]
    pub limit: i64,
    pub offset: i64,
}

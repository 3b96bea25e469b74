//! Search: nearest chargers, recommendations, map areas, along a route, free-form filters,
//! place lookup and availability. Documented from the spec while `marketplace::search` is
//! being written; only `listed` chargers are ever returned.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::ConnectorType;
use super::listings::{LiveStatus, OpeningInterval};
use super::route::{date_time, integer, string, Access, Route};

const TAG: &str = "search";

/// Filters every search accepts; all optional, all must hold.
#[derive(ToSchema)]
pub struct SearchFilters {
    /// Any of these connectors.
    pub connector_types: Option<Vec<ConnectorType>>,
    #[schema(minimum = 0, maximum = 1000)]
    pub min_power_kw: Option<f64>,
    #[schema(minimum = 0)]
    pub max_price_per_kwh: Option<f64>,
    /// At least one port reported `Available`.
    pub available_now: Option<bool>,
    /// Open (by its opening hours and blackouts) at this instant.
    pub open_at: Option<DateTime<Utc>>,
    /// All of these amenities.
    pub amenities: Option<Vec<String>>,
    #[schema(minimum = 0, maximum = 5)]
    pub min_rating: Option<f64>,
}

#[derive(ToSchema)]
pub struct NearbyQuery {
    #[schema(minimum = -90, maximum = 90, example = 52.3676)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.9041)]
    pub longitude: f64,
    /// How many chargers, nearest first; default 20.
    #[schema(minimum = 1, maximum = 100, example = 20)]
    pub k: Option<u32>,
    /// Ignore chargers farther than this; default 50 km.
    #[schema(minimum = 1, maximum = 500000)]
    pub radius_m: Option<u32>,
    pub filters: Option<SearchFilters>,
}

/// Ranks nearby chargers by distance, price, rating and fit to the vehicle.
#[derive(ToSchema)]
pub struct RecommendQuery {
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: f64,
    /// One of the caller's vehicles; its connectors filter the results. Default: the
    /// caller's default vehicle, if any.
    pub vehicle_id: Option<Uuid>,
    #[schema(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
    pub filters: Option<SearchFilters>,
}

/// A map viewport; at most about 100 × 100 km.
#[derive(ToSchema)]
pub struct AreaQuery {
    #[schema(minimum = -90, maximum = 90, example = 52.34)]
    pub south: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.86)]
    pub west: f64,
    #[schema(minimum = -90, maximum = 90, example = 52.39)]
    pub north: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.94)]
    pub east: f64,
    #[schema(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub filters: Option<SearchFilters>,
}

#[derive(ToSchema)]
pub struct LatLng {
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: f64,
}

/// Chargers within `corridor_m` of a polyline, ordered along it.
#[derive(ToSchema)]
pub struct RouteQuery {
    #[schema(min_items = 2, max_items = 1000)]
    pub points: Vec<LatLng>,
    /// Default 2 km.
    #[schema(minimum = 100, maximum = 50000)]
    pub corridor_m: Option<u32>,
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub filters: Option<SearchFilters>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SearchSort {
    Distance,
    Price,
    Rating,
    Power,
}

#[derive(ToSchema)]
pub struct AdvancedQuery {
    /// Words to find in title, description or address.
    #[schema(max_length = 200)]
    pub text: Option<String>,
    pub near: Option<LatLng>,
    #[schema(minimum = 1, maximum = 500000)]
    pub radius_m: Option<u32>,
    pub sort: Option<SearchSort>,
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    #[schema(minimum = 0)]
    pub offset: Option<u32>,
    pub filters: Option<SearchFilters>,
}

/// A listed charger as search shows it.
#[derive(ToSchema)]
pub struct SearchHit {
    pub id: Uuid,
    pub title: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    /// From the query point (absent for area searches).
    pub distance_m: Option<f64>,
    pub connector_types: Vec<ConnectorType>,
    pub max_power_kw: f64,
    pub ports_total: i32,
    pub ports_available: i32,
    pub currency: String,
    pub price_per_kwh: Option<f64>,
    pub rating_avg: f64,
    pub rating_count: i32,
    /// Recommendation score, 0 to 1 (recommend only).
    pub score: Option<f64>,
}

#[derive(ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchHit>,
}

#[derive(ToSchema)]
pub struct Place {
    #[schema(example = "Amsterdam, Netherlands")]
    pub label: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(ToSchema)]
pub struct PlaceList {
    pub items: Vec<Place>,
}

#[derive(ToSchema)]
pub struct PortAvailability {
    pub port_id: Uuid,
    pub connector_type: ConnectorType,
    pub power_kw: f64,
    pub live_status: LiveStatus,
}

/// A span in which the charger is open and not booked.
#[derive(ToSchema)]
pub struct FreeSlot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct Availability {
    pub listing_id: Uuid,
    pub time_zone: String,
    pub ports: Vec<PortAvailability>,
    pub opening_hours: Vec<OpeningInterval>,
    pub free_slots: Vec<FreeSlot>,
}

fn search<T: ToSchema>(path: &'static str, summary: &str) -> Route {
    Route::post(path, TAG, summary)
        .access(Access::AnyUser)
        .body::<T>()
        .ok::<SearchResults>(200, "Matching listed chargers")
}

pub fn routes() -> Vec<Route> {
    vec![
        search::<NearbyQuery>("/api/search/nearby", "The k nearest chargers"),
        search::<RecommendQuery>("/api/search/recommend", "Recommended chargers nearby")
            .not_found("vehicle"),
        search::<AreaQuery>("/api/search/area", "Chargers inside a map box"),
        search::<RouteQuery>("/api/search/route", "Chargers along a route"),
        search::<AdvancedQuery>("/api/search/advanced", "Text, filters and sorting"),
        Route::get("/api/search/location", TAG, "Look a place name up")
            .access(Access::AnyUser)
            .required_query("q", "Place name, at least 2 characters", string())
            .query("limit", "At most this many", integer(1, Some(20), Some(5)))
            .ok::<PlaceList>(200, "Best matches first")
            .problem(422, "`q` missing or too short"),
        Route::get(
            "/api/search/chargers/{id}/availability",
            TAG,
            "When a charger is free",
        )
        .access(Access::AnyUser)
        .uuid_param("id", "Listing id")
        .query("from", "Start of the window (default now)", date_time())
        .query(
            "to",
            "End of the window (default 7 days later)",
            date_time(),
        )
        .ok::<Availability>(200, "Ports' live status and free slots")
        .not_found("listed charger")
        .problem(422, "Window reversed or longer than 31 days"),
    ]
}

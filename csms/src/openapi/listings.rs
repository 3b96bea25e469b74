//! Listings: chargers hosts offer, their ports, opening hours and blackouts, and the admin
//! approval queue. Documented from the spec while `marketplace::listings` is being written;
//! field names follow the `listings` table (migrations/0004_listings.sql).

use chrono::{DateTime, NaiveDate, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::ConnectorType;
use super::common::{limit, offset};
use super::route::{one_of, Route, ADMIN, HOST};

const TAG: &str = "listings";

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ListingStatus {
    Draft,
    Submitted,
    Rejected,
    Listed,
    Unlisted,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum DeviceKind {
    Plain,
    Ocpp,
    Mqtt,
}

#[derive(ToSchema)]
pub enum CurrentType {
    #[schema(rename = "AC")]
    Ac,
    #[schema(rename = "DC")]
    Dc,
}

#[derive(ToSchema)]
pub enum LiveStatus {
    Available,
    Occupied,
    Reserved,
    Unavailable,
    Faulted,
    Unknown,
}

/// Create (POST) or replace (PUT) a listing. New listings are drafts.
#[derive(ToSchema)]
pub struct ListingBody {
    #[schema(min_length = 3, max_length = 120, example = "22 kW wall box, Jordaan")]
    pub title: String,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub photos: Option<Vec<String>>,
    #[schema(
        min_length = 3,
        max_length = 300,
        example = "Westerstraat 112, 1015 MN Amsterdam"
    )]
    pub address: String,
    #[schema(minimum = -90, maximum = 90, example = 52.3791)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.8826)]
    pub longitude: f64,
    /// IANA zone; local-time rules (opening hours, peak prices) are evaluated in it.
    #[schema(example = "Europe/Amsterdam")]
    pub time_zone: String,
    pub amenities: Option<Vec<String>>,
    #[schema(max_length = 2000)]
    pub access_instructions: Option<String>,
    /// Defaults to `plain`; `ocpp`/`mqtt` need `device_id` (an OCPP stationId for `ocpp`).
    pub device_kind: Option<DeviceKind>,
    pub device_id: Option<String>,
    /// ISO 4217.
    #[schema(min_length = 3, max_length = 3, example = "EUR")]
    pub currency: Option<String>,
    /// Decimal; 0.05 to 1.00.
    #[schema(minimum = 0.05, maximum = 1.0, example = 0.35)]
    pub price_per_kwh: Option<f64>,
    #[schema(minimum = 0, example = 1.5)]
    pub price_per_hour: Option<f64>,
}

#[derive(ToSchema)]
pub struct Listing {
    pub id: Uuid,
    pub host_id: Uuid,
    pub title: String,
    pub description: String,
    pub photos: Vec<String>,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub time_zone: String,
    pub amenities: Vec<String>,
    pub access_instructions: String,
    pub device_kind: DeviceKind,
    pub device_id: Option<String>,
    pub currency: String,
    pub price_per_kwh: Option<f64>,
    pub price_per_hour: Option<f64>,
    #[schema(minimum = 0, maximum = 5)]
    pub rating_avg: f64,
    pub rating_count: i32,
    pub status: ListingStatus,
    pub rejection_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub connector_types: Vec<ConnectorType>,
    pub max_power_kw: f64,
    pub ports_total: i32,
    pub ports_available: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct ListingPage {
    pub items: Vec<Listing>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(ToSchema)]
pub struct PortBody {
    #[schema(max_length = 40, example = "Left")]
    pub label: Option<String>,
    pub connector_type: ConnectorType,
    #[schema(exclusive_minimum = 0, maximum = 1000, example = 11.0)]
    pub power_kw: f64,
    pub current_type: CurrentType,
    /// For `ocpp` listings: the station's EVSE and connector this port is.
    #[schema(minimum = 1)]
    pub evse_id: Option<i32>,
    #[schema(minimum = 1)]
    pub connector_id: Option<i32>,
}

#[derive(ToSchema)]
pub struct Port {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub label: String,
    pub connector_type: ConnectorType,
    pub power_kw: f64,
    pub current_type: CurrentType,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub live_status: LiveStatus,
    pub live_status_at: Option<DateTime<Utc>>,
}

#[derive(ToSchema)]
pub struct PortList {
    pub items: Vec<Port>,
}

/// One opening interval in the listing's local time.
#[derive(ToSchema)]
pub struct OpeningInterval {
    /// ISO weekday: 1 = Monday ... 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: i16,
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "08:00")]
    pub opens_at: String,
    /// After `opens_at`; `24:00` ends the day.
    #[schema(pattern = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", example = "20:00")]
    pub closes_at: String,
}

/// The whole week, replaced at once. No interval on a weekday: closed that day; an empty
/// list: open around the clock.
#[derive(ToSchema)]
pub struct OpeningHours {
    pub intervals: Vec<OpeningInterval>,
}

/// Whole local days on which the listing cannot be booked.
#[derive(ToSchema)]
pub struct Blackout {
    pub starts_on: NaiveDate,
    /// On or after `starts_on`.
    pub ends_on: NaiveDate,
    #[schema(max_length = 200)]
    pub reason: Option<String>,
}

#[derive(ToSchema)]
pub struct BlackoutList {
    pub items: Vec<Blackout>,
}

#[derive(ToSchema)]
pub struct RejectBody {
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

fn listing(route: Route) -> Route {
    route
        .access(HOST)
        .uuid_param("id", "Listing id")
        .not_found("listing")
}

fn transition(path: &'static str, summary: &str, from: &str) -> Route {
    listing(Route::post(path, TAG, summary))
        .ok::<Listing>(200, "The listing in its new status")
        .conflict(&format!("`invalid_transition`: only from {from}"))
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/chargers", TAG, "Create a listing (draft)")
            .access(HOST)
            .body::<ListingBody>()
            .ok::<Listing>(201, "Created"),
        Route::get("/api/chargers", TAG, "The caller's listings (all, for an admin)")
            .access(HOST)
            .query(
                "status",
                "Only this status",
                one_of(&["draft", "submitted", "rejected", "listed", "unlisted"]),
            )
            .query("limit", "Page size", limit())
            .query("offset", "Rows to skip", offset())
            .ok::<ListingPage>(200, "A page of listings"),
        listing(Route::get("/api/chargers/{id}", TAG, "One listing"))
            .describe("Listed chargers are visible to anyone signed in; others only to their host and admins.")
            .ok::<Listing>(200, "The listing"),
        listing(Route::put("/api/chargers/{id}", TAG, "Replace a listing"))
            .body::<ListingBody>()
            .ok::<Listing>(200, "Updated"),
        listing(Route::delete("/api/chargers/{id}", TAG, "Delete a listing"))
            .empty(204, "Deleted")
            .conflict("`listing_in_use`: it has bookings"),
        listing(Route::get("/api/chargers/{id}/ports", TAG, "A listing's ports"))
            .ok::<PortList>(200, "Ports"),
        listing(Route::post("/api/chargers/{id}/ports", TAG, "Add a port"))
            .body::<PortBody>()
            .ok::<Port>(201, "Created")
            .conflict("`port_exists`: same EVSE and connector"),
        listing(Route::put("/api/chargers/{id}/ports/{port_id}", TAG, "Replace a port"))
            .uuid_param("port_id", "Port id")
            .body::<PortBody>()
            .ok::<Port>(200, "Updated"),
        listing(Route::delete("/api/chargers/{id}/ports/{port_id}", TAG, "Delete a port"))
            .uuid_param("port_id", "Port id")
            .empty(204, "Deleted"),
        transition("/api/chargers/{id}/submit", "Submit for review", "draft or rejected"),
        transition("/api/chargers/{id}/unlist", "Hide from search", "listed"),
        transition("/api/chargers/{id}/relist", "Show in search again", "unlisted"),
        listing(Route::get("/api/chargers/{id}/opening-hours", TAG, "Weekly opening hours"))
            .ok::<OpeningHours>(200, "The week"),
        listing(Route::put("/api/chargers/{id}/opening-hours", TAG, "Replace the weekly opening hours"))
            .body::<OpeningHours>()
            .ok::<OpeningHours>(200, "The new week"),
        listing(Route::get("/api/chargers/{id}/blackouts", TAG, "Blackout days"))
            .ok::<BlackoutList>(200, "Blackouts, earliest first"),
        listing(Route::post("/api/chargers/{id}/blackouts", TAG, "Add a blackout"))
            .body::<Blackout>()
            .ok::<Blackout>(201, "Created")
            .conflict("`blackout_exists`: one already starts that day"),
        listing(Route::delete("/api/chargers/{id}/blackouts/{starts_on}", TAG, "Remove a blackout"))
            .path_param_schema("starts_on", "First day of the blackout", super::route::date())
            .empty(204, "Deleted"),
        Route::post("/api/admin/chargers/{id}/approve", TAG, "Approve a submitted listing")
            .access(ADMIN)
            .uuid_param("id", "Listing id")
            .ok::<Listing>(200, "Listed")
            .not_found("listing")
            .conflict("`invalid_transition`: only from submitted"),
        Route::post("/api/admin/chargers/{id}/reject", TAG, "Reject a submitted listing")
            .access(ADMIN)
            .uuid_param("id", "Listing id")
            .body::<RejectBody>()
            .ok::<Listing>(200, "Rejected, with the reason")
            .not_found("listing")
            .conflict("`invalid_transition`: only from submitted"),
    ]
}

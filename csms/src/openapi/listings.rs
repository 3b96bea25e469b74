//! Listings: chargers hosts offer, their ports, opening hours and blackouts, and the admin
//! review. Mirrors `marketplace::listings::http` (bodies: `model::ListingInput`, `PortInput`,
//! `calendar::{OpeningWindow, Blackout}`; answers: `http/views.rs`); snake_case.

use chrono::{DateTime, NaiveDate, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::ConnectorType;
use super::route::{integer, one_of, Access, Route, ADMIN, HOST};

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

/// The OCPP connector status a device last reported; `Unknown` until one did.
#[derive(ToSchema)]
pub enum LiveStatus {
    Available,
    Occupied,
    Reserved,
    Unavailable,
    Faulted,
    Unknown,
}

/// Create (POST) or replace (PUT) a listing's own fields; ports and calendar have their own
/// routes. New listings are drafts. Text fields are trimmed.
#[derive(ToSchema)]
pub struct ListingBody {
    #[schema(min_length = 3, max_length = 120, example = "22 kW wall box, Jordaan")]
    pub title: String,
    /// Defaults to `""`.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// http(s) URLs of at most 2000 characters each; defaults to none.
    #[schema(max_items = 10)]
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
    /// IANA zone; opening hours and blackouts are local to it.
    #[schema(example = "Europe/Amsterdam")]
    pub time_zone: String,
    /// Each 1 to 50 characters; defaults to none.
    #[schema(max_items = 20)]
    pub amenities: Option<Vec<String>>,
    /// Defaults to `""`.
    #[schema(max_length = 2000)]
    pub access_instructions: Option<String>,
    /// Defaults to `plain`; `ocpp`/`mqtt` need `device_id` (an OCPP stationId for `ocpp`),
    /// `plain` must not have one.
    pub device_kind: Option<DeviceKind>,
    #[schema(min_length = 1, max_length = 64)]
    pub device_id: Option<String>,
    /// ISO 4217, three capital letters; defaults to `USD`.
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: Option<String>,
    /// Decimal (a JSON number or string), 0.05 to 1.00 with at most 4 decimals.
    #[schema(minimum = 0.05, maximum = 1.0, example = 0.35)]
    pub price_per_kwh: Option<f64>,
    /// Decimal (a JSON number or string), at least 0 with at most 2 decimals.
    #[schema(minimum = 0, maximum = 99999999.99, example = 1.5)]
    pub price_per_hour: Option<f64>,
}

#[derive(ToSchema)]
pub struct Rating {
    #[schema(minimum = 0, maximum = 5)]
    pub average: f64,
    pub count: i32,
}

/// A listing without its ports and calendar, as pages of listings show it.
#[derive(ToSchema)]
pub struct ListingSummary {
    pub id: Uuid,
    pub host_id: Uuid,
    pub status: ListingStatus,
    /// Set while `rejected`.
    #[schema(required)]
    pub rejection_reason: Option<String>,
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
    #[schema(required)]
    pub device_id: Option<String>,
    pub currency: String,
    /// Decimal string, so no client rounds money through a float.
    #[schema(required, example = "0.35")]
    pub price_per_kwh: Option<String>,
    #[schema(required, example = "1.50")]
    pub price_per_hour: Option<String>,
    pub rating: Rating,
    /// Of its ports, distinct.
    pub connector_types: Vec<ConnectorType>,
    pub max_power_kw: f64,
    pub ports_total: i32,
    pub ports_available: i32,
    #[schema(required)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A listing with its ports and calendar: every `ListingSummary` field plus these three.
#[derive(ToSchema)]
pub struct Listing {
    pub id: Uuid,
    pub host_id: Uuid,
    pub status: ListingStatus,
    #[schema(required)]
    pub rejection_reason: Option<String>,
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
    #[schema(required)]
    pub device_id: Option<String>,
    pub currency: String,
    #[schema(required, example = "0.35")]
    pub price_per_kwh: Option<String>,
    #[schema(required, example = "1.50")]
    pub price_per_hour: Option<String>,
    pub rating: Rating,
    pub connector_types: Vec<ConnectorType>,
    pub max_power_kw: f64,
    pub ports_total: i32,
    pub ports_available: i32,
    #[schema(required)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ports: Vec<Port>,
    pub opening_hours: Vec<OpeningWindow>,
    pub blackouts: Vec<Blackout>,
}

#[derive(ToSchema)]
pub struct ListingPage {
    pub items: Vec<ListingSummary>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(ToSchema)]
pub struct PortBody {
    /// Defaults to `""`.
    #[schema(max_length = 60, example = "Left")]
    pub label: Option<String>,
    pub connector_type: ConnectorType,
    #[schema(minimum = 0.05, maximum = 1000, example = 11.0)]
    pub power_kw: f64,
    pub current_type: CurrentType,
    /// Only for `ocpp`/`mqtt` listings, together with `connector_id`: the device's EVSE
    /// and connector this port is.
    #[schema(minimum = 1)]
    pub evse_id: Option<i32>,
    #[schema(minimum = 1)]
    pub connector_id: Option<i32>,
}

#[derive(ToSchema)]
pub struct Port {
    pub id: Uuid,
    pub label: String,
    pub connector_type: ConnectorType,
    pub power_kw: f64,
    pub current_type: CurrentType,
    #[schema(required)]
    pub evse_id: Option<i32>,
    #[schema(required)]
    pub connector_id: Option<i32>,
    pub live_status: LiveStatus,
    #[schema(required)]
    pub live_status_at: Option<DateTime<Utc>>,
}

/// Open from `opens` to `closes` on an ISO weekday, in the listing's local time. The week
/// is a plain array of these (at most 50, not overlapping within a day); no window on a
/// weekday means closed that day, an empty array open around the clock.
#[derive(ToSchema)]
pub struct OpeningWindow {
    /// 1 = Monday ... 7 = Sunday.
    #[schema(minimum = 1, maximum = 7, example = 1)]
    pub weekday: u8,
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]|24:00$", example = "08:00")]
    pub opens: String,
    /// After `opens`; `24:00` ends the day.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]|24:00$", example = "24:00")]
    pub closes: String,
}

/// Closed on every local day from `starts_on` to `ends_on`, both included (at most 366
/// days).
#[derive(ToSchema)]
pub struct BlackoutBody {
    #[schema(example = "2031-01-01")]
    pub starts_on: NaiveDate,
    /// On or after `starts_on`.
    #[schema(example = "2031-01-02")]
    pub ends_on: NaiveDate,
    /// Defaults to `""`.
    #[schema(max_length = 200)]
    pub reason: Option<String>,
}

#[derive(ToSchema)]
pub struct Blackout {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub reason: String,
}

#[derive(ToSchema)]
pub struct RejectBody {
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

const READ: Access = Access::Optional(
    "without one (or for another user's listing) only `listed` listings are visible; hosts \
     see their own in any status, admins all",
);

fn read(route: Route) -> Route {
    route
        .access(READ)
        .uuid_param("id", "Listing id")
        .not_found("listing")
}

/// Changes need the listing's host or an admin: 404 if the caller cannot see it, 403 if it
/// is visible (listed) but not theirs, 409 if its status forbids the change.
fn write(route: Route) -> Route {
    route
        .access(Access::AnyUser)
        .describe("Only the listing's host or an admin.")
        .uuid_param("id", "Listing id")
        .not_found("listing")
        .problem(403, "`forbidden`: a listed charger of another host")
        .conflict("`invalid_listing_transition`: not allowed in the listing's status")
}

fn transition(path: &'static str, summary: &str, from: &str) -> Route {
    write(Route::post(path, TAG, summary))
        .ok::<Listing>(200, "The listing in its new status")
        .conflict(&format!("`invalid_listing_transition`: only from {from}"))
}

fn review(path: &'static str, summary: &str) -> Route {
    Route::post(path, TAG, summary)
        .access(ADMIN)
        .uuid_param("id", "Listing id")
        .not_found("listing")
        .conflict("`invalid_listing_transition`: only from submitted")
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/chargers", TAG, "Create a listing (draft)")
            .access(HOST)
            .body::<ListingBody>()
            .ok::<Listing>(201, "Created, without ports or calendar"),
        Route::get("/api/chargers", TAG, "Listings the caller may see")
            .access(READ)
            .describe("Any other query parameter is a 422.")
            .query(
                "status",
                "Only this status",
                one_of(&["draft", "submitted", "rejected", "listed", "unlisted"]),
            )
            .query("host_id", "Only this host's", super::route::uuid())
            .query("limit", "Page size", integer(1, Some(100), Some(20)))
            .query("offset", "Rows to skip", integer(0, None, Some(0)))
            .ok::<ListingPage>(200, "A page of listings")
            .problem(
                422,
                "A query parameter is unknown or out of range (named in `errors`)",
            ),
        read(Route::get("/api/chargers/{id}", TAG, "One listing"))
            .ok::<Listing>(200, "The listing with its ports and calendar"),
        write(Route::put(
            "/api/chargers/{id}",
            TAG,
            "Replace a listing's fields",
        ))
        .describe(" Not while `submitted`; a listed charger stays listed.")
        .body::<ListingBody>()
        .ok::<Listing>(200, "Updated"),
        write(Route::delete("/api/chargers/{id}", TAG, "Delete a listing"))
            .empty(204, "Deleted with its ports and calendar")
            .conflict("`invalid_listing_transition`: only draft, rejected or unlisted"),
        read(Route::get(
            "/api/chargers/{id}/ports",
            TAG,
            "A listing's ports",
        ))
        .ok_array::<Port>(200, "Ports (a plain array)"),
        write(Route::post("/api/chargers/{id}/ports", TAG, "Add a port"))
            .body::<PortBody>()
            .ok::<Port>(201, "Created")
            .conflict("`port_exists` (same EVSE and connector) or `invalid_listing_transition`"),
        write(Route::put(
            "/api/chargers/{id}/ports/{port_id}",
            TAG,
            "Replace a port",
        ))
        .uuid_param("port_id", "Port id")
        .body::<PortBody>()
        .ok::<Port>(200, "Updated")
        .not_found("listing or port")
        .conflict("`port_exists` (same EVSE and connector) or `invalid_listing_transition`"),
        write(Route::delete(
            "/api/chargers/{id}/ports/{port_id}",
            TAG,
            "Delete a port",
        ))
        .uuid_param("port_id", "Port id")
        .empty(204, "Deleted")
        .not_found("listing or port")
        .conflict("`last_port` (a listed charger keeps one) or `invalid_listing_transition`"),
        transition(
            "/api/chargers/{id}/submit",
            "Submit for review",
            "draft or rejected",
        )
        .problem(422, "`ports`: a charger needs at least one port first"),
        transition("/api/chargers/{id}/unlist", "Hide from search", "listed"),
        transition(
            "/api/chargers/{id}/relist",
            "Show in search again",
            "unlisted",
        ),
        read(Route::get(
            "/api/chargers/{id}/opening-hours",
            TAG,
            "Weekly opening hours",
        ))
        .ok_array::<OpeningWindow>(200, "The week (a plain array; empty: always open)"),
        write(Route::put(
            "/api/chargers/{id}/opening-hours",
            TAG,
            "Replace the weekly opening hours",
        ))
        .body_array::<OpeningWindow>()
        .ok_array::<OpeningWindow>(200, "The new week, sorted"),
        read(Route::get(
            "/api/chargers/{id}/blackouts",
            TAG,
            "Blackout days",
        ))
        .ok_array::<Blackout>(200, "Blackouts (a plain array), earliest first"),
        write(Route::post(
            "/api/chargers/{id}/blackouts",
            TAG,
            "Add a blackout",
        ))
        .body::<BlackoutBody>()
        .ok::<Blackout>(201, "Created")
        .conflict(
            "`blackout_exists` (one already starts that day) or `invalid_listing_transition`",
        ),
        write(Route::delete(
            "/api/chargers/{id}/blackouts/{starts_on}",
            TAG,
            "Remove a blackout",
        ))
        .path_param_schema(
            "starts_on",
            "First day of the blackout",
            super::route::date(),
        )
        .empty(204, "Deleted")
        .not_found("listing or blackout"),
        review(
            "/api/admin/chargers/{id}/approve",
            "Approve a submitted listing",
        )
        .ok::<Listing>(200, "Listed"),
        review(
            "/api/admin/chargers/{id}/reject",
            "Reject a submitted listing",
        )
        .body::<RejectBody>()
        .ok::<Listing>(200, "Rejected, with the reason"),
    ]
}

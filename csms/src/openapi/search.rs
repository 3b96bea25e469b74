//! Search: nearest chargers, advanced filters, recommendations, map areas, the way to a
//! charger, place lookup and availability. Mirrors `marketplace::search::http` (answers:
//! `search::service`, `model`, `scoring`, `geocode`, `calendar`). All public; only `listed`
//! chargers are ever returned.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::ConnectorType;
use super::listings::CurrentType;
use super::route::{boolean, integer, number, one_of_schema, string, Route};

const TAG: &str = "search";

/// `POST /api/search/nearby`: listed chargers within `radius_km`, nearest first.
#[derive(ToSchema)]
pub struct NearbyBody {
    #[schema(minimum = -90, maximum = 90, example = 52.3676)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.9041)]
    pub longitude: f64,
    /// More than 0, at most 100; default 10.
    #[schema(exclusive_minimum = 0, maximum = 100, example = 10)]
    pub radius_km: Option<f64>,
    /// Any of these connectors; default any.
    pub connector_types: Option<Vec<ConnectorType>>,
    #[schema(minimum = 0, example = 11)]
    pub min_power_kw: Option<f64>,
    #[schema(minimum = 0)]
    pub max_price_per_kwh: Option<f64>,
    /// Only chargers with a port reported free now; default `false`.
    pub available_now: Option<bool>,
    /// Default 20.
    #[schema(minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<u32>,
    /// Default 0.
    #[schema(minimum = 0, maximum = 1000)]
    pub offset: Option<u32>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SortBy {
    Distance,
    Price,
    Rating,
    Power,
}

/// `POST /api/search/advanced`: the nearby fields plus these filters and a sort order.
#[derive(ToSchema)]
pub struct AdvancedBody {
    #[schema(minimum = -90, maximum = 90, example = 52.3676)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.9041)]
    pub longitude: f64,
    #[schema(exclusive_minimum = 0, maximum = 100, example = 10)]
    pub radius_km: Option<f64>,
    pub connector_types: Option<Vec<ConnectorType>>,
    #[schema(minimum = 0)]
    pub min_power_kw: Option<f64>,
    #[schema(minimum = 0)]
    pub max_price_per_kwh: Option<f64>,
    pub available_now: Option<bool>,
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    #[schema(minimum = 0, maximum = 1000)]
    pub offset: Option<u32>,
    /// All of these, each 1 to 64 characters.
    pub amenities: Option<Vec<String>>,
    pub current_type: Option<CurrentType>,
    #[schema(minimum = 0, maximum = 5)]
    pub min_rating: Option<f64>,
    #[schema(minimum = 0)]
    pub max_price_per_hour: Option<f64>,
    /// Open (by opening hours and blackouts) at this instant.
    pub open_at: Option<DateTime<Utc>>,
    /// Default `distance`.
    pub sort_by: Option<SortBy>,
}

/// How much each factor counts; missing ones take their default, then all four are scaled
/// to sum to 1. Each 0 to 1000000, not all 0.
#[derive(ToSchema)]
pub struct Weights {
    #[schema(minimum = 0, maximum = 1000000, default = 0.4)]
    pub distance: Option<f64>,
    #[schema(minimum = 0, maximum = 1000000, default = 0.3)]
    pub price: Option<f64>,
    #[schema(minimum = 0, maximum = 1000000, default = 0.2)]
    pub availability: Option<f64>,
    #[schema(minimum = 0, maximum = 1000000, default = 0.1)]
    pub rating: Option<f64>,
}

/// `POST /api/search/recommend`: the nearby fields (limit default 5, no offset) plus
/// `weights`; the 50 nearest matches are scored and the best `limit` answered.
#[derive(ToSchema)]
pub struct RecommendBody {
    #[schema(minimum = -90, maximum = 90, example = 52.3676)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.9041)]
    pub longitude: f64,
    #[schema(exclusive_minimum = 0, maximum = 100)]
    pub radius_km: Option<f64>,
    pub connector_types: Option<Vec<ConnectorType>>,
    #[schema(minimum = 0)]
    pub min_power_kw: Option<f64>,
    #[schema(minimum = 0)]
    pub max_price_per_kwh: Option<f64>,
    pub available_now: Option<bool>,
    /// Default 5.
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Only 0 is accepted: recommend answers one ranked list.
    #[schema(minimum = 0, maximum = 0)]
    pub offset: Option<u32>,
    pub weights: Option<Weights>,
}

/// `POST /api/search/area`: a map viewport. `min_lon > max_lon` crosses the antimeridian;
/// latitudes are clamped to ±90.
#[derive(ToSchema)]
pub struct AreaBody {
    #[schema(example = 52.34)]
    pub min_lat: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.86)]
    pub min_lon: f64,
    /// Not below `min_lat`.
    #[schema(example = 52.39)]
    pub max_lat: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.94)]
    pub max_lon: f64,
    pub connector_types: Option<Vec<ConnectorType>>,
    #[schema(minimum = 0)]
    pub min_power_kw: Option<f64>,
    #[schema(minimum = 0)]
    pub max_price_per_kwh: Option<f64>,
    pub available_now: Option<bool>,
    /// Markers shown before the answer switches to clusters; default 100.
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `POST /api/search/route`: distance and driving time from a point to a listed charger.
#[derive(ToSchema)]
pub struct RouteBody {
    #[schema(minimum = -90, maximum = 90, example = 52.3676)]
    pub latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.9041)]
    pub longitude: f64,
    pub charger_id: Uuid,
}

#[derive(ToSchema)]
pub struct HitPrice {
    pub currency: String,
    #[schema(required)]
    pub per_kwh: Option<f64>,
    #[schema(required)]
    pub per_hour: Option<f64>,
}

#[derive(ToSchema)]
pub struct HitRating {
    #[schema(minimum = 0, maximum = 5)]
    pub average: f64,
    pub count: i32,
}

/// A listed charger as search shows it.
#[derive(ToSchema)]
pub struct ListingHit {
    pub id: Uuid,
    pub title: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    /// From the query point (the box centre for area searches).
    pub distance_km: f64,
    pub price: HitPrice,
    pub rating: HitRating,
    pub connector_types: Vec<ConnectorType>,
    pub max_power_kw: f64,
    pub ports_total: i32,
    pub ports_available: i32,
    pub amenities: Vec<String>,
    pub open_now: bool,
    /// Its host pays for featured placement (`featured_listing`): ranked first among equals
    /// by `recommend`.
    pub featured: bool,
}

#[derive(ToSchema)]
pub struct SearchPage {
    pub results: Vec<ListingHit>,
    pub count: usize,
    /// The `offset` of the next page; `null` on the last one.
    #[schema(required)]
    pub next_offset: Option<u32>,
}

#[derive(ToSchema)]
pub struct Factor {
    /// Sub-score, 0 to 1.
    pub score: f64,
    pub weight: f64,
    pub contribution: f64,
}

#[derive(ToSchema)]
pub struct Factors {
    pub distance: Factor,
    pub price: Factor,
    pub availability: Factor,
    pub rating: Factor,
}

/// A `ListingHit` with its score.
#[derive(ToSchema)]
pub struct ScoredHit {
    pub id: Uuid,
    pub title: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub distance_km: f64,
    pub price: HitPrice,
    pub rating: HitRating,
    pub connector_types: Vec<ConnectorType>,
    pub max_power_kw: f64,
    pub ports_total: i32,
    pub ports_available: i32,
    pub amenities: Vec<String>,
    pub open_now: bool,
    /// 0 to 1, best first.
    pub score: f64,
    pub factors: Factors,
}

/// The weights as used (normalised to sum to 1).
#[derive(ToSchema)]
pub struct UsedWeights {
    pub distance: f64,
    pub price: f64,
    pub availability: f64,
    pub rating: f64,
}

#[derive(ToSchema)]
pub struct Recommendation {
    pub results: Vec<ScoredHit>,
    pub count: usize,
    /// How many listings were scored.
    pub candidates: usize,
    pub weights: UsedWeights,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AreaMode {
    Markers,
    Clusters,
}

/// Every listing in the box (at most `limit`).
#[derive(ToSchema)]
pub struct AreaMarkers {
    /// `markers`.
    pub mode: AreaMode,
    pub results: Vec<ListingHit>,
    pub count: usize,
}

#[derive(ToSchema)]
pub struct Cluster {
    pub latitude: f64,
    pub longitude: f64,
    pub count: i64,
}

/// More listings than `limit`: counts per cell of an 8 × 8 grid instead.
#[derive(ToSchema)]
pub struct AreaClusters {
    /// `clusters`.
    pub mode: AreaMode,
    pub clusters: Vec<Cluster>,
    /// Listings in the box.
    pub count: i64,
}

one_of_schema!(
    /// Markers or clusters, told apart by `mode`.
    AreaView tag "mode" = AreaMarkers | AreaClusters
);

#[derive(ToSchema)]
pub struct RouteView {
    pub charger_id: Uuid,
    pub distance_km: f64,
    pub duration_minutes: f64,
    /// `osrm` or `great_circle_estimate`.
    #[schema(example = "great_circle_estimate")]
    pub method: String,
    /// Estimate only.
    pub road_factor: Option<f64>,
    /// Estimate only.
    pub average_speed_kmh: Option<f64>,
    /// Set when the configured road router failed and the estimate was answered instead.
    pub fallback_reason: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum MatchQuality {
    Prefix,
    Words,
    Exact,
}

/// A city from the offline gazetteer (GeoNames, 15 000+ inhabitants).
#[derive(ToSchema)]
pub struct Place {
    #[schema(example = "Amsterdam")]
    pub name: String,
    #[schema(example = "NL")]
    pub country_code: String,
    /// First-level division code.
    pub admin1: String,
    pub latitude: f64,
    pub longitude: f64,
    pub population: u64,
    #[schema(rename = "match")]
    pub quality: MatchQuality,
}

#[derive(ToSchema)]
pub struct Located {
    pub query: String,
    /// Best first.
    pub results: Vec<Place>,
    pub count: usize,
    /// What the geocoder can resolve (cities, not street addresses).
    pub note: String,
    /// Only with `with_chargers=true`: chargers around the best match.
    pub chargers: Option<SearchPage>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SlotStatus {
    Free,
    Occupied,
    Reserved,
    OutOfOrder,
    Closed,
}

/// One hour.
#[derive(ToSchema)]
pub struct Slot {
    /// Local time of the listing, with its UTC offset (RFC 3339).
    pub starts_at: String,
    pub ends_at: String,
    pub status: SlotStatus,
}

#[derive(ToSchema)]
pub struct PortAvailability {
    pub id: Uuid,
    pub label: String,
    pub connector_type: ConnectorType,
    pub power_kw: f64,
    pub current_type: CurrentType,
    pub status_now: SlotStatus,
    /// The next 24 hourly slots.
    pub slots: Vec<Slot>,
}

#[derive(ToSchema)]
pub struct Availability {
    pub listing_id: Uuid,
    pub title: String,
    pub time_zone: String,
    pub as_of: DateTime<Utc>,
    pub open_now: bool,
    pub ports_total: usize,
    pub ports_free_now: usize,
    pub ports: Vec<PortAvailability>,
}

fn search<T: ToSchema>(path: &'static str, summary: &str) -> Route {
    Route::post(path, TAG, summary).body::<T>()
}

pub fn routes() -> Vec<Route> {
    let only = "Fields of another search route are refused by name (422)";
    vec![
        search::<NearbyBody>("/api/search/nearby", "Chargers near a point")
            .describe(only)
            .ok::<SearchPage>(200, "Matching listed chargers, nearest first"),
        search::<AdvancedBody>(
            "/api/search/advanced",
            "Nearby search with every filter and a sort order",
        )
        .ok::<SearchPage>(200, "Matching listed chargers in `sort_by` order"),
        search::<RecommendBody>("/api/search/recommend", "Recommended chargers nearby")
            .describe(only)
            .ok::<Recommendation>(200, "The best-scored chargers, best first"),
        search::<AreaBody>("/api/search/area", "Chargers inside a map box")
            .ok::<AreaView>(200, "Markers, or clusters when more than `limit` match"),
        search::<RouteBody>(
            "/api/search/route",
            "Distance and driving time to a charger",
        )
        .ok::<RouteView>(200, "The route estimate")
        .not_found("listed charger"),
        Route::get("/api/search/location", TAG, "Look a place name up")
            .required_query("q", "Place name, 1 to 200 characters", string())
            .query(
                "limit",
                "At most this many places",
                integer(1, Some(20), Some(5)),
            )
            .query(
                "with_chargers",
                "Also search chargers around the best match",
                boolean(),
            )
            .query(
                "radius_km",
                "Radius of that charger search",
                number(Some(0.0), true, Some(100.0), Some(10.0)),
            )
            .ok::<Located>(200, "Best matches first")
            .problem(
                422,
                "A parameter is missing or out of range (named in `errors`)",
            ),
        Route::get(
            "/api/search/chargers/{id}/availability",
            TAG,
            "When a charger's ports are free over the next 24 hours",
        )
        .uuid_param("id", "Listing id")
        .ok::<Availability>(200, "Ports' status now and per hour")
        .not_found("listed charger"),
    ]
}

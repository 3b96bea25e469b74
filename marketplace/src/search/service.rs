//! Search use cases: run the indexed query, complete the few rows returned, apply the rules.
//! All read-only, so no transactions; `now` comes from the caller so tests control the clock.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::calendar::{self, BookedInterval, PortAvailability, SlotStatus};
use super::geocode::{self, Place};
use super::model::{
    next_offset, Cluster, Filters, GeoPoint, ListingHit, MapBox, NearbyQuery, SortBy,
};
use super::planar;
use super::route::{self, RouteEstimate, RoutePlanner};
use super::scoring::{self, Scored, Weights};
use crate::error::Error;

/// One page of results, nearest (or best sorted) first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = SearchPage)]
pub struct Page {
    pub results: Vec<ListingHit>,
    /// Results on this page.
    pub count: usize,
    /// The `offset` of the next page; `null` on the last one (or past offset 1000).
    #[schema(required)]
    pub next_offset: Option<u32>,
}

pub async fn nearby(pool: &PgPool, q: &NearbyQuery, now: DateTime<Utc>) -> Result<Page, Error> {
    let results = nearest(pool, q, now).await?;
    let count = results.len();
    Ok(Page {
        next_offset: next_offset(q.offset, q.limit, count),
        results,
        count,
    })
}

/// How many planar candidates to fetch per wanted row: at mid latitudes about 2.3 times as
/// many points lie in the planar disc that must be covered as in the sphere's, so 3 times
/// plus a margin usually proves the answer in one fetch.
const PLANAR_OVERFETCH: usize = 3;
const PLANAR_MARGIN: usize = 16;
/// Fetch sizes past this go straight to the geography KNN.
const PLANAR_MAX_FETCH: usize = 2_000;

/// One page of the sphere's nearest matches within the radius (or sorted by `q.sort`).
///
/// Distance-sorted pages come from the planar index when [`planar::is_complete`] can prove
/// them (the first fetch nearly always; a second, larger one otherwise), and from the
/// geography KNN otherwise: near the poles, across the antimeridian, or for sparse filters.
/// Both give the same rows; ties in distance are broken by id here. Featured listings are
/// marked.
async fn nearest(
    pool: &PgPool,
    q: &NearbyQuery,
    now: DateTime<Utc>,
) -> Result<Vec<ListingHit>, Error> {
    let mut hits = nearest_unmarked(pool, q, now).await?;
    mark_featured(pool, &mut hits, now).await?;
    Ok(hits)
}

/// Sets `featured` on the listings whose host pays for featured placement now.
async fn mark_featured(
    pool: &PgPool,
    hits: &mut [ListingHit],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let ids: Vec<Uuid> = hits.iter().map(|h| h.id).collect();
    let mut conn = pool.acquire().await?;
    let featured = crate::subscriptions::entitlements::featured(&mut conn, &ids, now).await?;
    for h in hits {
        h.featured = featured.contains(&h.id);
    }
    Ok(())
}

async fn nearest_unmarked(
    pool: &PgPool,
    q: &NearbyQuery,
    now: DateTime<Utc>,
) -> Result<Vec<ListingHit>, Error> {
    let wanted = (q.offset + q.limit) as usize;
    let cap_box = planar::cap_box(q.center, q.radius_km);
    if let (SortBy::Distance, Some(cap_box)) = (q.sort, cap_box) {
        let mut fetch = wanted * PLANAR_OVERFETCH + PLANAR_MARGIN;
        while fetch <= PLANAR_MAX_FETCH {
            let page = super::store::nearby_planar(pool, q, cap_box, fetch, wanted, now).await?;
            // no row within the radius says nothing about the fetch: ask the exact query
            if page.hits.is_empty() {
                break;
            }
            let nearest: Vec<f64> = page.hits.iter().map(|h| h.distance_km).collect();
            let seen = planar::Fetch {
                cap: fetch,
                fetched: page.fetched,
                last_planar_deg: page.last_planar_deg,
                nearest_km: &nearest,
            };
            if planar::is_complete(q.center, q.radius_km, wanted, &seen) {
                return Ok(page.hits.into_iter().skip(q.offset as usize).collect());
            }
            fetch *= 4;
        }
    }
    Ok(super::store::nearby(pool, q, now).await?)
}

/// How many of the nearest matching listings the recommendation weighs.
pub const RECOMMEND_CANDIDATES: u32 = 50;

/// The best-scored chargers among the nearest matches, best first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recommendation {
    pub results: Vec<Scored>,
    pub count: usize,
    /// how many listings were scored
    #[schema(maximum = 50)]
    pub candidates: usize,
    /// the weights used, normalised to sum to 1
    pub weights: Weights,
}

/// Scores the nearest [`RECOMMEND_CANDIDATES`] matching listings and keeps the best `q.limit`.
pub async fn recommend(
    pool: &PgPool,
    q: &NearbyQuery,
    weights: Weights,
    now: DateTime<Utc>,
) -> Result<Recommendation, Error> {
    let weights = weights.normalised().map_err(Error::Validation)?;
    let candidates_query = NearbyQuery {
        limit: RECOMMEND_CANDIDATES,
        offset: 0,
        ..q.clone()
    };
    let candidates = nearest(pool, &candidates_query, now).await?;
    let scored = candidates.len();
    let mut results = scoring::rank(candidates, q.radius_km, weights);
    results.truncate(q.limit as usize);
    Ok(Recommendation {
        count: results.len(),
        results,
        candidates: scored,
        weights,
    })
}

/// What `location` tells every client: the gazetteer stops at cities.
pub const GEOCODER_NOTE: &str = "offline city-level geocoder (GeoNames cities of 15 000+ \
    inhabitants, CC BY 4.0): street addresses are not resolved, results are city centres";

/// Places matching a name, best first, and the chargers around the best one when asked for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Located {
    /// The place name as looked up (trimmed).
    pub query: String,
    /// Best match first, then larger cities.
    pub results: Vec<Place>,
    pub count: usize,
    /// What the geocoder can resolve (cities, not street addresses).
    pub note: &'static str,
    /// the chargers around the best match, when asked for (`with_chargers=true`; an empty
    /// page when no place matched)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub chargers: Option<Page>,
}

/// Looks a place name up; with `chargers`, also searches around the best match (the query's
/// point is replaced by the match's centre).
pub async fn locate(
    pool: &PgPool,
    query: &str,
    limit: usize,
    chargers: Option<NearbyQuery>,
    now: DateTime<Utc>,
) -> Result<Located, Error> {
    let results = geocode::gazetteer().search(query, limit);
    let chargers = match (chargers, results.first()) {
        (Some(mut q), Some(best)) => {
            q.center = GeoPoint::new(best.latitude, best.longitude);
            Some(nearby(pool, &q, now).await?)
        }
        (Some(_), None) => Some(Page {
            results: Vec::new(),
            count: 0,
            next_offset: None,
        }),
        (None, _) => None,
    };
    Ok(Located {
        query: query.to_owned(),
        count: results.len(),
        results,
        note: GEOCODER_NOTE,
        chargers,
    })
}

/// Markers, or clusters when more than `limit` listings match; told apart by `mode`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AreaView {
    /// every listing in the box (distance measured from the box centre), at most `limit`
    Markers {
        results: Vec<ListingHit>,
        count: usize,
    },
    /// more listings than `limit`: counts per cell of an 8 × 8 grid instead
    Clusters {
        /// the grid's non-empty cells, each at the mean position of its listings
        clusters: Vec<Cluster>,
        /// listings in the box
        count: i64,
    },
}

pub async fn area(
    pool: &PgPool,
    b: &MapBox,
    f: &Filters,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<AreaView, Error> {
    // one row more than shown tells whether the box overflows without counting it all
    let mut results = super::store::area_markers(pool, b, f, limit + 1, now).await?;
    if results.len() > limit as usize {
        let clusters = super::store::area_clusters(pool, b, f, now).await?;
        let count = clusters.iter().map(|c| c.count).sum();
        return Ok(AreaView::Clusters { clusters, count });
    }
    mark_featured(pool, &mut results, now).await?;
    Ok(AreaView::Markers {
        count: results.len(),
        results,
    })
}

/// Distance and driving time to a charger.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RouteView {
    pub charger_id: Uuid,
    #[serde(flatten)]
    pub route: RouteEstimate,
    /// set when the configured planner failed and the estimate was used instead
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub fallback_reason: Option<String>,
}

/// Distance and time to a listed charger. When the configured road router fails, the driver
/// still gets the great-circle estimate, marked as such, rather than an error.
pub async fn route(
    pool: &PgPool,
    planner: &dyn RoutePlanner,
    from: GeoPoint,
    charger_id: Uuid,
) -> Result<RouteView, Error> {
    let to = super::store::listed_location(pool, charger_id)
        .await?
        .ok_or(Error::NotFound("charger"))?;
    let (route, fallback_reason) = match planner.plan(from, to).await {
        Ok(route) => (route, None),
        Err(err) => {
            tracing::warn!(error = %err, "route planner failed; answering the estimate");
            (route::estimate(from, to), Some(err.to_string()))
        }
    };
    Ok(RouteView {
        charger_id,
        route,
        fallback_reason,
    })
}

/// A listed charger's ports: free now, and hour by hour over the next 24 hours.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Availability {
    pub listing_id: Uuid,
    pub title: String,
    #[schema(value_type = crate::listings::schema::TimeZoneName)]
    pub time_zone: String,
    /// The instant "now" refers to.
    pub as_of: DateTime<Utc>,
    /// Open now by its opening hours and blackouts.
    pub open_now: bool,
    pub ports_total: usize,
    pub ports_free_now: usize,
    pub ports: Vec<PortAvailability>,
}

/// The booked intervals of a listing in a window: the live bookings of each port (pending
/// holds past their expiry no longer count), from the bookings module.
async fn booked_intervals(
    pool: &PgPool,
    listing_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<BookedInterval>, Error> {
    // `from` is the availability view's "now"
    let held = crate::bookings::service::held_intervals(pool, listing_id, from, to, from).await?;
    Ok(held
        .into_iter()
        .map(|(port_id, starts_at, ends_at)| BookedInterval {
            port_id: Some(port_id),
            starts_at,
            ends_at,
        })
        .collect())
}

pub async fn availability(
    pool: &PgPool,
    listing_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Availability, Error> {
    use super::store;
    let listing = store::listed_listing(pool, listing_id)
        .await?
        .ok_or(Error::NotFound("charger"))?;
    // the listings calendar (it rejects an unknown time zone as an internal error)
    let calendar = {
        let mut conn = pool.acquire().await?;
        crate::listings::service::calendar_of(&mut conn, listing_id)
            .await?
            // deleted since the row above was read
            .ok_or(Error::NotFound("charger"))?
    };
    let ports = store::ports(pool, listing_id).await?;
    let horizon = now + chrono::Duration::hours(calendar::SLOTS + 1);
    let booked = booked_intervals(pool, listing_id, now, horizon).await?;
    let has_device = listing.device_kind != "plain";
    let ports = calendar::port_availability(&calendar, &ports, has_device, &booked, now);
    Ok(Availability {
        listing_id: listing.id,
        title: listing.title,
        time_zone: listing.time_zone,
        as_of: now,
        open_now: calendar.is_open(now),
        ports_total: ports.len(),
        ports_free_now: ports
            .iter()
            .filter(|p| p.status_now == SlotStatus::Free)
            .count(),
        ports,
    })
}

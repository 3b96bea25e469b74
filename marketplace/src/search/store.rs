//! The search queries. Every one reads `listings` through the partial GiST index on listed
//! rows (`status = 'listed'` is written literally so the planner can use that index), filters
//! on the listing row only, and orders by `<->` so PostgreSQL walks the index nearest first
//! and stops at LIMIT. Port rows and calendars are read afterwards for the few rows returned.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::calendar::PortState;
use super::model::{
    Cluster, Filters, GeoPoint, ListingHit, MapBox, NearbyQuery, Price, Rating, SortBy, GRID,
};

#[derive(sqlx::FromRow)]
struct HitRow {
    id: Uuid,
    title: String,
    address: String,
    latitude: f64,
    longitude: f64,
    distance_km: f64,
    currency: String,
    price_per_kwh: Option<f64>,
    price_per_hour: Option<f64>,
    rating_avg: f64,
    rating_count: i32,
    connector_types: Vec<String>,
    max_power_kw: f64,
    ports_total: i32,
    ports_available: i32,
    amenities: Vec<String>,
    open_now: bool,
}

impl From<HitRow> for ListingHit {
    fn from(r: HitRow) -> Self {
        Self {
            id: r.id,
            title: r.title,
            address: r.address,
            latitude: r.latitude,
            longitude: r.longitude,
            distance_km: r.distance_km,
            price: Price {
                currency: r.currency,
                per_kwh: r.price_per_kwh,
                per_hour: r.price_per_hour,
            },
            rating: Rating {
                average: r.rating_avg,
                count: r.rating_count,
            },
            connector_types: r.connector_types,
            max_power_kw: r.max_power_kw,
            ports_total: r.ports_total,
            ports_available: r.ports_available,
            amenities: r.amenities,
            // filled in by `open_now` for the rows returned
            open_now: r.open_now,
            // filled in by the service for the rows returned
            featured: false,
        }
    }
}

/// `geography` point from bound lon/lat.
fn push_point(qb: &mut QueryBuilder<'_, Postgres>, p: GeoPoint) {
    qb.push("ST_SetSRID(ST_MakePoint(")
        .push_bind(p.longitude)
        .push(", ")
        .push_bind(p.latitude)
        .push("), 4326)::geography");
}

/// The columns of a hit; distance on the sphere (`false`: no spheroid), like the KNN operator.
fn push_columns(qb: &mut QueryBuilder<'_, Postgres>, from: GeoPoint, now: DateTime<Utc>) {
    qb.push(
        "SELECT l.id, l.title, l.address, \
         ST_Y(l.location::geometry) AS latitude, ST_X(l.location::geometry) AS longitude, \
         ST_Distance(l.location, ",
    );
    push_point(qb, from);
    qb.push(
        ", false) / 1000.0 AS distance_km, \
         l.currency::text AS currency, l.price_per_kwh::float8 AS price_per_kwh, \
         l.price_per_hour::float8 AS price_per_hour, l.rating_avg::float8 AS rating_avg, \
         l.rating_count, l.connector_types, l.max_power_kw::float8 AS max_power_kw, \
         l.ports_total, l.ports_available, l.amenities, ",
    );
    // Computed in the same statement, only for the rows the scan hands to LIMIT: no second
    // round trip per search.
    push_open_expr(qb, now);
    qb.push(" AS open_now");
}

/// [`push_columns`] over the listed listings.
fn push_select(qb: &mut QueryBuilder<'_, Postgres>, from: GeoPoint, now: DateTime<Utc>) {
    push_columns(qb, from, now);
    qb.push(FROM_LISTED);
}

const FROM_LISTED: &str = " FROM listings l WHERE l.status = 'listed'";

/// "Open at `at`", mirroring the listings calendar
/// ([`ListingCalendar::is_open`](crate::listings::ListingCalendar::is_open)), which is the rule:
/// not in a blackout, and either no opening hours at all or inside one window, on the
/// listing's local clock. It runs inside the indexed query so it filters rows before LIMIT;
/// each probe is a primary-key lookup, only added when a driver asks for open chargers.
///
/// It compares the local wall-clock time at `at`, so it matches the calendar everywhere except
/// in a fall-back repeated hour when a window opens or closes inside it (the calendar takes the
/// earlier instant of an ambiguous boundary and stays open or closed for the whole repeat;
/// this predicate sees the second pass's wall clock again). A spring-forward gap agrees: a
/// boundary in the gap takes effect when the gap ends in both.
fn push_open_at(qb: &mut QueryBuilder<'_, Postgres>, at: DateTime<Utc>) {
    qb.push(" AND ");
    push_open_expr(qb, at);
}

/// The boolean expression behind [`push_open_at`], for a row `l`.
fn push_open_expr(qb: &mut QueryBuilder<'_, Postgres>, at: DateTime<Utc>) {
    // CASE fixes the order: a listing without hours or blackouts is open, no probes needed
    qb.push(
        "CASE WHEN NOT l.has_calendar THEN true ELSE (NOT EXISTS (SELECT 1 FROM listing_blackouts b WHERE b.listing_id = l.id \
         AND (",
    )
    .push_bind(at)
    .push(
        " AT TIME ZONE l.time_zone)::date BETWEEN b.starts_on AND b.ends_on) \
         AND (NOT EXISTS (SELECT 1 FROM listing_opening_hours h WHERE h.listing_id = l.id) \
         OR EXISTS (SELECT 1 FROM listing_opening_hours h WHERE h.listing_id = l.id \
         AND h.weekday = extract(isodow FROM ",
    )
    .push_bind(at)
    .push(" AT TIME ZONE l.time_zone) AND h.opens_at <= (")
    .push_bind(at)
    .push(" AT TIME ZONE l.time_zone)::time AND (")
    .push_bind(at)
    .push(" AT TIME ZONE l.time_zone)::time < h.closes_at))) END");
}

/// The filters that live on the listing row.
fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, f: &Filters, now: DateTime<Utc>) {
    if !f.connector_types.is_empty() {
        qb.push(" AND l.connector_types && ")
            .push_bind(f.connector_types.clone());
    }
    if let Some(ct) = f.current_type {
        let types: Vec<String> = ct.connector_types().iter().map(|s| s.to_string()).collect();
        qb.push(" AND l.connector_types && ").push_bind(types);
    }
    if let Some(kw) = f.min_power_kw {
        qb.push(" AND l.max_power_kw >= ").push_bind(kw);
    }
    if let Some(p) = f.max_price_per_kwh {
        qb.push(" AND l.price_per_kwh <= ").push_bind(p);
    }
    if let Some(p) = f.max_price_per_hour {
        qb.push(" AND l.price_per_hour <= ").push_bind(p);
    }
    if let Some(r) = f.min_rating {
        qb.push(" AND l.rating_count > 0 AND l.rating_avg >= ")
            .push_bind(r);
    }
    if !f.amenities.is_empty() {
        qb.push(" AND l.amenities @> ")
            .push_bind(f.amenities.clone());
    }
    if f.available_now {
        qb.push(" AND l.ports_available > 0");
        push_open_at(qb, now);
    }
    if let Some(at) = f.open_at {
        push_open_at(qb, at);
    }
}

/// The nearest listed listings within the radius that pass the filters.
pub async fn nearby(
    pool: &PgPool,
    q: &NearbyQuery,
    now: DateTime<Utc>,
) -> Result<Vec<ListingHit>, sqlx::Error> {
    let mut qb = QueryBuilder::new("");
    push_select(&mut qb, q.center, now);
    // `ST_DWithin` spelled out: PostGIS would add its own estimate for the distance test on top
    // of the index box's, the planner then expects a handful of rows and prefers a bitmap scan
    // plus a sort over the whole radius (measured 50 ms at 100 km on 1M rows). The box `&&`
    // (what ST_DWithin's index condition is) and a plain distance test keep the estimate honest
    // and the plan an ordered KNN index scan that stops at LIMIT.
    qb.push(" AND l.location && _ST_Expand(");
    push_point(&mut qb, q.center);
    qb.push(", ").push_bind(q.radius_km * 1000.0).push(")");
    qb.push(" AND ST_Distance(l.location, ");
    push_point(&mut qb, q.center);
    qb.push(", false) <= ").push_bind(q.radius_km * 1000.0);
    push_filters(&mut qb, &q.filters, now);
    qb.push(" ORDER BY ");
    match q.sort {
        SortBy::Distance => {}
        SortBy::Price => {
            qb.push("l.price_per_kwh ASC NULLS LAST, ");
        }
        SortBy::Rating => {
            qb.push("l.rating_avg DESC, l.rating_count DESC, ");
        }
        SortBy::Power => {
            qb.push("l.max_power_kw DESC, ");
        }
    }
    // no tie-breaker after the distance: any extra sort key turns the KNN scan into a sort
    qb.push("l.location <-> ");
    push_point(&mut qb, q.center);
    qb.push(" LIMIT ")
        .push_bind(i64::from(q.limit))
        .push(" OFFSET ")
        .push_bind(i64::from(q.offset));
    let rows: Vec<HitRow> = qb.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// What [`nearby_planar`] answers: the sphere-nearest of the candidates within the radius,
/// and what [`super::planar::is_complete`] needs to know about the whole fetch.
pub struct PlanarPage {
    pub hits: Vec<ListingHit>,
    pub fetched: usize,
    pub last_planar_deg: f64,
}

#[derive(sqlx::FromRow)]
struct PlanarRow {
    #[sqlx(flatten)]
    hit: HitRow,
    fetched: i64,
    last_planar_deg: f64,
}

/// Planar search in one statement: the `fetch` planar-nearest listed listings inside
/// `cap_box` (the lon/lat box of the radius's cap) that pass the filters are taken with
/// their true sphere distance only; of those within the radius, the `wanted` nearest are
/// answered with every column (the wide columns and the calendar only for them). Rows are
/// in sphere order, ties by id.
pub async fn nearby_planar(
    pool: &PgPool,
    q: &NearbyQuery,
    cap_box: (f64, f64, f64, f64),
    fetch: usize,
    wanted: usize,
    now: DateTime<Utc>,
) -> Result<PlanarPage, sqlx::Error> {
    // `c` carries the raw columns so the page needs no second lookup; only the few rows
    // answered get the casts and the calendar.
    let mut qb = QueryBuilder::new(
        "WITH c AS MATERIALIZED (SELECT l.id, l.title, l.address, l.location, l.time_zone, \
         l.has_calendar, l.currency, l.price_per_kwh, l.price_per_hour, l.rating_avg, \
         l.rating_count, l.connector_types, l.max_power_kw, l.ports_total, l.ports_available, \
         l.amenities, ST_Distance(l.location, ",
    );
    push_point(&mut qb, q.center);
    qb.push(", false) AS d, l.location::geometry <-> ");
    push_plain_point(&mut qb, q.center);
    qb.push(" AS planar").push(FROM_LISTED);
    let (x0, y0, x1, y1) = cap_box;
    qb.push(" AND l.location::geometry && ST_MakeEnvelope(")
        .push_bind(x0)
        .push(", ")
        .push_bind(y0)
        .push(", ")
        .push_bind(x1)
        .push(", ")
        .push_bind(y1)
        .push(", 4326)");
    push_filters(&mut qb, &q.filters, now);
    qb.push(" ORDER BY l.location::geometry <-> ");
    push_plain_point(&mut qb, q.center);
    qb.push(" LIMIT ").push_bind(fetch as i64);
    qb.push(
        "), s AS MATERIALIZED (SELECT count(*) AS fetched, \
         coalesce(max(planar), 0) AS last_planar_deg FROM c) \
         SELECT l.id, l.title, l.address, \
         ST_Y(l.location::geometry) AS latitude, ST_X(l.location::geometry) AS longitude, \
         l.d / 1000.0 AS distance_km, \
         l.currency::text AS currency, l.price_per_kwh::float8 AS price_per_kwh, \
         l.price_per_hour::float8 AS price_per_hour, l.rating_avg::float8 AS rating_avg, \
         l.rating_count, l.connector_types, l.max_power_kw::float8 AS max_power_kw, \
         l.ports_total, l.ports_available, l.amenities, ",
    );
    push_open_expr(&mut qb, now);
    qb.push(" AS open_now, s.fetched, s.last_planar_deg FROM s CROSS JOIN LATERAL (SELECT * FROM c WHERE c.d <= ")
        .push_bind(q.radius_km * 1000.0)
        .push(" ORDER BY c.d, c.id LIMIT ")
        .push_bind(wanted as i64)
        .push(") l ORDER BY l.d, l.id");
    let rows: Vec<PlanarRow> = qb.build_query_as().fetch_all(pool).await?;
    let (fetched, last_planar_deg) = rows
        .first()
        .map_or((0, 0.0), |r| (r.fetched as usize, r.last_planar_deg));
    Ok(PlanarPage {
        hits: rows.into_iter().map(|r| r.hit.into()).collect(),
        fetched,
        last_planar_deg,
    })
}

/// `geometry` point (lon/lat degrees) from bound lon/lat.
fn push_plain_point(qb: &mut QueryBuilder<'_, Postgres>, p: GeoPoint) {
    qb.push("ST_SetSRID(ST_MakePoint(")
        .push_bind(p.longitude)
        .push(", ")
        .push_bind(p.latitude)
        .push("), 4326)");
}

/// The listed listings inside a map box. A map box is a lon/lat rectangle (one per side of
/// the antimeridian), so the planar index's `&&` is the exact test, not a prefilter.
fn push_area_where(
    qb: &mut QueryBuilder<'_, Postgres>,
    b: &MapBox,
    f: &Filters,
    now: DateTime<Utc>,
) {
    qb.push(" AND (");
    for (i, (x0, y0, x1, y1)) in b.envelopes().into_iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push("l.location::geometry && ST_MakeEnvelope(")
            .push_bind(x0)
            .push(", ")
            .push_bind(y0)
            .push(", ")
            .push_bind(x1)
            .push(", ")
            .push_bind(y1)
            .push(", 4326)");
    }
    qb.push(")");
    push_filters(qb, f, now);
}

/// Up to `limit` markers in the box, nearest its centre first; the caller asks for one more
/// than it shows to learn whether the box holds more (then it clusters instead).
///
/// Which rows come back only matters when the box holds at most `limit`, and then it is all
/// of them: so the index walks in planar order (it stops at LIMIT instead of sorting a dense
/// box), and the few rows are put in sphere order here.
pub async fn area_markers(
    pool: &PgPool,
    b: &MapBox,
    f: &Filters,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<ListingHit>, sqlx::Error> {
    let mut qb = QueryBuilder::new("");
    push_select(&mut qb, b.center(), now);
    push_area_where(&mut qb, b, f, now);
    qb.push(" ORDER BY l.location::geometry <-> ");
    push_plain_point(&mut qb, b.center());
    qb.push(" LIMIT ").push_bind(i64::from(limit));
    let rows: Vec<HitRow> = qb.build_query_as().fetch_all(pool).await?;
    let mut hits: Vec<ListingHit> = rows.into_iter().map(Into::into).collect();
    hits.sort_by(|a, b| {
        a.distance_km
            .total_cmp(&b.distance_km)
            .then(a.id.cmp(&b.id))
    });
    Ok(hits)
}

#[derive(sqlx::FromRow)]
struct ClusterRow {
    latitude: f64,
    x: f64,
    count: i64,
}

/// Counts per cell of a `GRID` × `GRID` grid over the box, with each cell's centroid.
///
/// Longitudes are measured east from `min_lon` (wrapping at 180) so a box across the
/// antimeridian has continuous cells and centroids.
pub async fn area_clusters(
    pool: &PgPool,
    b: &MapBox,
    f: &Filters,
    now: DateTime<Utc>,
) -> Result<Vec<Cluster>, sqlx::Error> {
    let (cell_w, cell_h) = b.grid_cell();
    let last = f64::from(GRID - 1);
    let mut qb = QueryBuilder::new(
        "SELECT avg(lat) AS latitude, avg(x) AS x, count(*) AS count \
         FROM (SELECT lat, x, least(floor(x / ",
    );
    qb.push_bind(cell_w)
        .push("), ")
        .push_bind(last)
        .push(") AS cx, least(floor((lat - ")
        .push_bind(b.min_lat)
        .push(") / ")
        .push_bind(cell_h)
        .push("), ")
        .push_bind(last)
        .push(
            ") AS cy FROM (SELECT ST_Y(l.location::geometry) AS lat, ST_X(l.location::geometry) - ",
        )
        .push_bind(b.min_lon)
        .push(" AS dx FROM listings l WHERE l.status = 'listed'");
    push_area_where(&mut qb, b, f, now);
    // west of min_lon only happens across the antimeridian: those points are 360° further east
    qb.push(
        ") p CROSS JOIN LATERAL (SELECT CASE WHEN p.dx < 0 THEN p.dx + 360 ELSE p.dx END AS x) w) c \
         GROUP BY cx, cy ORDER BY count DESC, cx, cy",
    );
    let rows: Vec<ClusterRow> = qb.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|r| Cluster {
            latitude: r.latitude,
            longitude: super::model::normalize_lon(b.min_lon + r.x),
            count: r.count,
        })
        .collect())
}

/// What the availability view needs about a listed listing (its calendar comes from
/// [`crate::listings::service::calendar_of`]).
#[derive(sqlx::FromRow)]
pub struct ListedListingRow {
    pub id: Uuid,
    pub title: String,
    pub time_zone: String,
    pub device_kind: String,
}

pub async fn listed_listing(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<ListedListingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, title, time_zone, device_kind FROM listings \
         WHERE id = $1 AND status = 'listed'",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn ports(pool: &PgPool, listing_id: Uuid) -> Result<Vec<PortState>, sqlx::Error> {
    let rows: Vec<(Uuid, String, String, f64, String, String)> = sqlx::query_as(
        "SELECT id, label, connector_type, power_kw::float8, current_type, live_status \
         FROM listing_ports WHERE listing_id = $1 ORDER BY evse_id NULLS LAST, connector_id, label, id",
    )
    .bind(listing_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, label, connector_type, power_kw, current_type, live_status)| PortState {
                id,
                label,
                connector_type,
                power_kw,
                current_type,
                live_status,
            },
        )
        .collect())
}

/// Where a listed listing is, for routing to it.
pub async fn listed_location(pool: &PgPool, id: Uuid) -> Result<Option<GeoPoint>, sqlx::Error> {
    let row: Option<(f64, f64)> = sqlx::query_as(
        "SELECT ST_Y(location::geometry), ST_X(location::geometry) FROM listings \
         WHERE id = $1 AND status = 'listed'",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(lat, lon)| GeoPoint::new(lat, lon)))
}

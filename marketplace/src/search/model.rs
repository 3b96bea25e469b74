//! Search types and the pure rules around them: validation, great-circle distance, map boxes.
//!
//! Everything here is plain data and arithmetic; the SQL lives in `store.rs`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::FieldError;

/// The mean Earth radius (IUGG R1) that PostGIS uses for sphere distances on geography, so
/// the distances we compute in Rust agree with the ones the database answers.
pub const EARTH_RADIUS_KM: f64 = 6_371.008_8;

pub const DEFAULT_RADIUS_KM: f64 = 10.0;
/// A driver looks for a charger to drive to; 100 km also bounds the work of one KNN scan.
pub const MAX_RADIUS_KM: f64 = 100.0;
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// OFFSET paging re-reads the skipped rows; past a few pages a driver should zoom or filter.
pub const MAX_OFFSET: u32 = 1_000;

/// The connector types a port may have (mirrors `listing_ports_connector_type_check`).
pub const CONNECTOR_TYPES: [&str; 7] = [
    "CCS1", "CCS2", "CHAdeMO", "Type1", "Type2", "NACS", "Schuko",
];

/// A WGS 84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

impl GeoPoint {
    pub fn new(latitude: f64, longitude: f64) -> Self {
        Self {
            latitude,
            longitude,
        }
    }

    /// Collects the errors of this point, naming the fields `{prefix}latitude` / `longitude`.
    pub fn check(&self, prefix: &str, errors: &mut Vec<FieldError>) {
        check_latitude(&format!("{prefix}latitude"), self.latitude, errors);
        check_longitude(&format!("{prefix}longitude"), self.longitude, errors);
    }
}

pub fn check_latitude(field: &str, value: f64, errors: &mut Vec<FieldError>) {
    if !(-90.0..=90.0).contains(&value) {
        errors.push(FieldError::new(field, "must be between -90 and 90"));
    }
}

pub fn check_longitude(field: &str, value: f64, errors: &mut Vec<FieldError>) {
    if !(-180.0..=180.0).contains(&value) {
        errors.push(FieldError::new(field, "must be between -180 and 180"));
    }
}

/// Great-circle distance on the sphere (haversine), in km.
pub fn great_circle_km(a: GeoPoint, b: GeoPoint) -> f64 {
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    // clamp: rounding can push h a hair above 1 for antipodes, and asin would give NaN
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// AC or DC charging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CurrentType {
    #[serde(rename = "AC")]
    Ac,
    #[serde(rename = "DC")]
    Dc,
}

impl CurrentType {
    /// The connector types that carry this current. The listing row holds connector types but
    /// not current types, so the filter stays on the row (one index scan, no join to ports):
    /// CCS and CHAdeMO are DC-only, Type 1/Type 2/Schuko sockets are AC, NACS carries both.
    pub fn connector_types(self) -> &'static [&'static str] {
        match self {
            Self::Ac => &["Type1", "Type2", "Schuko", "NACS"],
            Self::Dc => &["CCS1", "CCS2", "CHAdeMO", "NACS"],
        }
    }
}

/// How results are ordered. Distance is the KNN index order; the others sort the radius.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SearchSortBy)]
pub enum SortBy {
    #[default]
    Distance,
    /// cheapest per kWh first, unpriced listings last
    Price,
    /// best rated first
    Rating,
    /// most powerful first
    Power,
}

/// Filters on the listing row, all optional; every one given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// match any of these
    pub connector_types: Vec<String>,
    pub min_power_kw: Option<f64>,
    pub max_price_per_kwh: Option<f64>,
    pub max_price_per_hour: Option<f64>,
    /// a free port, and open by the calendar at `open_at` or now
    pub available_now: bool,
    /// open by the calendar at this instant (opening hours and blackouts, local time)
    pub open_at: Option<DateTime<Utc>>,
    /// all of these
    pub amenities: Vec<String>,
    pub current_type: Option<CurrentType>,
    pub min_rating: Option<f64>,
}

impl Filters {
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        for (i, ct) in self.connector_types.iter().enumerate() {
            if !CONNECTOR_TYPES.contains(&ct.as_str()) {
                errors.push(FieldError::new(
                    format!("connector_types[{i}]"),
                    format!("must be one of {}", CONNECTOR_TYPES.join(", ")),
                ));
            }
        }
        let non_negative = [
            ("min_power_kw", self.min_power_kw),
            ("max_price_per_kwh", self.max_price_per_kwh),
            ("max_price_per_hour", self.max_price_per_hour),
        ];
        for (field, value) in non_negative {
            if let Some(v) = value {
                if !v.is_finite() || v < 0.0 {
                    errors.push(FieldError::new(field, "must be a number >= 0"));
                }
            }
        }
        if let Some(r) = self.min_rating {
            if !(0.0..=5.0).contains(&r) {
                errors.push(FieldError::new("min_rating", "must be between 0 and 5"));
            }
        }
        for (i, a) in self.amenities.iter().enumerate() {
            if a.trim().is_empty() || a.len() > 64 {
                errors.push(FieldError::new(
                    format!("amenities[{i}]"),
                    "must be 1 to 64 characters",
                ));
            }
        }
    }
}

/// A validated radius query around a point.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyQuery {
    pub center: GeoPoint,
    pub radius_km: f64,
    pub filters: Filters,
    pub sort: SortBy,
    pub limit: u32,
    pub offset: u32,
}

pub fn check_radius(radius_km: f64, errors: &mut Vec<FieldError>) {
    if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
        errors.push(FieldError::new(
            "radius_km",
            format!("must be greater than 0 and at most {MAX_RADIUS_KM}"),
        ));
    }
}

pub fn check_limit(limit: u32, errors: &mut Vec<FieldError>) {
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
}

pub fn check_offset(offset: u32, errors: &mut Vec<FieldError>) {
    if offset > MAX_OFFSET {
        errors.push(FieldError::new(
            "offset",
            format!("must be at most {MAX_OFFSET}; narrow the search instead"),
        ));
    }
}

/// One listing as search shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ListingHit {
    pub id: Uuid,
    #[schema(example = "22 kW wall box, Jordaan")]
    pub title: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    /// From the query point (the box centre for area searches), on the sphere.
    pub distance_km: f64,
    pub price: Price,
    pub rating: Rating,
    /// Of its ports, distinct.
    #[schema(value_type = Vec<crate::listings::ConnectorType>)]
    pub connector_types: Vec<String>,
    pub max_power_kw: f64,
    pub ports_total: i32,
    pub ports_available: i32,
    pub amenities: Vec<String>,
    /// Open now by its opening hours and blackouts.
    pub open_now: bool,
    /// Its host pays for featured placement (`featured_listing`): shown first among equals.
    pub featured: bool,
}

/// A listing's prices, as numbers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = HitPrice)]
pub struct Price {
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(required, example = 0.35)]
    pub per_kwh: Option<f64>,
    #[schema(required)]
    pub per_hour: Option<f64>,
}

/// Drivers' reviews of a charger.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = HitRating)]
pub struct Rating {
    #[schema(minimum = 0, maximum = 5)]
    pub average: f64,
    #[schema(minimum = 0)]
    pub count: i32,
}

/// The next page starts here, or `None` when this page was the last.
pub fn next_offset(offset: u32, limit: u32, returned: usize) -> Option<u32> {
    let next = offset + limit;
    (returned as u32 == limit && next <= MAX_OFFSET).then_some(next)
}

/// A map viewport, validated: latitudes clamped to the poles, longitudes in [-180, 180].
/// `min_lon > max_lon` means the box crosses the antimeridian.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapBox {
    pub min_lat: f64,
    pub min_lon: f64,
    pub max_lat: f64,
    pub max_lon: f64,
}

/// One lon/lat rectangle that does not cross the antimeridian: (min_lon, min_lat, max_lon, max_lat).
pub type Envelope = (f64, f64, f64, f64);

impl MapBox {
    /// Validates a viewport. Latitudes past a pole (maps overscroll) are clamped, not refused;
    /// NaN and longitudes outside [-180, 180] are refused.
    pub fn new(
        min_lat: f64,
        min_lon: f64,
        max_lat: f64,
        max_lon: f64,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, v) in [("min_lat", min_lat), ("max_lat", max_lat)] {
            if v.is_nan() {
                errors.push(FieldError::new(field, "must be a number"));
            }
        }
        check_longitude("min_lon", min_lon, &mut errors);
        check_longitude("max_lon", max_lon, &mut errors);
        let (min_lat, max_lat) = (min_lat.clamp(-90.0, 90.0), max_lat.clamp(-90.0, 90.0));
        if errors.is_empty() && min_lat > max_lat {
            errors.push(FieldError::new(
                "min_lat",
                "must not be greater than max_lat",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            min_lat,
            min_lon,
            max_lat,
            max_lon,
        })
    }

    pub fn crosses_antimeridian(&self) -> bool {
        self.min_lon > self.max_lon
    }

    /// Width in degrees of longitude, going east from `min_lon` to `max_lon`.
    pub fn width_deg(&self) -> f64 {
        if self.crosses_antimeridian() {
            self.max_lon + 360.0 - self.min_lon
        } else {
            self.max_lon - self.min_lon
        }
    }

    pub fn height_deg(&self) -> f64 {
        self.max_lat - self.min_lat
    }

    /// One envelope, or two split at ±180 when the box crosses the antimeridian.
    pub fn envelopes(&self) -> Vec<Envelope> {
        if self.crosses_antimeridian() {
            vec![
                (self.min_lon, self.min_lat, 180.0, self.max_lat),
                (-180.0, self.min_lat, self.max_lon, self.max_lat),
            ]
        } else {
            vec![(self.min_lon, self.min_lat, self.max_lon, self.max_lat)]
        }
    }

    pub fn center(&self) -> GeoPoint {
        GeoPoint::new(
            (self.min_lat + self.max_lat) / 2.0,
            normalize_lon(self.min_lon + self.width_deg() / 2.0),
        )
    }

    /// A radius (km) around [`Self::center`] that holds the whole box: the geography GiST index
    /// answers `ST_DWithin` but not a lon/lat rectangle (a geography polygon's edges are great
    /// circles, not parallels), so the box is first narrowed to this cap through the index and
    /// then cut exactly in lon/lat.
    ///
    /// The boundary is sampled; distance from a fixed point changes by at most the arc length
    /// moved, so adding the largest gap between samples makes the cap cover the box for sure.
    pub fn covering_radius_km(&self) -> f64 {
        const STEPS: usize = 64;
        let c = self.center();
        let w = self.width_deg();
        let mut max_d: f64 = 0.0;
        for i in 0..=STEPS {
            let t = i as f64 / STEPS as f64;
            let lon = normalize_lon(self.min_lon + w * t);
            let lat = self.min_lat + self.height_deg() * t;
            for p in [
                GeoPoint::new(self.min_lat, lon),
                GeoPoint::new(self.max_lat, lon),
                GeoPoint::new(lat, self.min_lon),
                GeoPoint::new(lat, self.max_lon),
            ] {
                max_d = max_d.max(great_circle_km(c, p));
            }
        }
        // arc per step along a parallel is largest at the equator; along a meridian it is fixed
        let deg_km = EARTH_RADIUS_KM.to_radians();
        let max_gap = (w / STEPS as f64 * deg_km).max(self.height_deg() / STEPS as f64 * deg_km);
        max_d + max_gap + 0.01
    }

    /// The clustering grid: `GRID` × `GRID` cells over the box, so a map shows at most 64 bubbles.
    pub fn grid_cell(&self) -> (f64, f64) {
        // a degenerate box (a point or a line) still gets a non-zero cell to divide by
        let w = (self.width_deg() / GRID as f64).max(1e-9);
        let h = (self.height_deg() / GRID as f64).max(1e-9);
        (w, h)
    }
}

/// Cells per side of the clustering grid.
pub const GRID: u32 = 8;

/// Folds any longitude into [-180, 180].
pub fn normalize_lon(lon: f64) -> f64 {
    let l = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if l == -180.0 && lon > 0.0 {
        180.0
    } else {
        l
    }
}

/// A bubble on the map standing for `count` chargers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = AreaCluster)]
pub struct Cluster {
    pub latitude: f64,
    pub longitude: f64,
    pub count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        ((a - b) / b).abs() <= rel
    }

    #[test]
    fn known_city_pairs() {
        let paris = GeoPoint::new(48.8566, 2.3522);
        let london = GeoPoint::new(51.5074, -0.1278);
        let nyc = GeoPoint::new(40.7128, -74.0060);
        let la = GeoPoint::new(34.0522, -118.2437);
        let sydney = GeoPoint::new(-33.8688, 151.2093);
        let auckland = GeoPoint::new(-36.8485, 174.7633);
        assert!(close(great_circle_km(paris, london), 344.0, 0.01));
        assert!(close(great_circle_km(nyc, la), 3936.0, 0.01));
        assert!(close(great_circle_km(sydney, auckland), 2156.0, 0.01));
        assert_eq!(great_circle_km(paris, paris), 0.0);
    }

    #[test]
    fn antipodes_do_not_nan() {
        let d = great_circle_km(GeoPoint::new(0.0, 0.0), GeoPoint::new(0.0, 180.0));
        assert!(close(d, std::f64::consts::PI * EARTH_RADIUS_KM, 1e-9));
    }

    #[test]
    fn antimeridian_box_splits() {
        let b = MapBox::new(-10.0, 170.0, 10.0, -170.0).unwrap();
        assert!(b.crosses_antimeridian());
        assert_eq!(b.width_deg(), 20.0);
        assert_eq!(
            b.envelopes(),
            vec![(170.0, -10.0, 180.0, 10.0), (-180.0, -10.0, -170.0, 10.0)]
        );
        assert_eq!(b.center().longitude, 180.0);
    }

    #[test]
    fn poles_are_clamped() {
        let b = MapBox::new(80.0, -180.0, 95.0, 180.0).unwrap();
        assert_eq!(b.max_lat, 90.0);
        assert_eq!(b.width_deg(), 360.0);
        let errs = MapBox::new(10.0, 0.0, 5.0, 1.0).unwrap_err();
        assert_eq!(errs[0].field, "min_lat");
        let errs = MapBox::new(0.0, 190.0, 5.0, 1.0).unwrap_err();
        assert_eq!(errs[0].field, "min_lon");
    }

    #[test]
    fn covering_radius_covers_corners() {
        for b in [
            MapBox::new(40.0, -10.0, 50.0, 10.0).unwrap(),
            MapBox::new(-10.0, 170.0, 10.0, -170.0).unwrap(),
            MapBox::new(80.0, -180.0, 90.0, 180.0).unwrap(),
            MapBox::new(-90.0, -180.0, 90.0, 180.0).unwrap(),
        ] {
            let r = b.covering_radius_km();
            let c = b.center();
            for lat in [b.min_lat, b.max_lat, (b.min_lat + b.max_lat) / 2.0] {
                for k in 0..=100 {
                    let lon = normalize_lon(b.min_lon + b.width_deg() * k as f64 / 100.0);
                    assert!(great_circle_km(c, GeoPoint::new(lat, lon)) <= r, "{b:?}");
                }
            }
        }
    }

    #[test]
    fn normalize_lon_wraps() {
        assert_eq!(normalize_lon(190.0), -170.0);
        assert_eq!(normalize_lon(180.0), 180.0);
        assert_eq!(normalize_lon(-180.0), -180.0);
        assert_eq!(normalize_lon(-190.0), 170.0);
    }

    #[test]
    fn paging() {
        assert_eq!(next_offset(0, 20, 20), Some(20));
        assert_eq!(next_offset(0, 20, 7), None);
        assert_eq!(next_offset(990, 20, 20), None);
    }

    #[test]
    fn filter_checks_name_fields() {
        let f = Filters {
            connector_types: vec!["CCS2".into(), "Tesla".into()],
            min_power_kw: Some(-1.0),
            min_rating: Some(6.0),
            ..Filters::default()
        };
        let mut errs = Vec::new();
        f.check(&mut errs);
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["connector_types[1]", "min_power_kw", "min_rating"]);
    }
}

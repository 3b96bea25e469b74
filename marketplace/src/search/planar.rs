//! Nearest-first search through a planar index, with the sphere's answer.
//!
//! The planar GiST index walks points in lon/lat degree distance, which is not the order on
//! the sphere (a degree of longitude shrinks with cos(latitude)). So the store fetches the
//! `n` planar-nearest matching candidates, sorts them by their true sphere distance, and
//! this module decides whether that answer is provably the sphere's:
//!
//! every point within true distance `d` of the centre lies inside the lon/lat box of that
//! spherical cap (|Δlat| ≤ d, |Δlon| ≤ asin(sin d / cos lat)), hence within planar distance
//! `planar_bound(d)` (the box's corner). If the last candidate fetched is planar-farther than
//! the bound for the k-th true distance, no unfetched point can be nearer than it. When the
//! cap holds a pole or crosses the antimeridian there is no such box: the caller falls back
//! to the geography KNN.

use super::model::{GeoPoint, EARTH_RADIUS_KM};

/// Relative slack on the bound: the database computes distances in a different order than
/// here, so compare with room for rounding (a slightly larger bound is only more careful).
const SLACK: f64 = 1e-9;

/// The largest planar (degree) distance from `center` of any point within `d_km` on the
/// sphere, or `None` when the cap reaches a pole or crosses the antimeridian.
pub fn planar_bound(center: GeoPoint, d_km: f64) -> Option<f64> {
    let theta = d_km / EARTH_RADIUS_KM;
    let lat = center.latitude.to_radians();
    if theta >= std::f64::consts::FRAC_PI_2 || lat.abs() + theta >= std::f64::consts::FRAC_PI_2 {
        return None;
    }
    let dlon = (theta.sin() / lat.cos()).min(1.0).asin().to_degrees();
    if center.longitude.abs() + dlon >= 180.0 {
        return None;
    }
    let dlat = theta.to_degrees();
    Some(dlat.hypot(dlon) * (1.0 + SLACK) + SLACK)
}

/// The lon/lat box `(min_lon, min_lat, max_lon, max_lat)` that holds the cap of `d_km`
/// around `center`, when [`planar_bound`] has one.
pub fn cap_box(center: GeoPoint, d_km: f64) -> Option<(f64, f64, f64, f64)> {
    planar_bound(center, d_km)?;
    let theta = d_km / EARTH_RADIUS_KM;
    let dlat = theta.to_degrees() * (1.0 + SLACK) + SLACK;
    let dlon = (theta.sin() / center.latitude.to_radians().cos())
        .min(1.0)
        .asin()
        .to_degrees()
        * (1.0 + SLACK)
        + SLACK;
    Some((
        center.longitude - dlon,
        center.latitude - dlat,
        center.longitude + dlon,
        center.latitude + dlat,
    ))
}

/// What a planar fetch saw: how many candidates it took (of at most `cap`), the planar
/// distance of the last (farthest) one, and the nearest true distances within the radius,
/// ascending, up to the number wanted.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetch<'a> {
    pub cap: usize,
    pub fetched: usize,
    pub last_planar_deg: f64,
    pub nearest_km: &'a [f64],
}

/// Whether the `wanted` sphere-nearest within `radius_km` are surely the ones `fetch` saw.
pub fn is_complete(center: GeoPoint, radius_km: f64, wanted: usize, fetch: &Fetch<'_>) -> bool {
    // fewer rows than asked for: the scan ran out of matches, every match was seen
    if fetch.fetched < fetch.cap {
        return true;
    }
    let reach = match fetch.nearest_km.get(wanted.wrapping_sub(1)) {
        Some(kth) if wanted > 0 => kth.min(radius_km),
        _ => radius_km,
    };
    planar_bound(center, reach).is_some_and(|bound| fetch.last_planar_deg > bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::model::great_circle_km;
    use proptest::prelude::*;

    fn planar(a: GeoPoint, b: GeoPoint) -> f64 {
        (a.latitude - b.latitude).hypot(a.longitude - b.longitude)
    }

    #[test]
    fn no_bound_near_the_poles_or_across_the_antimeridian() {
        assert!(planar_bound(GeoPoint::new(89.95, 0.0), 10.0).is_none());
        assert!(planar_bound(GeoPoint::new(-89.95, 0.0), 10.0).is_none());
        assert!(planar_bound(GeoPoint::new(0.0, 179.95), 10.0).is_none());
        assert!(planar_bound(GeoPoint::new(0.0, -179.95), 10.0).is_none());
        assert!(planar_bound(GeoPoint::new(52.37, 4.9), 10.0).is_some());
    }

    #[test]
    fn the_bound_grows_with_latitude() {
        let equator = planar_bound(GeoPoint::new(0.0, 0.0), 10.0).unwrap();
        let north = planar_bound(GeoPoint::new(60.0, 0.0), 10.0).unwrap();
        // at 60° a degree of longitude is half as long: the box is twice as wide
        assert!(north > equator * 1.5, "{north} vs {equator}");
    }

    #[test]
    fn a_short_fetch_is_always_complete() {
        let c = GeoPoint::new(52.0, 5.0);
        let fetch = Fetch {
            cap: 60,
            fetched: 1,
            last_planar_deg: 0.01,
            nearest_km: &[3.0],
        };
        assert!(is_complete(c, 10.0, 20, &fetch));
        let empty = Fetch {
            fetched: 0,
            nearest_km: &[],
            ..fetch
        };
        assert!(is_complete(c, 10.0, 20, &empty));
    }

    #[test]
    fn a_full_fetch_is_complete_only_past_the_bound() {
        let c = GeoPoint::new(52.0, 5.0);
        let bound = planar_bound(c, 2.0).unwrap();
        let nearest: Vec<f64> = (1..=10).map(|i| 0.2 * f64::from(i)).collect();
        // the 10th true distance is 2 km; the last candidate sits exactly at the bound
        let mut fetch = Fetch {
            cap: 10,
            fetched: 10,
            last_planar_deg: bound,
            nearest_km: &nearest,
        };
        assert!(!is_complete(c, 10.0, 10, &fetch));
        fetch.last_planar_deg = bound * 1.01;
        assert!(is_complete(c, 10.0, 10, &fetch));
        // too few within the radius: the whole radius must be covered
        assert!(!is_complete(c, 10.0, 20, &fetch));
        // a smaller radius than the 10th distance: the radius is the reach
        assert!(is_complete(c, 1.0, 10, &fetch));
    }

    proptest! {
        /// The bound really holds: any point within `d` of the centre is planar-within it.
        #[test]
        fn points_in_the_cap_are_within_the_bound(
            lat in -80.0f64..80.0, lon in -170.0f64..170.0,
            d in 0.01f64..100.0, bearing in 0.0f64..360.0, frac in 0.0f64..=1.0,
        ) {
            let c = GeoPoint::new(lat, lon);
            if let Some(bound) = planar_bound(c, d) {
                let p = destination(c, bearing, d * frac);
                prop_assert!(great_circle_km(c, p) <= d * (1.0 + 1e-9) + 1e-9);
                prop_assert!(planar(c, p) <= bound, "{} > {}", planar(c, p), bound);
                let (x0, y0, x1, y1) = cap_box(c, d).unwrap();
                prop_assert!(p.longitude >= x0 && p.longitude <= x1);
                prop_assert!(p.latitude >= y0 && p.latitude <= y1);
            }
        }

        /// The decision agrees with brute force: whenever it says complete, the k nearest of
        /// the candidates are the k nearest of all points.
        #[test]
        fn complete_means_the_true_nearest(
            lat in -70.0f64..70.0, lon in -170.0f64..170.0,
            pts in prop::collection::vec((0.0f64..360.0, 0.0f64..30.0), 1..200),
            k in 1usize..20, cap in 1usize..80, radius in 1.0f64..40.0,
        ) {
            let c = GeoPoint::new(lat, lon);
            let all: Vec<GeoPoint> = pts.iter().map(|(b, d)| destination(c, *b, *d)).collect();
            let mut by_planar = all.clone();
            by_planar.sort_by(|a, b| planar(c, *a).total_cmp(&planar(c, *b)));
            let seen: Vec<GeoPoint> = by_planar.iter().take(cap).copied().collect();
            let mut got: Vec<f64> = seen.iter().map(|p| great_circle_km(c, *p))
                .filter(|d| *d <= radius).collect();
            got.sort_by(f64::total_cmp);
            got.truncate(k);
            let fetch = Fetch {
                cap,
                fetched: seen.len(),
                last_planar_deg: seen.last().map_or(0.0, |p| planar(c, *p)),
                nearest_km: &got,
            };
            if is_complete(c, radius, k, &fetch) {
                let mut want: Vec<f64> = all.iter().map(|p| great_circle_km(c, *p))
                    .filter(|d| *d <= radius).collect();
                want.sort_by(f64::total_cmp);
                want.truncate(k);
                prop_assert_eq!(got, want);
            }
        }
    }

    /// The point `d_km` from `from` on initial bearing `bearing_deg`, on the sphere.
    fn destination(from: GeoPoint, bearing_deg: f64, d_km: f64) -> GeoPoint {
        let (lat1, lon1) = (from.latitude.to_radians(), from.longitude.to_radians());
        let (b, t) = (bearing_deg.to_radians(), d_km / EARTH_RADIUS_KM);
        let lat2 = (lat1.sin() * t.cos() + lat1.cos() * t.sin() * b.cos()).asin();
        let lon2 = lon1 + (b.sin() * t.sin() * lat1.cos()).atan2(t.cos() - lat1.sin() * lat2.sin());
        let lon2 = (lon2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
        GeoPoint::new(lat2.to_degrees(), lon2)
    }
}

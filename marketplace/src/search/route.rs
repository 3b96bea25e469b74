//! Distance and driving time to a charger, behind a port (`RoutePlanner`) so a deployment can
//! plug a real road router (OSRM) and everyone else still gets a documented estimate.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::model::{great_circle_km, GeoPoint};
use crate::error::Error;

/// Roads are longer than the straight line; 1.3 is the usual urban/suburban detour index
/// (road distance over great-circle distance), good to ±20 % outside mountains and islands.
pub const ROAD_FACTOR: f64 = 1.3;
/// Average urban driving speed, stops included: a driver looking for a charger is in town.
pub const AVERAGE_SPEED_KMH: f64 = 40.0;

/// A drive's length and time, by road (`osrm`) or estimated from the straight line.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RouteEstimate {
    pub distance_km: f64,
    pub duration_minutes: f64,
    /// `great_circle_estimate` or `osrm`
    #[schema(
        pattern = "^(osrm|great_circle_estimate)$",
        example = "great_circle_estimate"
    )]
    pub method: &'static str,
    /// set for the estimate only: how it was made
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 1.3)]
    pub road_factor: Option<f64>,
    /// set for the estimate only
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = 40.0)]
    pub average_speed_kmh: Option<f64>,
}

pub type PlanFuture<'a> = Pin<Box<dyn Future<Output = Result<RouteEstimate, Error>> + Send + 'a>>;

/// Plans a drive from one point to another. Object-safe so `ApiContext` can hold any.
pub trait RoutePlanner: Send + Sync {
    fn plan(&self, from: GeoPoint, to: GeoPoint) -> PlanFuture<'_>;
}

/// The straight line on the sphere, times [`ROAD_FACTOR`], at [`AVERAGE_SPEED_KMH`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GreatCircleEstimate;

pub fn estimate(from: GeoPoint, to: GeoPoint) -> RouteEstimate {
    let distance_km = great_circle_km(from, to) * ROAD_FACTOR;
    RouteEstimate {
        distance_km,
        duration_minutes: distance_km / AVERAGE_SPEED_KMH * 60.0,
        method: "great_circle_estimate",
        road_factor: Some(ROAD_FACTOR),
        average_speed_kmh: Some(AVERAGE_SPEED_KMH),
    }
}

impl RoutePlanner for GreatCircleEstimate {
    fn plan(&self, from: GeoPoint, to: GeoPoint) -> PlanFuture<'_> {
        Box::pin(std::future::ready(Ok(estimate(from, to))))
    }
}

/// An OSRM server (`osrm-routed`, or a hosted one) answering the route service:
/// `GET {base}/route/v1/driving/{lon},{lat};{lon},{lat}?overview=false`.
#[derive(Debug, Clone)]
pub struct OsrmPlanner {
    base_url: String,
    client: reqwest::Client,
}

/// A driver waits for this answer; past it, a fallback estimate is better than a spinner.
pub const OSRM_TIMEOUT: Duration = Duration::from_secs(3);

impl OsrmPlanner {
    /// `base_url` without the trailing `/route/...` (e.g. `http://osrm:5000`).
    ///
    /// HTTPS goes through rustls with the process-wide crypto provider, which the binary
    /// installs at start; without one this refuses instead of panicking later.
    pub fn new(base_url: &str) -> Result<Self, Error> {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            return Err(Error::Internal(
                "no rustls CryptoProvider installed; install one at start of main".into(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(OSRM_TIMEOUT)
            .build()
            .map_err(|e| Error::Internal(format!("building the OSRM client: {e}")))?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client,
        })
    }

    pub fn url(&self, from: GeoPoint, to: GeoPoint) -> String {
        format!(
            "{}/route/v1/driving/{},{};{},{}?overview=false",
            self.base_url, from.longitude, from.latitude, to.longitude, to.latitude
        )
    }
}

#[derive(Deserialize)]
struct OsrmAnswer {
    code: String,
    #[serde(default)]
    routes: Vec<OsrmRoute>,
}

#[derive(Deserialize)]
struct OsrmRoute {
    /// metres
    distance: f64,
    /// seconds
    duration: f64,
}

impl RoutePlanner for OsrmPlanner {
    fn plan(&self, from: GeoPoint, to: GeoPoint) -> PlanFuture<'_> {
        let url = self.url(from, to);
        Box::pin(async move {
            let bad = |detail: String| Error::BadGateway {
                code: "route_planner_error",
                detail,
            };
            let response = self.client.get(&url).send().await.map_err(|e| {
                if e.is_timeout() {
                    Error::GatewayTimeout("the route planner did not answer in time".into())
                } else {
                    bad(format!("the route planner is unreachable: {e}"))
                }
            })?;
            // OSRM answers 400 with a JSON `code` (NoRoute, InvalidQuery...) too: read it
            let status = response.status();
            let answer: OsrmAnswer = response
                .json()
                .await
                .map_err(|e| bad(format!("unreadable route planner answer ({status}): {e}")))?;
            let route = match (answer.code.as_str(), answer.routes.first()) {
                ("Ok", Some(route)) => route,
                (code, _) => return Err(bad(format!("no route: {code}"))),
            };
            Ok(RouteEstimate {
                distance_km: route.distance / 1000.0,
                duration_minutes: route.duration / 60.0,
                method: "osrm",
                road_factor: None,
                average_speed_kmh: None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_applies_factor_and_speed() {
        let paris = GeoPoint::new(48.8566, 2.3522);
        let london = GeoPoint::new(51.5074, -0.1278);
        let e = estimate(paris, london);
        let straight = great_circle_km(paris, london);
        assert!((e.distance_km - straight * 1.3).abs() < 1e-9);
        assert!((e.duration_minutes - e.distance_km / 40.0 * 60.0).abs() < 1e-9);
        assert_eq!(e.method, "great_circle_estimate");
        // 10 km straight → 13 km road → 19.5 min at 40 km/h
        let a = GeoPoint::new(0.0, 0.0);
        let b = GeoPoint::new(10.0 / 111.195, 0.0);
        assert!((estimate(a, b).duration_minutes - 19.5).abs() < 0.01);
    }
}

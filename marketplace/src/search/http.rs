//! Search routes, all public: parse and validate, call the service, answer JSON.

use std::collections::HashMap;

use axum::extract::{FromRef, Path, Query, State};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::model::{
    check_limit, check_offset, check_radius, CurrentType, Filters, GeoPoint, MapBox, NearbyQuery,
    SortBy, DEFAULT_LIMIT, DEFAULT_RADIUS_KM,
};
use super::scoring::Weights;
use super::service;
use crate::error::{Error, FieldError};
use crate::http::{ApiContext, ApiJson};

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/search/nearby", post(nearby))
        .route("/api/search/recommend", post(recommend))
        .route("/api/search/location", get(location))
        .route("/api/search/chargers/{id}/availability", get(availability))
        .route("/api/search/area", post(area))
        .route("/api/search/route", post(route))
        .route("/api/search/advanced", post(advanced))
}

/// The body of `nearby` and the base of `recommend` and `advanced`. One struct with every
/// criterion keeps the three routes consistent; `deny_unknown_fields` turns a typo into a 422.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SearchBody {
    latitude: f64,
    longitude: f64,
    radius_km: Option<f64>,
    #[serde(default)]
    connector_types: Vec<String>,
    min_power_kw: Option<f64>,
    max_price_per_kwh: Option<f64>,
    #[serde(default)]
    available_now: bool,
    limit: Option<u32>,
    offset: Option<u32>,
    // advanced only
    #[serde(default)]
    amenities: Vec<String>,
    current_type: Option<CurrentType>,
    min_rating: Option<f64>,
    max_price_per_hour: Option<f64>,
    open_at: Option<DateTime<Utc>>,
    sort_by: Option<SortBy>,
    // recommend only
    weights: Option<Weights>,
}

impl SearchBody {
    /// Which optional fields a route accepts beyond the nearby ones; the others are refused
    /// by name rather than silently ignored.
    fn refuse_extras(&self, advanced: bool, recommend: bool, errors: &mut Vec<FieldError>) {
        let only = |present: bool, field: &str, route: &str, errors: &mut Vec<FieldError>| {
            if present {
                errors.push(FieldError::new(
                    field,
                    format!("is only accepted by {route}"),
                ));
            }
        };
        if !advanced {
            let adv = "/api/search/advanced";
            only(!self.amenities.is_empty(), "amenities", adv, errors);
            only(self.current_type.is_some(), "current_type", adv, errors);
            only(self.min_rating.is_some(), "min_rating", adv, errors);
            only(
                self.max_price_per_hour.is_some(),
                "max_price_per_hour",
                adv,
                errors,
            );
            only(self.open_at.is_some(), "open_at", adv, errors);
            only(self.sort_by.is_some(), "sort_by", adv, errors);
        }
        if !recommend {
            only(
                self.weights.is_some(),
                "weights",
                "/api/search/recommend",
                errors,
            );
        }
    }

    fn into_query(self, advanced: bool, recommend: bool) -> Result<NearbyQuery, Error> {
        let mut errors = Vec::new();
        self.refuse_extras(advanced, recommend, &mut errors);
        let center = GeoPoint::new(self.latitude, self.longitude);
        center.check("", &mut errors);
        let radius_km = self.radius_km.unwrap_or(DEFAULT_RADIUS_KM);
        check_radius(radius_km, &mut errors);
        let limit = self
            .limit
            .unwrap_or(if recommend { 5 } else { DEFAULT_LIMIT });
        check_limit(limit, &mut errors);
        let offset = self.offset.unwrap_or(0);
        check_offset(offset, &mut errors);
        if recommend && offset > 0 {
            errors.push(FieldError::new(
                "offset",
                "recommend answers one ranked list",
            ));
        }
        let filters = Filters {
            connector_types: self.connector_types,
            min_power_kw: self.min_power_kw,
            max_price_per_kwh: self.max_price_per_kwh,
            max_price_per_hour: self.max_price_per_hour,
            available_now: self.available_now,
            open_at: self.open_at,
            amenities: self.amenities,
            current_type: self.current_type,
            min_rating: self.min_rating,
        };
        filters.check(&mut errors);
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(NearbyQuery {
            center,
            radius_km,
            filters,
            sort: self.sort_by.unwrap_or_default(),
            limit,
            offset,
        })
    }
}

async fn nearby(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<ApiJson<service::Page>, Error> {
    let q = body.into_query(false, false)?;
    Ok(ApiJson(
        service::nearby(&ctx.pool, &q, ctx.clock.now()).await?,
    ))
}

async fn advanced(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<ApiJson<service::Page>, Error> {
    let q = body.into_query(true, false)?;
    Ok(ApiJson(
        service::nearby(&ctx.pool, &q, ctx.clock.now()).await?,
    ))
}

async fn recommend(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<ApiJson<service::Recommendation>, Error> {
    let weights = body.weights.unwrap_or_default();
    let q = body.into_query(false, true)?;
    let rec = service::recommend(&ctx.pool, &q, weights, ctx.clock.now()).await?;
    Ok(ApiJson(rec))
}

/// Query strings are parsed by hand so that every bad parameter is a 422 naming it (axum's
/// `Query` rejection is plain text without the field).
struct Params(HashMap<String, String>);

impl Params {
    fn parse<T: std::str::FromStr>(
        &self,
        name: &str,
        what: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<T> {
        let raw = self.0.get(name)?;
        match raw.trim().parse() {
            Ok(v) => Some(v),
            Err(_) => {
                errors.push(FieldError::new(name, format!("must be {what}")));
                None
            }
        }
    }
}

/// How many places `location` answers at most.
const MAX_PLACES: usize = 20;

/// `GET /api/search/location?q=paris fr&limit=5&with_chargers=true&radius_km=10`
async fn location(
    State(ctx): State<ApiContext>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<ApiJson<service::Located>, Error> {
    let params = Params(params);
    let mut errors = Vec::new();
    let q = params
        .0
        .get("q")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    if q.is_empty() || q.chars().count() > 200 {
        errors.push(FieldError::new(
            "q",
            "must be a place name of 1 to 200 characters",
        ));
    }
    let limit: usize = params
        .parse("limit", "an integer", &mut errors)
        .unwrap_or(5);
    if !(1..=MAX_PLACES).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_PLACES}"),
        ));
    }
    let with_chargers: bool = params
        .parse("with_chargers", "true or false", &mut errors)
        .unwrap_or(false);
    let radius_km = params
        .parse("radius_km", "a number", &mut errors)
        .unwrap_or(DEFAULT_RADIUS_KM);
    check_radius(radius_km, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let chargers = with_chargers.then(|| NearbyQuery {
        center: GeoPoint::new(0.0, 0.0),
        radius_km,
        filters: Filters::default(),
        sort: SortBy::Distance,
        limit: DEFAULT_LIMIT,
        offset: 0,
    });
    let located = service::locate(&ctx.pool, &q, limit, chargers, ctx.clock.now()).await?;
    Ok(ApiJson(located))
}

async fn availability(
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
) -> Result<ApiJson<service::Availability>, Error> {
    // an id that is not a UUID cannot name a charger: the same 404 as an unknown one
    let id: Uuid = id.parse().map_err(|_| Error::NotFound("charger"))?;
    Ok(ApiJson(
        service::availability(&ctx.pool, id, ctx.clock.now()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaBody {
    min_lat: f64,
    min_lon: f64,
    max_lat: f64,
    max_lon: f64,
    #[serde(default)]
    connector_types: Vec<String>,
    min_power_kw: Option<f64>,
    max_price_per_kwh: Option<f64>,
    #[serde(default)]
    available_now: bool,
    limit: Option<u32>,
}

/// Markers shown on a map before it switches to clusters.
const DEFAULT_AREA_LIMIT: u32 = 100;

async fn area(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<AreaBody>,
) -> Result<ApiJson<service::AreaView>, Error> {
    let mut errors = Vec::new();
    let b = MapBox::new(body.min_lat, body.min_lon, body.max_lat, body.max_lon)
        .map_err(|e| errors.extend(e))
        .ok();
    let limit = body.limit.unwrap_or(DEFAULT_AREA_LIMIT);
    check_limit(limit, &mut errors);
    let filters = Filters {
        connector_types: body.connector_types,
        min_power_kw: body.min_power_kw,
        max_price_per_kwh: body.max_price_per_kwh,
        available_now: body.available_now,
        ..Filters::default()
    };
    filters.check(&mut errors);
    match b {
        Some(b) if errors.is_empty() => Ok(ApiJson(
            service::area(&ctx.pool, &b, &filters, limit, ctx.clock.now()).await?,
        )),
        _ => Err(Error::Validation(errors)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteBody {
    latitude: f64,
    longitude: f64,
    charger_id: Uuid,
}

async fn route(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<RouteBody>,
) -> Result<ApiJson<service::RouteView>, Error> {
    let from = GeoPoint::new(body.latitude, body.longitude);
    let mut errors = Vec::new();
    from.check("", &mut errors);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let view = service::route(&ctx.pool, ctx.route_planner.as_ref(), from, body.charger_id).await?;
    Ok(ApiJson(view))
}

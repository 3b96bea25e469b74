//! Search routes, all public: parse and validate, call the service, answer JSON.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::extract::{FromRef, Path, Query, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::model::{
    check_limit, check_offset, check_radius, CurrentType, Filters, GeoPoint, MapBox, NearbyQuery,
    SortBy, DEFAULT_LIMIT, DEFAULT_RADIUS_KM,
};
use super::scoring::Weights;
use super::service;
use crate::error::{Error, FieldError};
use crate::http::doc::{JsonBody, Problem};
use crate::http::{ApiContext, ApiJson};

const TAG: &str = "search";

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .routes(routes!(nearby))
        .routes(routes!(recommend))
        .routes(routes!(location))
        .routes(routes!(availability))
        .routes(routes!(area))
        .routes(routes!(route))
        .routes(routes!(advanced))
}

/// The body of `nearby` and the base of `recommend` and `advanced`. One struct with every
/// criterion keeps the three routes consistent; `deny_unknown_fields` turns a typo into a 422.
///
/// The document shows each route only the fields it accepts ([`NearbyBody`],
/// [`AdvancedBody`], [`RecommendBody`]); the others are refused by name.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SearchBody {
    #[schema(minimum = -90, maximum = 90, example = 52.3676)]
    latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.9041)]
    longitude: f64,
    /// More than 0, at most 100; default 10.
    #[schema(exclusive_minimum = 0, maximum = 100, example = 10)]
    radius_km: Option<f64>,
    /// Any of these connectors; default any.
    #[serde(default)]
    #[schema(value_type = Vec<crate::listings::ConnectorType>)]
    connector_types: Vec<String>,
    /// The most powerful port at least this, in kW.
    #[schema(minimum = 0, example = 11)]
    min_power_kw: Option<f64>,
    /// Per kWh, in the listing's currency; unpriced listings do not match.
    #[schema(minimum = 0, example = 0.5)]
    max_price_per_kwh: Option<f64>,
    /// Only chargers with a port reported free now that are open now; default `false`.
    #[serde(default)]
    available_now: bool,
    /// Default 20.
    #[schema(minimum = 1, maximum = 100, example = 20)]
    limit: Option<u32>,
    /// Default 0.
    #[schema(minimum = 0, maximum = 1000)]
    offset: Option<u32>,
    // advanced only
    #[serde(default)]
    #[schema(schema_with = amenities_schema)]
    amenities: Vec<String>,
    /// Only chargers with a connector of this current.
    #[schema(value_type = Option<crate::listings::CurrentType>)]
    current_type: Option<CurrentType>,
    /// Rated at least this on average (unrated chargers do not match).
    #[schema(minimum = 0, maximum = 5)]
    min_rating: Option<f64>,
    /// Per hour plugged in; listings without an hourly price do not match.
    #[schema(minimum = 0)]
    max_price_per_hour: Option<f64>,
    /// Open (by opening hours and blackouts) at this instant.
    open_at: Option<DateTime<Utc>>,
    /// Default `distance`.
    sort_by: Option<SortBy>,
    // recommend only
    weights: Option<Weights>,
}

/// `amenities` (advanced): each must be non-blank and at most 64 bytes (`Filters::check`).
fn amenities_schema() -> Schema {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"\S"))
                .max_length(Some(64))
                .examples([serde_json::json!("Toilets")]),
        )
        .description(Some(
            "Listings with all of these; each not blank, at most 64 bytes (UTF-8)",
        ))
        .into()
}

/// The fields of [`SearchBody`] every search by a point takes.
const NEARBY_FIELDS: [&str; 9] = [
    "latitude",
    "longitude",
    "radius_km",
    "connector_types",
    "min_power_kw",
    "max_price_per_kwh",
    "available_now",
    "limit",
    "offset",
];

/// What `advanced` adds.
const ADVANCED_FIELDS: [&str; 6] = [
    "amenities",
    "current_type",
    "min_rating",
    "max_price_per_hour",
    "open_at",
    "sort_by",
];

/// [`SearchBody`]'s schema with only the fields one route accepts, then `edit`ed.
fn body_schema(extra: &[&str], edit: impl FnOnce(&mut Object)) -> RefOr<Schema> {
    let keep = |name: &str| NEARBY_FIELDS.contains(&name) || extra.contains(&name);
    let mut schema = SearchBody::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.properties.retain(|name, _| keep(name));
        object.required.retain(|name| keep(name));
        edit(object);
    }
    schema
}

/// Sets a property's description (and what else `edit` changes), when it is an inline object.
fn edit_property(object: &mut Object, name: &str, edit: impl FnOnce(&mut Object)) {
    if let Some(RefOr::T(Schema::Object(property))) = object.properties.get_mut(name) {
        edit(property);
    }
}

/// Documents one search route's body, cut from [`SearchBody`].
macro_rules! search_body {
    ($(#[$meta:meta])* $name:ident, $schema_name:literal, $body:expr) => {
        $(#[$meta])*
        struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $body
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($schema_name)
            }

            fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
                SearchBody::schemas(out);
            }
        }
    };
}

search_body!(
    /// `POST /api/search/nearby`: listed chargers within `radius_km`, nearest first.
    NearbyBody,
    "NearbySearch",
    body_schema(&[], |o| {
        o.description = Some("Listed chargers within `radius_km` of a point, nearest first".into());
    })
);

search_body!(
    /// `POST /api/search/advanced`: the nearby fields plus more filters and a sort order.
    AdvancedBody,
    "AdvancedSearch",
    body_schema(&ADVANCED_FIELDS, |o| {
        o.description = Some("The nearby fields plus more filters and a sort order".into());
    })
);

search_body!(
    /// `POST /api/search/recommend`: the nearby fields (limit 5 by default, no offset) plus
    /// `weights`.
    RecommendBody,
    "RecommendSearch",
    body_schema(&["weights"], |o| {
        o.description = Some(
            "The nearby fields (`limit` 5 by default, no `offset`) plus `weights`; the 50 \
             nearest matches are scored and the best `limit` answered"
                .into(),
        );
        edit_property(o, "limit", |p| p.description = Some("Default 5.".into()));
        edit_property(o, "offset", |p| {
            p.description = Some("Only 0: recommend answers one ranked list.".into());
            p.maximum = Some(utoipa::Number::Int(0));
        });
    })
);

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

/// Chargers near a point
///
/// **Roles:** none needed (public).
///
/// Listed chargers within `radius_km`, nearest first, that pass every filter given. Fields
/// of the other search routes are refused by name (422).
#[utoipa::path(
    post,
    path = "/api/search/nearby",
    tag = TAG,
    request_body = NearbyBody,
    responses(
        (status = 200, description = "Matching listed chargers, nearest first", body = service::Page),
        JsonBody,
    )
)]
async fn nearby(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<ApiJson<service::Page>, Error> {
    let q = body.into_query(false, false)?;
    Ok(ApiJson(
        service::nearby(&ctx.pool, &q, ctx.clock.now()).await?,
    ))
}

/// Nearby search with every filter and a sort order
///
/// **Roles:** none needed (public).
///
/// The nearby search plus amenities, current type, rating, hourly price, opening time and a
/// sort order. `weights` belongs to recommend and is refused by name (422).
#[utoipa::path(
    post,
    path = "/api/search/advanced",
    tag = TAG,
    request_body = AdvancedBody,
    responses(
        (status = 200, description = "Matching listed chargers in `sort_by` order", body = service::Page),
        JsonBody,
    )
)]
async fn advanced(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<ApiJson<service::Page>, Error> {
    let q = body.into_query(true, false)?;
    Ok(ApiJson(
        service::nearby(&ctx.pool, &q, ctx.clock.now()).await?,
    ))
}

/// Recommended chargers nearby
///
/// **Roles:** none needed (public).
///
/// Scores the 50 nearest matching listed chargers on distance, price, free ports and rating,
/// mixed by `weights`, and answers the best `limit`; ties go to a featured charger, then the
/// nearer one. Fields of the other search routes are refused by name (422), and so are
/// weights that are all 0.
#[utoipa::path(
    post,
    path = "/api/search/recommend",
    tag = TAG,
    request_body = RecommendBody,
    responses(
        (status = 200, description = "The best-scored chargers, best first", body = service::Recommendation),
        JsonBody,
    )
)]
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
/// Look a place name up
///
/// **Roles:** none needed (public).
///
/// An offline city-level gazetteer (GeoNames cities of 15 000+ inhabitants): `paris`,
/// `paris fr`, `Springfield, US` resolve to a city centre; street addresses do not. With
/// `with_chargers=true`, also searches chargers around the best match. Other query
/// parameters are ignored.
#[utoipa::path(
    get,
    path = "/api/search/location",
    tag = TAG,
    params(
        ("q" = String, Query, pattern = r"^\s*\S([\s\S]{0,198}\S)?\s*$",
            description = "Place name, 1 to 200 characters once trimmed", example = "paris fr"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 20,
            description = "At most this many places (5)"),
        ("with_chargers" = Option<bool>, Query,
            description = "Also search chargers around the best match (false)"),
        ("radius_km" = Option<f64>, Query, exclusive_minimum = 0, maximum = 100,
            description = "Radius of that charger search, in km (10)"),
    ),
    responses(
        (status = 200, description = "Best matches first", body = service::Located),
        (status = 422, description = "`q` is missing or a parameter is out of range; each is named in `errors` (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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

/// When a charger's ports are free over the next 24 hours
///
/// **Roles:** none needed (public).
///
/// Each port's status now and per local hour: closed by the calendar, out of order, booked
/// (reserved), occupied now, or free.
#[utoipa::path(
    get,
    path = "/api/search/chargers/{id}/availability",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "Ports' status now and per hour", body = service::Availability),
        (status = 404, description = "No such listed charger (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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

/// `POST /api/search/area`: a map viewport and the nearby filters.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AreaSearch)]
struct AreaBody {
    /// Clamped to ±90; not above `max_lat` once clamped.
    #[schema(example = 52.34)]
    min_lat: f64,
    /// West edge; above `max_lon` when the box crosses the antimeridian.
    #[schema(minimum = -180, maximum = 180, example = 4.86)]
    min_lon: f64,
    /// Clamped to ±90.
    #[schema(example = 52.39)]
    max_lat: f64,
    /// East edge.
    #[schema(minimum = -180, maximum = 180, example = 4.94)]
    max_lon: f64,
    /// Any of these connectors; default any.
    #[serde(default)]
    #[schema(value_type = Vec<crate::listings::ConnectorType>)]
    connector_types: Vec<String>,
    /// The most powerful port at least this, in kW.
    #[schema(minimum = 0)]
    min_power_kw: Option<f64>,
    /// Per kWh; unpriced listings do not match.
    #[schema(minimum = 0)]
    max_price_per_kwh: Option<f64>,
    /// Only chargers with a port reported free now that are open now; default `false`.
    #[serde(default)]
    available_now: bool,
    /// Markers shown before the answer switches to clusters; default 100.
    #[schema(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// Markers shown on a map before it switches to clusters.
const DEFAULT_AREA_LIMIT: u32 = 100;

/// Chargers inside a map box
///
/// **Roles:** none needed (public).
///
/// A map viewport: `min_lon > max_lon` crosses the antimeridian; latitudes past a pole are
/// clamped to ±90, and `min_lat` must not be above `max_lat` once clamped (a 422 naming
/// `min_lat`). Answers every match as a marker, or clusters on an 8 × 8 grid when more than
/// `limit` match.
#[utoipa::path(
    post,
    path = "/api/search/area",
    tag = TAG,
    request_body = AreaBody,
    responses(
        (status = 200, description = "Markers, or clusters when more than `limit` match", body = service::AreaView),
        JsonBody,
    )
)]
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

/// `POST /api/search/route`: distance and driving time from a point to a listed charger.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RouteSearch)]
struct RouteBody {
    #[schema(minimum = -90, maximum = 90, example = 52.3676)]
    latitude: f64,
    #[schema(minimum = -180, maximum = 180, example = 4.9041)]
    longitude: f64,
    /// The listed charger to drive to.
    charger_id: Uuid,
}

/// Distance and driving time to a charger
///
/// **Roles:** none needed (public).
///
/// By the configured road router, or estimated from the great-circle distance (× 1.3 at
/// 40 km/h); when the router fails, the estimate is answered with `fallback_reason`.
#[utoipa::path(
    post,
    path = "/api/search/route",
    tag = TAG,
    request_body = RouteBody,
    responses(
        (status = 200, description = "The route estimate", body = service::RouteView),
        JsonBody,
        (status = 404, description = "No such listed charger (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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

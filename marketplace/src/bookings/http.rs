//! Booking routes: parse, call the service with the context's clock, shape the answer.
//!
//! Ids in paths are parsed here: a malformed id names nothing, so it is the same 404
//! problem+json as an unknown one (as in listings).

mod query;

use axum::body::Bytes;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::model::NewBooking;
use super::rules::RulesInput;
use super::service::{self, Created};
use super::view::{BookingView, DaySlots, Page, RulesView};
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};
use crate::plumbing::idempotency;

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/bookings", get(list_mine).post(create))
        .route("/api/bookings/{id}", get(show))
        .route("/api/bookings/{id}/confirm", post(confirm))
        .route("/api/bookings/{id}/cancel", post(cancel))
        .route("/api/bookings/{id}/reschedule", post(reschedule))
        .route("/api/bookings/{id}/extend", post(extend))
        .route("/api/bookings/{id}/check-in", post(check_in))
        .route("/api/host/bookings", get(list_hosted))
        .route("/api/chargers/{id}/slots", get(slots))
        .route(
            "/api/chargers/{id}/booking-rules",
            get(rules).put(set_rules),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    charger_id: Uuid,
    port_id: Uuid,
    /// Required unless `emergency` (which starts now).
    start_time: Option<DateTime<Utc>>,
    end_time: DateTime<Utc>,
    #[serde(default)]
    emergency: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RescheduleBody {
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    /// Another port of the same charger; defaults to the booking's.
    port_id: Option<Uuid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendBody {
    end_time: DateTime<Utc>,
}

fn booking_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("booking"))
}

fn charger_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("charger"))
}

type Reply<T> = Result<ApiJson<T>, Error>;

async fn create(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, Error> {
    let key = idempotency::from_headers(&headers)?;
    let input = NewBooking {
        charger_id: body.charger_id,
        port_id: body.port_id,
        start_time: body.start_time,
        end_time: body.end_time,
        emergency: body.emergency,
    };
    let created = service::create(&ctx.pool, &caller, input, key, ctx.clock.now()).await?;
    Ok(match created {
        Created::New(booking) => {
            (StatusCode::CREATED, ApiJson(BookingView::from(*booking))).into_response()
        }
        Created::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            idempotency::mark_replayed((status, axum::Json(body)).into_response(), true)
        }
    })
}

async fn show(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<BookingView> {
    let booking = service::get(&ctx.pool, &caller, booking_id(&id)?).await?;
    Ok(ApiJson(booking.into()))
}

async fn list_mine(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<Page> {
    let filter = query::list_filter(&params, false)?;
    let (limit, offset) = (filter.limit, filter.offset);
    let (items, total) = service::list_mine(&ctx.pool, &caller, filter).await?;
    Ok(ApiJson(Page {
        items: items.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    }))
}

async fn list_hosted(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<Page> {
    let filter = query::list_filter(&params, true)?;
    let (limit, offset) = (filter.limit, filter.offset);
    let (items, total) = service::list_hosted(&ctx.pool, &caller, filter).await?;
    Ok(ApiJson(Page {
        items: items.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    }))
}

async fn confirm(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<BookingView> {
    let booking = service::confirm(&ctx.pool, &caller, booking_id(&id)?, ctx.clock.now()).await?;
    Ok(ApiJson(booking.into()))
}

/// The body is optional here: an empty one means no reason.
async fn cancel(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply<BookingView> {
    let body: CancelBody = ApiJson::optional(&headers, &body)?.unwrap_or_default();
    let id = booking_id(&id)?;
    let booking = service::cancel(&ctx.pool, &caller, id, body.reason, ctx.clock.now()).await?;
    Ok(ApiJson(booking.into()))
}

async fn reschedule(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RescheduleBody>,
) -> Reply<BookingView> {
    let booking = service::reschedule(
        &ctx.pool,
        &caller,
        booking_id(&id)?,
        body.start_time,
        body.end_time,
        body.port_id,
        ctx.clock.now(),
    )
    .await?;
    Ok(ApiJson(booking.into()))
}

async fn extend(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExtendBody>,
) -> Reply<BookingView> {
    let id = booking_id(&id)?;
    let booking = service::extend(&ctx.pool, &caller, id, body.end_time, ctx.clock.now()).await?;
    Ok(ApiJson(booking.into()))
}

async fn check_in(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<BookingView> {
    let booking = service::check_in(&ctx.pool, &caller, booking_id(&id)?, ctx.clock.now()).await?;
    Ok(ApiJson(booking.into()))
}

async fn slots(
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<DaySlots> {
    let id = charger_id(&id)?;
    let date = query::slots_date(&params)?;
    Ok(ApiJson(
        service::slots(&ctx.pool, id, date, ctx.clock.now()).await?,
    ))
}

async fn rules(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<RulesView> {
    let view = service::rules(&ctx.pool, caller.as_ref(), charger_id(&id)?).await?;
    Ok(ApiJson(view))
}

async fn set_rules(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RulesInput>,
) -> Reply<RulesView> {
    let view = service::set_rules(&ctx.pool, &caller, charger_id(&id)?, body).await?;
    Ok(ApiJson(view))
}

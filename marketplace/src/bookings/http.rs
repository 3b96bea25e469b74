//! Booking routes: parse, call the service with the context's clock, shape the answer.
//!
//! Ids in paths are parsed here: a malformed id names nothing, so it is the same 404
//! problem+json as an unknown one (as in listings).

mod query;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::model::{BookingStatus, NewBooking};
use super::rules::RulesInput;
use super::service::{self, Created};
use super::view::{BookingView, DaySlots, Page, RulesView};
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::http::doc::{BadQuery, JsonBody, OptionalToken, Problem, RoleOnly, SignedIn};
use crate::http::{ApiContext, ApiJson, RawBody};
use crate::plumbing::idempotency;

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    let mut router = OpenApiRouter::default()
        .routes(routes!(list_mine, create))
        .routes(routes!(show))
        .routes(routes!(confirm))
        .routes(routes!(cancel))
        .routes(routes!(reschedule))
        .routes(routes!(extend))
        .routes(routes!(check_in))
        .routes(routes!(list_hosted))
        .routes(routes!(slots))
        .routes(routes!(rules, set_rules));
    optional_body(&mut router, "/api/bookings/{id}/cancel");
    router
}

/// utoipa marks a request body required unless its type is an `Option`, which would also
/// allow a `null` body; the cancel body may be left out but is never `null`.
fn optional_body<S: Clone + Send + Sync + 'static>(router: &mut OpenApiRouter<S>, path: &str) {
    let body = router
        .get_openapi_mut()
        .paths
        .paths
        .get_mut(path)
        .and_then(|item| item.post.as_mut())
        .and_then(|op| op.request_body.as_mut());
    if let Some(body) = body {
        body.required = Some(utoipa::openapi::Required::False);
    }
}

/// `POST /api/bookings`. Times are RFC 3339 with any offset; they are stored in UTC.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BookingBody)]
struct CreateBody {
    /// The listing.
    charger_id: Uuid,
    /// One of the listing's ports.
    port_id: Uuid,
    /// Required unless `emergency` (an emergency booking starts now; if sent it must be
    /// within 5 minutes of now).
    #[schema(example = "2031-01-01T10:00:00Z")]
    start_time: Option<DateTime<Utc>>,
    /// After `start_time`, within the listing's minimum and maximum duration (emergency: at
    /// most 2 hours).
    #[schema(example = "2031-01-01T11:00:00Z")]
    end_time: DateTime<Utc>,
    /// Default `false`. Starts now, is confirmed at once, and moves (or preempts, with a full
    /// refund) non-emergency bookings in the way.
    #[serde(default)]
    emergency: bool,
}

/// `POST /api/bookings/{id}/cancel`; the body may be left out.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BookingCancelBody)]
struct CancelBody {
    /// Kept with the booking (trimmed; blank is none); at most 500 characters.
    #[schema(max_length = 500, example = "Plans changed")]
    reason: Option<String>,
}

/// `POST /api/bookings/{id}/reschedule`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BookingRescheduleBody)]
struct RescheduleBody {
    #[schema(example = "2031-01-01T12:00:00Z")]
    start_time: DateTime<Utc>,
    #[schema(example = "2031-01-01T13:00:00Z")]
    end_time: DateTime<Utc>,
    /// Another port of the same charger; defaults to the booking's.
    port_id: Option<Uuid>,
}

/// `POST /api/bookings/{id}/extend`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BookingExtendBody)]
struct ExtendBody {
    /// Later than the booking's current end.
    #[schema(example = "2031-01-01T12:00:00Z")]
    end_time: DateTime<Utc>,
}

fn booking_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("booking"))
}

fn charger_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("charger"))
}

type Reply<T> = Result<ApiJson<T>, Error>;

/// Book a port
///
/// **Roles:** any signed-in user.
///
/// A pending booking holding the slot for 10 minutes (30 with priority booking) unless
/// confirmed; with `emergency` it starts now and is confirmed at once, its payment hold taken
/// on the wallet then. The slot must keep the listing's opening hours, blackouts, durations,
/// lead time and advance window (7 days longer with priority booking). A driver who owes money
/// from an earlier charge cannot book. Send an `Idempotency-Key` header to retry safely: a
/// retry with the same key and body answers the first booking again (with
/// `Idempotent-Replayed: true`); the same key with another body is a 422.
#[utoipa::path(
    post,
    path = "/api/bookings",
    tag = "bookings",
    security(("bearer" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1,
            max_length = 255, pattern = "^[!-~]+$",
            description = "1 to 255 visible ASCII characters; a retry with the same key and \
                body answers the first booking again"),
    ),
    request_body = CreateBody,
    responses(
        (status = 201, description = "Booked (or the replayed first answer)", body = BookingView,
            headers(("Idempotent-Replayed" = String,
                description = "`true` on the answer replayed for a retried `Idempotency-Key`"))),
        SignedIn,
        JsonBody,
        (status = 404, description = "No such charger, or it is not listed (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slot_taken`: the port is booked then; `conflicting_slot` names the `port_id`, `start_time` and `end_time` of the booking in the way (left out when that booking was gone by the time it was looked up: try again); `port_unavailable`: an emergency booking on a port that reports itself occupied, faulted or unavailable; `outstanding_debt`: the driver owes money from an earlier charge (top up first); `payment_required`: the wallet does not cover an emergency booking's amount (it is confirmed at once)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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

/// One booking
///
/// **Roles:** any signed-in user. Visible to the booking's driver, the listing's host and
/// admins; anyone else gets the same 404 as for a missing booking.
#[utoipa::path(
    get,
    path = "/api/bookings/{id}",
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The booking")),
    responses(
        (status = 200, description = "The booking", body = BookingView),
        SignedIn,
        (status = 404, description = "No such booking, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn show(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<BookingView> {
    let booking = service::get(&ctx.pool, &caller, booking_id(&id)?).await?;
    Ok(ApiJson(booking.into()))
}

/// My bookings
///
/// **Roles:** any signed-in user.
///
/// The caller's own bookings as a driver, latest start first. Any other parameter is a 422.
#[utoipa::path(
    get,
    path = "/api/bookings",
    tag = "bookings",
    security(("bearer" = [])),
    params(
        ("status" = Option<Vec<BookingStatus>>, Query, style = Form, explode = false, min_items = 1,
            description = "Only these statuses (comma-separated, or the parameter repeated)"),
        ("from" = Option<DateTime<Utc>>, Query,
            description = "Only bookings ending after this instant (RFC 3339)"),
        ("to" = Option<DateTime<Utc>>, Query,
            description = "Only bookings starting before this instant (RFC 3339; after `from`)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip (0)"),
    ),
    responses(
        (status = 200, description = "A page of bookings, latest start first", body = Page),
        SignedIn,
        BadQuery,
    )
)]
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

/// Bookings on my chargers
///
/// **Roles:** host, admin.
///
/// Hosts see the bookings on their listings; admins see all. Latest start first; any other
/// parameter is a 422.
#[utoipa::path(
    get,
    path = "/api/host/bookings",
    tag = "bookings",
    security(("bearer" = [])),
    params(
        ("status" = Option<Vec<BookingStatus>>, Query, style = Form, explode = false, min_items = 1,
            description = "Only these statuses (comma-separated, or the parameter repeated)"),
        ("from" = Option<DateTime<Utc>>, Query,
            description = "Only bookings ending after this instant (RFC 3339)"),
        ("to" = Option<DateTime<Utc>>, Query,
            description = "Only bookings starting before this instant (RFC 3339; after `from`)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip (0)"),
        ("charger_id" = Option<Uuid>, Query, description = "Only this listing's"),
    ),
    responses(
        (status = 200, description = "A page of bookings, latest start first", body = Page),
        RoleOnly,
        BadQuery,
    )
)]
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

/// Confirm a pending booking
///
/// **Roles:** any signed-in user. Visible to the booking's driver, the listing's host and
/// admins; only the driver or an admin may confirm.
///
/// Confirming secures the money in the same step: the booking's amount is held on the
/// driver's wallet, or a card authorization of the booking (`POST /api/payments`, purpose
/// `booking`, manual capture) covers it; with neither the booking stays pending. A port bound
/// to a charging station then gets its station reservation.
#[utoipa::path(
    post,
    path = "/api/bookings/{id}/confirm",
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The booking")),
    responses(
        (status = 200, description = "The booking as it is now", body = BookingView),
        SignedIn,
        (status = 403, description = "The listing's host: only the driver or an admin may do this (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_booking_transition`: only a pending booking; `booking_expired`: not confirmed within its hold (it is expired now); `outstanding_debt`: the driver owes money from an earlier charge (top up first); `payment_required`: neither the wallet nor a card authorization covers the amount",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn confirm(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<BookingView> {
    let booking = service::confirm(&ctx.pool, &caller, booking_id(&id)?, ctx.clock.now()).await?;
    Ok(ApiJson(booking.into()))
}

/// Cancel a booking
///
/// **Roles:** any signed-in user. Visible to the booking's driver, the listing's host and
/// admins, who may all cancel.
///
/// The driver's cancellation refunds per the listing's policy (default: more than 2 h before
/// the start 100%, more than 1 h 50%, otherwise nothing; exactly 2 h is 50%, exactly 1 h
/// nothing); the host's (or an admin's) always refunds in full, and the driver is told. A
/// booking never confirmed charged nothing. The answer carries the `refund`. The body may be
/// left out (an empty body is no reason).
#[utoipa::path(
    post,
    path = "/api/bookings/{id}/cancel",
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The booking")),
    request_body(content = CancelBody, content_type = "application/json",
        description = "Optional: a reason (an empty body is none)"),
    responses(
        (status = 200, description = "Cancelled, with the refund decision", body = BookingView),
        SignedIn,
        (status = 400, description = "A body was sent that is not JSON, or not the JSON value the route takes (`malformed_json`, `invalid_body`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the server accepts \
            (`payload_too_large`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A non-empty body without `Content-Type: application/json` (`unsupported_media_type`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown field, a wrong type, or a `reason` over 500 characters; each is named in `errors` (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_booking_transition`: only pending or confirmed bookings",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn cancel(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Reply<BookingView> {
    let body: CancelBody = ApiJson::optional(&headers, &body)?.unwrap_or_default();
    let id = booking_id(&id)?;
    let booking = service::cancel(&ctx.pool, &caller, id, body.reason, ctx.clock.now()).await?;
    Ok(ApiJson(booking.into()))
}

/// Move to another slot
///
/// **Roles:** any signed-in user. Visible to the booking's driver, the listing's host and
/// admins; only the driver or an admin may reschedule.
///
/// A new slot, and with `port_id` another port of the same charger, for a pending or
/// confirmed booking that has not started (not an emergency booking). Atomic: the old slot is
/// held until the new one is. Same rules as a new booking; the price follows the new length.
#[utoipa::path(
    post,
    path = "/api/bookings/{id}/reschedule",
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The booking")),
    request_body = RescheduleBody,
    responses(
        (status = 200, description = "The booking as it is now", body = BookingView),
        SignedIn,
        JsonBody,
        (status = 403, description = "The listing's host: only the driver or an admin may do this (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_booking_transition`: only from pending or confirmed; `emergency_booking`: an emergency booking is not moved (book anew); `booking_started`: the booking has started (extend it instead); `slot_taken`: the port is booked then; `conflicting_slot` names the `port_id`, `start_time` and `end_time` of the booking in the way (left out when that booking was gone by the time it was looked up: try again)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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

/// End later
///
/// **Roles:** any signed-in user. Visible to the booking's driver, the listing's host and
/// admins; only the driver or an admin may extend.
///
/// A later end for a booking that is not over (also while charging), if the port is free and
/// the charger open until then, within the listing's maximum duration (emergency: 2 hours).
#[utoipa::path(
    post,
    path = "/api/bookings/{id}/extend",
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The booking")),
    request_body = ExtendBody,
    responses(
        (status = 200, description = "The booking as it is now", body = BookingView),
        SignedIn,
        JsonBody,
        (status = 403, description = "The listing's host: only the driver or an admin may do this (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_booking_transition`: only from pending, confirmed, checked_in or charging; `slot_taken`: the port is booked then; `conflicting_slot` names the `port_id`, `start_time` and `end_time` of the booking in the way (left out when that booking was gone by the time it was looked up: try again)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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

/// Arrive
///
/// **Roles:** any signed-in user. Visible to the booking's driver, the listing's host and
/// admins; only the driver or an admin may check in.
///
/// Within the arrival window: from the grace period before the start to the grace period
/// after it (never past the end).
#[utoipa::path(
    post,
    path = "/api/bookings/{id}/check-in",
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The booking")),
    responses(
        (status = 200, description = "Checked in", body = BookingView),
        SignedIn,
        (status = 403, description = "The listing's host: only the driver or an admin may do this (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_booking_transition`: only from confirmed; `outside_arrival_window`: too early, or too late (a no-show)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn check_in(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<BookingView> {
    let booking = service::check_in(&ctx.pool, &caller, booking_id(&id)?, ctx.clock.now()).await?;
    Ok(ApiJson(booking.into()))
}

/// Free slots on a day
///
/// **Roles:** none needed (public).
///
/// Each port's free and booked stretches on a listed charger's local day (23 or 25 hours on
/// the days the clocks change), on the listing's local clock. "Free" means bookable by a new
/// booking now: open, not held, from now plus the lead time on, and at least the minimum
/// duration long.
#[utoipa::path(
    get,
    path = "/api/chargers/{id}/slots",
    tag = "bookings",
    params(
        ("id" = Uuid, Path, description = "The listing"),
        ("date" = chrono::NaiveDate, Query, description = "The listing's local day (`YYYY-MM-DD`)"),
    ),
    responses(
        (status = 200, description = "Free and booked stretches per port", body = DaySlots),
        (status = 404, description = "No such charger, or it is not listed (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`date` is missing, not a date or out of range, or another parameter was sent; each is named in `errors` (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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

/// A listing's booking rules
///
/// **Roles:** none needed; a bearer token is optional: without one only listed chargers'
/// rules are visible.
///
/// The rules in force: the listing's own, or the defaults (`custom: false`). The listing's
/// host and admins also see an unlisted listing's.
#[utoipa::path(
    get,
    path = "/api/chargers/{id}/booking-rules",
    tag = "bookings",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    responses(
        (status = 200, description = "The rules in force", body = RulesView),
        OptionalToken,
        (status = 404, description = "No such charger, or one the caller may not see (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn rules(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    Path(id): Path<String>,
) -> Reply<RulesView> {
    let view = service::rules(&ctx.pool, caller.as_ref(), charger_id(&id)?).await?;
    Ok(ApiJson(view))
}

/// Set a listing's booking rules
///
/// **Roles:** any signed-in user. Only the listing's host or an admin.
///
/// Replaces the rules; a missing field takes its default (`{}` resets them all). Existing
/// bookings keep the rules they were made under, except the refund policy, which is read
/// when a booking is cancelled.
#[utoipa::path(
    put,
    path = "/api/chargers/{id}/booking-rules",
    tag = "bookings",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The listing")),
    request_body = RulesInput,
    responses(
        (status = 200, description = "The rules now in force", body = RulesView),
        SignedIn,
        JsonBody,
        (status = 403, description = "A listed charger of another host (`forbidden`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such charger, or another host's that is not listed (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_rules(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RulesInput>,
) -> Reply<RulesView> {
    let view = service::set_rules(&ctx.pool, &caller, charger_id(&id)?, body).await?;
    Ok(ApiJson(view))
}

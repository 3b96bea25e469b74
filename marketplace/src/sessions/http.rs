//! Session routes: parse, call the service with the context's clock and station control,
//! shape the answer. A malformed id in a path is the same 404 as an unknown one.

pub mod estimate;
mod live;
mod query;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{KeepAlive, Sse};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::analytics::{self, HostAnalytics};
use super::service::{self, BillingView, StartInput, Stats};
use super::store::pages::SessionSummary;
use super::view::SessionView;
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::http::doc::{BadQuery, JsonBody, Problem, SignedIn};
use crate::http::{ApiContext, ApiJson};

pub use live::LIVE_EVERY;

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .routes(routes!(list))
        .routes(routes!(start))
        .routes(routes!(stats))
        .routes(routes!(show))
        .routes(routes!(live))
        .routes(routes!(billing))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(stop))
        .routes(routes!(host_analytics))
}

/// What a call to the charger's station can answer when the station cannot be asked, or
/// does not say yes or no (a no is a 409 `station_rejected`). Routes that talk to a station
/// list it; the station's port ([`super::port::StationControl`]) maps its failures to these.
#[derive(utoipa::IntoResponses)]
pub enum StationCall {
    /// The station answered with an OCPP CALLERROR (`station_call_error`), or with an
    /// answer that is not valid OCPP (`station_bad_answer`)
    #[response(status = 502, content_type = "application/problem+json")]
    BadGateway(Problem),
    /// The charger's station is offline or busy, or this server cannot reach charging
    /// stations (`service_unavailable`)
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
    /// The station did not answer in time (`gateway_timeout`)
    #[response(status = 504, content_type = "application/problem+json")]
    Timeout(Problem),
}

fn session_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("session"))
}

type Reply<T> = Result<ApiJson<T>, Error>;

/// Start charging
///
/// **Roles:** any signed-in user.
///
/// Either from a booking of the caller's (`booking_id`: confirmed or checked in, from its
/// arrival window until its end), or on a charger's free port (`charger_id` and `port_id`: a
/// listed charger, a host's own, or any for admins; no other driver's booking may hold the
/// port now). Sends RequestStartTransaction (remoteStartId = the session number; the
/// driver's own id token, else the booking's `BOOKING-<reservation id>` or
/// `SESSION-<number>`). The session is `start` until the station reports the transaction,
/// then `active`. A session without a booking first holds the estimate of a full battery at
/// the tariff (capped, `--session-hold-max-minor`) on the wallet, or what the wallet has down
/// to `--session-hold-min-minor`; while it charges past what secures it, the hold is topped
/// up from the wallet, else the session is stopped (`stop_reason` `funds_exhausted`). A
/// booking must be secured (a wallet hold or a card authorization), and a driver who owes
/// money starts nothing. When the station refuses or cannot be reached, the session is
/// cancelled, its hold given back, and the answer says why.
#[utoipa::path(
    post,
    path = "/api/sessions/start",
    tag = "sessions",
    security(("bearer" = [])),
    request_body = StartInput,
    responses(
        (status = 202, description = "The station accepted; the session waits for the \
            transaction", body = SessionView),
        SignedIn,
        JsonBody,
        (status = 404, description = "No such booking of the caller's, no such port on the \
            charger or a charger the caller may not start on (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The session cannot start: the booking is not \
            startable now (`booking_not_startable`), another driver's booking holds the port \
            (`port_booked`), a session is running on the port (`port_busy`) or for the \
            booking (`session_running`), the port is not an OCPP station's EVSE \
            (`not_remote_startable`), it is faulted or unavailable (`port_unavailable`), the \
            charger has no price (`no_pricing`), the wallet cannot hold the session's minimum \
            or nothing secures the booking (`payment_required`), the driver owes money \
            (`outstanding_debt`), or the station refused (`station_rejected`)",
            body = Problem, content_type = "application/problem+json"),
        StationCall,
    )
)]
async fn start(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<StartInput>,
) -> Result<(StatusCode, ApiJson<SessionView>), Error> {
    let view = service::start(
        &ctx.pool,
        ctx.station_control.as_ref(),
        &ctx.session_funds,
        &caller,
        body,
        ctx.clock.now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, ApiJson(view)))
}

/// A session, live
///
/// **Roles:** any signed-in user. Its driver, the charger's host and admins may read it;
/// anyone else gets the same 404 as for a missing session.
///
/// Live kWh, power, state of charge, time charging / idle / paused, and the cost so far from
/// the tariff in force at the start (the bill's total once billed).
#[utoipa::path(
    get,
    path = "/api/sessions/{id}",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 200, description = "The session", body = SessionView),
        SignedIn,
        (status = 404, description = "No such session, or not the caller's to see \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn show(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<SessionView> {
    let view = service::get(&ctx.pool, &caller, session_id(&id)?, ctx.clock.now()).await?;
    Ok(ApiJson(view))
}

/// A session, as server-sent events
///
/// **Roles:** any signed-in user. Its driver, the charger's host and admins may follow it;
/// anyone else gets the same 404 as for a missing session, before any event.
///
/// `text/event-stream`: a `snapshot` event (its data the session as `GET
/// /api/sessions/{id}` answers it, JSON) at once and every 2 seconds, and a last `end` event
/// (the same data) once the session is cancelled, or completed and billed (a completed
/// session whose bill waits for late station data ends after five more snapshots without
/// it); then the stream ends. Should the session become unreadable meanwhile, an `error`
/// event (its data a sentence) ends the stream. Comments keep an idle connection open.
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/live",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 200, description = "Events `snapshot`, then `end` (data: a Session as \
            JSON), or `error`", content_type = "text/event-stream", body = String),
        SignedIn,
        (status = 404, description = "No such session, or not the caller's to see \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn live(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let id = session_id(&id)?;
    // not visible: a problem+json 404 before any event
    service::visible(&ctx.pool, &caller, id).await?;
    let events = live::events(ctx.pool.clone(), caller, id, ctx.clock.clone());
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The itemized bill
///
/// **Roles:** any signed-in user. Its driver, the charger's host and admins may read it;
/// anyone else gets the same 404 as for a missing session.
///
/// Computed once when the transaction ended, with the tariff in force at the start;
/// immutable. Late station data restates it as a new revision (the old ones are listed in
/// `superseded`, oldest first).
#[utoipa::path(
    get,
    path = "/api/sessions/{id}/billing",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 200, description = "The bill in force", body = BillingView),
        SignedIn,
        (status = 404, description = "No such session, or not the caller's to see \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No bill: the session is still running, was cancelled, \
            or its bill waits for late station data (`not_billed`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn billing(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<BillingView> {
    Ok(ApiJson(
        service::billing(&ctx.pool, &caller, session_id(&id)?).await?,
    ))
}

/// Pause charging
///
/// **Roles:** any signed-in user. Only the session's driver or an admin control it (the
/// charger's host may look, not control: 403).
///
/// SetChargingProfile: a TxProfile of 0 A on the transaction. Paused time is tracked apart.
/// Should the station end the transaction meanwhile, the session is answered as it is.
#[utoipa::path(
    post,
    path = "/api/sessions/{id}/pause",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 200, description = "Paused", body = SessionView),
        SignedIn,
        (status = 403, description = "The charger's host may look, not control \
            (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or not the caller's to see \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The session is not active, or the station has not \
            reported its transaction yet (`invalid_session_state`); the station refused the \
            profile (`station_rejected`)",
            body = Problem, content_type = "application/problem+json"),
        StationCall,
    )
)]
async fn pause(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<SessionView> {
    pause_or_resume(ctx, caller, &id, true).await
}

/// Resume charging
///
/// **Roles:** any signed-in user. Only the session's driver or an admin control it (the
/// charger's host may look, not control: 403).
///
/// ClearChargingProfile of the pause profile. Should the station end the transaction
/// meanwhile, the session is answered as it is.
#[utoipa::path(
    post,
    path = "/api/sessions/{id}/resume",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 200, description = "Charging again", body = SessionView),
        SignedIn,
        (status = 403, description = "The charger's host may look, not control \
            (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or not the caller's to see \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The session is not paused \
            (`invalid_session_state`); the station refused to clear the profile \
            (`station_rejected`)",
            body = Problem, content_type = "application/problem+json"),
        StationCall,
    )
)]
async fn resume(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Reply<SessionView> {
    pause_or_resume(ctx, caller, &id, false).await
}

async fn pause_or_resume(
    ctx: ApiContext,
    caller: AuthUser,
    id: &str,
    pause: bool,
) -> Reply<SessionView> {
    let view = service::pause_or_resume(
        &ctx.pool,
        ctx.station_control.as_ref(),
        &caller,
        session_id(id)?,
        pause,
        ctx.clock.now(),
    )
    .await?;
    Ok(ApiJson(view))
}

/// Stop charging
///
/// **Roles:** any signed-in user. Only the session's driver or an admin control it (the
/// charger's host may look, not control: 403).
///
/// RequestStopTransaction; the session completes (and is billed) with the station's
/// TransactionEvent Ended. Before the station reported the transaction, nothing is sent:
/// the session is cancelled and its hold given back.
#[utoipa::path(
    post,
    path = "/api/sessions/{id}/stop",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 202, description = "The station accepted (the session completes with its \
            Ended event), or the session was cancelled before it started", body = SessionView),
        SignedIn,
        (status = 403, description = "The charger's host may look, not control \
            (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or not the caller's to see \
            (`not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The session is already completed or cancelled \
            (`invalid_session_state`); the station refused to stop (`station_rejected`)",
            body = Problem, content_type = "application/problem+json"),
        StationCall,
    )
)]
async fn stop(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<SessionView>), Error> {
    let view = service::stop(
        &ctx.pool,
        ctx.station_control.as_ref(),
        &caller,
        session_id(&id)?,
        ctx.clock.now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, ApiJson(view)))
}

/// A page of the caller's sessions, newest first.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SessionPage)]
struct Page {
    items: Vec<SessionSummary>,
    total: i64,
    limit: i64,
    offset: i64,
}

/// My sessions (history)
///
/// **Roles:** any signed-in user.
///
/// The sessions the caller charged (as driver), newest first by when they started (or were
/// asked for, before starting); the cost of each is its bill in force.
#[utoipa::path(
    get,
    path = "/api/sessions",
    tag = "sessions",
    security(("bearer" = [])),
    params(
        ("status" = Option<String>, Query,
            pattern = r"^\s*(?:start|active|paused|completed|cancelled)\s*(?:,\s*(?:start|active|paused|completed|cancelled)\s*)*$",
            example = "completed,cancelled",
            description = "Only these statuses, comma-separated (the parameter may also be \
                repeated)"),
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query,
            description = "Started (or asked for, before starting) at or after this instant \
                (RFC 3339)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query,
            description = "Started before this instant (RFC 3339); after `from`"),
        ("min_cost" = Option<String>, Query, pattern = r"^(?:\+?(?:(?:(?:[0-9]_*){1,28}(?:\.[0-9_]*)?|\.[0-9][0-9_]*)|(?:(?:[0-9]_*){1,14}(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE](?:-\+?0*(?:[0-9]|1[0-9]|2[0-8])|\+?0*(?:[0-9]|1[0-4])))|-(?:0[0_]*(?:\.[0_]*)?|\.0[0_]*)(?:[eE](?:-\+?|\+)?0*(?:[0-9]|1[0-9]|2[0-8]))?)$",
            example = "1.50",
            description = "Billed total at least this non-negative decimal, in the \
                currency's units (unbilled sessions are left out)"),
        ("max_cost" = Option<String>, Query, pattern = r"^(?:\+?(?:(?:(?:[0-9]_*){1,28}(?:\.[0-9_]*)?|\.[0-9][0-9_]*)|(?:(?:[0-9]_*){1,14}(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE](?:-\+?0*(?:[0-9]|1[0-9]|2[0-8])|\+?0*(?:[0-9]|1[0-4])))|-(?:0[0_]*(?:\.[0_]*)?|\.0[0_]*)(?:[eE](?:-\+?|\+)?0*(?:[0-9]|1[0-9]|2[0-8]))?)$",
            example = "20",
            description = "Billed total at most this non-negative decimal, not below \
                `min_cost` (unbilled sessions are left out)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip"),
    ),
    responses(
        (status = 200, description = "A page of sessions, newest first", body = Page),
        SignedIn,
        BadQuery,
    )
)]
async fn list(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<impl IntoResponse, Error> {
    let filter = query::list_filter(&params, caller.id)?;
    let (limit, offset) = (filter.limit, filter.offset);
    let (items, total) = service::list(&ctx.pool, &filter).await?;
    Ok(ApiJson(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// My totals
///
/// **Roles:** any signed-in user.
///
/// The sessions the caller charged (as driver): how many per status, and the billed ones'
/// money, energy and time per currency.
#[utoipa::path(
    get,
    path = "/api/sessions/stats",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts by status and billed totals per currency",
            body = Stats),
        SignedIn,
    )
)]
async fn stats(State(ctx): State<ApiContext>, caller: AuthUser) -> Reply<Stats> {
    Ok(ApiJson(service::stats(&ctx.pool, &caller).await?))
}

/// Host analytics
///
/// **Roles:** hosts with the `analytics` subscription, and admins.
///
/// The caller's chargers (admins: all), or one of them. Revenue by local hour of day (billed
/// sessions), utilisation per port, the five most popular (weekday, local hour) slots, and a
/// price suggestion per charger: utilisation ≥ 60 %: +10 %, < 15 %: −10 %, otherwise keep,
/// within 0.05–1.00 per kWh.
#[utoipa::path(
    get,
    path = "/api/host/analytics",
    tag = "sessions",
    security(("bearer" = [])),
    params(
        ("charger_id" = Option<Uuid>, Query,
            description = "Only this charger (a host's own; another's has no figures)"),
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query,
            description = "Window start (default: 30 days before `to`)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query,
            description = "Window end (default: now); after `from`, at most 366 days after it"),
    ),
    responses(
        (status = 200, description = "Analytics over the window", body = HostAnalytics),
        SignedIn,
        (status = 403, description = "The caller is not a host (`forbidden`), or a host \
            without the `analytics` subscription (`subscription_required`)",
            body = Problem, content_type = "application/problem+json"),
        BadQuery,
    )
)]
async fn host_analytics(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Reply<HostAnalytics> {
    let (charger, from, to) = query::analytics(&params)?;
    let now = ctx.clock.now();
    let window = analytics::window(from, to, now)?;
    Ok(ApiJson(
        analytics::host_analytics(&ctx.pool, &caller, charger, window, now).await?,
    ))
}

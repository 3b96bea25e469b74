//! The driver's use cases: start (from a booking or a free port), pause, resume, stop, and
//! reading sessions. Station calls go through the [`StationControl`] port and are never made
//! while a session row is locked: the station's own messages about the session need that
//! lock, and the CSMS handles a station's messages one at a time.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::openapi::schema::{KnownFormat, Schema, SchemaFormat};
use utoipa::openapi::RefOr;
use uuid::Uuid;

use super::funds::{self, SessionFunds};
use super::model::{self, transition, ChargingSession, SessionAction, SessionStatus};
use super::port::{Answer, ChargingLimit, IdToken, StationControl};
use super::store::{self, bills, context, pages, NewSession};
use super::view::{self, SessionView};
use crate::accounts::{AuthUser, Role};
use crate::error::{Error, FieldError};
use crate::tariffs;

const NOT_FOUND: Error = Error::NotFound("session");

/// `POST /api/sessions/start`: a booking of the caller's, or a charger's port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartInput {
    pub booking_id: Option<Uuid>,
    pub charger_id: Option<Uuid>,
    pub port_id: Option<Uuid>,
}

/// The body's rule in the API document: either `booking_id`, or `charger_id` and `port_id`;
/// the others left out or `null` (what [`StartInput::validate`] enforces).
impl utoipa::PartialSchema for StartInput {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, OneOfBuilder, Type};
        use utoipa::openapi::ObjectBuilder;
        let id = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                .description(Some(description))
        };
        let absent = || ObjectBuilder::new().schema_type(Type::Null);
        let booking = "The caller's confirmed or checked-in booking, from its arrival window \
                       until its end";
        let charger = "A charger the caller may start on: listed, or their own (hosts), or \
                       any (admins)";
        let port = "One of the charger's ports, which no other driver's booking holds now";
        let from_booking = ObjectBuilder::new()
            .title(Some("From a booking"))
            .property("booking_id", id(booking))
            .required("booking_id")
            .property("charger_id", absent())
            .property("port_id", absent())
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
        let on_port = ObjectBuilder::new()
            .title(Some("On a free port"))
            .property("booking_id", absent())
            .property("charger_id", id(charger))
            .required("charger_id")
            .property("port_id", id(port))
            .required("port_id")
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
        OneOfBuilder::new()
            .description(Some(
                "`POST /api/sessions/start`: either `booking_id`, or `charger_id` and \
                 `port_id` (the others left out or `null`).",
            ))
            .item(from_booking)
            .item(on_port)
            .into()
    }
}

impl utoipa::ToSchema for StartInput {
    fn name() -> std::borrow::Cow<'static, str> {
        "SessionStart".into()
    }
}

impl StartInput {
    fn validate(&self) -> Result<(), Error> {
        match (self.booking_id, self.charger_id, self.port_id) {
            (Some(_), None, None) | (None, Some(_), Some(_)) => Ok(()),
            (Some(_), _, _) => Err(Error::invalid(
                "booking_id",
                "give either booking_id, or charger_id and port_id",
            )),
            (None, c, p) => Err(Error::Validation(
                [("charger_id", c.is_none()), ("port_id", p.is_none())]
                    .into_iter()
                    .filter(|(_, missing)| *missing)
                    .map(|(f, _)| {
                        FieldError::new(f, "is required (or give booking_id to start a booking)")
                    })
                    .collect(),
            )),
        }
    }
}

fn conflict(code: &'static str, detail: impl Into<String>) -> Error {
    Error::Conflict {
        code,
        detail: detail.into(),
    }
}

fn invalid_state(e: model::InvalidTransition) -> Error {
    conflict("invalid_session_state", e.to_string())
}

/// Starts charging: the session is written in `start` (with, when no booking pays for it,
/// its hold on the wallet: 409 `payment_required` when the wallet is short), then the
/// station is asked (RequestStartTransaction with remoteStartId = the session number). A
/// refusal or an unreachable station cancels the session, gives the hold back, and is the
/// answer.
pub async fn start(
    pool: &PgPool,
    control: &dyn StationControl,
    funds: &SessionFunds,
    caller: &AuthUser,
    input: StartInput,
    now: DateTime<Utc>,
) -> Result<SessionView, Error> {
    input.validate()?;
    let mut tx = pool.begin().await?;
    let (port, booking) = match input.booking_id {
        Some(id) => {
            let b = context::booking(&mut tx, id)
                .await?
                .filter(|b| b.driver_id == caller.id)
                .ok_or(Error::NotFound("booking"))?;
            if !b.startable(now) {
                return Err(conflict(
                    "booking_not_startable",
                    "a session starts on a confirmed or checked-in booking, from its arrival \
                     window until its end",
                ));
            }
            let port = context::port(&mut tx, b.listing_id, b.port_id)
                .await?
                .ok_or(Error::NotFound("port"))?;
            (port, Some(b))
        }
        None => {
            let (charger, port_id) = (
                input.charger_id.unwrap_or_default(),
                input.port_id.unwrap_or_default(),
            );
            let port = context::port(&mut tx, charger, port_id)
                .await?
                .filter(|p| {
                    p.listing_status == "listed"
                        || p.host_id == caller.id
                        || caller.role == Role::Admin
                })
                .ok_or(Error::NotFound("port"))?;
            if context::held_by_other(&mut tx, port.port_id, caller.id, now).await? {
                return Err(conflict(
                    "port_booked",
                    "another driver's booking holds this port now; book a free slot",
                ));
            }
            (port, None)
        }
    };
    // money first: nothing is sent to the station for a driver who owes money, or for a
    // booking nothing secures (a booking confirmed before confirmation required a hold)
    crate::ledger::service::ensure_no_debt(&mut tx, caller.id).await?;
    if let Some(b) = &booking {
        if !crate::ledger::service::booking_secured(&mut tx, b.id, &b.currency, b.amount_cents)
            .await?
        {
            return Err(conflict(
                crate::ledger::service::PAYMENT_REQUIRED,
                "nothing secures this booking's amount: top up the wallet \
                 (POST /api/wallet/topup) or authorize a card for the booking \
                 (POST /api/payments with capture manual), then start again",
            ));
        }
    }
    let (Some(station_id), Some(evse_id)) = (port.station_id.clone(), port.evse_id) else {
        return Err(conflict(
            "not_remote_startable",
            "this port is not bound to an OCPP station's EVSE",
        ));
    };
    if port.device_kind != "ocpp" {
        return Err(conflict(
            "not_remote_startable",
            "this charger is not an OCPP station",
        ));
    }
    if matches!(port.live_status.as_str(), "Faulted" | "Unavailable") {
        return Err(conflict(
            "port_unavailable",
            format!("the port is {}", port.live_status),
        ));
    }
    // a charger without any price cannot be billed: refuse before charging
    tariffs::service::pricing_at(&mut tx, port.listing_id, now).await?;
    let number = store::next_number(&mut tx).await?;
    let token = match control.driver_token(caller.id).await? {
        Some(t) => t,
        None => IdToken::central(match &booking {
            Some(b) => model::booking_token(b.reservation_id),
            None => model::central_token(number),
        }),
    };
    let new = NewSession {
        id: Uuid::now_v7(),
        number: Some(number),
        driver_id: caller.id,
        listing_id: port.listing_id,
        port_id: port.port_id,
        booking_id: booking.as_ref().map(|b| b.id),
        station_id: station_id.clone(),
        evse_id,
        connector_id: port.connector_id,
        id_token: token.id_token.clone(),
        id_token_type: token.kind.clone(),
        status: SessionStatus::Start,
        origin: "app",
        emergency: booking.as_ref().is_some_and(|b| b.emergency),
        requested_at: now,
    };
    let session = store::insert(&mut tx, &new).await?;
    if booking.is_none() {
        funds::secure(&mut tx, funds, &new, now).await?;
    }
    tx.commit().await?;

    let answer = control.start(&station_id, evse_id, &token, number).await;
    let mut tx = pool.begin().await?;
    let mut s = store::get(&mut tx, session.id, true)
        .await?
        .ok_or(NOT_FOUND)?;
    let failure = match answer {
        Ok(a) => match a.answer {
            Answer::Accepted => {
                if s.transaction_id.is_none() {
                    s.transaction_id = a.transaction_id;
                }
                None
            }
            Answer::Rejected(reason) => Some(conflict(
                "station_rejected",
                format!(
                    "the station refused to start{}",
                    reason.map(|r| format!(" ({r})")).unwrap_or_default()
                ),
            )),
        },
        Err(e) => Some(e),
    };
    if let Some(e) = &failure {
        if s.status == SessionStatus::Start && s.transaction_id.is_none() {
            s.status = SessionStatus::Cancelled;
            s.end_reason = Some(format!("start failed: {e}"));
            crate::ledger::service::release_session_hold(&mut tx, s.id, now).await?;
        }
    }
    store::save(&mut tx, &s).await?;
    tx.commit().await?;
    match failure {
        Some(e) => Err(e),
        None => view::build(pool, &s, now).await,
    }
}

/// The session if the caller may see it: its driver, the charger's host, admins.
pub async fn visible(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<ChargingSession, Error> {
    let mut conn = pool.acquire().await?;
    let s = store::get(&mut conn, id, false).await?.ok_or(NOT_FOUND)?;
    if s.driver_id == caller.id || caller.role == Role::Admin {
        return Ok(s);
    }
    let host: Option<Uuid> = sqlx::query_scalar("SELECT host_id FROM listings WHERE id = $1")
        .bind(s.listing_id)
        .fetch_optional(&mut *conn)
        .await?;
    if host == Some(caller.id) {
        Ok(s)
    } else {
        Err(NOT_FOUND)
    }
}

/// The session if the caller may control it: its driver and admins (the host may only look).
async fn controllable(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
) -> Result<ChargingSession, Error> {
    let s = visible(pool, caller, id).await?;
    if s.driver_id == caller.id || caller.role == Role::Admin {
        Ok(s)
    } else {
        Err(Error::Forbidden)
    }
}

pub async fn get(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<SessionView, Error> {
    let s = visible(pool, caller, id).await?;
    view::build(pool, &s, now).await
}

/// Pauses (`pause = true`, a 0 A TxProfile) or resumes (the profile cleared) charging.
pub async fn pause_or_resume(
    pool: &PgPool,
    control: &dyn StationControl,
    caller: &AuthUser,
    id: Uuid,
    pause: bool,
    now: DateTime<Utc>,
) -> Result<SessionView, Error> {
    let action = if pause {
        SessionAction::Pause
    } else {
        SessionAction::Resume
    };
    let s = controllable(pool, caller, id).await?;
    transition(s.status, action).map_err(invalid_state)?;
    let transaction_id = s.transaction_id.clone().ok_or_else(|| {
        conflict(
            "invalid_session_state",
            "the station has not reported the transaction yet",
        )
    })?;
    let limit = ChargingLimit {
        station_id: s.station_id.clone(),
        evse_id: s.evse_id,
        transaction_id,
        profile_id: s.number,
        amps: pause.then_some(0.0),
    };
    if let Answer::Rejected(reason) = control.set_charging_limit(&limit).await? {
        return Err(conflict(
            "station_rejected",
            format!(
                "the station refused the charging profile{}",
                reason.map(|r| format!(" ({r})")).unwrap_or_default()
            ),
        ));
    }
    let mut tx = pool.begin().await?;
    let mut s = store::get(&mut tx, id, true).await?.ok_or(NOT_FOUND)?;
    // the station may have ended the transaction meanwhile: then there is nothing to change
    if let Ok(next) = transition(s.status, action) {
        s.status = next;
        if pause {
            store::open_pause(&mut tx, id, now).await?;
        } else {
            store::close_pause(&mut tx, id, now).await?;
        }
        store::save(&mut tx, &s).await?;
    }
    tx.commit().await?;
    view::build(pool, &s, now).await
}

/// Stops: RequestStopTransaction once the station reported the transaction (the session
/// completes with its Ended event); before that, the session is cancelled.
pub async fn stop(
    pool: &PgPool,
    control: &dyn StationControl,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<SessionView, Error> {
    let s = controllable(pool, caller, id).await?;
    if s.status.is_final() {
        return Err(conflict(
            "invalid_session_state",
            format!("a {} session cannot be stopped", s.status),
        ));
    }
    if let Some(transaction_id) = &s.transaction_id {
        if let Answer::Rejected(reason) = control.stop(&s.station_id, transaction_id).await? {
            return Err(conflict(
                "station_rejected",
                format!(
                    "the station refused to stop{}",
                    reason.map(|r| format!(" ({r})")).unwrap_or_default()
                ),
            ));
        }
    }
    let mut tx = pool.begin().await?;
    let mut s = store::get(&mut tx, id, true).await?.ok_or(NOT_FOUND)?;
    if s.status.is_live() {
        s.stop_requested_at.get_or_insert(now);
        if s.transaction_id.is_none() {
            s.status = transition(s.status, SessionAction::Cancel).map_err(invalid_state)?;
            s.end_reason = Some("stopped by the driver before the station started".into());
            crate::ledger::service::release_session_hold(&mut tx, s.id, now).await?;
        }
        store::save(&mut tx, &s).await?;
    }
    tx.commit().await?;
    view::build(pool, &s, now).await
}

/// The bill in force (its fields at the top level) and the revisions it superseded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = SessionBilling)]
pub struct BillingView {
    pub session_id: Uuid,
    #[serde(flatten)]
    pub bill: bills::StoredBill,
    /// Earlier revisions (corrections leave them in place), oldest first.
    pub superseded: Vec<bills::StoredBill>,
}

pub async fn billing(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<BillingView, Error> {
    let s = visible(pool, caller, id).await?;
    let mut revisions = bills::revisions(&mut *pool.acquire().await?, s.id).await?;
    let Some(bill) = revisions.pop() else {
        return Err(conflict(
            "not_billed",
            match s.status {
                SessionStatus::Completed => {
                    "the bill is computed once every event of the \
                                             transaction has arrived"
                }
                SessionStatus::Cancelled => "the session never started: there is no bill",
                _ => "the session is still running; its cost so far is in GET /api/sessions/{id}",
            },
        ));
    };
    Ok(BillingView {
        session_id: s.id,
        bill,
        superseded: revisions,
    })
}

/// A page of the caller's own sessions.
pub async fn list(
    pool: &PgPool,
    filter: &pages::ListFilter,
) -> Result<(Vec<pages::SessionSummary>, i64), Error> {
    pages::list(&mut *pool.acquire().await?, filter).await
}

/// A driver's totals.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = SessionStats)]
pub struct Stats {
    /// All of the driver's sessions.
    pub sessions: i64,
    /// Sessions per status: every status is named, 0 included.
    #[schema(schema_with = by_status_schema)]
    pub by_status: std::collections::BTreeMap<&'static str, i64>,
    /// Billed sessions (bills in force), per currency.
    pub billed: Vec<pages::CurrencyTotals>,
}

/// `by_status`: one count per [`SessionStatus`], each always present.
fn by_status_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, Type};
    use utoipa::openapi::ObjectBuilder;
    let mut object = ObjectBuilder::new()
        .description(Some(
            "Sessions per status: every status is named, 0 included.",
        ))
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
    for status in SessionStatus::ALL {
        let count = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0));
        object = object
            .property(status.as_str(), count)
            .required(status.as_str());
    }
    object.build()
}

pub async fn stats(pool: &PgPool, caller: &AuthUser) -> Result<Stats, Error> {
    let mut conn = pool.acquire().await?;
    let counts = pages::counts(&mut conn, caller.id).await?;
    let billed = pages::billed_totals(&mut conn, caller.id).await?;
    let mut by_status: std::collections::BTreeMap<&'static str, i64> =
        SessionStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for (status, n) in &counts {
        by_status.insert(status.as_str(), *n);
    }
    Ok(Stats {
        sessions: counts.iter().map(|c| c.1).sum(),
        by_status,
        billed,
    })
}

//! Stations belong to someone: a host claims a station before binding a listing to it.
//!
//! - With the station's Basic auth password (what its owner configured into it, security
//!   profiles 1 and 2) the claim is proved at once and the host owns the station.
//! - Without it (a station authenticated by certificate, or none) the claim waits for an
//!   operator, who approves or rejects it.
//!
//! A station owned by another host is never taken over by a claim: an operator settles that.
//! Wrong passwords are kept as rejected claims, which is also what limits guessing: a host
//! gets [`PASSWORD_TRIES`] wrong tries per [`TRY_WINDOW`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use marketplace::accounts::limits::{Limit, RateLimited};
use marketplace::accounts::{AuthUser, RequireOperator, Role};
use marketplace::error::Error;
use marketplace::http::doc::{JsonBody, Problem, RoleOnly};
use marketplace::http::ApiJson;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::doc::ClaimStatus;
use super::{ApiQuery, Page};
use crate::app::AppState;
use crate::ocpp::auth::verify_password;
use crate::ocpp::auth_throttle::hash_in_slot;
use crate::store::station_claims::{self as store, ClaimRow, NewClaim};

pub const PASSWORD_TRIES: i64 = 5;
pub const TRY_WINDOW: Duration = Duration::hours(1);

/// The values a claim's `status` takes.
pub const CLAIM_STATUSES: &[&str] = &["pending", "approved", "rejected"];
/// The values a claim's `proof` takes (the column's CHECK constraint).
pub const CLAIM_PROOFS: &[&str] = &["password", "operator"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, claim))
        .routes(routes!(approve))
        .routes(routes!(reject))
}

/// A host's claim to own a station.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = StationClaimBody)]
struct ClaimBody {
    /// The OCPP stationId.
    #[schema(example = "CS-0042")]
    station_id: String,
    /// The station's Basic auth password (profiles 1 and 2): proves the claim at once.
    /// Without it the claim waits for an operator.
    password: Option<String>,
    /// Up to 500 characters for the operator (where the station is, an invoice number).
    #[serde(default)]
    #[schema(max_length = 500)]
    note: String,
}

/// Claim a station
///
/// **Roles:** host, admin.
///
/// A host must own a station before binding a listing to it. With the station's password the
/// claim is approved at once (5 wrong tries an hour, then 429); without, an operator decides.
/// A station someone else owns is never taken over. A wrong password is kept as a rejected
/// claim.
#[utoipa::path(
    post,
    path = "/api/stations/claims",
    tag = "stations",
    security(("bearer" = [])),
    request_body = ClaimBody,
    responses(
        (status = 201, description = "Proved with the password: the host owns the station",
            body = ClaimRow),
        (status = 202, description = "Waiting for an operator", body = ClaimRow),
        RoleOnly,
        JsonBody,
        (status = 404, description = "No such station (`not_found`)", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The caller owns the station already (`already_owned`), \
            another account does (`station_owned`), or the caller's claim of it waits for an \
            operator (`claim_pending`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`password` is not the station's (or the station has no \
            Basic auth password), `note` is longer than 500 characters, or a body field is \
            missing, unknown or of the wrong type (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords: 5 an hour (`rate_limited`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until another try is allowed"))),
        (status = 503, description = "Every slot for checking passwords stayed taken; try again \
            shortly (`busy`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn claim(
    caller: AuthUser,
    State(app): State<AppState>,
    ApiJson(body): ApiJson<ClaimBody>,
) -> Result<(StatusCode, ApiJson<ClaimRow>), Error> {
    caller.require(&[Role::Host])?;
    if body.note.chars().count() > 500 {
        return Err(Error::invalid("note", "must be at most 500 characters"));
    }
    let mut tx = app.api.pool.begin().await?;
    let (owner, hash) = store::station_for_claim(&mut tx, &body.station_id)
        .await?
        .ok_or(Error::NotFound("station"))?;
    match owner {
        Some(o) if o == caller.id => {
            return Err(Error::Conflict {
                code: "already_owned",
                detail: "you own this station already".into(),
            })
        }
        Some(_) => {
            return Err(Error::Conflict {
                code: "station_owned",
                detail: "another account owns this station; ask an operator".into(),
            })
        }
        None => {}
    }
    let Some(password) = body.password else {
        let row = store::insert(
            &mut tx,
            &NewClaim {
                station_id: &body.station_id,
                host_id: caller.id,
                status: "pending",
                proof: "operator",
                note: &body.note,
            },
        )
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.constraint() == Some("station_claims_one_pending") => {
                Error::Conflict {
                    code: "claim_pending",
                    detail: "your claim of this station waits for an operator".into(),
                }
            }
            other => other.into(),
        })?;
        tx.commit().await?;
        return Ok((StatusCode::ACCEPTED, ApiJson(row)));
    };
    let now = Utc::now();
    let limit = Limit {
        max: PASSWORD_TRIES,
        window: TRY_WINDOW,
    };
    let (failed, oldest) =
        store::failed_password_claims(&mut tx, caller.id, limit.since(now)).await?;
    if let Some(retry_after_secs) = limit.retry_after(failed, oldest, now) {
        return Err(RateLimited { retry_after_secs }.into());
    }
    let proved = match hash {
        // the same fail-fast hashing slots as the stations' own handshakes
        Some(hash) => hash_in_slot(move || verify_password(&password, &hash))
            .await
            .ok_or_else(|| Error::Unavailable("busy checking credentials; try again".into()))?,
        None => false,
    };
    let status = if proved { "approved" } else { "rejected" };
    let row = store::insert(
        &mut tx,
        &NewClaim {
            station_id: &body.station_id,
            host_id: caller.id,
            status,
            proof: "password",
            note: &body.note,
        },
    )
    .await?;
    if proved {
        store::set_owner(&mut tx, &body.station_id, caller.id).await?;
    }
    tx.commit().await?;
    if proved {
        Ok((StatusCode::CREATED, ApiJson(row)))
    } else {
        Err(Error::invalid(
            "password",
            "is not this station's password (a station without Basic auth is claimed \
             without one, through an operator)",
        ))
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    // not a flattened `Page`: serde's flatten buffers the values as strings, which then no
    // longer parse as numbers (`?limit=5` was a 422)
    #[serde(default = "Page::default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

/// Station claims
///
/// **Roles:** host, operator, admin.
///
/// Hosts see their own; operators everyone's (`status=pending`: the queue). Newest first.
#[utoipa::path(
    get,
    path = "/api/stations/claims",
    tag = "stations",
    security(("bearer" = [])),
    params(
        ("status" = Option<ClaimStatus>, Query, description = "Only claims in this state"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "Page size (50)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip (0)"),
    ),
    responses(
        (status = 200, description = "Claims, newest first", body = Vec<ClaimRow>),
        RoleOnly,
        (status = 422, description = "`status` is not one of these, `limit` (1 to 500) or \
            `offset` (0 or more) is out of range, or a parameter has the wrong type or is \
            repeated (`query`); each is named in `errors` (`validation_failed`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list(
    caller: AuthUser,
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<ApiJson<Vec<ClaimRow>>, Error> {
    caller.require(&[Role::Host, Role::Operator])?;
    let page = Page {
        limit: q.limit,
        offset: q.offset,
    }
    .checked()?;
    if q.status
        .as_deref()
        .is_some_and(|s| !CLAIM_STATUSES.contains(&s))
    {
        return Err(Error::invalid(
            "status",
            "must be pending, approved or rejected",
        ));
    }
    let host = (!caller.role.is_allowed(&[Role::Operator])).then_some(caller.id);
    let mut conn = app.api.pool.acquire().await?;
    let rows = store::list(
        &mut conn,
        host,
        q.status.as_deref(),
        page.limit,
        page.offset,
    )
    .await?;
    Ok(ApiJson(rows))
}

/// Approve a claim
///
/// **Roles:** operator, admin.
///
/// The host becomes the station's owner.
#[utoipa::path(
    post,
    path = "/api/stations/claims/{id}/approve",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The claim")),
    responses(
        (status = 200, description = "Approved: the host owns the station", body = ClaimRow),
        RoleOnly,
        (status = 404, description = "No such claim, or it is decided already (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another account owns the station (`station_owned`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn approve(
    RequireOperator(op): RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<ApiJson<ClaimRow>, Error> {
    decide(&app, &id, "approved", op.id).await
}

/// Reject a claim
///
/// **Roles:** operator, admin.
#[utoipa::path(
    post,
    path = "/api/stations/claims/{id}/reject",
    tag = "stations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The claim")),
    responses(
        (status = 200, description = "Rejected", body = ClaimRow),
        RoleOnly,
        (status = 404, description = "No such claim, or it is decided already (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reject(
    RequireOperator(op): RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<ApiJson<ClaimRow>, Error> {
    decide(&app, &id, "rejected", op.id).await
}

async fn decide(
    app: &AppState,
    id: &str,
    status: &str,
    operator: Uuid,
) -> Result<ApiJson<ClaimRow>, Error> {
    let id: Uuid = id.parse().map_err(|_| Error::NotFound("pending claim"))?;
    let mut tx = app.api.pool.begin().await?;
    let claim = store::pending_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound("pending claim"))?;
    if status == "approved" {
        let (owner, _) = store::station_for_claim(&mut tx, &claim.station_id)
            .await?
            .ok_or(Error::NotFound("station"))?;
        if owner.is_some_and(|o| o != claim.host_id) {
            return Err(Error::Conflict {
                code: "station_owned",
                detail: "another account owns this station; reject this claim or free the \
                         station first"
                    .into(),
            });
        }
        store::set_owner(&mut tx, &claim.station_id, claim.host_id).await?;
    }
    let row = store::decide(&mut tx, id, status, operator).await?;
    tx.commit().await?;
    Ok(ApiJson(row))
}

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use marketplace::accounts::RequireOperator;
use marketplace::error::{Error, FieldError};
use marketplace::http::doc::{JsonBody, Problem, RoleOnly};
use marketplace::http::ApiJson;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::doc::{IdTokenStatus, IdTokenType, PageQuery};
use super::{ApiQuery, Page};
use crate::app::AppState;
use crate::store::id_tokens::{self, IdTokenRow, NewIdToken};

/// OCPP 2.0.1 IdTokenEnumType.
pub const TOKEN_TYPES: &[&str] = &[
    "Central",
    "eMAID",
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
];
/// OCPP 2.0.1 AuthorizationStatusEnumType, less "Unknown" (which means "not stored").
pub const STATUSES: &[&str] = &[
    "Accepted",
    "Blocked",
    "Expired",
    "Invalid",
    "NoCredit",
    "NotAllowedTypeEVSE",
    "NotAtThisLocation",
    "NotAtThisTime",
];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, replace, remove))
}

/// An id token to store: what a station presents, and whether it is let in.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdTokenBody {
    /// The token's value: 1 to 36 characters (OCPP identifierString).
    #[schema(min_length = 1, max_length = 36, example = "04A2B3C4D5E6F7")]
    id_token: String,
    /// Defaults to `ISO14443`.
    #[serde(rename = "type", default = "iso14443")]
    #[schema(value_type = IdTokenType)]
    token_type: String,
    /// Defaults to `Accepted`.
    #[serde(default = "accepted")]
    #[schema(value_type = IdTokenStatus)]
    status: String,
    /// From this instant on, stations are told `Expired` for an `Accepted` token.
    expires_at: Option<DateTime<Utc>>,
    /// OCPP groupIdToken: 1 to 36 characters.
    #[schema(min_length = 1, max_length = 36)]
    group_id: Option<String>,
    /// The marketplace user the token belongs to (must exist: a 422 on `userId` otherwise).
    user_id: Option<Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct IdTokenPage {
    items: Vec<IdTokenRow>,
    limit: i64,
    offset: i64,
}

fn iso14443() -> String {
    "ISO14443".into()
}

fn accepted() -> String {
    "Accepted".into()
}

impl IdTokenBody {
    fn validated(&self) -> Result<NewIdToken<'_>, Error> {
        let mut errors = Vec::new();
        if self.id_token.is_empty() || self.id_token.chars().count() > 36 {
            errors.push(FieldError::new(
                "idToken",
                "must be 1 to 36 characters (OCPP identifierString)",
            ));
        }
        if !TOKEN_TYPES.contains(&self.token_type.as_str()) {
            errors.push(FieldError::new(
                "type",
                format!("must be one of {}", TOKEN_TYPES.join(", ")),
            ));
        }
        if !STATUSES.contains(&self.status.as_str()) {
            errors.push(FieldError::new(
                "status",
                format!("must be one of {}", STATUSES.join(", ")),
            ));
        }
        if self
            .group_id
            .as_ref()
            .is_some_and(|g| g.is_empty() || g.chars().count() > 36)
        {
            errors.push(FieldError::new("groupId", "must be 1 to 36 characters"));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(NewIdToken {
            id_token: &self.id_token,
            token_type: &self.token_type,
            status: &self.status,
            expires_at: self.expires_at,
            group_id: self.group_id.as_deref(),
            user_id: self.user_id,
        })
    }
}

/// A path segment that is not a UUID names no token: 404 problem+json, not axum's plain text.
fn token_id(raw: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw).map_err(|_| Error::NotFound("id token"))
}

fn map_db(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("id_tokens_token_type_key") => {
            Error::Conflict {
                code: "id_token_exists",
                detail: "an id token with this value and type already exists".into(),
            }
        }
        sqlx::Error::Database(d) if d.constraint() == Some("id_tokens_user_id_fkey") => {
            Error::invalid("userId", "no such user")
        }
        _ => Error::Database(e),
    }
}

/// List id tokens
///
/// **Roles:** operator, admin.
///
/// Oldest first.
#[utoipa::path(
    get,
    path = "/api/id-tokens",
    tag = "id-tokens",
    security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "Page size (50)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip (0)"),
    ),
    responses(
        (status = 200, description = "A page of tokens", body = IdTokenPage),
        RoleOnly,
        PageQuery,
    )
)]
async fn list(
    _: RequireOperator,
    State(app): State<AppState>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<ApiJson<IdTokenPage>, Error> {
    let page = page.checked()?;
    let items = id_tokens::list(&app.api.pool, page.limit, page.offset).await?;
    Ok(ApiJson(IdTokenPage {
        items,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// Create an id token
///
/// **Roles:** operator, admin.
#[utoipa::path(
    post,
    path = "/api/id-tokens",
    tag = "id-tokens",
    security(("bearer" = [])),
    request_body = IdTokenBody,
    responses(
        (status = 201, description = "Created", body = IdTokenRow),
        RoleOnly,
        JsonBody,
        (status = 409, description = "A token with the same value and type is stored already \
            (`id_token_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idToken`, `type`, `status` or `groupId` breaks its rule, \
            `userId` names no user, or a body field is missing, unknown or of the wrong type \
            (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create(
    _: RequireOperator,
    State(app): State<AppState>,
    ApiJson(body): ApiJson<IdTokenBody>,
) -> Result<(StatusCode, ApiJson<IdTokenRow>), Error> {
    let row = id_tokens::insert(&app.api.pool, &body.validated()?)
        .await
        .map_err(map_db)?;
    Ok((StatusCode::CREATED, ApiJson(row)))
}

/// One id token
///
/// **Roles:** operator, admin.
#[utoipa::path(
    get,
    path = "/api/id-tokens/{id}",
    tag = "id-tokens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Token row id (not the token value)")),
    responses(
        (status = 200, description = "The token", body = IdTokenRow),
        RoleOnly,
        (status = 404, description = "No such id token (`not_found`)", body = Problem,
            content_type = "application/problem+json"),
    )
)]
async fn show(
    _: RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<ApiJson<IdTokenRow>, Error> {
    let row = id_tokens::get(&app.api.pool, token_id(&id)?)
        .await?
        .ok_or(Error::NotFound("id token"))?;
    Ok(ApiJson(row))
}

/// Replace an id token
///
/// **Roles:** operator, admin.
///
/// Every field is set from the body: one left out takes its default (or none).
#[utoipa::path(
    put,
    path = "/api/id-tokens/{id}",
    tag = "id-tokens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Token row id")),
    request_body = IdTokenBody,
    responses(
        (status = 200, description = "Updated", body = IdTokenRow),
        RoleOnly,
        JsonBody,
        (status = 404, description = "No such id token (`not_found`)", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Another token has the same value and type \
            (`id_token_exists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idToken`, `type`, `status` or `groupId` breaks its rule, \
            `userId` names no user, or a body field is missing, unknown or of the wrong type \
            (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn replace(
    _: RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IdTokenBody>,
) -> Result<ApiJson<IdTokenRow>, Error> {
    let row = id_tokens::update(&app.api.pool, token_id(&id)?, &body.validated()?)
        .await
        .map_err(map_db)?
        .ok_or(Error::NotFound("id token"))?;
    Ok(ApiJson(row))
}

/// Delete an id token
///
/// **Roles:** operator, admin.
#[utoipa::path(
    delete,
    path = "/api/id-tokens/{id}",
    tag = "id-tokens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Token row id")),
    responses(
        (status = 204, description = "Deleted"),
        RoleOnly,
        (status = 404, description = "No such id token (`not_found`)", body = Problem,
            content_type = "application/problem+json"),
    )
)]
async fn remove(
    _: RequireOperator,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    if id_tokens::delete(&app.api.pool, token_id(&id)?).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound("id token"))
    }
}

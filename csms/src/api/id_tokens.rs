use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use marketplace::accounts::RequireOperator;
use marketplace::error::{Error, FieldError};
use marketplace::http::ApiJson;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{ApiQuery, Page};
use crate::app::AppState;
use crate::store::id_tokens::{self, IdTokenRow, NewIdToken};

/// OCPP 2.0.1 IdTokenEnumType.
const TOKEN_TYPES: &[&str] = &[
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
const STATUSES: &[&str] = &[
    "Accepted",
    "Blocked",
    "Expired",
    "Invalid",
    "NoCredit",
    "NotAllowedTypeEVSE",
    "NotAtThisLocation",
    "NotAtThisTime",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/id-tokens", get(list).post(create))
        .route("/api/id-tokens/{id}", get(show).put(replace).delete(remove))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdTokenBody {
    id_token: String,
    #[serde(rename = "type", default = "iso14443")]
    token_type: String,
    #[serde(default = "accepted")]
    status: String,
    expires_at: Option<DateTime<Utc>>,
    group_id: Option<String>,
    user_id: Option<Uuid>,
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
        if self.id_token.is_empty() || self.id_token.len() > 36 {
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
            .is_some_and(|g| g.is_empty() || g.len() > 36)
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

async fn list(
    _: RequireOperator,
    State(app): State<AppState>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<ApiJson<Value>, Error> {
    let page = page.checked()?;
    let items = id_tokens::list(&app.api.pool, page.limit, page.offset).await?;
    Ok(ApiJson(
        json!({ "items": items, "limit": page.limit, "offset": page.offset }),
    ))
}

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

//! Operator routes over the id tokens (RFID cards, app tokens) stations authorize against.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::common::{limit, offset};
use super::route::{Route, OPERATOR};

const TAG: &str = "id-tokens";

/// OCPP 2.0.1 IdTokenEnumType.
#[derive(ToSchema)]
pub enum IdTokenType {
    Central,
    #[schema(rename = "eMAID")]
    EMaid,
    #[schema(rename = "ISO14443")]
    Iso14443,
    #[schema(rename = "ISO15693")]
    Iso15693,
    KeyCode,
    Local,
    MacAddress,
    NoAuthorization,
}

/// OCPP 2.0.1 AuthorizationStatusEnumType, less `Unknown` (which means "not stored").
#[derive(ToSchema)]
pub enum IdTokenStatus {
    Accepted,
    Blocked,
    Expired,
    Invalid,
    NoCredit,
    #[schema(rename = "NotAllowedTypeEVSE")]
    NotAllowedTypeEvse,
    NotAtThisLocation,
    NotAtThisTime,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct IdTokenBody {
    /// OCPP identifierString.
    #[schema(min_length = 1, max_length = 36, example = "04A2B3C4D5E6F7")]
    pub id_token: String,
    /// Defaults to `ISO14443`.
    #[schema(rename = "type")]
    pub token_type: Option<IdTokenType>,
    /// Defaults to `Accepted`.
    pub status: Option<IdTokenStatus>,
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(min_length = 1, max_length = 36)]
    pub group_id: Option<String>,
    /// The marketplace user the token belongs to (must exist: a 422 on `userId` otherwise).
    pub user_id: Option<Uuid>,
}

/// A stored token.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct IdToken {
    pub id: Uuid,
    pub id_token: String,
    #[schema(rename = "type")]
    pub token_type: IdTokenType,
    pub status: IdTokenStatus,
    #[schema(required)]
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub group_id: Option<String>,
    #[schema(required)]
    pub user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct IdTokenPage {
    pub items: Vec<IdToken>,
    pub limit: i64,
    pub offset: i64,
}

pub fn routes() -> Vec<Route> {
    let conflict = "`id_token_exists`: same value and type already stored";
    vec![
        Route::get("/api/id-tokens", TAG, "List id tokens")
            .access(OPERATOR)
            .query("limit", "Page size", limit())
            .query("offset", "Rows to skip", offset())
            .ok::<IdTokenPage>(200, "A page of tokens")
            .problem(
                422,
                "`limit` (1 to 500) or `offset` (0 or more) out of range, or not a number",
            ),
        Route::post("/api/id-tokens", TAG, "Create an id token")
            .access(OPERATOR)
            .body::<IdTokenBody>()
            .ok::<IdToken>(201, "Created")
            .conflict(conflict),
        Route::get("/api/id-tokens/{id}", TAG, "One id token")
            .access(OPERATOR)
            .uuid_param("id", "Token row id (not the token value)")
            .ok::<IdToken>(200, "The token")
            .not_found("id token"),
        Route::put("/api/id-tokens/{id}", TAG, "Replace an id token")
            .access(OPERATOR)
            .uuid_param("id", "Token row id")
            .body::<IdTokenBody>()
            .ok::<IdToken>(200, "Updated")
            .not_found("id token")
            .conflict(conflict),
        Route::delete("/api/id-tokens/{id}", TAG, "Delete an id token")
            .access(OPERATOR)
            .uuid_param("id", "Token row id")
            .empty(204, "Deleted")
            .not_found("id token"),
    ]
}

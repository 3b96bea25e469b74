//! Admins switch accounts off and on. Disabling takes effect at once: refresh tokens are
//! revoked and the token version is bumped, so the user's unexpired access tokens stop
//! working on the very next request.

use axum::extract::{Path, State};
use serde::Serialize;
use uuid::Uuid;

use crate::accounts::extract::RequireAdmin;
use crate::accounts::model::{Role, User};
use crate::accounts::service;
use crate::error::Error;
use crate::http::doc::{Problem, RoleOnly};
use crate::http::{ApiContext, ApiJson};

/// An account and whether it is switched off.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = UserAccountState)]
pub(super) struct AccountState {
    id: Uuid,
    #[schema(example = "driver@example.com")]
    email: String,
    role: Role,
    /// A disabled account cannot log in, and its tokens are refused.
    disabled: bool,
}

impl From<User> for AccountState {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            role: u.role,
            disabled: u.disabled,
        }
    }
}

fn user_id(text: &str) -> Result<Uuid, Error> {
    text.parse().map_err(|_| Error::NotFound("user"))
}

/// Disable an account
///
/// **Roles:** admin.
///
/// Takes effect at once: the account's refresh tokens are revoked and its access tokens are
/// refused from the next request on.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/disable",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user")),
    responses(
        (status = 200, description = "The account, now disabled", body = AccountState),
        RoleOnly,
        (status = 404, description = "No such user (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The admin named their own account \
            (`cannot_disable_self`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn disable(
    RequireAdmin(admin): RequireAdmin,
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
) -> Result<ApiJson<AccountState>, Error> {
    let id = user_id(&id)?;
    if id == admin.id {
        return Err(Error::Conflict {
            code: "cannot_disable_self",
            detail: "an admin cannot disable their own account".into(),
        });
    }
    Ok(ApiJson(
        service::set_disabled(&ctx.pool, id, true).await?.into(),
    ))
}

/// Re-enable an account
///
/// **Roles:** admin.
///
/// The user can log in again; the tokens that disabling revoked stay revoked.
#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/enable",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The user")),
    responses(
        (status = 200, description = "The account, now enabled", body = AccountState),
        RoleOnly,
        (status = 404, description = "No such user (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn enable(
    RequireAdmin(_): RequireAdmin,
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
) -> Result<ApiJson<AccountState>, Error> {
    let id = user_id(&id)?;
    Ok(ApiJson(
        service::set_disabled(&ctx.pool, id, false).await?.into(),
    ))
}

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
use crate::http::{ApiContext, ApiJson};

#[derive(Serialize)]
pub(super) struct AccountState {
    id: Uuid,
    email: String,
    role: Role,
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

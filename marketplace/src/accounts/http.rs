//! Account routes: parse, call the service, shape the answer.

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extract::AuthUser;
use super::model::{Role, TokenPair, User};
use super::service::{self, Registration};
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};

pub fn router<S>() -> Router<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
}

// Unknown fields are rejected so a client's typo (`displayName`) is a 422, not silently lost.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    email: String,
    password: String,
    display_name: Option<String>,
    role: Option<Role>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

/// The public view of an account.
#[derive(Serialize)]
struct UserView {
    id: Uuid,
    email: String,
    role: Role,
    display_name: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email,
            role: user.role,
            display_name: user.display_name,
            created_at: user.created_at,
        }
    }
}

#[derive(Serialize)]
struct RegisteredView {
    user: UserView,
    #[serde(flatten)]
    tokens: TokenPair,
}

async fn register(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, Error> {
    let registered = service::register(
        &ctx.pool,
        &ctx.auth,
        Registration {
            email: body.email,
            password: body.password,
            display_name: body.display_name,
            role: body.role,
        },
    )
    .await?;
    let view = RegisteredView {
        user: registered.user.into(),
        tokens: registered.tokens,
    };
    Ok(no_store((StatusCode::CREATED, ApiJson(view))))
}

async fn login(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, Error> {
    let tokens = service::login(&ctx.pool, &ctx.auth, &body.email, &body.password).await?;
    Ok(no_store(ApiJson(tokens)))
}

async fn refresh(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Response, Error> {
    let tokens = service::refresh(&ctx.pool, &ctx.auth, &body.refresh_token).await?;
    Ok(no_store(ApiJson(tokens)))
}

async fn logout(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<StatusCode, Error> {
    service::logout(&ctx.pool, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads the account fresh from the database, so a disabled or deleted account shows at once.
async fn me(State(ctx): State<ApiContext>, caller: AuthUser) -> Result<ApiJson<UserView>, Error> {
    let user = match service::get_user(&ctx.pool, caller.id).await {
        Err(Error::NotFound(_)) => return Err(Error::Unauthorized),
        other => other?,
    };
    if user.disabled {
        return Err(Error::AccountDisabled);
    }
    Ok(ApiJson(user.into()))
}

/// Token responses must not be cached by anything in between (RFC 6749 §5.1).
fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

//! Account routes: parse, call the service, shape the answer.

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::client::ClientKey;
use super::extract::AuthUser;
use super::model::{Role, TokenPair, User};
use super::service::{self, Profile, ProfileUpdate, Reauth, Registration};
use super::vehicles;
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};

mod admin;
mod otp;
mod two_factor;

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
        .route("/api/auth/login/2fa", post(two_factor::login_second_step))
        .route("/api/auth/otp/request", post(otp::request))
        .route("/api/auth/otp/verify", post(otp::verify))
        .route("/api/me", get(me).put(update_me))
        .route("/api/admin/users/{id}/disable", post(admin::disable))
        .route("/api/admin/users/{id}/enable", post(admin::enable))
        .route("/api/me/2fa/setup", post(two_factor::setup))
        .route("/api/me/2fa/enable", post(two_factor::enable))
        .route("/api/me/2fa/disable", post(two_factor::disable))
        .merge(vehicles::http::router())
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

/// `PUT /api/me`: absent fields stay as they are, `null` or `""` clears one. Changing the
/// phone needs `current_password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateMeBody {
    #[serde(default, deserialize_with = "present")]
    display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    phone: Option<Option<String>>,
    current_password: Option<String>,
}

/// Tells an absent field (`None`, via `default`) from an explicit `null` (`Some(None)`).
fn present<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// The account as its owner sees it.
#[derive(Serialize)]
struct UserView {
    id: Uuid,
    email: String,
    role: Role,
    display_name: Option<String>,
    created_at: DateTime<Utc>,
    phone: Option<String>,
    email_verified_at: Option<DateTime<Utc>>,
    phone_verified_at: Option<DateTime<Utc>>,
    two_factor_enabled: bool,
}

impl UserView {
    fn new(user: User, two_factor_enabled: bool) -> Self {
        Self {
            id: user.id,
            email: user.email,
            role: user.role,
            display_name: user.display_name,
            created_at: user.created_at,
            phone: user.phone,
            email_verified_at: user.email_verified_at,
            phone_verified_at: user.phone_verified_at,
            two_factor_enabled,
        }
    }
}

impl From<Profile> for UserView {
    fn from(profile: Profile) -> Self {
        Self::new(profile.user, profile.two_factor_enabled)
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
        // a brand-new account has no second factor yet
        user: UserView::new(registered.user, false),
        tokens: registered.tokens,
    };
    Ok(no_store((StatusCode::CREATED, ApiJson(view))))
}

async fn login(
    State(ctx): State<ApiContext>,
    ClientKey(client_key): ClientKey,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, Error> {
    let outcome = service::login(
        &ctx.pool,
        &ctx.auth,
        &body.email,
        &body.password,
        &client_key,
    )
    .await?;
    Ok(no_store(ApiJson(outcome)))
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
    Ok(ApiJson(live_profile(&ctx, caller.id).await?.into()))
}

async fn update_me(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ClientKey(client_key): ClientKey,
    ApiJson(body): ApiJson<UpdateMeBody>,
) -> Result<ApiJson<UserView>, Error> {
    live_profile(&ctx, caller.id).await?;
    let update = ProfileUpdate {
        display_name: body.display_name,
        phone: body.phone,
    };
    let reauth = Reauth {
        current_password: body.current_password.as_deref(),
        client_key: &client_key,
    };
    let profile = service::update_profile(&ctx.pool, caller.id, update, reauth).await?;
    Ok(ApiJson(profile.into()))
}

/// The caller's profile; 401 if the account is gone, 403 if it was disabled.
async fn live_profile(ctx: &ApiContext, user_id: Uuid) -> Result<Profile, Error> {
    let profile = match service::get_profile(&ctx.pool, user_id).await {
        Err(Error::NotFound(_)) => return Err(Error::Unauthorized),
        other => other?,
    };
    if profile.user.disabled {
        return Err(Error::AccountDisabled);
    }
    Ok(profile)
}

/// Token responses must not be cached by anything in between (RFC 6749 §5.1).
fn no_store(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

//! Account routes: parse, call the service, shape the answer.

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::IntoResponses;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::client::ClientKey;
use super::extract::AuthUser;
use super::model::{LoginOutcome, Role, TokenPair, User};
use super::service::{self, Profile, ProfileUpdate, Reauth, Registration};
use super::vehicles;
use crate::error::Error;
use crate::http::doc::{JsonBody, Problem, SignedIn};
use crate::http::{ApiContext, ApiJson};

mod admin;
mod otp;
mod two_factor;

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(two_factor::login_second_step))
        .routes(routes!(otp::request))
        .routes(routes!(otp::verify))
        .routes(routes!(me, update_me))
        .routes(routes!(admin::disable))
        .routes(routes!(admin::enable))
        .routes(routes!(two_factor::setup))
        .routes(routes!(two_factor::enable))
        .routes(routes!(two_factor::disable))
        .merge(vehicles::http::router())
}

/// [`JsonBody`]'s answers but its 400, for routes whose 400 has codes of its own besides a
/// body that does not parse (each such route lists `malformed_json`, `invalid_body` and
/// `unreadable_body` in its own 400).
#[derive(IntoResponses)]
pub enum JsonBodyExcept400 {
    /// The body is larger than the server accepts (`payload_too_large`)
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json` (`unsupported_media_type`)
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
    /// A field is missing, has the wrong type or breaks a rule; every such field is named in
    /// `errors` (`validation_failed`)
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

// Unknown fields are rejected so a client's typo (`displayName`) is a 422, not silently lost.

/// Sign-up: `role` may only be `driver` or `host`; other roles are given by an admin.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    #[schema(schema_with = crate::accounts::doc::sign_up_email)]
    email: String,
    #[schema(schema_with = crate::accounts::doc::new_password)]
    password: String,
    #[schema(schema_with = crate::accounts::doc::display_name)]
    display_name: Option<String>,
    #[schema(schema_with = crate::accounts::doc::sign_up_role)]
    role: Option<Role>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    #[schema(schema_with = crate::accounts::doc::login_email)]
    email: String,
    #[schema(schema_with = crate::accounts::doc::login_password)]
    password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    #[schema(schema_with = crate::accounts::doc::token)]
    refresh_token: String,
}

/// `PUT /api/me`: absent fields stay as they are, `null` or `""` clears one. Changing the
/// phone needs `current_password`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateMeBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::accounts::doc::display_name)]
    display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = crate::accounts::doc::profile_phone)]
    phone: Option<Option<String>>,
    #[schema(schema_with = crate::accounts::doc::current_password_if_needed)]
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
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = User)]
struct UserView {
    id: Uuid,
    #[schema(example = "driver@example.com")]
    email: String,
    role: Role,
    #[schema(required)]
    display_name: Option<String>,
    created_at: DateTime<Utc>,
    /// E.164, e.g. `+31612345678`.
    #[schema(required)]
    phone: Option<String>,
    /// When a one-time code sent to the address was last entered correctly.
    #[schema(required)]
    email_verified_at: Option<DateTime<Utc>>,
    /// The same for the phone; cleared when the phone changes.
    #[schema(required)]
    phone_verified_at: Option<DateTime<Utc>>,
    /// Whether logins need a TOTP or recovery code after the password.
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

/// The new account (`two_factor_enabled` false) plus its first tokens, side by side.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Registered)]
struct RegisteredView {
    user: UserView,
    #[serde(flatten)]
    tokens: TokenPair,
}

/// Create an account
///
/// **Roles:** none needed.
///
/// A driver account unless `role` is `host`; the answer signs it in.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "accounts",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Created; signed in", body = RegisteredView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 409, description = "The e-mail address is in use (`email_taken`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 503, description = "No password-hashing slot came free; retry after \
            `Retry-After` seconds (`busy`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
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

/// Log in with e-mail and password
///
/// **Roles:** none needed.
///
/// Answers tokens, or when the account has TOTP on a second-factor challenge to finish at
/// `POST /api/auth/login/2fa`. Failed logins are counted per account and per client; past
/// either limit the answer is 429 until the oldest failure leaves the 15-minute window.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "accounts",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Tokens, or a second-factor challenge", body = LoginOutcome,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "Unknown e-mail address or wrong password \
            (`invalid_credentials`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The password was right but an admin disabled the \
            account (`account_disabled`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 429, description = "Too many failed logins for this account or client \
            (`rate_limited`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "No password-hashing slot came free; retry after \
            `Retry-After` seconds (`busy`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
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

/// Trade a refresh token for a new pair
///
/// **Roles:** none needed.
///
/// The refresh token rotates: the old one stops working. Presenting a spent one again ends
/// the whole login (its newer tokens too). A login ends 30 days after it started, however
/// often it was refreshed.
#[utoipa::path(
    post,
    path = "/api/auth/refresh",
    tag = "accounts",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "New tokens", body = TokenPair,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "The refresh token is unknown, expired, revoked or \
            already used (`invalid_refresh_token`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An admin disabled the account; the login is ended \
            (`account_disabled`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
    )
)]
async fn refresh(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Response, Error> {
    let tokens = service::refresh(&ctx.pool, &ctx.auth, &body.refresh_token).await?;
    Ok(no_store(ApiJson(tokens)))
}

/// Revoke a refresh token
///
/// **Roles:** none needed.
///
/// Ends the login the token belongs to. Succeeds for unknown or already revoked tokens too
/// (RFC 7009): the goal, being logged out, holds.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "accounts",
    request_body = RefreshBody,
    responses(
        (status = 204, description = "Revoked (also when it already was)"),
        JsonBody,
    )
)]
async fn logout(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<StatusCode, Error> {
    service::logout(&ctx.pool, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's account
///
/// **Roles:** any signed-in user.
///
/// Read fresh from the database, so a disabled or deleted account shows at once.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = UserView),
        SignedIn,
        (status = 403, description = "An admin disabled the account (`account_disabled`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn me(State(ctx): State<ApiContext>, caller: AuthUser) -> Result<ApiJson<UserView>, Error> {
    Ok(ApiJson(live_profile(&ctx, caller.id).await?.into()))
}

/// Update the caller's profile
///
/// **Roles:** any signed-in user.
///
/// Absent fields stay as they are; `null` or `""` clears one. A new phone starts unverified.
/// Changing the phone (setting, replacing or clearing it) needs `current_password`: missing
/// or wrong, it is a 422 on `current_password`, and wrong ones count as failed logins.
#[utoipa::path(
    put,
    path = "/api/me",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateMeBody,
    responses(
        (status = 200, description = "Updated; a new phone is unverified", body = UserView),
        SignedIn,
        (status = 403, description = "An admin disabled the account (`account_disabled`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another account has this phone (`phone_taken`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 429, description = "Too many failed logins (wrong current passwords among \
            them) for this account or client (`rate_limited`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "No password-hashing slot came free; retry after \
            `Retry-After` seconds (`busy`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
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

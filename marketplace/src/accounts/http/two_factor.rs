//! The TOTP second factor: `/api/me/2fa/{setup,enable,disable}` and the second login step
//! `/api/auth/login/2fa`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{no_store, JsonBodyExcept400};
use crate::accounts::client::ClientKey;
use crate::accounts::extract::AuthUser;
use crate::accounts::model::TokenPair;
use crate::accounts::service::{self, Reauth, TotpSetup};
use crate::error::Error;
use crate::http::doc::{Problem, SignedIn};
use crate::http::{ApiContext, ApiJson};

/// Enabling and disabling the factor: the current password and a code.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TotpChangeBody)]
pub(super) struct ChangeBody {
    /// Missing or wrong is a 422 on this field.
    #[schema(schema_with = crate::accounts::doc::current_password, required)]
    current_password: Option<String>,
    #[schema(schema_with = crate::accounts::doc::totp_code)]
    code: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Login2faBody)]
pub(super) struct SecondStepBody {
    #[schema(schema_with = crate::accounts::doc::token)]
    mfa_token: String,
    #[schema(schema_with = crate::accounts::doc::totp_code)]
    code: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = RecoveryCodes)]
struct RecoveryCodesView {
    /// Ten codes like `k7mzq-4hxtp`, shown once; each works once instead of a TOTP code.
    #[schema(min_items = 10, max_items = 10)]
    recovery_codes: Vec<String>,
}

/// Start TOTP enrolment
///
/// **Roles:** any signed-in user.
///
/// A new secret replaces an unfinished set-up; 2FA is not on until `POST /api/me/2fa/enable`
/// sees a code made with it. The secret is never shown again.
#[utoipa::path(
    post,
    path = "/api/me/2fa/setup",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The secret, shown once", body = TotpSetup,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        SignedIn,
        (status = 409, description = "2FA is already on; disable it first \
            (`two_factor_already_enabled`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Two-factor authentication is not configured on this \
            server: no TOTP key (`service_unavailable`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn setup(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
) -> Result<Response, Error> {
    let secrets = ctx.totp_secrets.as_deref();
    let setup = service::setup_totp(&ctx.pool, secrets, caller.id, Utc::now()).await?;
    Ok(no_store(ApiJson(setup)))
}

/// Turn TOTP on by proving the app works
///
/// **Roles:** any signed-in user.
///
/// Needs the account's password and a TOTP code from the app (recovery codes do not exist
/// yet). Answers ten recovery codes, shown only in this answer. A wrong password counts as a
/// failed login.
#[utoipa::path(
    post,
    path = "/api/me/2fa/enable",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangeBody,
    responses(
        (status = 200, description = "2FA on; recovery codes shown once",
            body = RecoveryCodesView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "The code is not a right TOTP code (`invalid_code`), or \
            the body does not parse (`malformed_json`, `invalid_body`, `unreadable_body`)",
            body = Problem, content_type = "application/problem+json"),
        SignedIn,
        (status = 409, description = "No set-up was started (`two_factor_not_set_up`), or 2FA \
            is already on (`two_factor_already_enabled`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBodyExcept400,
        (status = 429, description = "Too many failed logins (wrong current passwords among \
            them) for this account or client (`rate_limited`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "No password-hashing slot came free (`busy`, with \
            `Retry-After`), or the secret is sealed and this server has no TOTP key \
            (`service_unavailable`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait (`busy` only)"))),
    )
)]
pub(super) async fn enable(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ClientKey(client_key): ClientKey,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Response, Error> {
    let reauth = Reauth {
        current_password: body.current_password.as_deref(),
        client_key: &client_key,
    };
    let secrets = ctx.totp_secrets.as_deref();
    let recovery_codes = service::enable_totp(
        &ctx.pool,
        secrets,
        caller.id,
        reauth,
        &body.code,
        Utc::now(),
    )
    .await?;
    Ok(no_store(ApiJson(RecoveryCodesView { recovery_codes })))
}

/// Turn TOTP off
///
/// **Roles:** any signed-in user.
///
/// Needs the account's password and a TOTP code or a recovery code. A wrong password counts
/// as a failed login.
#[utoipa::path(
    post,
    path = "/api/me/2fa/disable",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangeBody,
    responses(
        (status = 204, description = "2FA off; its recovery codes are gone"),
        (status = 400, description = "Neither a right TOTP code nor an unused recovery code \
            (`invalid_code`), or the body does not parse (`malformed_json`, `invalid_body`, \
            `unreadable_body`)",
            body = Problem, content_type = "application/problem+json"),
        SignedIn,
        (status = 409, description = "2FA is not on (`two_factor_not_enabled`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBodyExcept400,
        (status = 429, description = "Too many failed logins (wrong current passwords among \
            them) for this account or client (`rate_limited`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "No password-hashing slot came free (`busy`, with \
            `Retry-After`), or the secret is sealed and this server has no TOTP key \
            (`service_unavailable`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait (`busy` only)"))),
    )
)]
pub(super) async fn disable(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ClientKey(client_key): ClientKey,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<StatusCode, Error> {
    let reauth = Reauth {
        current_password: body.current_password.as_deref(),
        client_key: &client_key,
    };
    let secrets = ctx.totp_secrets.as_deref();
    service::disable_totp(
        &ctx.pool,
        secrets,
        caller.id,
        reauth,
        &body.code,
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Finish a login with a TOTP or recovery code
///
/// **Roles:** none needed.
///
/// The `mfa_token` from the first step takes 5 wrong codes before it is locked; wrong codes
/// also count as failed logins of the account and the client.
#[utoipa::path(
    post,
    path = "/api/auth/login/2fa",
    tag = "accounts",
    request_body = SecondStepBody,
    responses(
        (status = 200, description = "Tokens", body = TokenPair,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "The `mfa_token` is unknown, expired or used \
            (`invalid_mfa_token`), the code is wrong (`invalid_code`), or the body does not \
            parse (`malformed_json`, `invalid_body`, `unreadable_body`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The account is gone (`invalid_credentials`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An admin disabled the account (`account_disabled`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too many wrong codes for this login; log in again \
            (`mfa_locked`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBodyExcept400,
        (status = 429, description = "Too many failed logins for this account or client \
            (`rate_limited`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The secret is sealed and this server has no TOTP key \
            (`service_unavailable`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn login_second_step(
    State(ctx): State<ApiContext>,
    ClientKey(client_key): ClientKey,
    ApiJson(body): ApiJson<SecondStepBody>,
) -> Result<Response, Error> {
    let tokens = service::complete_mfa_login(
        &ctx.pool,
        &ctx.auth,
        ctx.totp_secrets.as_deref(),
        &body.mfa_token,
        &body.code,
        &client_key,
        Utc::now(),
    )
    .await?;
    Ok(no_store(ApiJson(tokens)))
}

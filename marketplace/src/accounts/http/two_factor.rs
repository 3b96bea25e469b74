//! The TOTP second factor: `/api/me/2fa/{setup,enable,disable}` and the second login step
//! `/api/auth/login/2fa`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::no_store;
use crate::accounts::client::ClientKey;
use crate::accounts::extract::AuthUser;
use crate::accounts::service::{self, Reauth};
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};

/// Enabling and disabling the factor: the current password and a code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangeBody {
    current_password: Option<String>,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SecondStepBody {
    mfa_token: String,
    code: String,
}

#[derive(Serialize)]
struct RecoveryCodesView {
    recovery_codes: Vec<String>,
}

/// `{"secret", "otpauth_uri"}`; the secret is never shown again.
pub(super) async fn setup(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
) -> Result<Response, Error> {
    let secrets = ctx.totp_secrets.as_deref();
    let setup = service::setup_totp(&ctx.pool, secrets, caller.id, Utc::now()).await?;
    Ok(no_store(ApiJson(setup)))
}

/// `{"recovery_codes": [10 codes]}`, shown only in this answer.
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

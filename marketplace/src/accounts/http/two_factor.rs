//! The TOTP second factor: `/api/me/2fa/{setup,enable,disable}` and the second login step
//! `/api/auth/login/2fa`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::no_store;
use crate::accounts::extract::AuthUser;
use crate::accounts::service;
use crate::error::Error;
use crate::http::{ApiContext, ApiJson};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CodeBody {
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
    let setup = service::setup_totp(&ctx.pool, caller.id, Utc::now()).await?;
    Ok(no_store(ApiJson(setup)))
}

/// `{"recovery_codes": [10 codes]}`, shown only in this answer.
pub(super) async fn enable(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Response, Error> {
    let recovery_codes = service::enable_totp(&ctx.pool, caller.id, &body.code, Utc::now()).await?;
    Ok(no_store(ApiJson(RecoveryCodesView { recovery_codes })))
}

pub(super) async fn disable(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<StatusCode, Error> {
    service::disable_totp(&ctx.pool, caller.id, &body.code, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn login_second_step(
    State(ctx): State<ApiContext>,
    ApiJson(body): ApiJson<SecondStepBody>,
) -> Result<Response, Error> {
    let tokens = service::complete_mfa_login(
        &ctx.pool,
        &ctx.auth,
        &body.mfa_token,
        &body.code,
        Utc::now(),
    )
    .await?;
    Ok(no_store(ApiJson(tokens)))
}

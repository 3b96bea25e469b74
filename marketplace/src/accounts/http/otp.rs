//! `POST /api/auth/otp/request` and `POST /api/auth/otp/verify`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

use super::{live_profile, no_store, UserView};
use crate::accounts::client::ClientKey;
use crate::accounts::extract::AuthUser;
use crate::accounts::otp::{Channel, Purpose};
use crate::accounts::service::{self, ChallengeRef, OtpRequest, OtpRequested, OtpVerified};
use crate::error::{Error, FieldError};
use crate::http::{ApiContext, ApiJson};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RequestBody {
    channel: Channel,
    destination: String,
    purpose: Purpose,
}

/// Either `challenge_id`, or `channel` and `destination` (the newest code sent there).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyBody {
    challenge_id: Option<Uuid>,
    channel: Option<Channel>,
    destination: Option<String>,
    code: String,
}

/// 202 with the challenge id whether or not the destination has an account (nothing is sent
/// when it has none); 429 with `Retry-After` when a limit is hit.
pub(super) async fn request(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    ClientKey(client_key): ClientKey,
    ApiJson(body): ApiJson<RequestBody>,
) -> Result<Response, Error> {
    let input = OtpRequest {
        channel: body.channel,
        destination: body.destination,
        purpose: body.purpose,
        client_key,
    };
    let caller = caller.map(|c| c.id);
    Ok(
        match service::request_otp(&ctx.pool, caller, input, Utc::now()).await? {
            OtpRequested::Accepted(challenge) => {
                (StatusCode::ACCEPTED, ApiJson(challenge)).into_response()
            }
            OtpRequested::RateLimited(limited) => limited.into_response(),
        },
    )
}

/// `purpose: login` answers like `/api/auth/login` (tokens or the second-factor step);
/// `purpose: verify` answers the caller's profile with the contact verified.
pub(super) async fn verify(
    State(ctx): State<ApiContext>,
    caller: Option<AuthUser>,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Response, Error> {
    let challenge = match (body.challenge_id, body.channel, body.destination) {
        (Some(id), _, _) => ChallengeRef::Id(id),
        (None, Some(channel), Some(destination)) => ChallengeRef::Destination {
            channel,
            destination,
        },
        (None, channel, destination) => {
            let mut errors = vec![FieldError::new(
                "challenge_id",
                "is required unless `channel` and `destination` are given",
            )];
            if channel.is_none() {
                errors.push(FieldError::new(
                    "channel",
                    "is required without `challenge_id`",
                ));
            }
            if destination.is_none() {
                errors.push(FieldError::new(
                    "destination",
                    "is required without `challenge_id`",
                ));
            }
            return Err(Error::Validation(errors));
        }
    };
    let verified = service::verify_otp(
        &ctx.pool,
        &ctx.auth,
        caller.map(|c| c.id),
        challenge,
        &body.code,
        Utc::now(),
    )
    .await?;
    match verified {
        OtpVerified::Login(outcome) => Ok(no_store(ApiJson(outcome))),
        OtpVerified::Verified(user) => {
            let view: UserView = live_profile(&ctx, user.id).await?.into();
            Ok(ApiJson(view).into_response())
        }
    }
}

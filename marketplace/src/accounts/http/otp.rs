//! `POST /api/auth/otp/request` and `POST /api/auth/otp/verify`.

use std::borrow::Cow;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa::openapi::schema::{
    AdditionalProperties, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType,
    Type,
};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::{live_profile, no_store, JsonBodyExcept400, UserView};
use crate::accounts::client::ClientKey;
use crate::accounts::doc;
use crate::accounts::extract::AuthUser;
use crate::accounts::model::LoginOutcome;
use crate::accounts::otp::{Channel, Purpose};
use crate::accounts::service::{
    self, ChallengeRef, OtpChallenge, OtpRequest, OtpRequested, OtpVerified,
};
use crate::error::{Error, FieldError};
use crate::http::doc::{JsonBody, Problem};
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

/// What a right code answers: `login` codes like `POST /api/auth/login` (tokens, or the
/// second-factor step), `verify` codes the caller's account with the contact verified.
// Only describes the answer in the API document: `verify` writes either side itself.
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = OtpVerified)]
enum VerifyAnswer {
    Login(LoginOutcome),
    Verified(UserView),
}

/// A strict object of the given properties, all of them required but those in `optional`.
fn object(properties: Vec<(&str, RefOr<Schema>)>, optional: &[&str]) -> ObjectBuilder {
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for (name, schema) in properties {
        object = object.property(name, schema);
        if !optional.contains(&name) {
            object = object.required(name);
        }
    }
    object
}

/// `channel` as one fixed value, which picks the alternative of a body.
fn channel_is(channel: Channel) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([channel.as_str()]))
        .into()
}

/// Where a code goes on `channel`.
fn destination_on(channel: Channel) -> RefOr<Schema> {
    match channel {
        Channel::Email => doc::otp_email(),
        Channel::Sms => doc::otp_phone(),
    }
    .into()
}

fn named<T: ToSchema>() -> RefOr<Schema> {
    utoipa::openapi::Ref::from_schema_name(T::name()).into()
}

/// The destination must suit the channel, so the body is one of two shapes.
impl PartialSchema for RequestBody {
    fn schema() -> RefOr<Schema> {
        let by = |channel| {
            object(
                vec![
                    ("channel", channel_is(channel)),
                    ("destination", destination_on(channel)),
                    ("purpose", named::<Purpose>()),
                ],
                &[],
            )
        };
        OneOfBuilder::new()
            .description(Some(
                "A code to an e-mail address (`channel: email`) or a phone (`channel: sms`).",
            ))
            .item(by(Channel::Email))
            .item(by(Channel::Sms))
            .into()
    }
}

impl ToSchema for RequestBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OtpRequestBody")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Purpose::name().into_owned(), Purpose::schema()));
    }
}

/// By `challenge_id` (`channel` and `destination` are then not looked at), or by `channel`
/// and `destination` (the newest code sent there), one shape per channel.
impl PartialSchema for VerifyBody {
    fn schema() -> RefOr<Schema> {
        let code = || -> RefOr<Schema> { doc::otp_code().into() };
        let null = || -> RefOr<Schema> { ObjectBuilder::new().schema_type(Type::Null).into() };
        let by_id = object(
            vec![
                (
                    "challenge_id",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                        .description(Some("From `POST /api/auth/otp/request`."))
                        .into(),
                ),
                (
                    "channel",
                    OneOfBuilder::new()
                        .item(null())
                        .item(named::<Channel>())
                        .description(Some("Not looked at with `challenge_id`."))
                        .into(),
                ),
                ("destination", unchecked_destination().into()),
                ("code", code()),
            ],
            &["channel", "destination"],
        );
        let by_destination = |channel| {
            object(
                vec![
                    ("challenge_id", null()),
                    ("channel", channel_is(channel)),
                    ("destination", destination_on(channel)),
                    ("code", code()),
                ],
                &["challenge_id"],
            )
        };
        OneOfBuilder::new()
            .description(Some(
                "Either `challenge_id`, or `channel` and `destination` (the newest code sent \
                 there); the purpose is the one the code was requested for.",
            ))
            .item(by_id)
            .item(by_destination(Channel::Email))
            .item(by_destination(Channel::Sms))
            .into()
    }
}

/// `destination` beside a `challenge_id`: not looked at, but still a string without NUL.
fn unchecked_destination() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(doc::NO_NUL))
        .description(Some("Not looked at with `challenge_id`."))
        .build()
}

impl ToSchema for VerifyBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OtpVerifyBody")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Channel::name().into_owned(), Channel::schema()));
    }
}

/// Send a one-time code
///
/// **Roles:** none needed; a bearer token is optional: required for `purpose: verify`, which
/// sends a code to the caller's own e-mail address or phone.
///
/// Answers 202 with the challenge id whether or not the destination has an account; nothing
/// is sent when it has none (a phone that is not verified has none for `login`). A new code
/// replaces the older open ones for the destination. At most 3 codes per destination and 20
/// per client in 15 minutes, and 20 per account a day.
#[utoipa::path(
    post,
    path = "/api/auth/otp/request",
    tag = "accounts",
    security((), ("bearer" = [])),
    request_body = RequestBody,
    responses(
        (status = 202, description = "Accepted (sent if the destination is known)",
            body = OtpChallenge),
        (status = 401, description = "A bearer token was sent but is malformed or expired, or \
            `purpose: verify` came without one (`unauthorized`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBody,
        (status = 429, description = "Too many codes for this destination, client or account \
            (`rate_limited`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
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

/// Check a one-time code
///
/// **Roles:** none needed; a bearer token is optional: required for codes of
/// `purpose: verify`, which only their requester can enter.
///
/// `purpose: login` answers like `POST /api/auth/login` (tokens or the second-factor step);
/// `purpose: verify` answers the caller's account with the contact verified. A right code is
/// spent at once; the fifth wrong one locks the challenge, and an account takes 20 wrong
/// codes a day.
#[utoipa::path(
    post,
    path = "/api/auth/otp/verify",
    tag = "accounts",
    security((), ("bearer" = [])),
    request_body = VerifyBody,
    responses(
        (status = 200, description = "`login`: tokens or the second-factor step (with \
            `Cache-Control: no-store`); `verify`: the account", body = VerifyAnswer),
        (status = 400, description = "The code is wrong (`invalid_code`); the code expired, \
            was used or replaced, or there is none (`otp_expired`); or the body does not \
            parse (`malformed_json`, `invalid_body`, `unreadable_body`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was sent but is malformed or expired, or \
            a `verify` code came without one (`unauthorized`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An admin disabled the account (`account_disabled`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too many wrong codes; request a new one (`otp_locked`)",
            body = Problem, content_type = "application/problem+json"),
        JsonBodyExcept400,
        (status = 429, description = "20 wrong codes for this account today \
            (`rate_limited`)",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
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

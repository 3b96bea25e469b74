//! What every route's documentation shares. Each module's `http.rs` declares its routes with
//! `#[utoipa::path]` next to the handlers; the answers every route of a kind can give (no
//! token, wrong role, a body that does not parse) are named here once, so that a route lists
//! them by kind instead of copying them.
//!
//! Error answers are always [`Problem`] bodies (`application/problem+json`); each names the
//! `code` values a client can switch on.

use utoipa::IntoResponses;

pub use crate::error::Problem;

/// The content type of every error answer.
pub const PROBLEM: &str = "application/problem+json";

/// The security scheme's name in the document (a JWT from `POST /api/auth/login`).
pub const BEARER: &str = "bearer";

/// Routes for any signed-in user.
#[derive(IntoResponses)]
pub enum SignedIn {
    /// Missing, malformed or expired access token (`unauthorized`)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
}

/// Routes for some roles only (named in the description).
#[derive(IntoResponses)]
pub enum RoleOnly {
    /// Missing, malformed or expired access token (`unauthorized`)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The caller's role does not allow this (`forbidden`)
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// Public routes where a bearer token is optional: one that is sent must be valid.
#[derive(IntoResponses)]
pub enum OptionalToken {
    /// A bearer token was sent but is malformed or expired (`unauthorized`)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
}

/// Routes with a JSON body, parsed strictly: unknown fields are refused.
#[derive(IntoResponses)]
pub enum JsonBody {
    /// The body is not JSON, or not the JSON value the route takes (`malformed_json`,
    /// `invalid_body`, `unreadable_body`)
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
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

/// Routes with query parameters, which are checked as strictly as bodies.
#[derive(IntoResponses)]
pub enum BadQuery {
    /// A query parameter is unknown, repeated or out of range; each is named in `errors`
    /// (`validation_failed`)
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// The `Idempotency-Key` request header of the routes that move money, documented once.
/// A retry with the same key is answered as the route's description says; a key that is not
/// 1 to 255 visible ASCII characters is a 422 naming `Idempotency-Key`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// Makes a retry safe (the route's description says how): 1 to 255 visible ASCII
    /// characters, one per request the client means (a UUID, say).
    #[param(
        rename = "Idempotency-Key",
        value_type = String,
        required = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$",
        example = "9f1c2e4a-5b6d-4e8f-a1b2-c3d4e5f6a7b8"
    )]
    pub idempotency_key: Option<String>,
}

//! The crate's one error type, rendered as RFC 9457 `application/problem+json`.
//!
//! Every failure a handler can meet ends up here, so clients see one body shape with a stable
//! machine `code` whatever went wrong. Server-side failures are logged and never leak details.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::error::DatabaseError;
use uuid::Uuid;

/// A booked slot that a request collided with: the port and the `[start, end)` it is held for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SlotConflict {
    pub port_id: Uuid,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
}

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted JSON path of the field (`ports[0].power_kw`), or the query parameter's name.
    #[schema(example = "email")]
    pub field: String,
    #[schema(example = "must be a valid e-mail address")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is well-formed but breaks the rules; every broken field is listed.
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),

    /// No credentials, or a bearer token that is missing, malformed or expired.
    #[error("authentication required")]
    Unauthorized,

    /// Login failed. Deliberately the same for an unknown email and a wrong password.
    #[error("invalid email or password")]
    InvalidCredentials,

    /// A refresh token that is unknown, expired, revoked or already used.
    #[error("invalid refresh token")]
    InvalidRefreshToken,

    /// Authenticated, but the role does not allow this.
    #[error("forbidden")]
    Forbidden,

    /// The account exists and the password was right, but an admin disabled it.
    #[error("account disabled")]
    AccountDisabled,

    /// Authenticated, but the feature is part of a subscription the caller does not hold
    /// (the product group is named).
    #[error("subscription required: {0}")]
    SubscriptionRequired(&'static str),

    /// The named resource does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),

    /// The request clashes with the current state, e.g. a taken email.
    #[error("conflict ({code}): {detail}")]
    Conflict { code: &'static str, detail: String },

    /// A booking would overlap another one on the same port; the answer names that slot.
    #[error("slot taken: {0:?}")]
    SlotTaken(SlotConflict),

    /// The request cannot be understood, e.g. a body that is not JSON.
    #[error("bad request ({code}): {detail}")]
    BadRequest { code: &'static str, detail: String },

    #[error("request body too large")]
    PayloadTooLarge,

    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),

    /// A dependency (a station, a payment provider) cannot serve the request right now.
    #[error("service unavailable: {0}")]
    Unavailable(String),

    /// Every slot for expensive work (password hashing) stayed taken for longer than we let a
    /// request wait; the client may retry after the given seconds.
    #[error("busy, retry after {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },

    /// A rate limit was hit (too many failed logins, codes or guesses); retry after the given
    /// seconds.
    #[error("rate limited, retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },

    /// A dependency (a station, a payment provider) answered, but with an error or nonsense.
    #[error("bad gateway ({code}): {detail}")]
    BadGateway { code: &'static str, detail: String },

    /// Card payments need a payment provider and this server has none (production mode
    /// without a Stripe key); nothing was charged or credited.
    #[error("no payment provider is configured")]
    PaymentsNotConfigured,

    /// A dependency did not answer in time.
    #[error("gateway timeout: {0}")]
    GatewayTimeout(String),

    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Shorthand for a validation error on a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized | Self::InvalidCredentials | Self::InvalidRefreshToken => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden | Self::AccountDisabled | Self::SubscriptionRequired(_) => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::SlotTaken(_) => StatusCode::CONFLICT,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) | Self::PaymentsNotConfigured | Self::Busy { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine code clients switch on. Never change an existing one.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::Forbidden => "forbidden",
            Self::AccountDisabled => "account_disabled",
            Self::SubscriptionRequired(_) => "subscription_required",
            Self::NotFound(_) => "not_found",
            Self::SlotTaken(_) => "slot_taken",
            Self::Conflict { code, .. }
            | Self::BadRequest { code, .. }
            | Self::BadGateway { code, .. } => code,
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unavailable(_) => "service_unavailable",
            Self::PaymentsNotConfigured => "payments_not_configured",
            Self::Busy { .. } => "busy",
            Self::RateLimited { .. } => "rate_limited",
            Self::GatewayTimeout(_) => "gateway_timeout",
            Self::Database(_) | Self::Internal(_) => "internal_error",
        }
    }

    /// The title of a problem type of our own (domain errors); `None` for plain HTTP semantics,
    /// which use `about:blank` and then must take the status phrase as title (RFC 9457 §4.2.1).
    fn specific_title(&self) -> Option<&'static str> {
        match self {
            Self::Validation(_) => Some("Your request is not valid"),
            Self::InvalidCredentials => Some("Invalid email or password"),
            Self::InvalidRefreshToken => Some("Invalid refresh token"),
            Self::AccountDisabled => Some("Account disabled"),
            Self::SubscriptionRequired(_) => Some("A subscription is required"),
            Self::PaymentsNotConfigured => Some("Payments are not configured"),
            Self::Busy { .. } => Some("Busy, try again shortly"),
            Self::RateLimited { .. } => Some("Too many requests"),
            Self::Conflict { .. }
            | Self::SlotTaken(_)
            | Self::BadRequest { .. }
            | Self::BadGateway { .. } => self.status().canonical_reason(),
            _ => None,
        }
    }

    /// What the client may read. Server-side failures get a fixed sentence instead.
    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) if errors.len() == 1 => {
                format!("`{}` {}", errors[0].field, errors[0].message)
            }
            Self::Validation(errors) => format!("{} fields are invalid", errors.len()),
            Self::Unauthorized => "a valid bearer access token is required".into(),
            Self::InvalidCredentials => "the email or the password is wrong".into(),
            Self::InvalidRefreshToken => {
                "the refresh token is unknown, expired, revoked or already used; log in again"
                    .into()
            }
            Self::Forbidden => "your role does not allow this".into(),
            Self::AccountDisabled => "this account has been disabled".into(),
            Self::SubscriptionRequired(group) => {
                format!("this needs an active `{group}` subscription (POST /api/subscriptions)")
            }
            Self::NotFound(what) => format!("{what} not found"),
            Self::SlotTaken(slot) => format!(
                "port {} is already booked from {} to {}",
                slot.port_id,
                slot.start_time.to_rfc3339(),
                slot.end_time.to_rfc3339()
            ),
            Self::Conflict { detail, .. }
            | Self::BadRequest { detail, .. }
            | Self::BadGateway { detail, .. } => detail.clone(),
            Self::PayloadTooLarge => "the request body is too large".into(),
            Self::PaymentsNotConfigured => "this server has no payment provider configured; \
                card payments and top-ups are not available (nothing was charged or credited)"
                .into(),
            Self::Busy { retry_after_secs } => format!(
                "the server is busy checking other passwords; try again in {retry_after_secs} \
                 seconds"
            ),
            Self::RateLimited { retry_after_secs } => {
                format!("too many attempts; try again in {retry_after_secs} seconds")
            }
            Self::UnsupportedMediaType(detail)
            | Self::Unavailable(detail)
            | Self::GatewayTimeout(detail) => detail.clone(),
            Self::Database(_) | Self::Internal(_) => "an internal error occurred".into(),
        }
    }
}

/// RFC 9457 problem details, the body of every error answer (`application/problem+json`),
/// with our `code` and per-field `errors` extensions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `about:blank` for plain HTTP semantics, otherwise `urn:problem-type:{code}`.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: String,
    #[schema(example = "Your request is not valid")]
    pub title: &'static str,
    #[schema(minimum = 400, maximum = 599, example = 422)]
    pub status: u16,
    pub detail: String,
    /// Stable machine code clients switch on; each route's answers name the ones it uses.
    #[schema(example = "validation_failed")]
    pub code: &'static str,
    /// For `validation_failed`: every field that broke a rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub errors: Vec<FieldError>,
    /// For `slot_taken`: the slot that is already booked.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub conflicting_slot: Option<SlotConflict>,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        match &self {
            Self::Database(err) => tracing::error!(error = ?err, "database error"),
            Self::Internal(msg) => tracing::error!(error = %msg, "internal error"),
            _ => {}
        }
        let (kind, title) = match self.specific_title() {
            Some(title) => (format!("urn:problem-type:{code}"), title),
            None => (
                "about:blank".to_owned(),
                status.canonical_reason().unwrap_or("Error"),
            ),
        };
        let errors = match &self {
            Self::Validation(errors) => errors.clone(),
            _ => Vec::new(),
        };
        let conflicting_slot = match &self {
            Self::SlotTaken(slot) => Some(slot.clone()),
            _ => None,
        };
        let body = Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: self.detail(),
            code,
            errors,
            conflicting_slot,
        };
        // Serialising plain strings and numbers cannot fail; fall back to an empty body anyway.
        let bytes = serde_json::to_vec(&body).unwrap_or_default();

        let mut response = (status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Self::Busy { retry_after_secs } | Self::RateLimited { retry_after_secs } = &self {
            // RFC 9110 §10.2.3 (503) and RFC 6585 §4 (429): when to come back, in seconds
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §15.5.2: a 401 must say which scheme would be accepted.
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Foreign keys that protect bookings from their charger or port being deleted: hitting one
/// is the caller's conflict (a charger with bookings keeps them), never a server error,
/// whichever module's statement ran into it.
const BOOKING_HISTORY_KEYS: [&str; 5] = [
    "bookings_listing_id_fkey",
    "bookings_port_id_fkey",
    "bookings_moved_from_port_fkey",
    // charging sessions (and their bills) are history too
    "charging_sessions_listing_id_fkey",
    "charging_sessions_port_id_fkey",
];

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            // only the referenced side (deleting a charger or port), not a booking written
            // with a port that is gone
            sqlx::Error::Database(db)
                if db
                    .constraint()
                    .is_some_and(|c| BOOKING_HISTORY_KEYS.contains(&c))
                    && db.message().starts_with("update or delete on table") =>
            {
                Self::Conflict {
                    code: "charger_has_bookings",
                    detail: "the charger or port has bookings, which are kept as history; \
                             unlist it instead"
                        .into(),
                }
            }
            _ => Self::Database(err),
        }
    }
}

/// Maps a violation of one named database constraint to a domain error, leaving every other
/// error as it is (the pattern of launchbadge/realworld-axum-sqlx).
pub trait ResultExt<T> {
    fn on_constraint(
        self,
        name: &str,
        f: impl FnOnce(Box<dyn DatabaseError>) -> Error,
    ) -> Result<T, Error>;
}

impl<T, E> ResultExt<T> for Result<T, E>
where
    E: Into<Error>,
{
    fn on_constraint(
        self,
        name: &str,
        f: impl FnOnce(Box<dyn DatabaseError>) -> Error,
    ) -> Result<T, Error> {
        self.map_err(|err| match err.into() {
            Error::Database(sqlx::Error::Database(db)) if db.constraint() == Some(name) => f(db),
            err => err,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use serde_json::{json, Value};

    async fn render(err: Error) -> (StatusCode, axum::http::HeaderMap, Value) {
        let response = err.into_response();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn validation_lists_fields() {
        let err = Error::Validation(vec![
            FieldError::new("email", "is not a valid email address"),
            FieldError::new("password", "must be at least 8 characters"),
        ]);
        let (status, headers, body) = render(err).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(body["type"], "urn:problem-type:validation_failed");
        assert_eq!(body["status"], 422);
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"][1]["field"], "password");
    }

    #[tokio::test]
    async fn unauthorized_asks_for_bearer() {
        let (status, headers, body) = render(Error::Unauthorized).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(body["type"], "about:blank");
        assert_eq!(body["title"], "Unauthorized");
        assert!(body.get("errors").is_none());
    }

    #[tokio::test]
    async fn server_errors_do_not_leak() {
        let (status, _, body) = render(Error::Internal("secret path /etc/x".into())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["detail"], "an internal error occurred");
        let (_, _, body) = render(Error::Database(sqlx::Error::PoolTimedOut)).await;
        assert_eq!(body["code"], "internal_error");
    }

    #[tokio::test]
    async fn every_variant_has_status_and_code() {
        let cases = [
            (Error::Forbidden, 403, "forbidden"),
            (Error::AccountDisabled, 403, "account_disabled"),
            (Error::InvalidCredentials, 401, "invalid_credentials"),
            (Error::InvalidRefreshToken, 401, "invalid_refresh_token"),
            (Error::NotFound("station"), 404, "not_found"),
            (
                Error::Conflict {
                    code: "email_taken",
                    detail: "taken".into(),
                },
                409,
                "email_taken",
            ),
            (
                Error::BadRequest {
                    code: "malformed_json",
                    detail: "x".into(),
                },
                400,
                "malformed_json",
            ),
            (
                Error::SlotTaken(SlotConflict {
                    port_id: Uuid::nil(),
                    start_time: DateTime::UNIX_EPOCH,
                    end_time: DateTime::UNIX_EPOCH,
                }),
                409,
                "slot_taken",
            ),
            (Error::PayloadTooLarge, 413, "payload_too_large"),
            (
                Error::UnsupportedMediaType("json".into()),
                415,
                "unsupported_media_type",
            ),
            (
                Error::BadGateway {
                    code: "station_call_error",
                    detail: "x".into(),
                },
                502,
                "station_call_error",
            ),
            (
                Error::Unavailable("down".into()),
                503,
                "service_unavailable",
            ),
            (Error::GatewayTimeout("slow".into()), 504, "gateway_timeout"),
            (Error::PaymentsNotConfigured, 503, "payments_not_configured"),
            (
                Error::Busy {
                    retry_after_secs: 1,
                },
                503,
                "busy",
            ),
            (
                Error::RateLimited {
                    retry_after_secs: 60,
                },
                429,
                "rate_limited",
            ),
        ];
        for (err, status, code) in cases {
            let (got, _, body) = render(err).await;
            assert_eq!(got.as_u16(), status);
            assert_eq!(body["status"], json!(status));
            assert_eq!(body["code"], code);
        }
    }

    #[tokio::test]
    async fn busy_and_rate_limited_say_when_to_retry() {
        let (status, headers, body) = render(Error::Busy {
            retry_after_secs: 2,
        })
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(headers[header::RETRY_AFTER], "2");
        assert_eq!(body["type"], "urn:problem-type:busy");
        let (status, headers, body) = render(Error::RateLimited {
            retry_after_secs: 840,
        })
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "840");
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(body["code"], "rate_limited");
        let (_, headers, _) = render(Error::Forbidden).await;
        assert!(headers.get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn on_constraint_leaves_other_errors() {
        let res: Result<(), sqlx::Error> = Err(sqlx::Error::RowNotFound);
        let err = res
            .on_constraint("users_email_key", |_| Error::Forbidden)
            .unwrap_err();
        assert!(matches!(err, Error::Database(sqlx::Error::RowNotFound)));
    }
}

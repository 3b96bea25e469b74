//! Schemas every area shares: the problem+json error body and paging.

use utoipa::openapi::schema::Schema;
use utoipa::ToSchema;

use super::route::integer;

/// RFC 9457 problem details, the body of every error answer (`application/problem+json`).
#[derive(ToSchema)]
pub struct Problem {
    /// `about:blank` for plain HTTP semantics, otherwise a URI naming the problem type.
    #[schema(rename = "type", example = "about:blank")]
    pub kind: String,
    #[schema(example = "Your request is not valid")]
    pub title: String,
    #[schema(minimum = 400, maximum = 599, example = 422)]
    pub status: u16,
    pub detail: String,
    /// Stable machine code clients switch on, e.g. `validation_failed`, `unauthorized`,
    /// `forbidden`, `not_found`, `invalid_credentials`, `id_token_exists`.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Present for `validation_failed`: every field that broke a rule.
    pub errors: Option<Vec<FieldError>>,
}

/// One field that failed validation.
#[derive(ToSchema)]
pub struct FieldError {
    /// Dotted JSON path of the field (`ports[0].power_kw`), or the query parameter name.
    #[schema(example = "email")]
    pub field: String,
    #[schema(example = "must be a valid e-mail address")]
    pub message: String,
}

pub fn limit() -> Schema {
    integer(1, Some(500), Some(50))
}

pub fn offset() -> Schema {
    integer(0, None, Some(0))
}

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use marketplace::error::Error;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// axum's `Query` with a problem+json rejection naming the bad parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| Error::invalid("query", e.body_text()))
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Page {
    #[serde(default = "Page::default_limit")]
    pub limit: i64,
    #[serde(default)]
    pub offset: i64,
}

impl Page {
    pub fn default_limit() -> i64 {
        50
    }

    pub const MAX_LIMIT: i64 = 500;

    pub fn checked(self) -> Result<Self, Error> {
        if !(1..=Self::MAX_LIMIT).contains(&self.limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {}", Self::MAX_LIMIT),
            ));
        }
        if self.offset < 0 {
            return Err(Error::invalid("offset", "must not be negative"));
        }
        Ok(self)
    }
}

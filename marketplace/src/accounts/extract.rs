//! Who is calling: extractors that turn `Authorization: Bearer <jwt>` into a user and a role.
//!
//! Besides the signature and expiry, they check that the user still exists, is enabled and has
//! not revoked the token (its `ver` is the user's token version), through a per-process cache
//! of a few seconds (`access`): disabling a user shuts out their unexpired access tokens at
//! once, instead of after up to 15 minutes.

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use uuid::Uuid;

use super::access;
use super::model::Role;
use crate::error::Error;
use crate::http::ApiContext;

/// An authenticated caller. Rejects with 401 when the token is missing or invalid.
///
/// As `Option<AuthUser>` it is `None` without an `Authorization` header (for routes that
/// anyone may call) but still 401 for a bad token, so a broken client notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: Role,
}

impl AuthUser {
    /// 403 unless the caller has one of `allowed` (admin always passes).
    pub fn require(&self, allowed: &[Role]) -> Result<(), Error> {
        if self.role.is_allowed(allowed) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    ApiContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let token = bearer_token(parts)?.ok_or(Error::Unauthorized)?;
        authenticate(token, state).await
    }
}

impl<S> OptionalFromRequestParts<S> for AuthUser
where
    ApiContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Error> {
        match bearer_token(parts)? {
            Some(token) => authenticate(token, state).await.map(Some),
            None => Ok(None),
        }
    }
}

/// An operator or an admin; 401 without a valid token, 403 for other roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequireOperator(pub AuthUser);

/// An admin; 401 without a valid token, 403 for other roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequireAdmin(pub AuthUser);

impl<S> FromRequestParts<S> for RequireOperator
where
    ApiContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let user = <AuthUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        user.require(&[Role::Operator])?;
        Ok(Self(user))
    }
}

impl<S> FromRequestParts<S> for RequireAdmin
where
    ApiContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let user = <AuthUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        user.require(&[Role::Admin])?;
        Ok(Self(user))
    }
}

async fn authenticate<S>(token: &str, state: &S) -> Result<AuthUser, Error>
where
    ApiContext: FromRef<S>,
{
    let ctx = ApiContext::from_ref(state);
    let claims = ctx.auth.verify_access(token)?;
    access::check(&ctx.pool, claims.sub, claims.ver).await?;
    Ok(AuthUser {
        id: claims.sub,
        role: claims.role,
    })
}

/// `None` without the header; 401 for any other scheme or a malformed value. The scheme name
/// is case-insensitive (RFC 9110 §11.1).
fn bearer_token(parts: &Parts) -> Result<Option<&str>, Error> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| Error::Unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or(Error::Unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Error::Unauthorized);
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(authorization: Option<&str>) -> Parts {
        let mut builder = axum::http::Request::builder();
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn parses_bearer_header() {
        assert_eq!(bearer_token(&parts(None)).unwrap(), None);
        assert_eq!(
            bearer_token(&parts(Some("Bearer abc"))).unwrap(),
            Some("abc")
        );
        assert_eq!(
            bearer_token(&parts(Some("bearer  abc "))).unwrap(),
            Some("abc")
        );
        for bad in ["Basic abc", "Bearer", "Bearer ", "abc"] {
            assert!(bearer_token(&parts(Some(bad))).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn require_checks_roles() {
        let user = |role| AuthUser {
            id: Uuid::nil(),
            role,
        };
        assert!(user(Role::Driver).require(&[Role::Driver]).is_ok());
        assert!(matches!(
            user(Role::Driver).require(&[Role::Operator]),
            Err(Error::Forbidden)
        ));
        assert!(user(Role::Admin).require(&[Role::Operator]).is_ok());
    }
}

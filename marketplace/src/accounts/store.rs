//! SQL for accounts, and nothing else. Every function takes a connection so the service can
//! run several of them in one transaction.
//!
//! Queries are checked at run time (`query_as`, not `query!`) so that building the crate never
//! needs a live database or a prepared `.sqlx` cache; the `#[sqlx::test]`s cover every query.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{Role, User, REFRESH_FAMILY_MAX_DAYS, REFRESH_TOKEN_TTL_DAYS};
use crate::error::{Error, ResultExt};

mod factors;
mod login_failures;
mod otp;
mod profile;

pub(super) use factors::*;
pub(super) use login_failures::*;
pub(super) use otp::*;
pub(super) use profile::*;

const USER_COLUMNS: &str = "id, email, role, display_name, created_at, disabled, \
                            phone, email_verified_at, phone_verified_at, token_version";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    role: String,
    display_name: Option<String>,
    created_at: DateTime<Utc>,
    disabled: bool,
    phone: Option<String>,
    email_verified_at: Option<DateTime<Utc>>,
    phone_verified_at: Option<DateTime<Utc>>,
    token_version: i32,
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(row: UserRow) -> Result<Self, Error> {
        // The CHECK on users.role makes this unreachable unless the two drift apart.
        let role: Role = row
            .role
            .parse()
            .map_err(|err| Error::Internal(format!("user {}: {err}", row.id)))?;
        Ok(User {
            id: row.id,
            email: row.email,
            role,
            display_name: row.display_name,
            created_at: row.created_at,
            disabled: row.disabled,
            phone: row.phone,
            email_verified_at: row.email_verified_at,
            phone_verified_at: row.phone_verified_at,
            token_version: row.token_version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

pub(super) async fn insert_user(
    conn: &mut PgConnection,
    email: &str,
    password_hash: &str,
    role: Role,
    display_name: Option<&str>,
) -> Result<User, Error> {
    let sql = format!(
        "INSERT INTO users (id, email, password_hash, role, display_name) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}"
    );
    sqlx::query_as::<_, UserRow>(&sql)
        .bind(Uuid::now_v7())
        .bind(email)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(display_name)
        .fetch_one(conn)
        .await
        .on_constraint("users_email_key", |_| Error::Conflict {
            code: "email_taken",
            detail: "an account with this email already exists".into(),
        })?
        .try_into()
}

pub(super) async fn user_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<User>, Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    sqlx::query_as::<_, UserRow>(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(User::try_from)
        .transpose()
}

/// The user and their password hash. `$1::citext` so the comparison (and the unique index)
/// is case-insensitive; a plain text parameter would compare as text.
pub(super) async fn credentials_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<(User, String)>, Error> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1::citext");
    let Some(row) = sqlx::query_as::<_, CredentialsRow>(&sql)
        .bind(email)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((row.user.try_into()?, row.password_hash)))
}

/// The user and their password hash, by id (re-authentication).
pub(super) async fn credentials_by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(User, String)>, Error> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE id = $1");
    let Some(row) = sqlx::query_as::<_, CredentialsRow>(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((row.user.try_into()?, row.password_hash)))
}

/// Disabling also bumps the token version, which revokes every access token issued so far.
pub(super) async fn set_disabled(
    conn: &mut PgConnection,
    id: Uuid,
    disabled: bool,
) -> Result<Option<User>, Error> {
    let sql = format!(
        "UPDATE users SET disabled = $2, \
             token_version = token_version + CASE WHEN $2 THEN 1 ELSE 0 END \
         WHERE id = $1 RETURNING {USER_COLUMNS}"
    );
    sqlx::query_as::<_, UserRow>(&sql)
        .bind(id)
        .bind(disabled)
        .fetch_optional(conn)
        .await?
        .map(User::try_from)
        .transpose()
}

/// `(token_version, disabled)` of a user, for checking an access token.
pub(super) async fn access_state(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(i32, bool)>, Error> {
    Ok(
        sqlx::query_as("SELECT token_version, disabled FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// A stored refresh token, as the refresh use case needs it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct RefreshTokenRow {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub used: bool,
    pub revoked: bool,
    /// Past its own expiry, or its family past the absolute lifetime.
    pub expired: bool,
    pub family_started_at: DateTime<Utc>,
}

/// Stores the digest of a new refresh token; `family_started_at` is `None` for the first
/// token of a family (it starts now) and the family's start for a rotated one. Expiry is
/// computed with the database clock, the same clock that later judges it, so nodes with
/// skewed clocks agree.
pub(super) async fn insert_refresh_token(
    conn: &mut PgConnection,
    family_id: Uuid,
    user_id: Uuid,
    token_hash: &[u8],
    family_started_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, \
                                     family_started_at) \
         VALUES ($1, $2, $3, $4, now() + make_interval(days => $5), coalesce($6, now()))",
    )
    .bind(Uuid::now_v7())
    .bind(family_id)
    .bind(user_id)
    .bind(token_hash)
    .bind(REFRESH_TOKEN_TTL_DAYS)
    .bind(family_started_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Looks a token up and locks its row until the transaction ends, so two concurrent
/// refreshes with the same token run one after the other and the second sees it used.
pub(super) async fn refresh_token_for_update(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<RefreshTokenRow>, Error> {
    let row = sqlx::query_as::<_, RefreshTokenRow>(
        "SELECT id, family_id, user_id, family_started_at, \
                used_at IS NOT NULL AS used, \
                revoked_at IS NOT NULL AS revoked, \
                (expires_at <= now() \
                 OR family_started_at + make_interval(days => $2) <= now()) AS expired \
         FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(token_hash)
    .bind(REFRESH_FAMILY_MAX_DAYS)
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

pub(super) async fn mark_refresh_token_used(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<(), Error> {
    sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes every token of one login. Returns how many were still live.
pub(super) async fn revoke_family(conn: &mut PgConnection, family_id: Uuid) -> Result<u64, Error> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() \
         WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Revokes every token of every login of one user.
pub(super) async fn revoke_user_tokens(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<u64, Error> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() \
         WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Stores `value` under `name` unless another node got there first; returns the stored one.
/// `ON CONFLICT DO NOTHING` makes concurrent first starts agree on one secret.
pub(super) async fn insert_secret_if_absent(
    conn: &mut PgConnection,
    name: &str,
    value: &[u8],
) -> Result<Vec<u8>, Error> {
    sqlx::query(
        "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(value)
    .execute(&mut *conn)
    .await?;
    let (stored,): (Vec<u8>,) = sqlx::query_as("SELECT value FROM server_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(conn)
        .await?;
    Ok(stored)
}

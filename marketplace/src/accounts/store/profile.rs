//! SQL for the profile: contact details and their verification.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{UserRow, USER_COLUMNS};
use crate::accounts::model::User;
use crate::accounts::otp::Channel;
use crate::error::{Error, ResultExt};

/// The account that signs in with this e-mail address or phone, if any. A phone counts only
/// once verified: anyone can type any number into their profile, and sign-in codes must not
/// go to a stranger's phone (nor let its owner sign in to that account).
pub(in crate::accounts) async fn user_by_login_contact(
    conn: &mut PgConnection,
    channel: Channel,
    destination: &str,
) -> Result<Option<User>, Error> {
    let sql = match channel {
        Channel::Email => format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1::citext"),
        Channel::Sms => format!(
            "SELECT {USER_COLUMNS} FROM users WHERE phone = $1 AND phone_verified_at IS NOT NULL"
        ),
    };
    sqlx::query_as::<_, UserRow>(&sql)
        .bind(destination)
        .fetch_optional(conn)
        .await?
        .map(User::try_from)
        .transpose()
}

/// Sets the display name and the phone; a phone that changes loses its verification.
pub(in crate::accounts) async fn update_profile(
    conn: &mut PgConnection,
    id: Uuid,
    display_name: Option<&str>,
    phone: Option<&str>,
) -> Result<Option<User>, Error> {
    let sql = format!(
        "UPDATE users SET display_name = $2, phone = $3, \
             phone_verified_at = CASE WHEN phone IS NOT DISTINCT FROM $3 \
                                      THEN phone_verified_at END \
         WHERE id = $1 RETURNING {USER_COLUMNS}"
    );
    sqlx::query_as::<_, UserRow>(&sql)
        .bind(id)
        .bind(display_name)
        .bind(phone)
        .fetch_optional(conn)
        .await
        .on_constraint("users_phone_key", |_| Error::Conflict {
            code: "phone_taken",
            detail: "another account already uses this phone number".into(),
        })?
        .map(User::try_from)
        .transpose()
}

/// Marks the contact verified, but only while it is still the account's: a code sent to an
/// old address must not verify the new one.
pub(in crate::accounts) async fn mark_contact_verified(
    conn: &mut PgConnection,
    id: Uuid,
    channel: Channel,
    destination: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let sql = match channel {
        Channel::Email => {
            "UPDATE users SET email_verified_at = $3 WHERE id = $1 AND email = $2::citext"
        }
        Channel::Sms => "UPDATE users SET phone_verified_at = $3 WHERE id = $1 AND phone = $2",
    };
    let done = sqlx::query(sql)
        .bind(id)
        .bind(destination)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

//! The signed-in user's own profile: read it, change the display name and phone.

use chrono::Utc;
use sqlx::PgPool;
use uuid::Uuid;

use super::{throttle, Reauth};
use crate::accounts::model::{normalize_display_name, User};
use crate::accounts::otp::{normalize_phone, validate_e164};
use crate::accounts::store;
use crate::error::{Error, FieldError};

/// An account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user: User,
    pub two_factor_enabled: bool,
}

/// A partial update: `None` leaves a field alone, `Some(None)` (JSON `null`) or a blank
/// string clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<Option<String>>,
    pub phone: Option<Option<String>>,
}

pub async fn get_profile(pool: &PgPool, user_id: Uuid) -> Result<Profile, Error> {
    let mut conn = pool.acquire().await?;
    let user = store::user_by_id(&mut conn, user_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let two_factor_enabled = store::totp_enabled(&mut conn, user_id).await?;
    Ok(Profile {
        user,
        two_factor_enabled,
    })
}

/// Applies the update; a new phone starts unverified. A phone already on another account is a
/// `Conflict` with code `phone_taken`. Changing the phone (setting, replacing or clearing
/// it) needs the current password in `reauth`: the phone receives sign-in codes, so a stolen
/// access token must not be able to point it elsewhere.
pub async fn update_profile(
    pool: &PgPool,
    user_id: Uuid,
    update: ProfileUpdate,
    reauth: Reauth<'_>,
) -> Result<Profile, Error> {
    let mut errors = Vec::new();
    let display_name = update.display_name.map(|name| {
        normalize_display_name(name.as_deref()).unwrap_or_else(|message| {
            errors.push(FieldError::new("display_name", message));
            None
        })
    });
    let phone = update.phone.map(|phone| {
        let phone = phone.map(|p| normalize_phone(&p)).filter(|p| !p.is_empty());
        if let Some(Err(message)) = phone.as_deref().map(validate_e164) {
            errors.push(FieldError::new("phone", message));
        }
        phone
    });
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    if let Some(new_phone) = &phone {
        let current = store::user_by_id(&mut *pool.acquire().await?, user_id)
            .await?
            .ok_or(Error::NotFound("user"))?;
        if current.phone != *new_phone {
            let Reauth {
                current_password,
                client_key,
            } = reauth;
            let now = Utc::now();
            throttle::confirm_password(pool, user_id, current_password, client_key, now).await?;
        }
    }

    let mut tx = pool.begin().await?;
    let current = store::user_by_id(&mut tx, user_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let display_name = display_name.unwrap_or(current.display_name);
    let phone = phone.unwrap_or(current.phone);
    let user = store::update_profile(&mut tx, user_id, display_name.as_deref(), phone.as_deref())
        .await?
        .ok_or(Error::NotFound("user"))?;
    let two_factor_enabled = store::totp_enabled(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(Profile {
        user,
        two_factor_enabled,
    })
}

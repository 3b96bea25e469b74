//! TOTP secrets at rest: sealed with the configured [`SecretBox`], bound to their user.
//!
//! Secrets stored before sealing existed stay readable in the clear until first used with a
//! key configured; that use seals them and clears the plaintext, in the caller's transaction
//! (the migration cannot: the key is never in the database).

use sqlx::PgConnection;
use uuid::Uuid;

use crate::accounts::secret_box::SecretBox;
use crate::accounts::store::{self, TotpRow};
use crate::error::Error;

/// Binds a sealed secret to its row: copied onto another user's factor, it does not open.
fn associated(user_id: Uuid) -> Vec<u8> {
    [b"totp_factors.secret:".as_slice(), user_id.as_bytes()].concat()
}

pub(super) fn seal(
    secrets: Option<&SecretBox>,
    user_id: Uuid,
    secret: &[u8],
) -> Result<Vec<u8>, Error> {
    secrets
        .ok_or_else(no_key)?
        .seal(secret, &associated(user_id))
}

/// The factor's secret in the clear.
pub(super) async fn open(
    conn: &mut PgConnection,
    secrets: Option<&SecretBox>,
    user_id: Uuid,
    factor: &TotpRow,
) -> Result<Vec<u8>, Error> {
    match (&factor.secret_sealed, &factor.secret) {
        (Some(sealed), _) => secrets
            .ok_or_else(no_key)?
            .open(sealed, &associated(user_id)),
        (None, Some(plain)) => {
            if let Some(secrets) = secrets {
                let sealed = secrets.seal(plain, &associated(user_id))?;
                store::seal_totp_secret(conn, user_id, &sealed).await?;
            }
            Ok(plain.clone())
        }
        // the table's CHECK keeps exactly one of the two
        (None, None) => Err(Error::Internal(format!(
            "TOTP factor of {user_id} has no secret"
        ))),
    }
}

fn no_key() -> Error {
    Error::Unavailable(
        "two-factor authentication is not configured on this server (no TOTP key)".into(),
    )
}

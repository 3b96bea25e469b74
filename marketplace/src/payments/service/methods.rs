//! Saved cards: the provider keeps them (on the user's customer); we keep brand, last four
//! digits and expiry, never the number.

use std::fmt;

use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{finish, provider_error};
use crate::accounts::AuthUser;
use crate::error::{Error, FieldError};
use crate::payments::model;
use crate::payments::provider::{MethodSource, NewCustomer, PaymentProvider};
use crate::payments::store::{self, MethodRow};
use crate::payments::view::MethodView;

/// `POST /api/payment-methods`: either `token` (a payment method the app made with the
/// provider's SDK, e.g. Stripe's `pm_...`; the card number never reaches the platform), or a
/// test card (`card_number`, `exp_month`, `exp_year`, optional `cvc`) with the local
/// provider and in Stripe test mode: 4242 4242 4242 4242 succeeds, 5555 5555 5555 4444
/// succeeds (Mastercard), 4000 0000 0000 0002 is declined (`card_declined`),
/// 4000 0000 0000 9995 has insufficient funds, 4000 0000 0000 0069 is expired,
/// 4000 0025 0000 3155 needs 3-D Secure. Only brand and last four digits are kept.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PaymentMethodBody)]
pub struct MethodInput {
    /// The provider's payment method id; not with `card_number`, `exp_month`, `exp_year` or
    /// `cvc`.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$",
        example = "pm_1QxHc2LkdIwHu7ixJ5r0aBcD"
    )]
    pub token: Option<String>,
    /// 12 to 19 digits (spaces and dashes between them are dropped) with a correct Luhn check
    /// digit; needs `exp_month` and `exp_year`.
    #[serde(default)]
    #[schema(pattern = "^[ -]*([0-9][ -]*){12,19}$", example = "4242424242424242")]
    pub card_number: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 12, example = 12)]
    pub exp_month: Option<u32>,
    /// The four-digit year: this year to 50 years on, and not past with `exp_month`.
    #[serde(default)]
    #[schema(example = 2034)]
    pub exp_year: Option<i32>,
    #[serde(default)]
    #[schema(pattern = "^[0-9]{3,4}$", example = "123")]
    pub cvc: Option<String>,
    /// Make it the default card (the first card always is).
    #[serde(default)]
    pub make_default: bool,
}

impl fmt::Debug for MethodInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // never a card number or a CVC in a log line
        f.debug_struct("MethodInput")
            .field("token", &self.token)
            .field(
                "card_number",
                &self.card_number.as_ref().map(|_| "<redacted>"),
            )
            .field("make_default", &self.make_default)
            .finish_non_exhaustive()
    }
}

fn validate(input: &MethodInput, now: DateTime<Utc>) -> Result<MethodSource, Error> {
    let mut errors = Vec::new();
    let source = match (&input.token, &input.card_number) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "token",
                "send either `token` or `card_number`, not both",
            ));
            None
        }
        (Some(token), None) => {
            let ok =
                (1..=255).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                errors.push(FieldError::new(
                    "token",
                    "must be the provider's payment method id",
                ));
            }
            for (field, given) in [
                ("exp_month", input.exp_month.is_some()),
                ("exp_year", input.exp_year.is_some()),
                ("cvc", input.cvc.is_some()),
            ] {
                if given {
                    errors.push(FieldError::new(field, "only goes with `card_number`"));
                }
            }
            ok.then(|| MethodSource::Token(token.clone()))
        }
        (None, Some(raw)) => card(input, raw, now, &mut errors),
        (None, None) => {
            errors.push(FieldError::new(
                "card_number",
                "is required (or `token`, a payment method from the provider's SDK)",
            ));
            None
        }
    };
    match source {
        Some(source) if errors.is_empty() => Ok(source),
        _ => Err(Error::Validation(errors)),
    }
}

fn card(
    input: &MethodInput,
    raw: &str,
    now: DateTime<Utc>,
    errors: &mut Vec<FieldError>,
) -> Option<MethodSource> {
    let number = model::normalize_card_number(raw).filter(|d| model::luhn(d));
    if number.is_none() {
        errors.push(FieldError::new(
            "card_number",
            "is not a valid card number (12 to 19 digits with a correct check digit)",
        ));
    }
    let month = input.exp_month.filter(|m| (1..=12).contains(m));
    if month.is_none() {
        errors.push(FieldError::new("exp_month", "is required, 1 to 12"));
    }
    let year = input
        .exp_year
        .filter(|y| (now.year()..=now.year() + 50).contains(y));
    if year.is_none() {
        errors.push(FieldError::new(
            "exp_year",
            "is required: the four-digit year, this year or later",
        ));
    }
    if let (Some(m), Some(y)) = (month, year) {
        if !model::not_expired(m, y, now) {
            errors.push(FieldError::new("exp_month", "the card has expired"));
        }
    }
    if let Some(cvc) = &input.cvc {
        if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(FieldError::new("cvc", "must be 3 or 4 digits"));
        }
    }
    Some(MethodSource::TestCard {
        number: number?,
        exp_month: month?,
        exp_year: year?,
    })
}

/// The user's customer at the provider, made on first use. The provider call is idempotent
/// on the user, so two concurrent first uses make one customer.
pub async fn ensure_customer(
    conn: &mut PgConnection,
    provider: &dyn PaymentProvider,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    if let Some(id) = store::customer(conn, user, provider.name()).await? {
        return Ok(id);
    }
    let email = store::user_email(conn, user)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let key = format!("customer:{user}");
    let customer = provider
        .create_customer(&NewCustomer {
            user_id: user,
            email: &email,
            idempotency_key: &key,
        })
        .await
        .map_err(|e| provider_error(e, "customer"))?;
    store::insert_customer(conn, user, provider.name(), &customer.id, now).await?;
    store::customer(conn, user, provider.name())
        .await?
        .ok_or_else(|| Error::Internal("the payment customer vanished".into()))
}

/// Saves a card for the caller. The first card (or one sent with `make_default`) becomes the
/// default.
pub async fn add_method(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    input: MethodInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<MethodView, Error> {
    let source = validate(&input, now)?;
    crate::plumbing::idempotency::checked(key)?;
    let customer = ensure_customer(&mut *pool.acquire().await?, provider, caller.id, now).await?;
    let key = match key {
        Some(k) => format!("method:{}:{k}", caller.id),
        None => format!("method:{}", Uuid::now_v7()),
    };
    let field = match source {
        MethodSource::Token(_) => "token",
        MethodSource::TestCard { .. } => "card_number",
    };
    let card = provider
        .attach_method(&customer, &source, &key)
        .await
        .map_err(|e| provider_error(e, field))?;
    let last4_ok = card.last4.len() == 4 && card.last4.bytes().all(|b| b.is_ascii_digit());
    let (Ok(exp_month), Ok(exp_year), true) = (
        i16::try_from(card.exp_month),
        i16::try_from(card.exp_year),
        last4_ok,
    ) else {
        return Err(Error::Internal(format!(
            "the provider described method {} oddly",
            card.id
        )));
    };
    let row = MethodRow {
        id: Uuid::now_v7(),
        user_id: caller.id,
        provider: provider.name().into(),
        provider_method_id: card.id,
        brand: card.brand,
        last4: card.last4,
        exp_month,
        exp_year,
        is_default: false,
        created_at: now,
        removed_at: None,
    };
    let mut tx = pool.begin().await?;
    let result = async {
        let stored = store::insert_method(&mut tx, &row).await?;
        if stored.user_id != caller.id || stored.removed_at.is_some() {
            return Err(Error::Conflict {
                code: "payment_method_taken",
                detail: "this payment method is saved elsewhere or was removed".into(),
            });
        }
        if input.make_default || store::default_method(&mut tx, caller.id).await?.is_none() {
            store::set_default(&mut tx, caller.id, stored.id).await?;
        }
        store::method(&mut tx, caller.id, stored.id, false)
            .await?
            .map(MethodView::from)
            .ok_or_else(|| Error::Internal("the saved method vanished".into()))
    }
    .await;
    finish(tx, result).await
}

pub async fn list_methods(pool: &PgPool, caller: &AuthUser) -> Result<Vec<MethodView>, Error> {
    let rows = store::methods_of(&mut *pool.acquire().await?, caller.id).await?;
    Ok(rows.into_iter().map(MethodView::from).collect())
}

/// Removes a card (detached at the provider; kept in our history, since payments name it).
pub async fn remove_method(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let result = async {
        let m = store::method(&mut tx, caller.id, id, true)
            .await?
            .ok_or(Error::NotFound("payment method"))?;
        // a card saved with another provider (the deployment switched) is only forgotten
        if m.provider == provider.name() {
            let key = format!("detach:{}", m.id);
            provider
                .detach_method(&m.provider_method_id, &key)
                .await
                .map_err(|e| provider_error(e, "id"))?;
        }
        store::remove_method(&mut tx, &m, now).await
    }
    .await;
    finish(tx, result).await
}

pub async fn set_default(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<MethodView, Error> {
    let mut tx = pool.begin().await?;
    let result = async {
        store::method(&mut tx, caller.id, id, true)
            .await?
            .ok_or(Error::NotFound("payment method"))?;
        store::set_default(&mut tx, caller.id, id).await?;
        store::method(&mut tx, caller.id, id, false)
            .await?
            .map(MethodView::from)
            .ok_or(Error::NotFound("payment method"))
    }
    .await;
    finish(tx, result).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 4, 8, 0, 0).unwrap()
    }

    fn fields(err: Error) -> Vec<String> {
        match err {
            Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn card_input_is_checked_field_by_field() {
        let input = MethodInput {
            card_number: Some("4242 4242 4242 4241".into()),
            exp_month: Some(13),
            exp_year: Some(2026),
            cvc: Some("12a".into()),
            ..MethodInput::default()
        };
        assert_eq!(
            fields(validate(&input, now()).unwrap_err()),
            ["card_number", "exp_month", "exp_year", "cvc"]
        );
        let expired = MethodInput {
            card_number: Some("4242424242424242".into()),
            exp_month: Some(12),
            exp_year: Some(2027),
            ..MethodInput::default()
        };
        assert!(validate(&expired, now()).is_ok());
        let both = MethodInput {
            token: Some("pm_x".into()),
            ..expired.clone()
        };
        assert_eq!(fields(validate(&both, now()).unwrap_err()), ["token"]);
        assert_eq!(
            fields(validate(&MethodInput::default(), now()).unwrap_err()),
            ["card_number"]
        );
    }

    #[test]
    fn the_number_never_shows_in_debug() {
        let input = MethodInput {
            card_number: Some("4242424242424242".into()),
            cvc: Some("123".into()),
            ..MethodInput::default()
        };
        let text = format!("{input:?}");
        assert!(!text.contains("4242") && !text.contains("123"), "{text}");
    }
}

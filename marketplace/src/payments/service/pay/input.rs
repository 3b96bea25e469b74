//! What `POST /api/payments` takes and answers, and the checks of its fields.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, FieldError};
use crate::ledger::model::Minor;
use crate::ledger::service::{self as ledger};
use crate::payments::model::{Method, Purpose, TOPUP_MAX_MINOR, TOPUP_MIN_MINOR};
use crate::payments::provider::CaptureMethod;
use crate::payments::view::PaymentView;

/// `POST /api/payments`. `booking`: `booking_id` (the caller's pending, confirmed, checked-in
/// or charging booking; by wallet it must be confirmed); `session`: `session_id` (the
/// caller's billed session); `topup`: `amount_cents` (100 to 100000) and `currency`, by card.
/// A field that does not go with the purpose or the method is refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PayBody)]
pub struct PayInput {
    pub purpose: Purpose,
    /// Purpose `booking` only (and required there).
    #[serde(default)]
    pub booking_id: Option<Uuid>,
    /// Purpose `session` only (and required there).
    #[serde(default)]
    pub session_id: Option<Uuid>,
    /// A top-up's amount and currency (a booking's and a session's come from them): purpose
    /// `topup` only (and required there).
    #[serde(default)]
    #[schema(minimum = 100, maximum = 100000, example = 2500)]
    pub amount_cents: Option<Minor>,
    /// ISO 4217, capitals; purpose `topup` only (and required there).
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: Option<String>,
    /// A top-up is paid by `card`.
    pub method: Method,
    /// Cards only: one of the caller's saved cards (default: the caller's default card).
    #[serde(default)]
    pub payment_method_id: Option<Uuid>,
    /// Cards only; default `automatic`. `manual` authorizes now and captures later: by
    /// `POST /api/payments/{id}/capture`, or on its own once the bill is posted or the
    /// booking ended.
    #[serde(default)]
    pub capture: Option<CaptureMethod>,
}

#[derive(Debug, Clone)]
pub enum Paid {
    New(PaymentView),
    /// A retry with the same `Idempotency-Key`: the payment as it stands now.
    Replayed(PaymentView),
}

pub(super) fn validate(input: &PayInput, key: Option<&str>) -> Result<(), Error> {
    let mut errors = Vec::new();
    let mut forbid = |field: &str, given: bool, why: &str| {
        if given {
            errors.push(FieldError::new(field, why.to_owned()));
        }
    };
    let purpose = input.purpose;
    forbid(
        "booking_id",
        input.booking_id.is_some() && purpose != Purpose::Booking,
        "only goes with purpose `booking`",
    );
    forbid(
        "session_id",
        input.session_id.is_some() && purpose != Purpose::Session,
        "only goes with purpose `session`",
    );
    forbid(
        "amount_cents",
        input.amount_cents.is_some() && purpose != Purpose::Topup,
        "only goes with purpose `topup` (a booking's and a session's amount are theirs)",
    );
    forbid(
        "currency",
        input.currency.is_some() && purpose != Purpose::Topup,
        "only goes with purpose `topup`",
    );
    forbid(
        "payment_method_id",
        input.payment_method_id.is_some() && input.method == Method::Wallet,
        "only goes with method `card`",
    );
    forbid(
        "capture",
        input.capture.is_some() && input.method == Method::Wallet,
        "only goes with method `card`",
    );
    forbid(
        "method",
        purpose == Purpose::Topup && input.method == Method::Wallet,
        "a top-up is paid by `card`",
    );
    match purpose {
        Purpose::Booking if input.booking_id.is_none() => {
            errors.push(FieldError::new(
                "booking_id",
                "is required for purpose `booking`",
            ));
        }
        Purpose::Session if input.session_id.is_none() => {
            errors.push(FieldError::new(
                "session_id",
                "is required for purpose `session`",
            ));
        }
        Purpose::Topup => {
            if !input
                .amount_cents
                .is_some_and(|a| (TOPUP_MIN_MINOR..=TOPUP_MAX_MINOR).contains(&a))
            {
                errors.push(FieldError::new(
                    "amount_cents",
                    format!("is required: {TOPUP_MIN_MINOR} to {TOPUP_MAX_MINOR} (minor units)"),
                ));
            }
            if !input
                .currency
                .as_deref()
                .is_some_and(ledger::valid_currency)
            {
                errors.push(FieldError::new(
                    "currency",
                    "is required: an ISO 4217 code in capitals, such as EUR",
                ));
            }
        }
        _ => {}
    }
    crate::plumbing::idempotency::checked(key)?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

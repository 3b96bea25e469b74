//! What `POST /api/payments` takes and answers, and the checks of its fields.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, FieldError};
use crate::ledger::model::Minor;
use crate::ledger::service::{self as ledger};
use crate::payments::model::{Method, Purpose, TOPUP_MAX_MINOR, TOPUP_MIN_MINOR};
use crate::payments::provider::CaptureMethod;
use crate::payments::view::PaymentView;

/// `POST /api/payments`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PayInput {
    pub purpose: Purpose,
    #[serde(default)]
    pub booking_id: Option<Uuid>,
    #[serde(default)]
    pub session_id: Option<Uuid>,
    /// A top-up's amount and currency (a booking's and a session's come from them).
    #[serde(default)]
    pub amount_cents: Option<Minor>,
    #[serde(default)]
    pub currency: Option<String>,
    pub method: Method,
    /// The card (default: the caller's default card).
    #[serde(default)]
    pub payment_method_id: Option<Uuid>,
    /// Cards only; default `automatic`. `manual` authorizes now and captures later: by
    /// `POST /api/payments/{id}/capture`, or on its own once the bill is posted or the
    /// booking ended (see `payments::authorizations`).
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

//! `POST /api/refunds`: money back, to the card it came from or into the wallet.
//!
//! - Admins refund any payment, any amount up to what was received and not refunded yet.
//! - A driver gets the refund the booking's policy decided when it was cancelled
//!   (`booking_refunds`), back to the card; the ledger already put that decision into the
//!   wallet at the cancellation, so this moves it from the wallet to the card. A wallet
//!   payment's policy refund is already complete then.
//! - To the card: the provider refunds, and the ledger takes the amount out of the wallet in
//!   the same transaction (409 `insufficient_funds` first when the wallet no longer holds it,
//!   so nothing is refunded twice). Into the wallet (admins): an open hold is released, else
//!   the platform pays it back ([`ledger::goodwill_to_wallet`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::{finish, provider_error};
use crate::accounts::{AuthUser, Role};
use crate::error::Error;
use crate::ledger::model::Minor;
use crate::ledger::service as ledger;
use crate::payments::model::{Method, Purpose, RefundDestination};
use crate::payments::provider::{NewRefund, PaymentProvider, RefundStatus};
use crate::payments::store::{self, PaymentRow, RefundRow};
use crate::payments::view::RefundView;

pub const REASON_MAX: usize = 500;

/// `POST /api/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RefundBody)]
pub struct RefundInput {
    pub payment_id: Uuid,
    /// Default: all that may be refunded (for a driver, what the policy decided).
    #[serde(default)]
    #[schema(minimum = 1, example = 600)]
    pub amount_cents: Option<Minor>,
    /// Default `original_method`. `wallet` is for admins.
    #[serde(default)]
    pub destination: Option<RefundDestination>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Refunded {
    pub view: RefundView,
    pub replayed: bool,
}

fn basis_limit(
    caller: &AuthUser,
    payment: &PaymentRow,
    destination: RefundDestination,
    decided: Option<Minor>,
    refunded_by_policy: Minor,
) -> Result<(&'static str, Option<Minor>), Error> {
    if caller.role == Role::Admin {
        return Ok(("admin", None));
    }
    let Some(decided) = decided.filter(|_| payment.purpose == Purpose::Booking.as_str()) else {
        return Err(Error::Conflict {
            code: "no_refund_due",
            detail: "nothing is due back: a booking's refund follows its cancellation; other \
                     refunds are made by an admin"
                .into(),
        });
    };
    if payment.method == Method::Wallet.as_str() {
        return Err(Error::Conflict {
            code: "already_refunded",
            detail: "the policy's refund went back to the wallet when the booking was cancelled"
                .into(),
        });
    }
    if destination == RefundDestination::Wallet {
        return Err(Error::Forbidden);
    }
    Ok(("policy", Some(decided - refunded_by_policy)))
}

pub async fn refund(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    input: RefundInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Refunded, Error> {
    if input.amount_cents.is_some_and(|a| a < 1) {
        return Err(Error::invalid("amount_cents", "must be positive"));
    }
    if input
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > REASON_MAX)
    {
        return Err(Error::invalid(
            "reason",
            format!("must be at most {REASON_MAX} characters"),
        ));
    }
    crate::plumbing::idempotency::checked(key)?;
    let destination = input
        .destination
        .unwrap_or(RefundDestination::OriginalMethod);
    let key = key.map_or_else(
        || format!("auto:{}", Uuid::now_v7()),
        |k| format!("{}:{k}", caller.id),
    );
    let mut tx = pool.begin().await?;
    let result = async {
        let payment = store::payment(&mut tx, input.payment_id, true)
            .await?
            .filter(|p| p.user_id == caller.id || caller.role == Role::Admin)
            .ok_or(Error::NotFound("payment"))?;
        if let Some(done) = store::refund_by_key(&mut tx, payment.id, &key).await? {
            let same = done.amount_minor == input.amount_cents.unwrap_or(done.amount_minor)
                && done.destination == destination.as_str();
            if !same {
                return Err(crate::plumbing::idempotency::reused());
            }
            return Ok(Refunded {
                view: done.into(),
                replayed: true,
            });
        }
        let decided = match payment.booking_id {
            Some(b) => ledger::booking_refund(&mut tx, b)
                .await?
                .map(|r| r.amount_cents),
            None => None,
        };
        let by_policy = store::refunded_on(&mut tx, payment.id, "policy").await?;
        let (basis, limit) = basis_limit(caller, &payment, destination, decided, by_policy)?;
        let refundable = payment.amount_received - payment.amount_refunded;
        let most = limit.map_or(refundable, |l| l.min(refundable));
        let amount = input.amount_cents.unwrap_or(most);
        if most < 1 {
            return Err(Error::Conflict {
                code: "nothing_to_refund",
                detail: "nothing of this payment is left to refund".into(),
            });
        }
        if amount > most {
            let why = if limit.is_some_and(|l| l < refundable) {
                "the booking's refund policy"
            } else {
                "what was received and not refunded yet"
            };
            return Err(Error::invalid(
                "amount_cents",
                format!("must be at most {most} ({why})"),
            ));
        }
        let mut row = RefundRow {
            id: Uuid::now_v7(),
            payment_id: payment.id,
            destination: destination.as_str().into(),
            origin: "api".into(),
            provider_refund_id: None,
            amount_minor: amount,
            currency: payment.currency.clone(),
            status: RefundStatus::Succeeded.as_str().into(),
            reason: input.reason.clone().unwrap_or_default(),
            requested_by: Some(caller.id),
            basis: basis.into(),
            idempotency_key: key.clone(),
            ledger_posting_id: None,
            ledger_reversal_id: None,
            failure_reason: None,
            created_at: now,
            updated_at: now,
        };
        match destination {
            RefundDestination::OriginalMethod => {
                to_card(&mut tx, provider, caller, &payment, &mut row, now).await?
            }
            RefundDestination::Wallet => {
                to_wallet(&mut tx, caller, &payment, &mut row, now).await?
            }
        }
        store::insert_refund(&mut tx, &row).await?;
        store::add_refunded(&mut tx, payment.id, amount, now).await?;
        Ok(Refunded {
            view: row.into(),
            replayed: false,
        })
    }
    .await;
    finish(tx, result).await
}

async fn to_card(
    conn: &mut sqlx::PgConnection,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    payment: &PaymentRow,
    row: &mut RefundRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if payment.method != Method::Card.as_str() {
        return Err(Error::invalid(
            "destination",
            "a wallet payment is refunded to the wallet",
        ));
    }
    if payment.provider != provider.name() {
        return Err(Error::Conflict {
            code: "provider_changed",
            detail: format!(
                "the payment was made with the `{}` provider",
                payment.provider
            ),
        });
    }
    let pi = payment.provider_payment_id.clone().ok_or(Error::Conflict {
        code: "nothing_to_refund",
        detail: "the card payment has no provider payment".into(),
    })?;
    // the wallet must still hold it: checked under the wallet's lock, before the provider
    let lock = ledger::lock_driver(conn, payment.user_id, &payment.currency).await?;
    if lock.wallet < row.amount_minor {
        return Err(Error::Conflict {
            code: "insufficient_funds",
            detail: format!(
                "the wallet holds {} (minor units) of this money; the rest was spent or is held",
                lock.wallet
            ),
        });
    }
    let key = format!("refund:{}:{}", payment.id, row.idempotency_key);
    let state = provider
        .refund(&NewRefund {
            payment: &pi,
            amount: Some(row.amount_minor),
            metadata: BTreeMap::from([
                ("payment_id".to_owned(), payment.id.to_string()),
                ("refund_id".to_owned(), row.id.to_string()),
            ]),
            idempotency_key: &key,
        })
        .await
        .map_err(|e| provider_error(e, "amount_cents"))?;
    row.provider_refund_id = Some(state.id.clone());
    row.status = state.status.as_str().into();
    row.failure_reason = state.failure_reason.clone();
    if !matches!(state.status, RefundStatus::Failed | RefundStatus::Canceled) {
        row.ledger_posting_id = Some(
            ledger::refund_to_card(
                conn,
                payment.into(),
                row.amount_minor,
                &state.id,
                Some(caller.id),
                now,
            )
            .await?,
        );
    }
    Ok(())
}

async fn to_wallet(
    conn: &mut sqlx::PgConnection,
    caller: &AuthUser,
    payment: &PaymentRow,
    row: &mut RefundRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let open_hold = match payment.ledger_hold_id {
        Some(h) => ledger::hold_by_id(conn, h, true)
            .await?
            .filter(|h| h.is_open()),
        None => None,
    };
    row.ledger_posting_id = match open_hold {
        Some(h) if h.remaining_minor >= row.amount_minor => {
            ledger::release(conn, h.id, Some(row.amount_minor), Some(caller.id), now).await?
        }
        _ => Some(
            ledger::goodwill_to_wallet(
                conn,
                payment.into(),
                row.amount_minor,
                row.id,
                caller.id,
                now,
            )
            .await?,
        ),
    };
    Ok(())
}

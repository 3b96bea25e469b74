//! Payments' use cases. Each runs in its own transactions; a provider call happens between
//! them (a payment row is committed as `processing` first, so a retry finds it and sends the
//! same idempotency key), or, where a balance must not move meanwhile (a refund to the card
//! is taken out of the wallet), inside the transaction that holds the lock.
//!
//! The money itself is the ledger's: money received by card comes in through
//! [`crate::ledger::service::record_provider_payment`] (provider clearing → the driver's
//! wallet, paying off any debt first) and is then held for the booking or used for the
//! session's bill by the ledger's own functions; what the provider does with it later
//! (refunds, disputes, transfers to hosts) is posted by the ledger's provider moves, given
//! the [`PaymentFacts`] and [`TransferFacts`] made from our rows here.

mod accounts;
mod authorizations;
mod disputes;
mod methods;
mod pay;
mod provider_refunds;
mod refunds;
mod topup;
mod transfer_reversals;
mod transfers;
mod webhooks;

use super::provider::ProviderError;
use super::store::transfers::TransferRow;
use super::store::PaymentRow;
use crate::error::Error;
use crate::ledger::service::{PaymentFacts, TransferFacts};

pub use accounts::{create_payout, open_payout_account, payout_account, PayoutAccountInput};
pub use authorizations::{authorization_action, settle_authorizations, AuthorizationReport};
pub use methods::{
    add_method, ensure_customer, list_methods, remove_method, set_default, MethodInput,
};
pub use pay::{cancel, capture, confirm, get, list, pay, Paid, PayInput};
pub use refunds::{refund, RefundInput, Refunded};
pub use topup::{wallet_topup, WalletTopup, WalletTopupView};
pub use transfers::{host_transfers, pay_hosts, TransferReport, MIN_TRANSFER};
pub use webhooks::{stripe_webhook, PROVIDER as WEBHOOK_PROVIDER};

pub(super) use crate::plumbing::tx::finish;

/// What the ledger needs of a payment to post what the provider does with its money.
impl<'a> From<&'a PaymentRow> for PaymentFacts<'a> {
    fn from(p: &'a PaymentRow) -> Self {
        Self {
            payment_id: p.id,
            driver_id: p.user_id,
            currency: &p.currency,
            provider: &p.provider,
            booking_id: p.booking_id,
            session_id: p.session_id,
        }
    }
}

/// What the ledger needs of a transfer to a host's connected account.
impl<'a> From<&'a TransferRow> for TransferFacts<'a> {
    fn from(t: &'a TransferRow) -> Self {
        Self {
            transfer_id: t.id,
            host_id: t.host_id,
            currency: &t.currency,
            amount: t.amount_minor,
            destination_account: &t.destination_account,
        }
    }
}

/// A provider failure as an API error; `field` is the request field a card problem is
/// about.
pub(super) fn provider_error(err: ProviderError, field: &str) -> Error {
    match err {
        ProviderError::Card { message, .. } => Error::invalid(field, message),
        ProviderError::InvalidRequest { message, .. } => Error::Conflict {
            code: "provider_refused",
            detail: format!("the payment provider refused: {message}"),
        },
        ProviderError::Auth(detail) => {
            tracing::error!(%detail, "the payment provider refuses our credentials");
            Error::BadGateway {
                code: "provider_error",
                detail: "the payment provider refused the platform's credentials".into(),
            }
        }
        ProviderError::Unavailable(detail) => {
            tracing::warn!(%detail, "payment provider unavailable");
            Error::Unavailable(
                "the payment provider did not answer; send the same request with the same \
                 Idempotency-Key again"
                    .into(),
            )
        }
        ProviderError::NotConfigured => Error::PaymentsNotConfigured,
        ProviderError::Unexpected(detail) => {
            tracing::error!(%detail, "unexpected payment provider answer");
            Error::BadGateway {
                code: "provider_error",
                detail: "the payment provider's answer could not be read".into(),
            }
        }
    }
}

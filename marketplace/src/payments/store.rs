//! SQL for payments, and nothing else. Every function takes a connection so the service runs
//! several in one transaction (with the ledger's postings). One file per group of tables;
//! everything is re-exported here, so callers name it `store::...`.

pub mod authorizations;
mod customers;
pub mod disputes;
mod events;
mod methods;
mod payments;
mod payouts;
mod refunds;
pub mod transfers;

pub use customers::{customer, insert_customer, user_email};
pub use events::{insert_event, set_event_outcome};
pub use methods::{
    default_method, insert_method, method, method_by_id, methods_of, remove_method, set_default,
    MethodRow,
};
pub use payments::{
    add_refunded, insert_payment, mark_failed, payment, payment_by_key, payment_by_provider_id,
    payments_of, session_due, set_ledger, update_state, PaymentRow, ProviderUpdate, SessionDue,
    BOOKING_LIVE, PAYMENT_KEY, SESSION_LIVE,
};
pub use payouts::{
    charges_account, insert_payout, insert_payout_account, payout_account, payout_by_key,
    update_payout, update_payout_account, AccountRow, PayoutRow,
};
pub use refunds::{
    insert_refund, name_refund, refund_by_key, refund_by_provider_id, refunded_on,
    refunded_to_card, refunds_of, unnamed_provider_refund, update_refund, RefundRow,
};

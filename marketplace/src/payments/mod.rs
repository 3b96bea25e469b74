//! Payments (migration `0010_payments.sql`): saved cards, paying bookings, charging sessions
//! and wallet top-ups by card or wallet, refunds, the Stripe webhook, hosts' payout accounts.
//!
//! - The card processor is a port, [`PaymentProvider`]: the `stripe-adapter` crate implements
//!   it with async-stripe; [`LocalProvider`] is Stripe's test mode without a network (test
//!   card numbers that succeed, are declined or need 3-D Secure) for development and the
//!   demo, used in development mode when no Stripe key is configured; in production without
//!   a key the provider is [`Unconfigured`] and card routes answer `503
//!   payments_not_configured`.
//! - Money is the ledger's: a card payment's money comes into the driver's wallet through
//!   `ledger::service::record_provider_payment` once per provider payment, and is then held
//!   for the booking or taken by the session's bill by the ledger's own functions; a wallet
//!   payment is a ledger hold or bill posting. What the provider later does with the money
//!   (refunds, disputes, transfers to hosts) the ledger posts too, given plain facts about our
//!   payments and transfers (`ledger::service::PaymentFacts`, `TransferFacts`).
//! - Card authorizations (manual capture) settle themselves ([`authorizations`] rules,
//!   [`service::settle_authorizations`] for a periodic job): captured for what a posted bill
//!   left owing or an ended booking keeps, released otherwise or before they lapse.
//! - Idempotency everywhere: payments and refunds by the client's `Idempotency-Key`
//!   (UNIQUE per user), every provider call with a key derived from our ids, webhook events by
//!   their id (`provider_events`). A payment's state only moves forward
//!   ([`model::advance`]), so the provider's answers and webhooks may come in any order.

pub mod authorizations;
pub mod http;
pub mod local;
pub mod model;
pub mod provider;
pub mod service;
pub mod store;
pub mod unconfigured;
pub mod view;
pub mod webhook;

pub use local::LocalProvider;
pub use provider::{PaymentProvider, ProviderError, ProviderFuture};
pub use unconfigured::Unconfigured;

//! The floor under the capability modules: plumbing every module may use and that uses none
//! of them (with `error` and `money` beside it at the crate's root).
//!
//! - [`clock`]: where "now" comes from (the [`Clock`] port in `ApiContext`).
//! - [`idempotency`]: the `Idempotency-Key` rules and the rows that replay an answer.
//! - [`notifier`]: "tell this user this, in this transaction" (the [`Notifier`] port and its
//!   [`Outbox`]).
//! - `tx`: ending a use case's transaction (for the crate's use cases only).

pub mod clock;
pub mod idempotency;
pub mod notifier;
pub(crate) mod tx;

pub use clock::{Clock, FixedClock, SystemClock};
pub use notifier::{Notifier, Outbox};

//! The marketplace domain: one module per capability, each with the same rooms
//! (`model` pure rules, `store` SQL, `service` use cases, `http` routes), standing on one
//! floor of shared plumbing (`plumbing`, `error`, `money`) and merged into one router by
//! `http`. `tests/architecture.rs` keeps the modules' imports going one way.
//! It depends on nothing of ours; the `csms` crate composes it into the server.

#[macro_use]
mod macros;

pub mod accounts;
pub mod bookings;
pub mod error;
pub mod http;
pub mod invoices;
pub mod ledger;
pub mod listings;
pub mod money;
pub mod payments;
pub mod plumbing;
pub mod search;
pub mod sessions;
pub mod subscriptions;
pub mod tariffs;

pub use accounts::{AuthKeys, AuthUser, RequireAdmin, RequireOperator, Role};
pub use error::{Error, FieldError, ResultExt};
pub use http::{app, router, ApiContext, ApiJson};

//! Harness for end-to-end tests: starts the real `csms` binary on a fresh database and talks
//! to it over real sockets, as stations and REST clients do.

pub mod charging;
pub mod ocpp_client;
pub mod server;

pub use ocpp_client::{OcppClient, Received};
pub use server::{Server, ServerOptions};

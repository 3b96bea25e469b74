//! Accounts: sign-up, login, rotating refresh tokens, and who may do what (roles).

mod extract;
pub mod http;
pub mod model;
mod password;
pub mod service;
mod store;
mod tokens;

pub use extract::{AuthUser, RequireAdmin, RequireOperator};
pub use model::{AccessClaims, Role, TokenPair, UnknownRole, User};
pub use service::{create_user, load_or_create_secret, Registered, Registration};
pub use tokens::{generate_secret, AuthKeys, DEFAULT_ACCESS_TTL, SECRET_BYTES};

//! Accounts: sign-up, login, rotating refresh tokens, who may do what (roles), one-time codes
//! by e-mail/SMS, the TOTP second factor, the profile and the driver's vehicles; failed-login
//! throttling, re-authentication for sensitive changes, and access tokens revoked by version.

mod access;
mod client;
pub mod doc;
mod extract;
pub mod http;
pub mod limits;
pub mod model;
pub mod otp;
mod password;
pub mod secret_box;
pub mod service;
mod store;
mod tokens;
pub mod totp;
pub mod vehicles;

pub use client::{ClientKey, UNKNOWN_CLIENT};
pub use extract::{AuthUser, RequireAdmin, RequireOperator};
pub use limits::RateLimited;
pub use model::{AccessClaims, LoginOutcome, MfaRequired, Role, TokenPair, UnknownRole, User};
pub use otp::{Channel, Purpose};
pub use secret_box::SecretBox;
pub use service::{create_user, load_or_create_secret, Registered, Registration};
pub use tokens::{generate_secret, AuthKeys, DEFAULT_ACCESS_TTL, SECRET_BYTES};

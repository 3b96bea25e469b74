//! Paying a booking, a charging session or a wallet top-up, by card or by wallet; and the
//! card payment's later steps (3-D Secure done, capture, cancel).
//!
//! By wallet the ledger does it at once: a booking's amount is held on the wallet, a
//! session's bill is posted (taken from the booking's hold and the wallet). By card the
//! provider is asked; once money is received it goes into the driver's wallet through the
//! ledger (paying off any debt first) and is used there: held for the booking, or taken by
//! the session's bill. So a card payment and the ledger can never disagree on where the
//! money is, whatever order the provider's answers and webhooks arrive in.

mod card;
mod create;
mod input;
mod record;
mod steps;
mod target;
mod wallet;

pub use create::pay;
pub use input::{Paid, PayInput};
pub(super) use record::{apply, Seen};
pub use steps::{cancel, capture, confirm, get, list};

//! Subscriptions and business products (migration `0012_subscriptions.sql`): drivers' plans
//! (Basic free, Premium 9.99 a month for 10 % off charging, Pro 24.99 for 20 % off and
//! priority booking), premium insurance coverage (4.99), and hosts' products (featured
//! listing 99, real-time availability API 199, analytics 49). Prices per currency are the
//! catalogue's (`subscription_prices`, USD and EUR seeded).
//!
//! - Money: paid from the subscriber's wallet (any user may top one up) into the platform's
//!   `platform_subscriptions` revenue (insurance into `insurance_reserve`), one ledger
//!   posting of kind `subscription` per charge, in the transaction that decides it; a
//!   prorated credit flows back the same way. A fee the wallet cannot cover is refused: at
//!   signup that is a 409 `insufficient_funds`, at renewal it starts dunning.
//! - Periods are calendar months anchored on the day of subscribing, clamped at month ends
//!   ([`period`]). A change of product mid-period prorates the unused rest (credit at the old
//!   price rounded down, charge at the new one rounded up, the net posted at once); changing
//!   to Basic, or cancelling, ends the subscription at its period end.
//! - Dunning ([`service::run_due`], a periodic job): a failed renewal makes it past due and
//!   is retried after 1, 3 and 7 days — benefits continue meanwhile — then it ends (unpaid).
//!   Each notice goes to the outbox in the same transaction.
//! - Benefits ([`entitlements`]) are read at an instant from `subscription_spans`: the plan
//!   discount and insurance coverage of a session bill are those in force when the session
//!   started, whenever the bill is computed.
//! - VAT ([`tax`], migration `0014_subscription_tax.sql`): prices include it at the rate
//!   the platform has for the currency (`platform_tax_rates`: EUR 21 %, USD none);
//!   insurance coverage is exempt. Each charge keeps its VAT and rate; the posting puts the
//!   VAT into `tax_payable`, the rest into revenue; a credit gives VAT back at the rate of
//!   the charge it credits.
//! - Invoices are issued from `subscription_charges` ([`store::charge`]), with a VAT line.

pub mod entitlements;
pub mod http;
pub mod invoice;
pub mod model;
pub mod period;
pub mod service;
pub mod store;
pub mod tax;
pub mod view;

pub use entitlements::{benefits_at, extras_at, Benefits};
pub use service::{run_due, RenewalReport};

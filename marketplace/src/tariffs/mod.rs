//! Tariffs: an OCPI 2.2.1 price engine, host price settings with history, and itemized
//! estimates.
//!
//! - [`ocpi`]: the OCPI 2.2.1 Tariff and CDR objects (import/export as JSON).
//! - [`engine`]: prices a session's periods with a tariff in the charger's time zone.
//! - [`peak_night`]: the peak (18–21 h) and night (22–06 h) rules: a host's simple settings
//!   (price per kWh, hourly rate, minimum, peak/night multipliers, idle fee) as an OCPI
//!   tariff with one element per window; emergency bookings pay a multiplier on top.
//! - [`bill`]: subscription, package, plan discount, insurance fee, tax, commission split.
//! - [`zones`]: countries' time zones and tax rules.
//! - `rules` (what a host may send), `quote` (estimates): pure.
//! - `store`/`service`/`http`: a tariff version per change, per listing (`listing_tariffs`);
//!   a session is priced with the version in force when it started
//!   ([`service::tariff_in_force`], [`service::bill_session`]).

pub mod bill;
pub mod bounds;
mod charge;
mod doc;
pub mod engine;
pub mod http;
mod lines;
pub mod model;
pub mod ocpi;
pub mod peak_night;
mod pieces;
pub mod quote;
pub mod restrict;
pub mod rules;
pub mod service;
pub mod store;
pub mod zones;

pub use bill::{bill, Bill, Extras, Plan};
pub use engine::{price, Charge, ChargeKind, OcpiTotals, PriceError, PriceReport};
pub use model::{Period, Session};
pub use ocpi::{Cdr, Tariff};
pub use peak_night::SimpleSettings;
pub use service::tariff_in_force;

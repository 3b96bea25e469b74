//! Charging sessions: a driver's charge tied to a booking (or started ad hoc) and to the OCPP
//! transaction that delivered it.
//!
//! - Lifecycle ([`model::transition`]): start → active ↔ paused → completed, or cancelled
//!   when no transaction was ever reported. Stop any time.
//! - Energy ([`energy`]) from the station's `Energy.Active.Import.Register` readings, ordered
//!   by timestamp (offline replays in any order), meter resets starting a new base, gaps
//!   spread evenly; paused time tracked apart.
//! - Cost from the tariff engine (`tariffs::service::bill_session`, the tariff in force at
//!   the start): running while it charges, and the bill computed once when the transaction
//!   ends ([`billing::settle`]), stored immutably in `session_bills` (corrections are new
//!   revisions) for the ledger of issue 7 to post.
//! - Money ([`funds`]): a session no booking pays for holds the estimate of a full battery
//!   (capped) on the wallet; a session whose cost reaches what secures it tops its hold up
//!   from the wallet, or is stopped (`stop_reason` `funds_exhausted`).
//! - Stations are reached through the [`port::StationControl`] port the CSMS implements;
//!   the CSMS feeds station news in through [`station`].
//! - Host analytics ([`analytics`]): revenue by hour, utilisation, popular slots, a price
//!   suggestion.
//! - What a session would cost before booking ([`estimate`], `POST /api/pricing/estimate`):
//!   the tariff's estimate with the driver's subscriptions.

pub mod analytics;
pub mod billing;
pub mod bounds;
pub mod energy;
pub mod estimate;
pub mod funds;
pub mod http;
pub mod model;
pub mod port;
pub mod service;
pub mod station;
pub mod store;
pub mod view;

pub use funds::SessionFunds;
pub use model::{ChargingSession, EventType, SessionStatus};
pub use port::{Answer, ChargingLimit, IdToken, NoStationControl, StartAnswer, StationControl};
pub use station::{EventOutcome, StationEvent};
pub use store::Sample;

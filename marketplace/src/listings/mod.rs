//! Listings: hosts offer chargers (fields, ports, opening hours, blackouts), admins review
//! them, and devices keep the ports' live status current.
//!
//! Decisions (see the functions for the why): editing a listed charger keeps it listed
//! ([`model::transition`]); a submitted one cannot be edited until it is decided; a caller who
//! cannot see a listing gets 404, one who can see it (listed) but not change it gets 403
//! ([`model::access`]).

mod calendar;
pub mod http;
mod lifecycle;
pub mod model;
pub mod schema;
pub mod service;
pub mod store;

pub use model::{
    is_open, open_intervals, Blackout, ClockTime, ConnectorType, CurrentType, DeviceKind,
    DeviceStatus, Listing, ListingCalendar, ListingDetails, ListingFields, ListingStatus,
    OpeningWindow, Port, PortStatus,
};
pub use service::apply_device_status;

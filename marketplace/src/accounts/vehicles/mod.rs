//! A driver's vehicles: what they can plug in, so search and bookings can suggest chargers
//! that fit. Only the owner sees or changes them.

pub mod http;
pub mod model;
pub mod service;
mod store;

pub use model::{ConnectorType, Vehicle, VehicleInput};

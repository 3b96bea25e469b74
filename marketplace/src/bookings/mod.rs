//! Bookings: a driver holds one port of a listed charger for `[start, end)`.
//!
//! - No double booking, under any concurrency: the `bookings_no_overlap` EXCLUDE constraint
//!   (btree_gist over the port and a `tstzrange`) refuses it; the service turns that into a
//!   409 naming the slot that is taken.
//! - Lifecycle ([`model::transition`]): pending → confirmed → checked_in → charging →
//!   completed, or cancelled / expired / preempted / no_show. Pending holds expire after 10
//!   minutes; deadlines live in the database and [`sweep::run_due`] applies them.
//! - Emergency bookings start now and move or preempt non-emergency ones (`service`).
//! - A booking's price is the listing's hourly price times the booked time ([`price`]).
//! - Refunds follow the listing's policy as data ([`refund`]); host cancellations refund in
//!   full; decisions are recorded in `booking_refunds` for the ledger to post.
//! - The OCPP side (ReserveNow/CancelReservation, sessions) uses [`reservations`].

pub mod http;
pub mod model;
pub mod price;
pub mod refund;
pub mod reservations;
pub mod rules;
pub mod service;
pub mod slots;
pub mod store;
pub mod sweep;
pub mod view;

pub use model::{Booking, BookingStatus, CancelledBy, ReservationState};
pub use sweep::{run_due, SweepReport};

//! Owned message types for the OCPP 2.0.1 messages that `rust_ocpp::v2_0_1` (3.0.4) cannot
//! carry faithfully. Use these instead of rust-ocpp's for the listed actions.
//!
//! Field types follow the schemas: `number` is `f64`, `integer` is `i32` (`u32` where the
//! schema says `minimum: 0`), `date-time` is `DateTime<Utc>`, untyped JSON is
//! `serde_json::Value`, and every object keeps its `customData` as raw JSON so that vendor
//! extensions survive a round trip.
//!
//! What rust-ocpp 3.0.4 gets wrong, found by feeding it a generated schema-valid payload
//! for every action and every enum value (`tests/rust_ocpp.rs`, test `survey_*`):
//!
//! | Schema | rust-ocpp | Affects |
//! |---|---|---|
//! | `ConsumptionCostType.startValue`: `number` | `i32`: `12.5` is rejected | SetChargingProfile, RequestStartTransaction, ReportChargingProfiles, NotifyChargingLimit, NotifyEVChargingSchedule (requests) |
//! | `RelativeTimeIntervalType.duration`: optional | required | the same five |
//! | `DataTransfer{Request,Response}.data`: any JSON | `Option<String>`: objects, arrays, numbers are rejected | DataTransfer |
//! | `ConnectorEnumType` value `"sBS1361"` | spelled `"SBS1361"`: the official value is rejected | ReserveNow |
//! | `customData` on every object | absent, silently dropped | all actions |
//!
//! Everything else the survey exercised deserialized and serialized back unchanged and
//! schema-valid.

mod charging_profile;
mod common;
mod messages;

pub use charging_profile::*;
pub use common::*;
pub use messages::*;

//! Drivers find chargers: nearby (one KNN index scan), recommend (4-factor score), place-name
//! lookup (offline gazetteer), port-by-port availability, map boxes (markers or clusters),
//! route estimates (pluggable router) and advanced search. Public routes: no account needed.
//!
//! Only `status = 'listed'` listings are ever returned; distances are on the sphere, in km.

pub mod calendar;
pub mod geocode;
pub mod http;
pub mod model;
pub mod planar;
pub mod route;
pub mod scoring;
pub mod service;
pub mod store;

pub use route::{GreatCircleEstimate, OsrmPlanner, RouteEstimate, RoutePlanner};

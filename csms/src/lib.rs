//! The central system: OCPP 2.0.1 server for charging stations, the REST composition root
//! (marketplace routes + operator routes), metrics, and the CLI's commands.

pub mod api;
pub mod app;
pub mod certs_dev;
pub mod cli;
pub mod config;
pub mod db;
pub mod embedded_pg;
pub mod jobs;
pub mod ocpp;
pub mod openapi;
pub mod secrets;
pub mod server;
pub mod sessions_port;
pub mod store;

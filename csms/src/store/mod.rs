//! sqlx queries of the CSMS side, one file per table group.

pub mod batch_sql;
pub mod group_commit;
pub mod id_tokens;
pub mod reports;
pub mod station_claims;
pub mod stations;
pub mod transactions;
pub mod writer;

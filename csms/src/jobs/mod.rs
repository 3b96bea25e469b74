//! Background jobs that drive the marketplace from the CSMS side. Their work lists live in
//! the database (bookings' `status` and `reservation_state`, unposted bills and refunds, open
//! card authorizations, host payables and pending transfers), so a restart loses nothing: the
//! next tick picks up whatever is due.

mod booking_sweeps;
mod card_authorizations;
mod host_transfers;
mod ledger_postings;
mod reservations;
mod sessions;
mod subscriptions;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::ocpp::gateway::StationGateway;

pub use host_transfers::HostTransfers;
pub use reservations::{connector_enum, ReservationConfig};

/// How often the jobs look for due work.
#[derive(Debug, Clone, Copy)]
pub struct JobConfig {
    pub tick: Duration,
    pub reservations: ReservationConfig,
    /// How often running sessions' costs are pushed to stations (CostUpdated); `None`: never.
    pub session_costs: Option<Duration>,
    /// How often hosts are paid what they are owed; `None`: never.
    pub host_transfers: Option<HostTransfers>,
}

/// Starts every job; each stops at the next tick after `shutdown`.
pub fn start(
    pool: &PgPool,
    gateway: &StationGateway,
    payments: Arc<dyn marketplace::payments::PaymentProvider>,
    config: JobConfig,
    shutdown: &CancellationToken,
) -> Vec<JoinHandle<()>> {
    let mut jobs = vec![
        tokio::spawn(booking_sweeps::run(
            pool.clone(),
            config.tick,
            shutdown.clone(),
        )),
        tokio::spawn(reservations::run(
            pool.clone(),
            gateway.clone(),
            config.tick,
            config.reservations,
            shutdown.clone(),
        )),
        tokio::spawn(sessions::sweep(pool.clone(), config.tick, shutdown.clone())),
        tokio::spawn(ledger_postings::run(
            pool.clone(),
            config.tick,
            shutdown.clone(),
        )),
        tokio::spawn(subscriptions::run(
            pool.clone(),
            config.tick,
            shutdown.clone(),
        )),
        tokio::spawn(card_authorizations::run(
            pool.clone(),
            payments.clone(),
            config.tick,
            shutdown.clone(),
        )),
    ];
    if let Some(transfers) = config.host_transfers {
        jobs.push(tokio::spawn(host_transfers::run(
            pool.clone(),
            payments,
            transfers,
            shutdown.clone(),
        )));
    }
    if let Some(every) = config.session_costs {
        jobs.push(tokio::spawn(sessions::cost_updates(
            pool.clone(),
            gateway.clone(),
            every,
            shutdown.clone(),
        )));
    }
    jobs
}

/// Runs `step` every `tick` until `shutdown`; a failing step is logged and retried.
async fn every<F, Fut>(name: &'static str, tick: Duration, shutdown: CancellationToken, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), marketplace::Error>>,
{
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        if let Err(e) = step().await {
            tracing::warn!(job = name, error = %e, "background job failed; retrying next tick");
        }
    }
}

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
pub mod supervise;

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
    /// What sessions hold, and how often charging sessions' money is checked.
    pub session_funds: (marketplace::sessions::SessionFunds, Duration),
    /// How often running sessions' costs are pushed to stations (CostUpdated); `None`: never.
    pub session_costs: Option<Duration>,
    /// How often hosts are paid what they are owed; `None`: never.
    pub host_transfers: Option<HostTransfers>,
}

/// Starts every job, each supervised (restarted after a panic); each stops at the next tick
/// after `shutdown`.
pub fn start(
    pool: &PgPool,
    gateway: &StationGateway,
    payments: Arc<dyn marketplace::payments::PaymentProvider>,
    config: JobConfig,
    shutdown: &CancellationToken,
) -> Vec<JoinHandle<()>> {
    let tick = config.tick;
    // Each factory owns its clones: a restarted job gets the same pool, gateway and signal.
    let job = || (pool.clone(), shutdown.clone());
    let mut jobs = Vec::new();
    let (pool_, sd) = job();
    let name = "booking-sweeps";
    jobs.push(supervise::spawn(name, shutdown.clone(), move || {
        booking_sweeps::run(pool_.clone(), tick, sd.clone())
    }));
    let (pool_, sd) = job();
    let name = "reservations";
    let gw = gateway.clone();
    let reservations = config.reservations;
    jobs.push(supervise::spawn(name, shutdown.clone(), move || {
        reservations::run(pool_.clone(), gw.clone(), tick, reservations, sd.clone())
    }));
    let (pool_, sd) = job();
    let name = "session-sweeps";
    jobs.push(supervise::spawn(name, shutdown.clone(), move || {
        sessions::sweep(pool_.clone(), tick, sd.clone())
    }));
    let (pool_, sd) = job();
    let name = "ledger-postings";
    jobs.push(supervise::spawn(name, shutdown.clone(), move || {
        ledger_postings::run(pool_.clone(), tick, sd.clone())
    }));
    let (pool_, sd) = job();
    let name = "subscriptions";
    jobs.push(supervise::spawn(name, shutdown.clone(), move || {
        subscriptions::run(pool_.clone(), tick, sd.clone())
    }));
    // Without a card processor (production without a Stripe key) there is nothing to settle
    // or transfer: these jobs would only collect refusals.
    let card_processor = payments.configured();
    if card_processor {
        let (pool_, sd) = job();
        let name = "card-authorizations";
        let provider = payments.clone();
        jobs.push(supervise::spawn(name, shutdown.clone(), move || {
            card_authorizations::run(pool_.clone(), provider.clone(), tick, sd.clone())
        }));
    }
    if let Some(transfers) = config.host_transfers.filter(|_| card_processor) {
        let (pool_, sd) = job();
        let name = "host-transfers";
        jobs.push(supervise::spawn(name, shutdown.clone(), move || {
            host_transfers::run(pool_.clone(), payments.clone(), transfers, sd.clone())
        }));
    }
    let (pool_, sd) = job();
    let name = "session-funds";
    let gw = gateway.clone();
    let (funds, every) = config.session_funds;
    jobs.push(supervise::spawn(name, shutdown.clone(), move || {
        sessions::funds(pool_.clone(), gw.clone(), funds, every, sd.clone())
    }));
    if let Some(every) = config.session_costs {
        let (pool_, sd) = job();
        let name = "session-costs";
        let gw = gateway.clone();
        jobs.push(supervise::spawn(name, shutdown.clone(), move || {
            sessions::cost_updates(pool_.clone(), gw.clone(), every, sd.clone())
        }));
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

//! Charging sessions' background work: cancel starts no transaction came for, bill ended
//! sessions whose events are still missing after the grace period (`sessions::station::sweep`),
//! push the running cost of charging sessions to their stations (OCPP 2.0.1 CostUpdated)
//! when it changed since the last push, and stop sessions whose money ran out
//! (`sessions::funds::check`, then RequestStopTransaction).

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use marketplace::sessions::{funds as session_funds, station, SessionFunds, StationControl};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::ocpp::gateway::StationGateway;
use crate::sessions_port::GatewayStationControl;

/// Sessions handled per tick.
const BATCH: i64 = 200;
/// CostUpdated calls in flight at once.
const CONCURRENCY: usize = 32;

pub async fn sweep(pool: PgPool, tick: Duration, shutdown: CancellationToken) {
    super::every("session_sweep", tick, shutdown, || {
        let pool = pool.clone();
        async move {
            let report = station::sweep(&pool, Utc::now(), BATCH).await?;
            if report != station::SweepReport::default() {
                tracing::info!(?report, "session sweep");
            }
            Ok(())
        }
    })
    .await;
}

pub async fn cost_updates(
    pool: PgPool,
    gateway: StationGateway,
    every: Duration,
    shutdown: CancellationToken,
) {
    let control = GatewayStationControl::new(gateway, pool.clone());
    super::every("cost_updates", every, shutdown, || {
        let (pool, control) = (pool.clone(), control.clone());
        async move {
            let due = station::running_costs(&pool, Utc::now(), BATCH).await?;
            futures_util::stream::iter(due)
                .for_each_concurrent(CONCURRENCY, |cost| {
                    let (pool, control) = (pool.clone(), control.clone());
                    async move {
                        let sent = control
                            .cost_updated(&cost.station_id, &cost.transaction_id, cost.total)
                            .await;
                        let result = match sent {
                            Ok(()) => station::cost_sent(&pool, cost.session_id, cost.total).await,
                            Err(e) => Err(e),
                        };
                        if let Err(e) = result {
                            tracing::debug!(session = %cost.session_id, error = %e, "CostUpdated not delivered");
                        }
                    }
                })
                .await;
            Ok(())
        }
    })
    .await;
}

pub async fn funds(
    pool: PgPool,
    gateway: StationGateway,
    funds: SessionFunds,
    every: Duration,
    shutdown: CancellationToken,
) {
    let control = GatewayStationControl::new(gateway, pool.clone());
    super::every("session_funds", every, shutdown, || {
        let (pool, control) = (pool.clone(), control.clone());
        async move {
            let (report, stops) = session_funds::check(&pool, &funds, Utc::now(), BATCH).await?;
            if report.topped_up + report.stopped > 0 {
                tracing::info!(?report, "session funds");
            }
            futures_util::stream::iter(stops)
                .for_each_concurrent(CONCURRENCY, |stop| {
                    let control = control.clone();
                    async move {
                        // marked before asking: a station that refuses or is offline is
                        // not asked again; its session still ends when the station ends it
                        match control.stop(&stop.station_id, &stop.transaction_id).await {
                            Ok(answer) => tracing::info!(session = %stop.session_id,
                                station = stop.station_id, ?answer,
                                "session stopped: its money ran out"),
                            Err(e) => tracing::warn!(session = %stop.session_id,
                                station = stop.station_id, error = %e,
                                "stopping a session whose money ran out failed"),
                        }
                    }
                })
                .await;
            Ok(())
        }
    })
    .await;
}

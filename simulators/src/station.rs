//! One simulated charging station: its configuration and the handle that drives it.
//!
//! [`Station::spawn`] starts the connection loop ([`crate::connection`]) in a task; the
//! handle then plays the driver (plug, authorize, charge, stop, unplug) or raw CALLs, and
//! every method returns once the CSMS has answered what it caused, so tests can assert on
//! the CSMS right after.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use simulators::station::{Station, StationConfig};
//! let station = Station::connect(StationConfig::new("ws://127.0.0.1:8080/ocpp/SIM-1")?).await?;
//! station.plug(1).await?;
//! station.authorize(1, "TOKEN1").await?;
//! station.charge(1, std::time::Duration::from_secs(5), Some(11.0)).await?;
//! station.stop(1).await?;
//! station.unplug(1).await?;
//! station.shutdown().await;
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, Instrument};

use crate::connect::{station_id_from_url, ConnectOptions};
use crate::device_model::DeviceModel;
use crate::messages::{self, ConnectorStatus, IdToken, StationInfo};
pub use crate::state::{CallFailure, StationEvent, TransactionInfo};
use crate::state::{Outbox, StationState};

/// Everything one station needs.
#[derive(Debug, Clone)]
pub struct StationConfig {
    /// Full station URL, `ws://host:port/ocpp/{stationId}`.
    pub url: String,
    /// Defaults to the last path segment of `url`; also the Basic-auth user name.
    pub station_id: String,
    pub connect: ConnectOptions,
    pub info: StationInfo,
    pub evses: u32,
    /// Period of TransactionEvent Updated with meter values while charging.
    pub meter_interval: Duration,
    /// Power of a remotely started session (and of `charge` without an explicit power).
    pub power_kw: f64,
    /// How long to wait for the CSMS to answer one of our CALLs.
    pub call_timeout: Duration,
    /// Reconnect (1 s, 2 s, 4 s ... 30 s) when the connection drops; off for tests that
    /// want to see a drop.
    pub reconnect: bool,
}

impl StationConfig {
    /// Defaults for everything but the URL, which must end in the station id.
    pub fn new(url: impl Into<String>) -> anyhow::Result<Self> {
        let url = url.into();
        let station_id = station_id_from_url(&url)
            .with_context(|| format!("{url} does not end in /{{stationId}}"))?;
        Ok(StationConfig {
            info: StationInfo {
                serial_number: station_id.chars().take(25).collect(),
                ..StationInfo::default()
            },
            url,
            station_id,
            connect: ConnectOptions {
                timeout: Some(Duration::from_secs(10)),
                ..ConnectOptions::default()
            },
            evses: 2,
            meter_interval: Duration::from_secs(10),
            power_kw: 11.0,
            call_timeout: Duration::from_secs(30),
            reconnect: true,
        })
    }

    /// The OCPP security profile this configuration amounts to (0: no authentication, which
    /// only development CSMS setups accept).
    pub fn security_profile(&self) -> u8 {
        let tls = self.url.starts_with("wss://");
        let client_cert = self
            .connect
            .tls
            .as_ref()
            .is_some_and(|c| c.client_auth_cert_resolver.has_certs());
        match (tls, client_cert, self.connect.password.is_some()) {
            (true, true, _) => 3,
            (true, false, _) => 2,
            (false, _, true) => 1,
            _ => 0,
        }
    }
}

/// Where the station stands with the CSMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Disconnected,
    /// Connected, BootNotification not yet answered.
    Connected,
    Pending,
    Rejected,
    Accepted,
}

pub(crate) struct Shared {
    pub config: StationConfig,
    pub state: Mutex<StationState>,
    pub registration: watch::Sender<Registration>,
    pub events: broadcast::Sender<StationEvent>,
    pub shutdown: CancellationToken,
    /// Cancelled when the connection loop has ended for good.
    pub finished: CancellationToken,
}

impl Shared {
    pub fn state(&self) -> MutexGuard<'_, StationState> {
        // A panic while holding the lock leaves consistent-enough state for a simulator.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn event(&self, event: StationEvent) {
        let _ = self.events.send(event);
    }
}

/// A running simulated station. Cheap to clone; all clones drive the same station.
#[derive(Clone)]
pub struct Station {
    shared: Arc<Shared>,
}

impl Station {
    /// Starts the station in the background; it connects, boots and keeps reconnecting.
    pub fn spawn(config: StationConfig) -> Station {
        let (out, rx) = Outbox::new();
        let (events, _) = broadcast::channel(1024);
        let device_model = DeviceModel::standard(
            &config.station_id,
            &config.info,
            config.evses,
            config.security_profile(),
            config.meter_interval.as_secs(),
        );
        let state = StationState::new(
            config.evses,
            config.meter_interval,
            config.power_kw * 1000.0,
            device_model,
            out,
            events.clone(),
        );
        let span = tracing::info_span!("station", id = %config.station_id);
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            registration: watch::Sender::new(Registration::Disconnected),
            events,
            shutdown: CancellationToken::new(),
            finished: CancellationToken::new(),
        });
        tokio::spawn(crate::connection::run(Arc::clone(&shared), rx).instrument(span));
        Station { shared }
    }

    /// Starts the station and waits until the CSMS accepted its BootNotification.
    pub async fn connect(config: StationConfig) -> anyhow::Result<Station> {
        let limit = config.call_timeout.max(Duration::from_secs(30));
        let station = Station::spawn(config);
        if let Err(e) = station.wait_accepted(limit).await {
            station.shutdown().await;
            return Err(e);
        }
        Ok(station)
    }

    pub fn id(&self) -> &str {
        &self.shared.config.station_id
    }

    pub fn registration(&self) -> Registration {
        *self.shared.registration.borrow()
    }

    /// Waits until the station is Accepted by the CSMS.
    pub async fn wait_accepted(&self, limit: Duration) -> anyhow::Result<()> {
        let mut rx = self.shared.registration.subscribe();
        let wait = rx.wait_for(|r| *r == Registration::Accepted);
        tokio::select! {
            r = tokio::time::timeout(limit, wait) => match r {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(_)) => bail!("station stopped"),
                Err(_) => bail!("not accepted by the CSMS within {limit:?} (now {:?})", self.registration()),
            },
            _ = self.shared.finished.cancelled() => bail!("station stopped before being accepted"),
        }
    }

    /// Everything that happens from now on (transactions, status changes, calls received).
    pub fn subscribe(&self) -> broadcast::Receiver<StationEvent> {
        self.shared.events.subscribe()
    }

    /// The transaction running on `evse`, if any.
    pub fn transaction(&self, evse: u32) -> Option<TransactionInfo> {
        self.shared.state().transaction(evse)
    }

    /// Sends any CALL (queued behind the station's own messages) and waits for its answer.
    pub async fn call(&self, action: &'static str, payload: Value) -> Result<Value, CallFailure> {
        let rx = self.shared.state().out().call(action, payload);
        rx.await.unwrap_or(Err(CallFailure::Stopped))
    }

    /// Waits until every message queued so far has been sent and answered.
    pub async fn flush(&self) -> Result<(), CallFailure> {
        let rx = self.shared.state().out().flush();
        rx.await.map_err(|_| CallFailure::Stopped)
    }

    pub async fn heartbeat(&self) -> Result<Value, CallFailure> {
        self.call("Heartbeat", messages::heartbeat()).await
    }

    /// The EV is plugged into `evse`: StatusNotification Occupied and TransactionEvent
    /// Started (CablePluggedIn).
    pub async fn plug(&self, evse: u32) -> anyhow::Result<()> {
        self.shared.state().plug(evse, Instant::now())?;
        Ok(self.flush().await?)
    }

    /// The driver presents `token` (ISO14443) at `evse`. Returns the CSMS's authorization
    /// status; `Accepted` authorizes the transaction, anything else ends it (DeAuthorized).
    pub async fn authorize(&self, evse: u32, token: &str) -> anyhow::Result<String> {
        if self.shared.state().evse(evse).is_none() {
            bail!("EVSE {evse} does not exist");
        }
        let id_token = IdToken::rfid(token);
        let answer = self
            .call("Authorize", messages::authorize(&id_token))
            .await?;
        let status = answer["idTokenInfo"]["status"]
            .as_str()
            .ok_or_else(|| anyhow!("AuthorizeResponse without idTokenInfo.status: {answer}"))?
            .to_owned();
        info!(evse, token, %status, "authorize");
        self.shared
            .state()
            .authorized(evse, &id_token, status == "Accepted", Instant::now())?;
        self.flush().await?;
        Ok(status)
    }

    /// The EV draws `power_kw` (default: the configured power) for `duration`, with periodic
    /// meter values, then stops drawing (SuspendedEV). Returns early if the transaction ends
    /// meanwhile (e.g. RequestStopTransaction).
    pub async fn charge(
        &self,
        evse: u32,
        duration: Duration,
        power_kw: Option<f64>,
    ) -> anyhow::Result<()> {
        let ended = {
            let mut st = self.shared.state();
            let power_w = power_kw.map_or(st.default_power_w, |kw| kw * 1000.0);
            st.start_charging(evse, power_w, Instant::now())?
        };
        info!(evse, ?duration, "charging");
        tokio::select! {
            _ = tokio::time::sleep(duration) => {
                // Ending races with the sleep; a missing transaction is fine then.
                let _ = self.shared.state().suspend_charging(evse, Instant::now());
            }
            _ = ended.cancelled() => info!(evse, "transaction ended while charging"),
            _ = self.shared.shutdown.cancelled() => return Ok(()),
        }
        Ok(self.flush().await?)
    }

    /// The driver ends the transaction at the station: Ended (StopAuthorized / Local).
    pub async fn stop(&self, evse: u32) -> anyhow::Result<()> {
        self.shared.state().stop_local(evse, Instant::now())?;
        Ok(self.flush().await?)
    }

    /// The driver unplugs: a running transaction ends (EVDisconnected), then Available.
    pub async fn unplug(&self, evse: u32) -> anyhow::Result<()> {
        self.shared.state().unplug(evse, Instant::now())?;
        Ok(self.flush().await?)
    }

    /// Forces a connector status (e.g. Faulted); `Available` clears the override.
    pub async fn set_status(&self, evse: u32, status: ConnectorStatus) -> anyhow::Result<()> {
        self.shared.state().force_status(evse, Some(status))?;
        Ok(self.flush().await?)
    }

    /// MeterValues for `evse` outside any transaction event.
    pub async fn meter_values(&self, evse: u32) -> anyhow::Result<()> {
        self.shared
            .state()
            .report_meter_values(evse, Instant::now())?;
        Ok(self.flush().await?)
    }

    /// Disconnects (close frame sent) and stops the station.
    pub async fn shutdown(&self) {
        self.shared.shutdown.cancel();
        self.shared.finished.cancelled().await;
    }

    /// Resolves once the station stopped (after [`shutdown`](Self::shutdown), or a lost
    /// connection when reconnecting is off).
    pub async fn finished(&self) {
        self.shared.finished.cancelled().await;
    }

    pub(crate) fn shutdown_token(&self) -> &CancellationToken {
        &self.shared.shutdown
    }
}

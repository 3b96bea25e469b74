//! The station's state machine: EVSEs, their connector status, transactions and energy
//! meters, reservations, charging profiles. Every change that the CSMS must hear about is
//! emitted into the [`Outbox`] right here, while the caller holds the state lock, so messages
//! leave in exactly the order the state changed (a `seqNo` can never overtake another, and no
//! `Updated` can follow its `Ended`). No I/O and no awaiting: the connection loop, the
//! CSMS-call handlers and the local flows (scenario steps) all drive it, and unit tests can too.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::device_model::DeviceModel;
use crate::messages::{self, ChargingState, ConnectorStatus, IdToken, TxEvent};
use crate::rpc::CallError;
use crate::smart_charging::{self, Profile, Purpose, TxRef};

mod limits;

/// Why one of the station's own CALLs got no CALLRESULT.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallFailure {
    #[error(transparent)]
    CallError(#[from] CallError),
    #[error("no response before the timeout")]
    Timeout,
    #[error("connection lost before the response")]
    Disconnected,
    #[error("station stopped")]
    Stopped,
}

pub(crate) type Reply = oneshot::Sender<Result<Value, CallFailure>>;

/// One CALL waiting to be sent.
pub(crate) struct Outgoing {
    pub action: &'static str,
    pub payload: Value,
    pub reply: Option<Reply>,
}

pub(crate) enum OutItem {
    Call(Outgoing),
    /// Completed once every item queued before it was sent and answered.
    Flush(oneshot::Sender<()>),
}

/// The ordered queue of CALLs the connection loop sends, one outstanding at a time.
#[derive(Clone)]
pub(crate) struct Outbox(mpsc::UnboundedSender<OutItem>);

impl Outbox {
    pub fn new() -> (Outbox, mpsc::UnboundedReceiver<OutItem>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Outbox(tx), rx)
    }

    /// Queues a CALL whose answer nobody waits for.
    pub fn push(&self, action: &'static str, payload: Value) {
        self.send(OutItem::Call(Outgoing {
            action,
            payload,
            reply: None,
        }));
    }

    /// Queues a CALL and returns where its answer will arrive.
    pub fn call(
        &self,
        action: &'static str,
        payload: Value,
    ) -> oneshot::Receiver<Result<Value, CallFailure>> {
        let (tx, rx) = oneshot::channel();
        self.send(OutItem::Call(Outgoing {
            action,
            payload,
            reply: Some(tx),
        }));
        rx
    }

    pub fn flush(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.send(OutItem::Flush(tx));
        rx
    }

    fn send(&self, item: OutItem) {
        // Fails only once the connection loop has ended; then waiters see `Stopped`.
        let _ = self.0.send(item);
    }
}

/// Things that happened, for tests and tools that drive a station from Rust.
#[derive(Debug, Clone, PartialEq)]
pub enum StationEvent {
    Connected,
    Disconnected {
        reason: String,
    },
    /// The CSMS answered a BootNotification.
    Registration {
        status: String,
        interval: u64,
    },
    CallReceived {
        action: String,
    },
    StatusChanged {
        evse: u32,
        status: ConnectorStatus,
    },
    TransactionStarted {
        evse: u32,
        transaction_id: String,
        remote_start_id: Option<i64>,
    },
    TransactionEnded {
        evse: u32,
        transaction_id: String,
        energy_wh: f64,
        stopped_reason: &'static str,
    },
    /// A charging profile changed the power the EVSE delivers (0: suspended by the EVSE).
    ChargingRateChanged {
        evse: u32,
        transaction_id: String,
        power_w: f64,
    },
    /// CostUpdated: the running cost shown on the station's display.
    CostUpdated {
        transaction_id: String,
        total_cost: f64,
    },
}

/// A public snapshot of a running transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionInfo {
    pub evse: u32,
    pub transaction_id: String,
    pub remote_start_id: Option<i64>,
    pub charging: bool,
    pub energy_wh: f64,
    /// The power delivered now (W).
    pub power_w: f64,
    /// The limit the charging profiles in force set (W), if any.
    pub limit_w: Option<f64>,
    /// The last running cost the CSMS sent (CostUpdated), as the display shows it.
    pub total_cost: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StateError {
    #[error("EVSE {0} does not exist")]
    UnknownEvse(u32),
    #[error("EVSE {0} has no transaction")]
    NoTransaction(u32),
    #[error("EVSE {0} already has a transaction")]
    Busy(u32),
}

/// An energy meter: the register only advances while power flows, so it is computed from the
/// last settled reading instead of being ticked.
#[derive(Debug, Clone)]
pub(crate) struct Meter {
    register_wh: f64,
    power_w: f64,
    since: Instant,
}

impl Meter {
    fn read(&self, now: Instant) -> f64 {
        self.register_wh
            + self.power_w * now.saturating_duration_since(self.since).as_secs_f64() / 3600.0
    }

    fn set_power(&mut self, power_w: f64, now: Instant) {
        self.register_wh = self.read(now);
        self.since = now;
        self.power_w = power_w;
    }
}

#[derive(Debug)]
pub(crate) struct Reservation {
    pub id: i64,
    pub id_token: IdToken,
    pub expires: Instant,
}

#[derive(Debug)]
pub(crate) struct Transaction {
    pub id: String,
    started: Instant,
    next_seq: u32,
    start_wh: f64,
    remote_start_id: Option<i64>,
    id_token: Option<IdToken>,
    authorized: bool,
    reservation_id: Option<i64>,
    charging_since: Option<Instant>,
    time_charging: Duration,
    next_meter: Option<Instant>,
    /// The last CostUpdated.totalCost.
    total_cost: Option<f64>,
    /// Cancelled when the transaction ends, to wake local flows waiting on it.
    ended: CancellationToken,
}

#[derive(Debug)]
pub(crate) struct Evse {
    pub id: u32,
    pub operative: bool,
    /// ChangeAvailability(Inoperative) answered `Scheduled`: applies when the transaction ends.
    pub inoperative_when_idle: bool,
    /// A status forced by a scenario (e.g. Faulted) that overrides the computed one.
    pub forced: Option<ConnectorStatus>,
    pub plugged: bool,
    /// The EV of a remote start was plugged in by the simulator, so it also leaves at the end.
    unplug_on_end: bool,
    pub reservation: Option<Reservation>,
    pub tx: Option<Transaction>,
    meter: Meter,
    /// What the EV draws when nothing limits it (W); 0 when it does not want power. While
    /// it wants power, `meter.power_w` is this capped by the charging profiles in force.
    demand_w: f64,
    /// The composite limit of the charging profiles in force (W), if any.
    limit_w: Option<f64>,
    /// When the composite limit may next change (a schedule period or validity boundary).
    limit_check: Option<Instant>,
}

impl Evse {
    pub fn status(&self) -> ConnectorStatus {
        if let Some(forced) = self.forced {
            forced
        } else if !self.operative {
            ConnectorStatus::Unavailable
        } else if self.plugged || self.tx.is_some() {
            ConnectorStatus::Occupied
        } else if self.reservation.is_some() {
            ConnectorStatus::Reserved
        } else {
            ConnectorStatus::Available
        }
    }

    /// Free for a new transaction (remote start, reservation).
    pub fn is_free(&self) -> bool {
        self.status() == ConnectorStatus::Available
    }
}

pub struct StationState {
    pub(crate) evses: Vec<Evse>,
    pub(crate) device_model: DeviceModel,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) meter_interval: Duration,
    pub(crate) default_power_w: f64,
    /// Installed charging profiles, of all EVSEs (0: station-wide).
    profiles: Vec<Profile>,
    /// A monotonic instant and the wall-clock time it was, to place charging schedules
    /// (wall-clock) on the tokio clock the rest of the state runs on.
    epoch: (Instant, DateTime<Utc>),
    out: Outbox,
    events: broadcast::Sender<StationEvent>,
}

impl StationState {
    pub(crate) fn new(
        evses: u32,
        meter_interval: Duration,
        default_power_w: f64,
        device_model: DeviceModel,
        out: Outbox,
        events: broadcast::Sender<StationEvent>,
    ) -> Self {
        let now = Instant::now();
        StationState {
            evses: (1..=evses)
                .map(|id| Evse {
                    id,
                    operative: true,
                    inoperative_when_idle: false,
                    forced: None,
                    plugged: false,
                    unplug_on_end: false,
                    reservation: None,
                    tx: None,
                    // Real meters never start at zero; a CSMS must bill end minus start.
                    meter: Meter {
                        register_wh: 100_000.0 * f64::from(id),
                        power_w: 0.0,
                        since: now,
                    },
                    demand_w: 0.0,
                    limit_w: None,
                    limit_check: None,
                })
                .collect(),
            device_model,
            heartbeat_interval: Duration::from_secs(60),
            meter_interval,
            default_power_w,
            profiles: Vec::new(),
            epoch: (now, Utc::now()),
            out,
            events,
        }
    }

    pub(crate) fn out(&self) -> &Outbox {
        &self.out
    }

    pub(crate) fn event(&self, event: StationEvent) {
        // No subscribers is fine.
        let _ = self.events.send(event);
    }

    fn index(&self, evse: u32) -> Result<usize, StateError> {
        let i = (evse as usize).wrapping_sub(1);
        if i < self.evses.len() {
            Ok(i)
        } else {
            Err(StateError::UnknownEvse(evse))
        }
    }

    pub(crate) fn evse(&self, evse: u32) -> Option<&Evse> {
        self.index(evse).ok().map(|i| &self.evses[i])
    }

    pub fn evse_count(&self) -> u32 {
        self.evses.len() as u32
    }

    pub fn has_transactions(&self) -> bool {
        self.evses.iter().any(|e| e.tx.is_some())
    }

    pub fn transaction(&self, evse: u32) -> Option<TransactionInfo> {
        let e = self.evse(evse)?;
        let tx = e.tx.as_ref()?;
        Some(TransactionInfo {
            evse,
            transaction_id: tx.id.clone(),
            remote_start_id: tx.remote_start_id,
            charging: tx.charging_since.is_some(),
            energy_wh: e.meter.read(Instant::now()) - tx.start_wh,
            power_w: e.meter.power_w,
            limit_w: e.limit_w,
            total_cost: tx.total_cost,
        })
    }

    /// Where the EVSE running `transaction_id` is, if any.
    pub fn find_transaction(&self, transaction_id: &str) -> Option<u32> {
        self.evses
            .iter()
            .find(|e| e.tx.as_ref().is_some_and(|t| t.id == transaction_id))
            .map(|e| e.id)
    }

    /// StatusNotification for one EVSE's connector 1, from its current state.
    pub fn report_status(&self, evse: u32) -> Result<(), StateError> {
        let e = &self.evses[self.index(evse)?];
        let status = e.status();
        self.out.push(
            "StatusNotification",
            messages::status_notification(e.id, 1, status),
        );
        self.event(StationEvent::StatusChanged { evse: e.id, status });
        Ok(())
    }

    pub fn report_all_statuses(&self) {
        for id in 1..=self.evse_count() {
            let _ = self.report_status(id);
        }
    }

    /// MeterValues for one EVSE (TriggerMessage).
    pub fn report_meter_values(&self, evse: u32, now: Instant) -> Result<(), StateError> {
        let e = &self.evses[self.index(evse)?];
        let mv = messages::meter_value(e.meter.read(now), Some(e.meter.power_w), "Trigger");
        self.out
            .push("MeterValues", messages::meter_values(e.id, mv));
        Ok(())
    }

    /// TransactionEvent Updated(Trigger) for every running transaction (TriggerMessage).
    pub fn report_transactions(&mut self, now: Instant) {
        for e in &mut self.evses {
            if e.tx.is_some() {
                tx_event(&self.out, e, "Updated", "Trigger", now, |ev| {
                    ev.meter_context = Some("Trigger")
                });
            }
        }
    }

    /// Forces (or, with `None`, clears) a connector status such as Faulted.
    pub fn force_status(
        &mut self,
        evse: u32,
        status: Option<ConnectorStatus>,
    ) -> Result<(), StateError> {
        let i = self.index(evse)?;
        self.evses[i].forced = status.filter(|s| *s != ConnectorStatus::Available);
        self.report_status(evse)
    }

    /// The driver plugs the cable in: Occupied, and the transaction starts (or, if the
    /// driver authorized first, the running one learns the cable is in).
    pub fn plug(&mut self, evse: u32, now: Instant) -> Result<(), StateError> {
        let i = self.index(evse)?;
        let e = &mut self.evses[i];
        if e.plugged {
            return Ok(());
        }
        e.plugged = true;
        self.report_status(evse)?;
        let e = &mut self.evses[i];
        if e.tx.is_some() {
            tx_event(&self.out, e, "Updated", "CablePluggedIn", now, |ev| {
                ev.charging_state = Some(ChargingState::EvConnected)
            });
        } else {
            self.start_transaction(
                i,
                TxStart::new("CablePluggedIn", ChargingState::EvConnected),
                now,
            );
        }
        Ok(())
    }

    /// The CSMS answered an Authorize for a driver at `evse`.
    pub fn authorized(
        &mut self,
        evse: u32,
        token: &IdToken,
        accepted: bool,
        now: Instant,
    ) -> Result<(), StateError> {
        let i = self.index(evse)?;
        let e = &mut self.evses[i];
        match (&mut e.tx, accepted) {
            (Some(tx), true) => {
                tx.authorized = true;
                tx.id_token = Some(token.clone());
                tx.reservation_id = take_matching_reservation(&mut e.reservation, token);
                tx_event(&self.out, e, "Updated", "Authorized", now, |ev| {
                    ev.with_id_token = true;
                    ev.with_reservation = true;
                });
            }
            (Some(_), false) => {
                self.end_transaction(i, "Deauthorized", "DeAuthorized", now);
            }
            // Authorized before plugging in: the transaction starts now (TxStartPoint
            // Authorized) and the cable joins it later.
            (None, true) => {
                let reservation_id = take_matching_reservation(&mut e.reservation, token);
                if !e.is_free() {
                    return Err(StateError::Busy(evse));
                }
                let mut start = TxStart::new("Authorized", ChargingState::Idle);
                start.token = Some(token.clone());
                start.reservation_id = reservation_id;
                self.start_transaction(i, start, now);
                self.report_status(evse)?;
            }
            (None, false) => {}
        }
        Ok(())
    }

    /// The EV starts drawing `power_w`. Returns a token cancelled when the transaction ends.
    pub fn start_charging(
        &mut self,
        evse: u32,
        power_w: f64,
        now: Instant,
    ) -> Result<CancellationToken, StateError> {
        let i = self.index(evse)?;
        let interval = self.meter_interval;
        if self.evses[i].tx.is_none() {
            return Err(StateError::NoTransaction(evse));
        }
        self.evses[i].demand_w = power_w;
        // A charging profile in force (say a 0 A pause) holds the EV back from the start.
        let delivered = self.refresh_limit(i, now);
        let e = &mut self.evses[i];
        let Some(tx) = &mut e.tx else {
            return Err(StateError::NoTransaction(evse));
        };
        let ended = tx.ended.clone();
        let state = if delivered > 0.0 {
            tx.charging_since.get_or_insert(now);
            ChargingState::Charging
        } else {
            if let Some(since) = tx.charging_since.take() {
                tx.time_charging += now.saturating_duration_since(since);
            }
            ChargingState::SuspendedEvse
        };
        tx.next_meter.get_or_insert(now + interval);
        e.meter.set_power(delivered, now);
        tx_event(&self.out, e, "Updated", "ChargingStateChanged", now, |ev| {
            ev.charging_state = Some(state)
        });
        Ok(ended)
    }

    /// The EV stops drawing power (battery full) but the transaction goes on.
    pub fn suspend_charging(&mut self, evse: u32, now: Instant) -> Result<(), StateError> {
        let i = self.index(evse)?;
        let e = &mut self.evses[i];
        let Some(tx) = &mut e.tx else {
            return Err(StateError::NoTransaction(evse));
        };
        if let Some(since) = tx.charging_since.take() {
            tx.time_charging += now.saturating_duration_since(since);
        }
        tx.next_meter = None;
        e.demand_w = 0.0;
        e.meter.set_power(0.0, now);
        tx_event(&self.out, e, "Updated", "ChargingStateChanged", now, |ev| {
            ev.charging_state = Some(ChargingState::SuspendedEv);
            ev.meter_context = Some("Sample.Periodic");
        });
        Ok(())
    }

    /// The driver stops the transaction at the station (presents the token again).
    pub fn stop_local(&mut self, evse: u32, now: Instant) -> Result<(), StateError> {
        self.end_on_evse(evse, "StopAuthorized", "Local", now)
    }

    /// Ends the transaction on `evse` with `trigger` (a TriggerReasonEnumType) and `reason`
    /// (a ReasonEnumType).
    pub fn end_on_evse(
        &mut self,
        evse: u32,
        trigger: &'static str,
        reason: &'static str,
        now: Instant,
    ) -> Result<(), StateError> {
        let i = self.index(evse)?;
        if self.evses[i].tx.is_none() {
            return Err(StateError::NoTransaction(evse));
        }
        self.end_transaction(i, trigger, reason, now);
        Ok(())
    }

    /// The driver unplugs: a running transaction ends (EVDisconnected), then Available.
    pub fn unplug(&mut self, evse: u32, now: Instant) -> Result<(), StateError> {
        let i = self.index(evse)?;
        if self.evses[i].tx.is_some() {
            self.evses[i].plugged = false;
            self.end_transaction(i, "EVCommunicationLost", "EVDisconnected", now);
        } else if self.evses[i].plugged {
            self.evses[i].plugged = false;
            self.report_status(evse)?;
        }
        Ok(())
    }

    /// RequestStartTransaction: starts charging at once on `evse` (or the first free one).
    /// Returns the EVSE and transaction id, or the reason to reject.
    pub fn remote_start(
        &mut self,
        evse: Option<u32>,
        token: IdToken,
        remote_start_id: i64,
        now: Instant,
    ) -> Result<(u32, String), &'static str> {
        let usable = |e: &Evse| {
            e.is_free()
                || (e.status() == ConnectorStatus::Reserved
                    && e.reservation.as_ref().is_some_and(|r| r.id_token == token))
        };
        let i = match evse {
            Some(id) => {
                let i = self.index(id).map_err(|_| "UnknownEvse")?;
                if !usable(&self.evses[i]) {
                    return Err("EvseBusy");
                }
                i
            }
            None => self.evses.iter().position(usable).ok_or("NoFreeEvse")?,
        };
        let power = self.default_power_w;
        let e = &mut self.evses[i];
        let mut start = TxStart::new("RemoteStart", ChargingState::Charging);
        start.reservation_id = take_matching_reservation(&mut e.reservation, &token);
        start.token = Some(token);
        start.remote_start_id = Some(remote_start_id);
        e.plugged = true;
        e.unplug_on_end = true;
        e.demand_w = power;
        let id = self.start_transaction(i, start, now);
        let evse_id = self.evses[i].id;
        let _ = self.report_status(evse_id);
        Ok((evse_id, id))
    }

    /// RequestStopTransaction: ends `transaction_id` if it runs here.
    pub fn remote_stop(&mut self, transaction_id: &str, now: Instant) -> bool {
        match self.find_transaction(transaction_id) {
            Some(evse) => {
                self.end_transaction(evse as usize - 1, "RemoteStop", "Remote", now);
                true
            }
            None => false,
        }
    }

    /// Ends every transaction (reset), with `trigger`/`reason`.
    pub fn end_all(&mut self, trigger: &'static str, reason: &'static str, now: Instant) {
        for i in 0..self.evses.len() {
            if self.evses[i].tx.is_some() {
                self.end_transaction(i, trigger, reason, now);
            }
        }
    }

    /// Sends due periodic meter values, moves charging schedules on and expires
    /// reservations.
    pub fn tick(&mut self, now: Instant) {
        // Schedules move on first, so a periodic value sent now shows the new power.
        for i in 0..self.evses.len() {
            if self.evses[i].limit_check.is_some_and(|at| at <= now) {
                self.apply_limit(i, now);
            }
        }
        let interval = self.meter_interval;
        for e in &mut self.evses {
            let due =
                e.tx.as_ref()
                    .and_then(|t| t.next_meter)
                    .is_some_and(|at| at <= now);
            if due {
                if let Some(tx) = &mut e.tx {
                    // Skip missed periods (after being offline) rather than bursting them.
                    let mut next = tx.next_meter.unwrap_or(now) + interval;
                    while next <= now {
                        next += interval;
                    }
                    tx.next_meter = Some(next);
                }
                tx_event(&self.out, e, "Updated", "MeterValuePeriodic", now, |ev| {
                    ev.charging_state = None;
                    ev.meter_context = Some("Sample.Periodic");
                });
            }
        }
        for i in 0..self.evses.len() {
            let expired = self.evses[i]
                .reservation
                .as_ref()
                .is_some_and(|r| r.expires <= now);
            if expired {
                if let Some(r) = self.evses[i].reservation.take() {
                    info!(
                        reservation = r.id,
                        evse = self.evses[i].id,
                        "reservation expired"
                    );
                    self.out.push(
                        "ReservationStatusUpdate",
                        messages::reservation_status_update(r.id, "Expired"),
                    );
                    let _ = self.report_status(self.evses[i].id);
                }
            }
        }
    }

    /// When [`tick`](Self::tick) next has work.
    pub fn next_wake(&self) -> Option<Instant> {
        self.evses
            .iter()
            .flat_map(|e| {
                [
                    e.tx.as_ref().and_then(|t| t.next_meter),
                    e.reservation.as_ref().map(|r| r.expires),
                    e.limit_check,
                ]
            })
            .flatten()
            .min()
    }

    /// ReserveNow. Returns the `ReserveNowStatusEnumType`.
    pub fn reserve(
        &mut self,
        evse: Option<u32>,
        id: i64,
        token: IdToken,
        expires: Instant,
    ) -> &'static str {
        // A new reservation with a known id replaces the old one (OCPP H01.FR.02).
        for e in &mut self.evses {
            if e.reservation.as_ref().is_some_and(|r| r.id == id) {
                e.reservation = None;
            }
        }
        let i = match evse {
            Some(id) => match self.index(id) {
                Ok(i) => i,
                Err(_) => return "Rejected",
            },
            None => match self.evses.iter().position(Evse::is_free) {
                Some(i) => i,
                None => return "Occupied",
            },
        };
        let e = &mut self.evses[i];
        match e.status() {
            ConnectorStatus::Available => {}
            ConnectorStatus::Occupied | ConnectorStatus::Reserved => return "Occupied",
            ConnectorStatus::Faulted => return "Faulted",
            ConnectorStatus::Unavailable => return "Unavailable",
        }
        e.reservation = Some(Reservation {
            id,
            id_token: token,
            expires,
        });
        let evse_id = e.id;
        info!(reservation = id, evse = evse_id, "reserved");
        let _ = self.report_status(evse_id);
        "Accepted"
    }

    /// CancelReservation. Returns whether it existed.
    pub fn cancel_reservation(&mut self, id: i64) -> bool {
        let Some(i) = self
            .evses
            .iter()
            .position(|e| e.reservation.as_ref().is_some_and(|r| r.id == id))
        else {
            return false;
        };
        self.evses[i].reservation = None;
        let _ = self.report_status(self.evses[i].id);
        true
    }

    /// ChangeAvailability for one EVSE or (None) the whole station. Returns the
    /// `ChangeAvailabilityStatusEnumType`.
    pub fn change_availability(&mut self, evse: Option<u32>, operative: bool) -> &'static str {
        let targets: Vec<usize> = match evse {
            Some(id) => match self.index(id) {
                Ok(i) => vec![i],
                Err(_) => return "Rejected",
            },
            None => (0..self.evses.len()).collect(),
        };
        let mut scheduled = false;
        for i in targets {
            let e = &mut self.evses[i];
            if !operative && e.tx.is_some() {
                e.inoperative_when_idle = true;
                scheduled = true;
                continue;
            }
            e.inoperative_when_idle = false;
            if e.operative != operative {
                e.operative = operative;
                let id = e.id;
                let _ = self.report_status(id);
            }
        }
        if scheduled {
            "Scheduled"
        } else {
            "Accepted"
        }
    }

    /// Starts a transaction on EVSE index `i`; with `ChargingState::Charging` the EV draws
    /// its `demand_w`, as far as the charging profiles in force (TxDefaultProfile) let it.
    fn start_transaction(&mut self, i: usize, start: TxStart, now: Instant) -> String {
        let interval = self.meter_interval;
        let id = uuid::Uuid::new_v4().to_string();
        let e = &mut self.evses[i];
        e.tx = Some(Transaction {
            id: id.clone(),
            started: now,
            next_seq: 0,
            start_wh: e.meter.read(now),
            remote_start_id: start.remote_start_id,
            authorized: start.token.is_some(),
            id_token: start.token,
            reservation_id: start.reservation_id,
            charging_since: None,
            time_charging: Duration::ZERO,
            next_meter: None,
            total_cost: None,
            ended: CancellationToken::new(),
        });
        if start.state != ChargingState::Charging {
            e.demand_w = 0.0;
        }
        let delivered = self.refresh_limit(i, now);
        let e = &mut self.evses[i];
        e.meter.set_power(delivered, now);
        let state = match start.state {
            ChargingState::Charging if delivered <= 0.0 => ChargingState::SuspendedEvse,
            state => state,
        };
        if let Some(tx) = &mut e.tx {
            tx.charging_since = (state == ChargingState::Charging).then_some(now);
            tx.next_meter = (e.demand_w > 0.0).then_some(now + interval);
        }
        tx_event(&self.out, e, "Started", start.trigger, now, |ev| {
            ev.charging_state = Some(state);
            ev.with_id_token = true;
            ev.meter_context = Some("Transaction.Begin");
        });
        info!(evse = e.id, transaction = %id, trigger = start.trigger, "transaction started");
        let evse = e.id;
        self.event(StationEvent::TransactionStarted {
            evse,
            transaction_id: id.clone(),
            remote_start_id: start.remote_start_id,
        });
        id
    }

    fn end_transaction(
        &mut self,
        i: usize,
        trigger: &'static str,
        reason: &'static str,
        now: Instant,
    ) {
        // A TxProfile lives as long as its transaction.
        let evse_id = self.evses[i].id;
        self.profiles
            .retain(|p| !(p.purpose == Purpose::Tx && p.evse == evse_id));
        let e = &mut self.evses[i];
        let Some(tx) = &mut e.tx else { return };
        if let Some(since) = tx.charging_since.take() {
            tx.time_charging += now.saturating_duration_since(since);
        }
        e.demand_w = 0.0;
        e.meter.set_power(0.0, now);
        if e.unplug_on_end {
            e.unplug_on_end = false;
            e.plugged = false;
        }
        let plugged = e.plugged;
        tx_event(&self.out, e, "Ended", trigger, now, |ev| {
            ev.charging_state = Some(if plugged {
                ChargingState::EvConnected
            } else {
                ChargingState::Idle
            });
            ev.stopped_reason = Some(reason);
            ev.meter_context = Some("Transaction.End");
        });
        let Some(tx) = e.tx.take() else { return };
        tx.ended.cancel();
        let energy_wh = e.meter.read(now) - tx.start_wh;
        // The registers as the Started and Ended events reported them (0.1 Wh), so the
        // line can be compared with the CSMS's bill to the digit.
        let (start_wh, stop_wh) = (
            messages::round1(tx.start_wh),
            messages::round1(e.meter.read(now)),
        );
        info!(
            evse = e.id,
            transaction = %tx.id,
            reason,
            meter_start_wh = format_args!("{start_wh:.1}"),
            meter_stop_wh = format_args!("{stop_wh:.1}"),
            energy_wh = format_args!("{:.1}", stop_wh - start_wh),
            energy_kwh = format_args!("{:.3}", energy_wh / 1000.0),
            total_cost = tx.total_cost.map(|c| c.to_string()).as_deref().unwrap_or("-"),
            "transaction ended"
        );
        if e.inoperative_when_idle {
            e.inoperative_when_idle = false;
            e.operative = false;
        }
        let evse = e.id;
        self.refresh_limit(i, now);
        self.event(StationEvent::TransactionEnded {
            evse,
            transaction_id: tx.id,
            energy_wh,
            stopped_reason: reason,
        });
        let _ = self.report_status(evse);
    }
}

/// How a transaction starts.
struct TxStart {
    trigger: &'static str,
    state: ChargingState,
    token: Option<IdToken>,
    remote_start_id: Option<i64>,
    reservation_id: Option<i64>,
}

impl TxStart {
    fn new(trigger: &'static str, state: ChargingState) -> Self {
        TxStart {
            trigger,
            state,
            token: None,
            remote_start_id: None,
            reservation_id: None,
        }
    }
}

/// Consumes the EVSE's reservation if it was made for `token`.
fn take_matching_reservation(slot: &mut Option<Reservation>, token: &IdToken) -> Option<i64> {
    if slot.as_ref().is_some_and(|r| r.id_token == *token) {
        slot.take().map(|r| r.id)
    } else {
        None
    }
}

/// What to include in one TransactionEvent beyond the always-present fields.
#[derive(Default)]
struct TxEventExtras {
    charging_state: Option<ChargingState>,
    stopped_reason: Option<&'static str>,
    /// Include a meter value with this reading context.
    meter_context: Option<&'static str>,
    with_id_token: bool,
    with_reservation: bool,
}

/// Emits one TransactionEvent for the EVSE's transaction, taking the next seqNo.
fn tx_event(
    out: &Outbox,
    e: &mut Evse,
    event_type: &'static str,
    trigger: &'static str,
    now: Instant,
    extras: impl FnOnce(&mut TxEventExtras),
) {
    let mut x = TxEventExtras::default();
    extras(&mut x);
    let register = e.meter.read(now);
    let power = e.meter.power_w;
    let Some(tx) = &mut e.tx else { return };
    let seq_no = tx.next_seq;
    tx.next_seq += 1;
    let mut ev = TxEvent::new(event_type, trigger, seq_no, &tx.id);
    ev.evse = Some(e.id);
    ev.charging_state = x.charging_state;
    ev.stopped_reason = x.stopped_reason;
    if event_type == "Started" {
        ev.remote_start_id = tx.remote_start_id;
    }
    if event_type != "Started" || tx.charging_since.is_some() {
        let running = tx
            .charging_since
            .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
        ev.time_spent_charging = Some((tx.time_charging + running).as_secs());
    }
    if x.with_id_token {
        ev.id_token = tx.id_token.as_ref();
    }
    if x.with_reservation || event_type == "Started" {
        ev.reservation_id = tx.reservation_id;
    }
    ev.meter_value = x
        .meter_context
        .map(|ctx| messages::meter_value(register, Some(power), ctx));
    out.push("TransactionEvent", messages::transaction_event(&ev));
}

#[cfg(test)]
mod tests;

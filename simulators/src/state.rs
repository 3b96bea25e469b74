//! The station's state machine: EVSEs, their connector status, transactions and energy
//! meters, reservations. Every change that the CSMS must hear about is emitted into the
//! [`Outbox`] right here, while the caller holds the state lock, so messages leave in exactly
//! the order the state changed (a `seqNo` can never overtake another, and no `Updated` can
//! follow its `Ended`). No I/O and no awaiting: the connection loop, the CSMS-call handlers
//! and the local flows (scenario steps) all drive it, and unit tests can too.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::device_model::DeviceModel;
use crate::messages::{self, ChargingState, ConnectorStatus, IdToken, TxEvent};
use crate::rpc::CallError;

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
}

/// A public snapshot of a running transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionInfo {
    pub evse: u32,
    pub transaction_id: String,
    pub remote_start_id: Option<i64>,
    pub charging: bool,
    pub energy_wh: f64,
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
    next_seq: u32,
    start_wh: f64,
    remote_start_id: Option<i64>,
    id_token: Option<IdToken>,
    authorized: bool,
    reservation_id: Option<i64>,
    charging_since: Option<Instant>,
    time_charging: Duration,
    next_meter: Option<Instant>,
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
                })
                .collect(),
            device_model,
            heartbeat_interval: Duration::from_secs(60),
            meter_interval,
            default_power_w,
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
        let e = &mut self.evses[i];
        let Some(tx) = &mut e.tx else {
            return Err(StateError::NoTransaction(evse));
        };
        let ended = tx.ended.clone();
        if tx.charging_since.is_none() {
            tx.charging_since = Some(now);
            tx.next_meter = Some(now + interval);
        }
        e.meter.set_power(power_w, now);
        tx_event(&self.out, e, "Updated", "ChargingStateChanged", now, |ev| {
            ev.charging_state = Some(ChargingState::Charging)
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
        e.meter.set_power(power, now);
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

    /// Sends due periodic meter values and expires reservations.
    pub fn tick(&mut self, now: Instant) {
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

    fn start_transaction(&mut self, i: usize, start: TxStart, now: Instant) -> String {
        let interval = self.meter_interval;
        let e = &mut self.evses[i];
        let id = uuid::Uuid::new_v4().to_string();
        let charging = start.state == ChargingState::Charging;
        e.tx = Some(Transaction {
            id: id.clone(),
            next_seq: 0,
            start_wh: e.meter.read(now),
            remote_start_id: start.remote_start_id,
            authorized: start.token.is_some(),
            id_token: start.token,
            reservation_id: start.reservation_id,
            charging_since: charging.then_some(now),
            time_charging: Duration::ZERO,
            next_meter: charging.then_some(now + interval),
            ended: CancellationToken::new(),
        });
        tx_event(&self.out, e, "Started", start.trigger, now, |ev| {
            ev.charging_state = Some(start.state);
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
        let e = &mut self.evses[i];
        let Some(tx) = &mut e.tx else { return };
        if let Some(since) = tx.charging_since.take() {
            tx.time_charging += now.saturating_duration_since(since);
        }
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
        info!(
            evse = e.id,
            transaction = %tx.id,
            reason,
            energy_kwh = format_args!("{:.3}", energy_wh / 1000.0),
            "transaction ended"
        );
        if e.inoperative_when_idle {
            e.inoperative_when_idle = false;
            e.operative = false;
        }
        let evse = e.id;
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
mod tests {
    use super::*;

    fn state(evses: u32) -> (StationState, mpsc::UnboundedReceiver<OutItem>) {
        let (out, rx) = Outbox::new();
        let (events, _) = broadcast::channel(16);
        let st = StationState::new(
            evses,
            Duration::from_secs(10),
            11_000.0,
            DeviceModel::default(),
            out,
            events,
        );
        (st, rx)
    }

    fn drain(rx: &mut mpsc::UnboundedReceiver<OutItem>) -> Vec<(&'static str, Value)> {
        let mut v = vec![];
        while let Ok(item) = rx.try_recv() {
            if let OutItem::Call(o) = item {
                v.push((o.action, o.payload));
            }
        }
        v
    }

    #[test]
    fn remote_start_then_meter_then_remote_stop() {
        let (mut st, mut rx) = state(2);
        let t0 = Instant::now();
        let (evse, tx_id) = st.remote_start(None, IdToken::rfid("T1"), 77, t0).unwrap();
        assert_eq!(evse, 1);
        let msgs = drain(&mut rx);
        assert_eq!(msgs[0].0, "TransactionEvent");
        let started = &msgs[0].1;
        assert_eq!(started["eventType"], "Started");
        assert_eq!(started["triggerReason"], "RemoteStart");
        assert_eq!(started["seqNo"], 0);
        assert_eq!(started["transactionInfo"]["remoteStartId"], 77);
        assert_eq!(started["idToken"]["idToken"], "T1");
        assert_eq!(msgs[1].1["connectorStatus"], "Occupied");

        // A second remote start for the same EVSE is refused.
        assert_eq!(
            st.remote_start(Some(1), IdToken::rfid("T2"), 78, t0),
            Err("EvseBusy")
        );

        // Ten minutes at 11 kW later: one periodic update with the energy.
        let t1 = t0 + Duration::from_secs(600);
        st.tick(t1);
        let msgs = drain(&mut rx);
        assert_eq!(msgs.len(), 1);
        let upd = &msgs[0].1;
        assert_eq!(upd["seqNo"], 1);
        assert_eq!(upd["triggerReason"], "MeterValuePeriodic");
        let wh = upd["meterValue"][0]["sampledValue"][0]["value"]
            .as_f64()
            .unwrap();
        assert!((wh - (100_000.0 + 11_000.0 / 6.0)).abs() < 1.0, "{wh}");

        assert!(st.remote_stop(&tx_id, t1));
        let msgs = drain(&mut rx);
        let ended = &msgs[0].1;
        assert_eq!(ended["eventType"], "Ended");
        assert_eq!(ended["seqNo"], 2);
        assert_eq!(ended["transactionInfo"]["stoppedReason"], "Remote");
        assert_eq!(msgs[1].1["connectorStatus"], "Available");
        assert!(!st.remote_stop(&tx_id, t1));
        assert!(!st.has_transactions());
    }

    #[test]
    fn local_session_rejected_authorization_ends_deauthorized() {
        let (mut st, mut rx) = state(1);
        let now = Instant::now();
        st.plug(1, now).unwrap();
        let msgs = drain(&mut rx);
        assert_eq!(msgs[0].1["connectorStatus"], "Occupied");
        assert_eq!(msgs[1].1["triggerReason"], "CablePluggedIn");
        assert_eq!(msgs[1].1["transactionInfo"]["chargingState"], "EVConnected");
        st.authorized(1, &IdToken::rfid("BAD"), false, now).unwrap();
        let msgs = drain(&mut rx);
        assert_eq!(
            msgs[0].1["transactionInfo"]["stoppedReason"],
            "DeAuthorized"
        );
        assert_eq!(msgs[0].1["triggerReason"], "Deauthorized");
        // Still plugged, so still Occupied until the cable is pulled.
        assert_eq!(msgs[1].1["connectorStatus"], "Occupied");
        st.unplug(1, now).unwrap();
        assert_eq!(drain(&mut rx)[0].1["connectorStatus"], "Available");
    }

    #[test]
    fn change_availability_is_scheduled_during_a_transaction() {
        let (mut st, mut rx) = state(1);
        let now = Instant::now();
        st.remote_start(Some(1), IdToken::rfid("T"), 1, now)
            .unwrap();
        assert_eq!(st.change_availability(None, false), "Scheduled");
        drain(&mut rx);
        st.end_all("ResetCommand", "ImmediateReset", now);
        let msgs = drain(&mut rx);
        assert_eq!(msgs.last().unwrap().1["connectorStatus"], "Unavailable");
        assert_eq!(
            st.reserve(Some(1), 5, IdToken::rfid("T"), now),
            "Unavailable"
        );
        assert_eq!(st.change_availability(Some(1), true), "Accepted");
        assert_eq!(drain(&mut rx)[0].1["connectorStatus"], "Available");
    }

    #[test]
    fn reservation_blocks_others_and_expires() {
        let (mut st, mut rx) = state(1);
        let now = Instant::now();
        let expires = now + Duration::from_secs(60);
        assert_eq!(
            st.reserve(None, 9, IdToken::rfid("MINE"), expires),
            "Accepted"
        );
        assert_eq!(drain(&mut rx)[0].1["connectorStatus"], "Reserved");
        assert_eq!(
            st.remote_start(None, IdToken::rfid("OTHER"), 1, now),
            Err("NoFreeEvse")
        );
        assert_eq!(st.next_wake(), Some(expires));
        st.tick(expires);
        let msgs = drain(&mut rx);
        assert_eq!(msgs[0].0, "ReservationStatusUpdate");
        assert_eq!(msgs[1].1["connectorStatus"], "Available");
        assert!(!st.cancel_reservation(9));
    }

    #[test]
    fn reserved_evse_accepts_its_token() {
        let (mut st, mut rx) = state(1);
        let now = Instant::now();
        st.reserve(
            Some(1),
            3,
            IdToken::rfid("MINE"),
            now + Duration::from_secs(60),
        );
        drain(&mut rx);
        st.remote_start(None, IdToken::rfid("MINE"), 1, now)
            .unwrap();
        assert_eq!(drain(&mut rx)[0].1["reservationId"], 3);
    }
}

//! Charging profiles on the station: SetChargingProfile / ClearChargingProfile, the limit in
//! force per EVSE (what `smart_charging` computes, applied to the meter) and CostUpdated.

use super::*;

impl StationState {
    /// SetChargingProfile on `evse` (0: the whole station). Returns the reasonCode of a
    /// rejection.
    pub fn set_charging_profile(
        &mut self,
        evse: u32,
        profile: Profile,
        now: Instant,
    ) -> Result<(), smart_charging::Reason> {
        let target = match evse {
            0 => None,
            id => Some(self.index(id).map_err(|_| "UnknownEvse")?),
        };
        if profile.purpose == Purpose::Tx {
            // K01: a TxProfile needs a transaction on that EVSE (and the one it names).
            let tx = target.and_then(|i| self.evses[i].tx.as_ref());
            let Some(tx) = tx else {
                return Err("NoTransaction");
            };
            if profile
                .transaction_id
                .as_deref()
                .is_some_and(|id| id != tx.id)
            {
                return Err("TxNotFound");
            }
        }
        // Two profiles of one purpose at one stack level on one EVSE would tie (K01); one
        // with the same id is replaced instead.
        let clash = self.profiles.iter().any(|p| {
            p.id != profile.id
                && p.purpose == profile.purpose
                && p.stack_level == profile.stack_level
                && p.evse == profile.evse
                && p.overlaps(&profile)
        });
        if clash {
            return Err("DuplicateProfile");
        }
        // A replaced profile may have limited another EVSE: then every EVSE is looked at.
        let moved = self
            .profiles
            .iter()
            .any(|p| p.id == profile.id && p.evse != profile.evse);
        self.profiles.retain(|p| p.id != profile.id);
        let target = if moved { None } else { target };
        info!(
            evse,
            profile = profile.id,
            purpose = ?profile.purpose,
            stack_level = profile.stack_level,
            "charging profile set"
        );
        self.profiles.push(profile);
        self.apply_limits(target, now);
        Ok(())
    }

    /// ClearChargingProfile: by id, else by the criteria given (none: all profiles).
    /// Returns whether any profile was cleared.
    pub fn clear_charging_profiles(
        &mut self,
        id: Option<i64>,
        evse: Option<u32>,
        purpose: Option<&str>,
        stack_level: Option<i64>,
        now: Instant,
    ) -> bool {
        let purpose = match purpose.map(Purpose::parse) {
            // ChargingStationExternalConstraints are the station's own; never cleared.
            Some(None) => return false,
            Some(Some(p)) => Some(p),
            None => None,
        };
        let matches = |p: &Profile| match id {
            Some(id) => p.id == id,
            None => {
                evse.is_none_or(|e| p.evse == e)
                    && purpose.is_none_or(|purpose| p.purpose == purpose)
                    && stack_level.is_none_or(|level| p.stack_level == level)
            }
        };
        let cleared: Vec<u32> = self
            .profiles
            .iter()
            .filter(|p| matches(p))
            .map(|p| p.evse)
            .collect();
        if cleared.is_empty() {
            return false;
        }
        self.profiles.retain(|p| !matches(p));
        info!(?id, profiles = cleared.len(), "charging profiles cleared");
        if cleared.contains(&0) {
            self.apply_limits(None, now);
        } else {
            for evse in cleared {
                if let Ok(i) = self.index(evse) {
                    self.apply_limits(Some(i), now);
                }
            }
        }
        true
    }

    /// CostUpdated: the running cost of `transaction_id` goes on the display. Returns
    /// whether the transaction runs here.
    pub fn cost_updated(&mut self, transaction_id: &str, total_cost: f64) -> bool {
        let Some(evse) = self.find_transaction(transaction_id) else {
            warn!(
                transaction = transaction_id,
                total_cost, "CostUpdated for no running transaction"
            );
            return false;
        };
        let i = evse as usize - 1;
        if let Some(tx) = &mut self.evses[i].tx {
            tx.total_cost = Some(total_cost);
        }
        info!(
            evse,
            transaction = transaction_id,
            total_cost,
            "display: cost so far"
        );
        self.event(StationEvent::CostUpdated {
            transaction_id: transaction_id.to_owned(),
            total_cost,
        });
        true
    }

    /// The wall-clock time of a tokio instant (charging schedules are wall-clock).
    pub(super) fn wall(&self, t: Instant) -> DateTime<Utc> {
        let (at, wall) = self.epoch;
        let delta = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        match t.checked_duration_since(at) {
            Some(after) => wall + delta(after),
            None => wall - delta(at - t),
        }
    }

    /// The tokio instant of a wall-clock time (at the earliest `now`).
    pub(super) fn instant(&self, t: DateTime<Utc>, now: Instant) -> Instant {
        let (at, wall) = self.epoch;
        let when = match (t - wall).to_std() {
            Ok(after) => at.checked_add(after),
            Err(_) => (wall - t).to_std().ok().and_then(|b| at.checked_sub(b)),
        };
        when.map_or(now, |w| w.max(now))
    }

    /// Works out the composite limit of EVSE index `i` now, remembers it and when it may
    /// change next, and returns the power the EV gets (its demand, capped by the limit).
    pub(super) fn refresh_limit(&mut self, i: usize, now: Instant) -> f64 {
        let e = &self.evses[i];
        let tx = e.tx.as_ref().map(|t| TxRef {
            id: &t.id,
            started: self.wall(t.started),
        });
        let eval = smart_charging::composite(&self.profiles, e.id, tx, self.wall(now));
        let check = eval.next.map(|t| self.instant(t, now));
        let e = &mut self.evses[i];
        e.limit_w = eval.limit_w;
        e.limit_check = check;
        eval.limit_w
            .map_or(e.demand_w, |limit| e.demand_w.min(limit.max(0.0)))
    }

    /// [`apply_limit`](Self::apply_limit) on EVSE index `i`, or (None) on all EVSEs.
    pub(super) fn apply_limits(&mut self, i: Option<usize>, now: Instant) {
        match i {
            Some(i) => self.apply_limit(i, now),
            None => (0..self.evses.len()).for_each(|i| self.apply_limit(i, now)),
        }
    }

    /// Delivers what the charging profiles now allow on EVSE index `i`. When that changes
    /// while the EV wants power: TransactionEvent Updated (ChargingRateChanged), with
    /// chargingState SuspendedEVSE when the limit is 0 and Charging when it lifts.
    pub(super) fn apply_limit(&mut self, i: usize, now: Instant) {
        let delivered = self.refresh_limit(i, now);
        let e = &mut self.evses[i];
        let Some(tx) = &mut e.tx else { return };
        if e.demand_w <= 0.0 || (delivered - e.meter.power_w).abs() < 0.001 {
            return;
        }
        let state = if delivered > 0.0 {
            tx.charging_since.is_none().then(|| {
                tx.charging_since = Some(now);
                ChargingState::Charging
            })
        } else {
            tx.charging_since.take().map(|since| {
                tx.time_charging += now.saturating_duration_since(since);
                ChargingState::SuspendedEvse
            })
        };
        let transaction_id = tx.id.clone();
        e.meter.set_power(delivered, now);
        info!(
            evse = e.id,
            transaction = %transaction_id,
            power_w = delivered,
            state = state.map(ChargingState::as_str),
            "charging rate changed"
        );
        tx_event(&self.out, e, "Updated", "ChargingRateChanged", now, |ev| {
            ev.charging_state = state;
            ev.meter_context = Some("Sample.Periodic");
        });
        let evse = e.id;
        self.event(StationEvent::ChargingRateChanged {
            evse,
            transaction_id,
            power_w: delivered,
        });
    }
}

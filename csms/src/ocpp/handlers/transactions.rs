//! Functional blocks E and J: transactions (TransactionEvent) and meter values (MeterValues).

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_ocpp::v2_0_1::datatypes::meter_value_type::MeterValueType;
use rust_ocpp::v2_0_1::messages::meter_values::MeterValuesRequest;
use rust_ocpp::v2_0_1::messages::transaction_event::TransactionEventRequest;
use serde_json::{json, Value};

pub(super) mod bounds;
pub(super) mod sessions;

use super::{authorization::info_json, wire, HandlerResult, StationSession};
use crate::ocpp::OcppContext;
use crate::sessions_port;
use crate::store::batch_sql::MeterSample;
use crate::store::group_commit::EventRecord;
use crate::store::id_tokens;

/// A session starting on a booked EVSE (matched by the event's reservationId, else by EVSE
/// and time) puts the booking into `charging`; its end completes it. The station's message
/// is stored either way: a failure here is logged, not answered as an error.
async fn booking_news(
    ctx: &OcppContext,
    session: &StationSession,
    req: &TransactionEventRequest,
    event_type: &str,
) {
    use marketplace::bookings::reservations;
    let station = session.station_id.as_str();
    // bookings are made on listed chargers only: most stations are none (cached answer)
    if !crate::sessions_port::in_marketplace(&ctx.pool, station).await {
        return;
    }
    let tx_id = req.transaction_info.transaction_id.as_str();
    let result = match (event_type, req.evse.as_ref()) {
        ("Started", Some(evse)) => {
            reservations::session_started(
                &ctx.pool,
                station,
                evse.id,
                req.reservation_id,
                tx_id,
                req.timestamp,
            )
            .await
        }
        ("Ended", _) => reservations::session_ended(&ctx.pool, station, tx_id, req.timestamp).await,
        _ => return,
    };
    match result {
        Ok(Some(booking)) => {
            tracing::info!(station, tx_id, %booking, event_type, "booking follows the transaction")
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(station, tx_id, error = %e, "booking not updated from TransactionEvent")
        }
    }
}

/// The measurand a sampled value has when it names none (OCPP 2.0.1 SampledValueType).
const DEFAULT_MEASURAND: &str = "Energy.Active.Import.Register";

pub async fn transaction_event(
    ctx: &OcppContext,
    session: &StationSession,
    req: TransactionEventRequest,
    raw: Value,
) -> HandlerResult {
    // before anything is stored: an implausible value is the station's error (CALLERROR)
    bounds::check_transaction_event(&req)?;
    let tx_id = req.transaction_info.transaction_id.as_str();
    let samples = samples(
        &session.station_id,
        req.evse.as_ref().map_or(0, |e| e.id),
        Some(tx_id),
        req.meter_value.as_deref().unwrap_or_default(),
    );
    let energy = energy_readings(&samples);
    let event_type = wire(&req.event_type);
    let trigger = wire(&req.trigger_reason);
    let token_type = req.id_token.as_ref().map(|t| wire(&t.kind));
    let charging_state = req.transaction_info.charging_state.as_ref().map(wire);
    let stopped_reason = req.transaction_info.stopped_reason.as_ref().map(wire);
    let record = EventRecord {
        station_id: session.station_id.clone(),
        transaction_id: tx_id.to_owned(),
        seq_no: req.seq_no,
        event_type: event_type.clone(),
        trigger_reason: trigger,
        timestamp: req.timestamp,
        offline: req.offline.unwrap_or(false),
        evse_id: req.evse.as_ref().map(|e| e.id),
        connector_id: req.evse.as_ref().and_then(|e| e.connector_id),
        id_token: req
            .id_token
            .as_ref()
            .zip(token_type)
            .map(|(t, k)| (t.id_token.clone(), k)),
        charging_state,
        stopped_reason,
        remote_start_id: req.transaction_info.remote_start_id,
        reservation_id: req.reservation_id,
        energy_first: energy.first().copied(),
        energy_last: energy.last().copied(),
        payload: raw,
    };
    // answered only once committed (with other connections' events: group commit)
    let ack = ctx.group_commit.record_event(record, samples).await?;
    let info = ack.token.map(|row| {
        let (status, group) = id_tokens::status_now(row, Utc::now());
        info_json(status, group)
    });
    if ack.fresh {
        booking_news(ctx, session, &req, &event_type).await;
    } else {
        tracing::debug!(
            tx_id,
            seq_no = req.seq_no,
            "duplicate TransactionEvent acknowledged"
        );
    }
    // after the booking news (a session on a booked EVSE finds its booking by transaction);
    // retries too: sessions fold events idempotently, and a retried Ended gets its totalCost
    let outcome = sessions::transaction_event(ctx, &session.station_id, &req).await;
    let mut answer = json!({});
    if let Some(info) = info {
        answer["idTokenInfo"] = info;
    }
    if let Some(o) = outcome {
        // the session's own central token (SESSION-n / BOOKING-n): the CSMS issued it
        if o.token_accepted {
            answer["idTokenInfo"] = json!({"status": "Accepted"});
        }
        // a driver without money: the station ends the transaction (StopTxOnInvalidId)
        if let Some(status) = o.token_refused {
            answer["idTokenInfo"] = json!({ "status": status });
        }
        // OCPP 2.0.1: totalCost "SHALL only be sent when charging has ended" (final cost)
        if let Some(total) = o.total_cost {
            answer["totalCost"] = sessions_port::cost_number(total);
        }
    }
    Ok(answer)
}

pub async fn meter_values(
    ctx: &OcppContext,
    session: &StationSession,
    req: MeterValuesRequest,
) -> HandlerResult {
    bounds::check_meter_values_request(&req)?;
    let samples = samples(&session.station_id, req.evse_id, None, &req.meter_value);
    // answered only once committed: the station deletes its copy when answered
    ctx.group_commit.record_samples(samples).await?;
    sessions::meter_values(ctx, &session.station_id, req.evse_id, &req.meter_value).await;
    Ok(json!({}))
}

fn samples(
    station_id: &str,
    evse_id: i32,
    tx_id: Option<&str>,
    values: &[MeterValueType],
) -> Vec<MeterSample> {
    let mut out = Vec::new();
    for mv in values {
        for sv in &mv.sampled_value {
            let unit = sv.unit_of_measure.as_ref();
            let multiplier = unit.and_then(|u| u.multiplier).unwrap_or(0);
            // the handlers checked the bounds first; a value outside them is never stored
            let Some(value) = bounds::scaled(sv.value, multiplier).and_then(|v| v.to_f64()) else {
                continue;
            };
            out.push(MeterSample {
                station_id: station_id.to_owned(),
                evse_id,
                transaction_id: tx_id.map(str::to_owned),
                sampled_at: mv.timestamp,
                measurand: sv
                    .measurand
                    .as_ref()
                    .map(wire)
                    .unwrap_or_else(|| DEFAULT_MEASURAND.to_owned()),
                phase: sv.phase.as_ref().map(wire),
                location: sv.location.as_ref().map(wire),
                context: sv.context.as_ref().map(wire),
                value,
                unit: unit.and_then(|u| u.unit.clone()),
            });
        }
    }
    out
}

/// Energy register readings in Wh, oldest first. Phase readings are skipped: the register
/// total is what billing uses.
fn energy_readings(samples: &[MeterSample]) -> Vec<(DateTime<Utc>, f64)> {
    let mut readings: Vec<(DateTime<Utc>, f64)> = samples
        .iter()
        .filter(|s| s.measurand == DEFAULT_MEASURAND && s.phase.is_none() && s.value.is_finite())
        .map(|s| {
            let wh = match s.unit.as_deref() {
                Some("kWh") => s.value * 1000.0,
                _ => s.value,
            };
            (s.sampled_at, wh)
        })
        .collect();
    readings.sort_by_key(|r| r.0);
    readings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(json: Value) -> Vec<MeterValueType> {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn energy_defaults_and_units() {
        let values = meter(json!([
            {"timestamp": "2026-01-01T10:05:00Z", "sampledValue": [
                {"value": 2.5, "unitOfMeasure": {"unit": "kWh"}},
                {"value": 7000, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}}
            ]},
            {"timestamp": "2026-01-01T10:00:00Z", "sampledValue": [
                {"value": 12, "unitOfMeasure": {"unit": "Wh", "multiplier": 2}}
            ]}
        ]));
        let s = samples("S", 1, Some("t"), &values);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].measurand, DEFAULT_MEASURAND);
        let e = energy_readings(&s);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].1, 1200.0);
        assert_eq!(e[1].1, 2500.0);
    }
}

//! The adapter that feeds TransactionEvent and MeterValues into
//! `marketplace::sessions::station`: the readings sessions keep, the station's event as the
//! marketplace sees it, and replays of events that arrived before their session was known.

use chrono::Utc;
use marketplace::sessions::{station, EventOutcome, EventType, IdToken, Sample, StationEvent};
use marketplace::Error;
use rust_ocpp::v2_0_1::datatypes::id_token_type::IdTokenType;
use rust_ocpp::v2_0_1::datatypes::meter_value_type::MeterValueType;
use rust_ocpp::v2_0_1::messages::transaction_event::TransactionEventRequest;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::bounds;
use crate::ocpp::gateway::StationGateway;
use crate::ocpp::handlers::wire;
use crate::ocpp::OcppContext;
use crate::sessions_port::in_marketplace;

/// The readings sessions keep: the energy register (Wh), active power (W) and state of
/// charge (%), phase totals only.
pub fn samples(values: &[MeterValueType]) -> Vec<Sample> {
    let mut out = Vec::new();
    for mv in values {
        for sv in &mv.sampled_value {
            if sv.phase.is_some() {
                continue;
            }
            let measurand = sv
                .measurand
                .as_ref()
                .map(wire)
                .unwrap_or_else(|| "Energy.Active.Import.Register".to_owned());
            let name = match measurand.as_str() {
                "Energy.Active.Import.Register" => "energy_wh",
                "Power.Active.Import" => "power_w",
                "SoC" => "soc_percent",
                _ => continue,
            };
            // multiplier and kilo prefix applied, checked; the handlers refused the message
            // before storing anything if this fails, so `continue` only guards the arithmetic
            let Ok(value) = bounds::base_value(sv, &measurand) else {
                continue;
            };
            if !marketplace::sessions::bounds::plausible(name, value) {
                continue;
            }
            out.push(Sample {
                measurand: name,
                at: mv.timestamp,
                value,
            });
        }
    }
    out
}

/// The user an accepted, unexpired id token belongs to: a blocked or expired card starts no
/// session of theirs.
async fn token_owner(pool: &PgPool, token: &str, kind: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT user_id FROM id_tokens WHERE id_token = $1 AND token_type = $2 \
         AND user_id IS NOT NULL AND status = 'Accepted' \
         AND (expires_at IS NULL OR expires_at > now())",
    )
    .bind(token)
    .bind(kind)
    .fetch_optional(pool)
    .await
}

/// `NoCredit` for a driver's own token on a listed charger when the driver may not charge
/// there now (debt, or a wallet short of a session's hold); `None` otherwise. A failure to
/// tell is logged and answers `None`: the TransactionEvent's answer decides again.
pub async fn driver_credit(
    ctx: &OcppContext,
    station_id: &str,
    token: &IdTokenType,
) -> Option<&'static str> {
    // most stations are no listed charger: the cached answer spares the token lookup
    if !in_marketplace(&ctx.pool, station_id).await {
        return None;
    }
    let kind = wire(&token.kind);
    let result = async {
        match token_owner(&ctx.pool, &token.id_token, &kind).await? {
            Some(driver) => {
                let funds = &ctx.config.session_funds;
                marketplace::sessions::funds::credit(
                    &ctx.pool,
                    funds,
                    station_id,
                    driver,
                    Utc::now(),
                )
                .await
            }
            None => Ok(None),
        }
    }
    .await;
    result.unwrap_or_else(|e: Error| {
        tracing::warn!(station = station_id, error = %e, "driver credit not checked");
        None
    })
}

async fn station_event(
    pool: &PgPool,
    station_id: &str,
    req: &TransactionEventRequest,
) -> Result<StationEvent, sqlx::Error> {
    let id_token = req.id_token.as_ref().map(|t| IdToken {
        id_token: t.id_token.clone(),
        kind: wire(&t.kind),
    });
    let token_owner = match &id_token {
        Some(t) => token_owner(pool, &t.id_token, &t.kind).await?,
        None => None,
    };
    let info = &req.transaction_info;
    Ok(StationEvent {
        station_id: station_id.to_owned(),
        transaction_id: info.transaction_id.clone(),
        seq_no: req.seq_no,
        event_type: wire(&req.event_type).parse().unwrap_or(EventType::Updated),
        timestamp: req.timestamp,
        evse_id: req.evse.as_ref().map(|e| e.id),
        connector_id: req.evse.as_ref().and_then(|e| e.connector_id),
        id_token,
        token_owner,
        remote_start_id: info.remote_start_id,
        charging_state: info.charging_state.as_ref().map(wire),
        stopped_reason: info.stopped_reason.as_ref().map(wire),
        samples: samples(req.meter_value.as_deref().unwrap_or_default()),
    })
}

/// Feeds a TransactionEvent to sessions. Failures are logged: the station's message is
/// stored either way, and a session can be rebuilt from the stored events.
pub async fn transaction_event(
    ctx: &OcppContext,
    station_id: &str,
    req: &TransactionEventRequest,
) -> Option<EventOutcome> {
    if !in_marketplace(&ctx.pool, station_id).await {
        return None;
    }
    let tx_id = req.transaction_info.transaction_id.as_str();
    let result = async {
        let ev = station_event(&ctx.pool, station_id, req).await?;
        station::transaction_event(&ctx.pool, &ctx.config.session_funds, &ev, Utc::now()).await
    }
    .await;
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(station = station_id, tx_id, error = %e, "session not updated from TransactionEvent");
            return None;
        }
    };
    if outcome.linked {
        if let Err(e) = replay(ctx, station_id, tx_id, req.seq_no).await {
            tracing::error!(station = station_id, tx_id, error = %e, "earlier events not replayed into the session");
        }
    }
    if outcome.stop_transaction {
        // not awaited here: the station's answer arrives on this very connection, which is
        // busy with this message until the handler returns
        let gateway = StationGateway::new(ctx.registry.clone(), ctx.config.call_timeout);
        let (station, tx) = (station_id.to_owned(), tx_id.to_owned());
        tokio::spawn(async move {
            let payload = json!({"transactionId": tx});
            if let Err(e) = gateway
                .call(&station, "RequestStopTransaction", payload)
                .await
            {
                tracing::warn!(station, tx, error = %e, "stopping a session the driver had stopped");
            }
        });
    }
    Some(outcome)
}

/// The transaction's other stored events, into the session that just learned of it.
async fn replay(
    ctx: &OcppContext,
    station_id: &str,
    tx_id: &str,
    except_seq: i32,
) -> Result<(), Error> {
    let rows: Vec<(Value,)> = sqlx::query_as(
        "SELECT payload FROM transaction_events WHERE station_id = $1 AND transaction_id = $2 \
         AND seq_no <> $3 ORDER BY seq_no",
    )
    .bind(station_id)
    .bind(tx_id)
    .bind(except_seq)
    .fetch_all(&ctx.pool)
    .await?;
    for (payload,) in rows {
        let Ok(req) = serde_json::from_value::<TransactionEventRequest>(payload) else {
            continue;
        };
        let ev = station_event(&ctx.pool, station_id, &req).await?;
        station::transaction_event(&ctx.pool, &ctx.config.session_funds, &ev, Utc::now()).await?;
    }
    Ok(())
}

/// Feeds MeterValues to the live session on the EVSE, if any.
pub async fn meter_values(
    ctx: &OcppContext,
    station_id: &str,
    evse_id: i32,
    values: &[MeterValueType],
) {
    // most stations are no listed charger (cached answer): their values need no decoding here
    if !in_marketplace(&ctx.pool, station_id).await {
        return;
    }
    let samples = samples(values);
    if samples.is_empty() {
        return;
    }
    if let Err(e) = station::meter_values(&ctx.pool, station_id, evse_id, &samples).await {
        tracing::error!(station = station_id, evse_id, error = %e, "session not updated from MeterValues");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn samples_keep_energy_power_and_soc_in_base_units() {
        let values: Vec<MeterValueType> = serde_json::from_value(json!([
            {"timestamp": "2027-01-04T10:00:00Z", "sampledValue": [
                {"value": 2.5, "unitOfMeasure": {"unit": "kWh"}},
                {"value": 12, "unitOfMeasure": {"unit": "Wh", "multiplier": 2}},
                {"value": 7.2, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW"}},
                {"value": 61, "measurand": "SoC"},
                {"value": 800, "phase": "L1"},
                {"value": 230, "measurand": "Voltage"}
            ]}
        ]))
        .unwrap();
        let s = samples(&values);
        let got: Vec<(&str, Decimal)> = s
            .iter()
            .map(|x| (x.measurand, x.value.normalize()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("energy_wh", Decimal::from(2500)),
                ("energy_wh", Decimal::from(1200)),
                ("power_w", Decimal::from(7200)),
                ("soc_percent", Decimal::from(61)),
            ]
        );
    }
}

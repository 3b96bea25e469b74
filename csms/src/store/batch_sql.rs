//! The statements of one group commit: every boot, TransactionEvent and meter sample of a
//! batch in one multi-row statement each (UNNEST of column arrays), so a batch costs the same
//! few round trips whether it holds one write or hundreds.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::id_tokens::StoredStatus;

/// One sampled value of a MeterValues or TransactionEvent, in base units.
#[derive(Debug, Clone)]
pub struct MeterSample {
    pub station_id: String,
    pub evse_id: i32,
    pub transaction_id: Option<String>,
    pub sampled_at: DateTime<Utc>,
    pub measurand: String,
    pub phase: Option<String>,
    pub location: Option<String>,
    pub context: Option<String>,
    pub value: f64,
    pub unit: Option<String>,
}

/// A BootNotification as the station row needs it.
#[derive(Debug, Clone)]
pub struct BootRecord {
    pub station_id: String,
    pub vendor_name: String,
    pub model: String,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
    pub iccid: Option<String>,
    pub imsi: Option<String>,
    pub reason: String,
    /// The registration an unknown station is recorded with.
    pub unknown_status: &'static str,
    /// The profile an unknown station proved when it connected.
    pub unknown_profile: i16,
}

/// A TransactionEvent as the transaction row needs it.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub station_id: String,
    pub transaction_id: String,
    pub seq_no: i32,
    pub event_type: String,
    pub trigger_reason: String,
    pub timestamp: DateTime<Utc>,
    pub offline: bool,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub id_token: Option<(String, String)>,
    pub charging_state: Option<String>,
    pub stopped_reason: Option<String>,
    pub remote_start_id: Option<i32>,
    pub reservation_id: Option<i32>,
    /// Earliest and latest energy register readings in this event (time, Wh).
    pub energy_first: Option<(DateTime<Utc>, f64)>,
    pub energy_last: Option<(DateTime<Utc>, f64)>,
    pub payload: Value,
}

/// What one write of a batch is.
#[derive(Debug)]
pub enum Write {
    Boot(BootRecord),
    /// The event and its sampled values (stored only when the event is new).
    Event(EventRecord, Vec<MeterSample>),
    Samples(Vec<MeterSample>),
}

/// What one write's commit answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// The station's registration status.
    Boot(String),
    Event(EventAck),
    Samples,
}

/// What a TransactionEvent's commit answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventAck {
    /// `true` when the event was new, `false` for a retry of a stored (station, transaction,
    /// seqNo).
    pub fresh: bool,
    /// The stored row of the event's id token, read in the same statement (a round trip
    /// fewer per authorized event); `None` inside when the token is not stored.
    pub token: Option<Option<StoredStatus>>,
}

/// Stores the writes on `conn`, boots first so that a station's first events may follow
/// its first boot in the same batch. Events and samples are one statement: without boots
/// the caller needs no explicit transaction (see [`needs_transaction`]).
pub async fn store(conn: &mut PgConnection, writes: &[&Write]) -> Result<Vec<Ack>, sqlx::Error> {
    let boots: Vec<&BootRecord> = writes
        .iter()
        .filter_map(|w| match w {
            Write::Boot(b) => Some(b),
            _ => None,
        })
        .collect();
    let statuses = store_boots(&mut *conn, &boots).await?;
    let mut events: Vec<&EventRecord> = Vec::new();
    // each sample with the position (from 1) of the event it belongs to, if any: it is
    // stored only when that event is new
    let mut samples: Vec<(Option<i64>, &MeterSample)> = Vec::new();
    for w in writes {
        match w {
            Write::Event(e, s) => {
                events.push(e);
                let ord = events.len() as i64;
                samples.extend(s.iter().map(|s| (Some(ord), s)));
            }
            Write::Samples(s) => samples.extend(s.iter().map(|s| (None, s))),
            Write::Boot(_) => {}
        }
    }
    let mut event_acks = store_events_and_samples(conn, &events, &samples)
        .await?
        .into_iter();
    writes
        .iter()
        .map(|w| {
            Ok(match w {
                Write::Boot(b) => Ack::Boot(
                    statuses
                        .get(b.station_id.as_str())
                        .cloned()
                        .ok_or(sqlx::Error::RowNotFound)?,
                ),
                Write::Event(..) => Ack::Event(event_acks.next().ok_or(sqlx::Error::RowNotFound)?),
                Write::Samples(_) => Ack::Samples,
            })
        })
        .collect()
}

/// Whether [`store`] runs more than one statement for these writes (boots come first).
pub fn needs_transaction(writes: &[&Write]) -> bool {
    writes.iter().any(|w| matches!(w, Write::Boot(_)))
        && writes.iter().any(|w| !matches!(w, Write::Boot(_)))
}

/// A known station keeps the registration and profile the operator gave it; an unknown one is
/// recorded with its `unknown_status` at the profile it proved, so operators see it.
async fn store_boots(
    conn: &mut PgConnection,
    boots: &[&BootRecord],
) -> Result<HashMap<String, String>, sqlx::Error> {
    if boots.is_empty() {
        return Ok(HashMap::new());
    }
    let col = |f: fn(&BootRecord) -> Option<String>| boots.iter().map(|b| f(b)).collect::<Vec<_>>();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "INSERT INTO stations (id, registration_status, vendor_name, model, serial_number,
                               firmware_version, iccid, imsi, boot_reason, last_boot_at, last_seen_at,
                               security_profile)
         SELECT id, st, vn, mo, sn, fw, ic, im, br, now(), now(), sp
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::int2[])
              AS v(id, st, vn, mo, sn, fw, ic, im, br, sp)
         ON CONFLICT (id) DO UPDATE SET
            vendor_name = EXCLUDED.vendor_name, model = EXCLUDED.model,
            serial_number = EXCLUDED.serial_number, firmware_version = EXCLUDED.firmware_version,
            iccid = EXCLUDED.iccid, imsi = EXCLUDED.imsi, boot_reason = EXCLUDED.boot_reason,
            last_boot_at = now(), last_seen_at = now()
         RETURNING id, registration_status",
    )
    .bind(col(|b| Some(b.station_id.clone())))
    .bind(col(|b| Some(b.unknown_status.to_owned())))
    .bind(col(|b| Some(b.vendor_name.clone())))
    .bind(col(|b| Some(b.model.clone())))
    .bind(col(|b| b.serial_number.clone()))
    .bind(col(|b| b.firmware_version.clone()))
    .bind(col(|b| b.iccid.clone()))
    .bind(col(|b| b.imsi.clone()))
    .bind(col(|b| Some(b.reason.clone())))
    .bind(boots.iter().map(|b| b.unknown_profile).collect::<Vec<_>>())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Stores the events raw, folds the new ones into their transactions and stores the
/// samples (an event's only when the event is new), in one statement; answers each event's
/// acknowledgement, in order.
///
/// Events may arrive out of order (offline queues): every field is merged so that the result
/// does not depend on arrival order. The raw insert skips a stored (station, transaction,
/// seqNo); only the events it inserted reach the upsert, in the same statement.
async fn store_events_and_samples(
    conn: &mut PgConnection,
    events: &[&EventRecord],
    samples: &[(Option<i64>, &MeterSample)],
) -> Result<Vec<EventAck>, sqlx::Error> {
    if events.is_empty() && samples.is_empty() {
        return Ok(Vec::new());
    }
    let text =
        |f: fn(&EventRecord) -> Option<String>| events.iter().map(|e| f(e)).collect::<Vec<_>>();
    let int = |f: fn(&EventRecord) -> Option<i32>| events.iter().map(|e| f(e)).collect::<Vec<_>>();
    let at = |f: fn(&EventRecord) -> Option<DateTime<Utc>>| {
        events.iter().map(|e| f(e)).collect::<Vec<_>>()
    };
    let wh = |f: fn(&EventRecord) -> Option<f64>| events.iter().map(|e| f(e)).collect::<Vec<_>>();
    let moments = Moment::group(samples);
    // the event's position (ordering only), whether it was new, its token's stored row
    type Row = (
        i64,
        bool,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "WITH v AS (
            SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[],
                $6::text[], $7::text[], $8::text[], $9::int[], $10::int[], $11::timestamptz[],
                $12::timestamptz[], $13::text[], $14::float8[], $15::timestamptz[], $16::float8[],
                $17::timestamptz[], $18::int[], $19::text[], $20::text[], $21::bool[], $22::jsonb[])
            WITH ORDINALITY AS v(id, station_id, transaction_id, evse_id, connector_id, id_token,
                id_token_type, charging_state, remote_start_id, reservation_id, started_at,
                ended_at, stopped_reason, meter_start_wh, meter_start_at, meter_last_wh,
                meter_last_at, last_seq_no, event_type, trigger_reason, offline, payload, ord)
         ), ev AS (
            INSERT INTO transaction_events (station_id, transaction_id, seq_no, event_type,
                                            trigger_reason, event_at, offline, payload)
            SELECT station_id, transaction_id, last_seq_no, event_type, trigger_reason,
                   started_at, offline, payload
            FROM v ORDER BY ord
            ON CONFLICT DO NOTHING
            RETURNING station_id, transaction_id, seq_no
         ), fresh AS (
            SELECT v.* FROM v JOIN ev ON ev.station_id = v.station_id
                AND ev.transaction_id = v.transaction_id AND ev.seq_no = v.last_seq_no
         ), folded AS (
            INSERT INTO transactions AS t (id, station_id, transaction_id, evse_id, connector_id,
                id_token, id_token_type, charging_state, remote_start_id, reservation_id,
                started_at, ended_at, stopped_reason, meter_start_wh, meter_start_at,
                meter_last_wh, meter_last_at, last_seq_no)
            SELECT id, station_id, transaction_id, evse_id, connector_id, id_token, id_token_type,
                charging_state, remote_start_id, reservation_id, started_at, ended_at,
                stopped_reason, meter_start_wh, meter_start_at, meter_last_wh, meter_last_at,
                last_seq_no
            FROM fresh ORDER BY ord
            ON CONFLICT (station_id, transaction_id) DO UPDATE SET
            evse_id = COALESCE(t.evse_id, EXCLUDED.evse_id),
            connector_id = COALESCE(t.connector_id, EXCLUDED.connector_id),
            id_token = CASE WHEN EXCLUDED.id_token IS NOT NULL AND EXCLUDED.last_seq_no >= t.last_seq_no
                            THEN EXCLUDED.id_token ELSE COALESCE(t.id_token, EXCLUDED.id_token) END,
            id_token_type = CASE WHEN EXCLUDED.id_token IS NOT NULL AND EXCLUDED.last_seq_no >= t.last_seq_no
                            THEN EXCLUDED.id_token_type ELSE COALESCE(t.id_token_type, EXCLUDED.id_token_type) END,
            charging_state = CASE WHEN EXCLUDED.last_seq_no >= t.last_seq_no
                            THEN COALESCE(EXCLUDED.charging_state, t.charging_state) ELSE t.charging_state END,
            remote_start_id = COALESCE(t.remote_start_id, EXCLUDED.remote_start_id),
            reservation_id = COALESCE(t.reservation_id, EXCLUDED.reservation_id),
            started_at = LEAST(t.started_at, EXCLUDED.started_at),
            ended_at = COALESCE(EXCLUDED.ended_at, t.ended_at),
            stopped_reason = COALESCE(EXCLUDED.stopped_reason, t.stopped_reason),
            meter_start_wh = CASE WHEN t.meter_start_at IS NULL OR EXCLUDED.meter_start_at < t.meter_start_at
                            THEN COALESCE(EXCLUDED.meter_start_wh, t.meter_start_wh) ELSE t.meter_start_wh END,
            meter_start_at = LEAST(t.meter_start_at, EXCLUDED.meter_start_at),
            meter_last_wh = CASE WHEN t.meter_last_at IS NULL OR EXCLUDED.meter_last_at >= t.meter_last_at
                            THEN COALESCE(EXCLUDED.meter_last_wh, t.meter_last_wh) ELSE t.meter_last_wh END,
            meter_last_at = GREATEST(t.meter_last_at, EXCLUDED.meter_last_at),
            last_seq_no = GREATEST(t.last_seq_no, EXCLUDED.last_seq_no),
            updated_at = now()
         ), mv AS (
            SELECT * FROM UNNEST($23::int8[], $24::text[], $25::int[], $26::text[],
                $27::timestamptz[], $28::text[])
            AS mv(ev, station_id, evse_id, transaction_id, sampled_at, sampled_values)
         ), stored_samples AS (
            INSERT INTO meter_values (station_id, evse_id, transaction_id, sampled_at,
                                      sampled_values)
            SELECT station_id, evse_id, transaction_id, sampled_at, sampled_values::jsonb
            FROM mv WHERE mv.ev IS NULL OR mv.ev IN (SELECT ord FROM fresh)
         )
         SELECT v.ord, f.ord IS NOT NULL, t.status, t.expires_at, t.group_id
         FROM v LEFT JOIN fresh f ON f.ord = v.ord
              LEFT JOIN id_tokens t ON t.id_token = v.id_token AND t.token_type = v.id_token_type
         ORDER BY v.ord",
    )
    .bind(events.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
    .bind(text(|e| Some(e.station_id.clone())))
    .bind(text(|e| Some(e.transaction_id.clone())))
    .bind(int(|e| e.evse_id))
    .bind(int(|e| e.connector_id))
    .bind(text(|e| e.id_token.as_ref().map(|t| t.0.clone())))
    .bind(text(|e| e.id_token.as_ref().map(|t| t.1.clone())))
    .bind(text(|e| e.charging_state.clone()))
    .bind(int(|e| e.remote_start_id))
    .bind(int(|e| e.reservation_id))
    .bind(at(|e| Some(e.timestamp)))
    .bind(at(|e| (e.event_type == "Ended").then_some(e.timestamp)))
    .bind(text(|e| e.stopped_reason.clone()))
    .bind(wh(|e| e.energy_first.map(|x| x.1)))
    .bind(at(|e| e.energy_first.map(|x| x.0)))
    .bind(wh(|e| e.energy_last.map(|x| x.1)))
    .bind(at(|e| e.energy_last.map(|x| x.0)))
    .bind(int(|e| Some(e.seq_no)))
    .bind(text(|e| Some(e.event_type.clone())))
    .bind(text(|e| Some(e.trigger_reason.clone())))
    .bind(events.iter().map(|e| e.offline).collect::<Vec<_>>())
    .bind(events.iter().map(|e| &e.payload).collect::<Vec<_>>())
    .bind(moments.iter().map(|m| m.ev).collect::<Vec<_>>())
    .bind(moments.iter().map(|m| m.first().station_id.as_str()).collect::<Vec<_>>())
    .bind(moments.iter().map(|m| m.first().evse_id).collect::<Vec<_>>())
    .bind(
        moments
            .iter()
            .map(|m| m.first().transaction_id.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(moments.iter().map(|m| m.first().sampled_at).collect::<Vec<_>>())
    .bind(moments.iter().map(|m| m.values_json()).collect::<Vec<_>>())
    .fetch_all(conn)
    .await?;
    Ok(events
        .iter()
        .zip(rows)
        .map(|(e, (_, fresh, status, expires, group))| EventAck {
            fresh,
            // status is NOT NULL: none means no stored row
            token: e
                .id_token
                .as_ref()
                .map(|_| status.map(|s| (s, expires, group))),
        })
        .collect())
}

/// The samples of one write taken at one moment at one EVSE: one `meter_values` row.
struct Moment<'a> {
    /// The position (from 1) of the event the samples belong to, if any.
    ev: Option<i64>,
    /// Never empty.
    samples: Vec<&'a MeterSample>,
}

impl<'a> Moment<'a> {
    /// Consecutive samples of one write with the same station, EVSE, transaction and time
    /// (the sampled values of one meterValue) are one moment.
    fn group(samples: &'a [(Option<i64>, &'a MeterSample)]) -> Vec<Self> {
        let mut out: Vec<Moment> = Vec::new();
        for &(ev, s) in samples {
            match out.last_mut() {
                Some(m)
                    if m.ev == ev
                        && m.first().sampled_at == s.sampled_at
                        && m.first().evse_id == s.evse_id
                        && m.first().station_id == s.station_id
                        && m.first().transaction_id == s.transaction_id =>
                {
                    m.samples.push(s)
                }
                _ => out.push(Moment {
                    ev,
                    samples: vec![s],
                }),
            }
        }
        out
    }

    fn first(&self) -> &'a MeterSample {
        self.samples[0]
    }

    fn values_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Value<'a> {
            measurand: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            phase: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            location: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            context: Option<&'a str>,
            value: f64,
            #[serde(skip_serializing_if = "Option::is_none")]
            unit: Option<&'a str>,
        }
        let values: Vec<Value> = self
            .samples
            .iter()
            .map(|s| Value {
                measurand: &s.measurand,
                phase: s.phase.as_deref(),
                location: s.location.as_deref(),
                context: s.context.as_deref(),
                value: s.value,
                unit: s.unit.as_deref(),
            })
            .collect();
        serde_json::to_string(&values).expect("plain strings and finite numbers serialize")
    }
}

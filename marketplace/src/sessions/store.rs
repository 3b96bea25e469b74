//! SQL for charging sessions, their readings and pauses. Every function takes a connection so
//! the service runs several in one transaction. Decimals cross the wire as text (no sqlx
//! `rust_decimal`), as in the other modules.

pub mod bills;
pub mod context;
pub mod pages;
mod readings;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{ChargingSession, SessionStatus};
use crate::error::{Error, ResultExt};

pub use readings::{add_samples, close_pause, energy_readings, latest, open_pause, pauses, Sample};

pub const PORT_LIVE: &str = "charging_sessions_port_live_key";
pub const BOOKING_LIVE: &str = "charging_sessions_booking_live_key";

pub(super) fn decimal(text: &str) -> Result<Decimal, Error> {
    text.parse::<Decimal>()
        .map(|d| d.normalize())
        .map_err(|_| Error::Internal(format!("bad number `{text}` in charging_sessions")))
}

pub(super) fn opt_decimal(text: Option<String>) -> Result<Option<Decimal>, Error> {
    text.as_deref().map(decimal).transpose()
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    number: i32,
    driver_id: Uuid,
    listing_id: Uuid,
    port_id: Uuid,
    booking_id: Option<Uuid>,
    station_id: String,
    evse_id: i32,
    connector_id: Option<i32>,
    id_token: String,
    id_token_type: String,
    transaction_id: Option<String>,
    status: String,
    origin: String,
    emergency: bool,
    requested_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    end_reason: Option<String>,
    stop_requested_at: Option<DateTime<Utc>>,
    stop_reason: Option<String>,
    seq_nos: Vec<i32>,
    started_seq: Option<i32>,
    ended_seq: Option<i32>,
    energy_wh: String,
    power_w: Option<String>,
    soc_percent: Option<String>,
    last_reading_at: Option<DateTime<Utc>>,
    charging_state: Option<String>,
    cost_sent: Option<String>,
}

pub(super) const COLUMNS: &str = "s.id, s.number, s.driver_id, s.listing_id, s.port_id, \
    s.booking_id, s.station_id, s.evse_id, s.connector_id, s.id_token, s.id_token_type, \
    s.transaction_id, s.status, s.origin, s.emergency, s.requested_at, s.started_at, \
    s.ended_at, s.end_reason, s.stop_requested_at, s.stop_reason, s.seq_nos, s.started_seq, s.ended_seq, \
    s.energy_wh::text AS energy_wh, s.power_w::text AS power_w, \
    s.soc_percent::text AS soc_percent, s.last_reading_at, s.charging_state, \
    s.cost_sent::text AS cost_sent";

impl TryFrom<Row> for ChargingSession {
    type Error = Error;

    fn try_from(r: Row) -> Result<Self, Error> {
        Ok(Self {
            status: r.status.parse().map_err(Error::Internal)?,
            energy_wh: decimal(&r.energy_wh)?,
            power_w: opt_decimal(r.power_w)?,
            soc_percent: opt_decimal(r.soc_percent)?,
            cost_sent: opt_decimal(r.cost_sent)?,
            id: r.id,
            number: r.number,
            driver_id: r.driver_id,
            listing_id: r.listing_id,
            port_id: r.port_id,
            booking_id: r.booking_id,
            station_id: r.station_id,
            evse_id: r.evse_id,
            connector_id: r.connector_id,
            id_token: r.id_token,
            id_token_type: r.id_token_type,
            transaction_id: r.transaction_id,
            origin: r.origin,
            emergency: r.emergency,
            requested_at: r.requested_at,
            started_at: r.started_at,
            ended_at: r.ended_at,
            end_reason: r.end_reason,
            stop_requested_at: r.stop_requested_at,
            stop_reason: r.stop_reason,
            seq_nos: r.seq_nos,
            started_seq: r.started_seq,
            ended_seq: r.ended_seq,
            last_reading_at: r.last_reading_at,
            charging_state: r.charging_state,
        })
    }
}

type Query<'q> = sqlx::query::QueryAs<'q, sqlx::Postgres, Row, sqlx::postgres::PgArguments>;

fn select(condition: &str) -> String {
    format!("SELECT {COLUMNS} FROM charging_sessions s WHERE {condition}")
}

async fn fetch(conn: &mut PgConnection, q: Query<'_>) -> Result<Option<ChargingSession>, Error> {
    q.fetch_optional(conn)
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// A session to insert.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub number: Option<i32>,
    pub driver_id: Uuid,
    pub listing_id: Uuid,
    pub port_id: Uuid,
    pub booking_id: Option<Uuid>,
    pub station_id: String,
    pub evse_id: i32,
    pub connector_id: Option<i32>,
    pub id_token: String,
    pub id_token_type: String,
    pub status: SessionStatus,
    pub origin: &'static str,
    pub emergency: bool,
    pub requested_at: DateTime<Utc>,
}

/// The next session number, for tokens that must be known before the row is written.
pub async fn next_number(conn: &mut PgConnection) -> Result<i32, Error> {
    Ok(
        sqlx::query_scalar("SELECT nextval('charging_sessions_number_seq')::integer")
            .fetch_one(conn)
            .await?,
    )
}

/// Inserts a session; a second live session on the port or the booking is a 409.
pub async fn insert(conn: &mut PgConnection, s: &NewSession) -> Result<ChargingSession, Error> {
    let sql = format!(
        "WITH s AS (INSERT INTO charging_sessions (id, number, driver_id, listing_id, port_id, \
           booking_id, station_id, evse_id, connector_id, id_token, id_token_type, status, \
           origin, emergency, requested_at) \
         VALUES ($1, COALESCE($2, nextval('charging_sessions_number_seq')::integer), $3, $4, \
           $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *) \
         SELECT {COLUMNS} FROM s"
    );
    let row: Row = sqlx::query_as(&sql)
        .bind(s.id)
        .bind(s.number)
        .bind(s.driver_id)
        .bind(s.listing_id)
        .bind(s.port_id)
        .bind(s.booking_id)
        .bind(&s.station_id)
        .bind(s.evse_id)
        .bind(s.connector_id)
        .bind(&s.id_token)
        .bind(&s.id_token_type)
        .bind(s.status.as_str())
        .bind(s.origin)
        .bind(s.emergency)
        .bind(s.requested_at)
        .fetch_one(conn)
        .await
        .on_constraint(PORT_LIVE, |_| Error::Conflict {
            code: "port_busy",
            detail: "another charging session is running on this port".into(),
        })
        .on_constraint(BOOKING_LIVE, |_| Error::Conflict {
            code: "session_running",
            detail: "this booking already has a running charging session".into(),
        })?;
    row.try_into()
}

pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    for_update: bool,
) -> Result<Option<ChargingSession>, Error> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = select(&format!("s.id = $1{lock}"));
    fetch(conn, sqlx::query_as(&sql).bind(id)).await
}

/// The session of a station's transaction, locked.
pub async fn by_transaction(
    conn: &mut PgConnection,
    station_id: &str,
    transaction_id: &str,
) -> Result<Option<ChargingSession>, Error> {
    let sql = select("s.station_id = $1 AND s.transaction_id = $2 FOR UPDATE");
    fetch(
        conn,
        sqlx::query_as(&sql).bind(station_id).bind(transaction_id),
    )
    .await
}

/// An app-started session still waiting for its transaction, by the remoteStartId the
/// station echoes, else the newest one on the EVSE. Locked.
pub async fn waiting(
    conn: &mut PgConnection,
    station_id: &str,
    remote_start_id: Option<i32>,
    evse_id: Option<i32>,
) -> Result<Option<ChargingSession>, Error> {
    if let Some(number) = remote_start_id {
        let sql = select(
            "s.station_id = $1 AND s.number = $2 AND s.transaction_id IS NULL \
             AND s.status IN ('start', 'cancelled') FOR UPDATE",
        );
        let found = fetch(conn, sqlx::query_as(&sql).bind(station_id).bind(number)).await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(evse) = evse_id else {
        return Ok(None);
    };
    let sql = select(
        "s.station_id = $1 AND s.evse_id = $2 AND s.transaction_id IS NULL \
         AND s.status = 'start' ORDER BY s.requested_at DESC LIMIT 1 FOR UPDATE",
    );
    fetch(conn, sqlx::query_as(&sql).bind(station_id).bind(evse)).await
}

/// Writes back everything an event or a driver's action may change.
pub async fn save(conn: &mut PgConnection, s: &ChargingSession) -> Result<(), Error> {
    sqlx::query(
        "UPDATE charging_sessions SET transaction_id = $2, status = $3, connector_id = $4, \
           started_at = $5, ended_at = $6, end_reason = $7, stop_requested_at = $8, \
           seq_nos = $9, started_seq = $10, ended_seq = $11, energy_wh = $12::numeric, \
           power_w = $13::numeric, soc_percent = $14::numeric, last_reading_at = $15, \
           charging_state = $16, cost_sent = $17::numeric, updated_at = now() \
         WHERE id = $1",
    )
    .bind(s.id)
    .bind(&s.transaction_id)
    .bind(s.status.as_str())
    .bind(s.connector_id)
    .bind(s.started_at)
    .bind(s.ended_at)
    .bind(&s.end_reason)
    .bind(s.stop_requested_at)
    .bind(&s.seq_nos)
    .bind(s.started_seq)
    .bind(s.ended_seq)
    .bind(s.energy_wh.round_dp(3).to_string())
    .bind(s.power_w.map(|d| d.round_dp(3).to_string()))
    .bind(s.soc_percent.map(|d| d.round_dp(2).to_string()))
    .bind(s.last_reading_at)
    .bind(&s.charging_state)
    .bind(s.cost_sent.map(|d| d.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Charging sessions (active or paused, their transaction known, not stopped by the
/// platform yet) after `after` in (start, id) order: a page of [`super::funds::check`].
pub async fn charging_page(
    conn: &mut PgConnection,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ChargingSession>, Error> {
    let (at, id) = after.unzip();
    let sql = select(
        "s.status IN ('active', 'paused') AND s.transaction_id IS NOT NULL \
           AND s.stop_reason IS NULL \
           AND ($1::timestamptz IS NULL \
             OR (coalesce(s.started_at, s.requested_at), s.id) > ($1, $2)) \
         ORDER BY coalesce(s.started_at, s.requested_at), s.id LIMIT $3",
    );
    sqlx::query_as::<_, Row>(&sql)
        .bind(at)
        .bind(id)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// The platform stops the session because its money ran out: once (answers whether this
/// call marked it).
pub async fn mark_funds_exhausted(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE charging_sessions SET stop_reason = 'funds_exhausted', \
           stop_requested_at = coalesce(stop_requested_at, $2), updated_at = now() \
         WHERE id = $1 AND stop_reason IS NULL",
    )
    .bind(id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Live sessions of a station's EVSE (MeterValues carry no transaction id). Locked.
pub async fn live_on_evse(
    conn: &mut PgConnection,
    station_id: &str,
    evse_id: i32,
) -> Result<Option<ChargingSession>, Error> {
    let sql = select(
        "s.station_id = $1 AND s.evse_id = $2 AND s.status IN ('active', 'paused') \
         ORDER BY s.started_at DESC LIMIT 1 FOR UPDATE",
    );
    fetch(conn, sqlx::query_as(&sql).bind(station_id).bind(evse_id)).await
}

/// Sessions in `start` since before `cutoff` (timed out), locked, skipping busy ones.
pub async fn timed_out_starts(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ChargingSession>, Error> {
    many(
        conn,
        "s.status = 'start' AND s.requested_at <= $1 ORDER BY s.requested_at LIMIT $2 \
         FOR UPDATE SKIP LOCKED",
        cutoff,
        limit,
    )
    .await
}

/// Completed sessions without a bill whose transaction ended before `cutoff`.
pub async fn unbilled(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ChargingSession>, Error> {
    many(
        conn,
        "s.status = 'completed' AND s.ended_at <= $1 \
         AND NOT EXISTS (SELECT 1 FROM session_bills b WHERE b.session_id = s.id) \
         ORDER BY s.ended_at LIMIT $2",
        cutoff,
        limit,
    )
    .await
}

/// Active and paused sessions with a transaction, for running costs.
pub async fn running(
    conn: &mut PgConnection,
    started_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ChargingSession>, Error> {
    many(
        conn,
        "s.status IN ('active', 'paused') AND s.started_at <= $1 ORDER BY s.started_at LIMIT $2",
        started_before,
        limit,
    )
    .await
}

async fn many(
    conn: &mut PgConnection,
    condition: &str,
    at: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ChargingSession>, Error> {
    let sql = select(condition);
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(at)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Records the running cost the station was last sent.
pub async fn set_cost_sent(
    conn: &mut PgConnection,
    session_id: Uuid,
    total: Decimal,
) -> Result<(), Error> {
    sqlx::query("UPDATE charging_sessions SET cost_sent = $2::numeric WHERE id = $1")
        .bind(session_id)
        .bind(total.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

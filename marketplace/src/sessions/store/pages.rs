//! Read-side SQL: a driver's history and totals, and a host's analytics. Money comes from the
//! bill in force of each session (`session_bills_current`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::decimal;
use crate::error::Error;
use crate::sessions::model::SessionStatus;

/// Minor units as an amount of the currency (`12.40`, scale kept).
pub fn money(cents: i64, digits: i16) -> Decimal {
    Decimal::new(cents, u32::try_from(digits).unwrap_or(2))
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListFilter {
    pub driver_id: Uuid,
    pub statuses: Vec<SessionStatus>,
    /// Sessions that started (or were asked for) in `[from, to)`.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Billed total in the currency's units, inclusive.
    pub min_cost: Option<Decimal>,
    pub max_cost: Option<Decimal>,
    pub limit: i64,
    pub offset: i64,
}

/// One row of the history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SessionSummary {
    pub id: Uuid,
    pub number: i32,
    pub status: SessionStatus,
    pub charger_id: Uuid,
    pub port_id: Uuid,
    #[schema(required)]
    pub booking_id: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    #[schema(required)]
    pub started_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub ended_at: Option<DateTime<Utc>>,
    #[schema(example = "12.5")]
    pub energy_kwh: Decimal,
    /// The bill in force (`null` until billed).
    #[schema(required, example = "EUR")]
    pub currency: Option<String>,
    /// The bill in force's total (`null` until billed).
    #[schema(required, example = "5.04")]
    pub total: Option<Decimal>,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    number: i32,
    status: String,
    listing_id: Uuid,
    port_id: Uuid,
    booking_id: Option<Uuid>,
    requested_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    energy_wh: String,
    currency: Option<String>,
    total_cents: Option<i64>,
    minor_digits: Option<i16>,
    full_count: i64,
}

const WHERE: &str = "s.driver_id = $1 \
    AND (cardinality($2::text[]) = 0 OR s.status = ANY($2)) \
    AND ($3::timestamptz IS NULL OR COALESCE(s.started_at, s.requested_at) >= $3) \
    AND ($4::timestamptz IS NULL OR COALESCE(s.started_at, s.requested_at) < $4) \
    AND ($5::numeric IS NULL OR b.total_cents >= $5::numeric * power(10::numeric, b.minor_digits)) \
    AND ($6::numeric IS NULL OR b.total_cents <= $6::numeric * power(10::numeric, b.minor_digits))";

/// One page, newest first, and the number of matches.
pub async fn list(
    conn: &mut PgConnection,
    f: &ListFilter,
) -> Result<(Vec<SessionSummary>, i64), Error> {
    let sql = format!(
        "SELECT s.id, s.number, s.status, s.listing_id, s.port_id, s.booking_id, \
           s.requested_at, s.started_at, s.ended_at, s.energy_wh::text AS energy_wh, \
           b.currency::text AS currency, b.total_cents, b.minor_digits, \
           count(*) OVER () AS full_count \
         FROM charging_sessions s LEFT JOIN session_bills_current b ON b.session_id = s.id \
         WHERE {WHERE} \
         ORDER BY COALESCE(s.started_at, s.requested_at) DESC, s.id DESC LIMIT $7 OFFSET $8"
    );
    let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
        .bind(f.driver_id)
        .bind(&statuses)
        .bind(f.from)
        .bind(f.to)
        .bind(f.min_cost.map(|d| d.to_string()))
        .bind(f.max_cost.map(|d| d.to_string()))
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(conn)
        .await?;
    let total = rows.first().map_or(0, |r| r.full_count);
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(SessionSummary {
                status: r.status.parse().map_err(Error::Internal)?,
                energy_kwh: (decimal(&r.energy_wh)? / Decimal::from(1000)).normalize(),
                total: r.total_cents.zip(r.minor_digits).map(|(c, d)| money(c, d)),
                id: r.id,
                number: r.number,
                charger_id: r.listing_id,
                port_id: r.port_id,
                booking_id: r.booking_id,
                requested_at: r.requested_at,
                started_at: r.started_at,
                ended_at: r.ended_at,
                currency: r.currency,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok((items, total))
}

/// A driver's session counts by status.
pub async fn counts(
    conn: &mut PgConnection,
    driver_id: Uuid,
) -> Result<Vec<(SessionStatus, i64)>, Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM charging_sessions WHERE driver_id = $1 GROUP BY status",
    )
    .bind(driver_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(s, n)| Ok((s.parse().map_err(Error::Internal)?, n)))
        .collect()
}

/// Billed totals of a driver, per currency.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = SessionCurrencyTotals)]
pub struct CurrencyTotals {
    #[schema(example = "EUR")]
    pub currency: String,
    pub sessions: i64,
    pub amount: Decimal,
    pub energy_kwh: Decimal,
    pub charging_seconds: i64,
    pub idle_seconds: i64,
    pub paused_seconds: i64,
}

pub async fn billed_totals(
    conn: &mut PgConnection,
    driver_id: Uuid,
) -> Result<Vec<CurrencyTotals>, Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        currency: String,
        sessions: i64,
        cents: i64,
        digits: i16,
        wh: String,
        charging: i64,
        idle: i64,
        paused: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT b.currency::text AS currency, count(*) AS sessions, \
           sum(b.total_cents)::bigint AS cents, max(b.minor_digits) AS digits, \
           sum(b.energy_wh)::text AS wh, sum(b.charging_seconds)::bigint AS charging, \
           sum(b.idle_seconds)::bigint AS idle, sum(b.paused_seconds)::bigint AS paused \
         FROM session_bills_current b JOIN charging_sessions s ON s.id = b.session_id \
         WHERE s.driver_id = $1 GROUP BY b.currency ORDER BY b.currency",
    )
    .bind(driver_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(CurrencyTotals {
                amount: money(r.cents, r.digits),
                energy_kwh: (decimal(&r.wh)? / Decimal::from(1000)).normalize(),
                currency: r.currency,
                sessions: r.sessions,
                charging_seconds: r.charging,
                idle_seconds: r.idle,
                paused_seconds: r.paused,
            })
        })
        .collect()
}

/// Which sessions a host's analytics cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyticsScope {
    /// `None`: every host's (admins).
    pub host_id: Option<Uuid>,
    pub charger_id: Option<Uuid>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

const SCOPE: &str = "($1::uuid IS NULL OR l.host_id = $1) AND ($2::uuid IS NULL OR l.id = $2)";

/// (local hour of the start, currency, minor digits, sessions, kWh, charged cents, host
/// share cents) of billed sessions.
pub type HourRow = (i32, String, i16, i64, String, i64, i64);

pub async fn revenue_by_hour(
    conn: &mut PgConnection,
    s: &AnalyticsScope,
) -> Result<Vec<HourRow>, Error> {
    let sql = format!(
        "SELECT extract(hour FROM s.started_at AT TIME ZONE l.time_zone)::int AS hour, \
           b.currency::text, max(b.minor_digits), count(*), (sum(b.energy_wh) / 1000)::text, \
           sum(b.total_cents)::bigint, sum(b.host_share_cents)::bigint \
         FROM charging_sessions s JOIN listings l ON l.id = s.listing_id \
         JOIN session_bills_current b ON b.session_id = s.id \
         WHERE {SCOPE} AND s.started_at >= $3 AND s.started_at < $4 \
         GROUP BY 1, 2 ORDER BY 1, 2"
    );
    Ok(sqlx::query_as(&sql)
        .bind(s.host_id)
        .bind(s.charger_id)
        .bind(s.from)
        .bind(s.to)
        .fetch_all(conn)
        .await?)
}

/// Per port: (listing, port, label, price per kWh of the listing, sessions, busy seconds
/// inside the window).
pub type PortRow = (Uuid, Uuid, String, Option<String>, i64, f64);

pub async fn port_use(conn: &mut PgConnection, s: &AnalyticsScope) -> Result<Vec<PortRow>, Error> {
    let sql = format!(
        "SELECT l.id, p.id, p.label, l.price_per_kwh::text, count(x.id), \
           COALESCE(sum(extract(epoch FROM \
             LEAST(COALESCE(x.ended_at, $5), $4) - GREATEST(x.started_at, $3))) \
             FILTER (WHERE x.id IS NOT NULL), 0)::float8 \
         FROM listing_ports p JOIN listings l ON l.id = p.listing_id \
         LEFT JOIN charging_sessions x ON x.port_id = p.id AND x.started_at IS NOT NULL \
           AND x.started_at < $4 AND COALESCE(x.ended_at, $5) > $3 \
         WHERE {SCOPE} GROUP BY l.id, p.id ORDER BY l.id, p.created_at"
    );
    Ok(sqlx::query_as(&sql)
        .bind(s.host_id)
        .bind(s.charger_id)
        .bind(s.from)
        .bind(s.to)
        .bind(s.now)
        .fetch_all(conn)
        .await?)
}

/// The most frequent (ISO weekday, local hour) of session starts: (weekday, hour, sessions).
pub async fn popular_slots(
    conn: &mut PgConnection,
    s: &AnalyticsScope,
    limit: i64,
) -> Result<Vec<(i32, i32, i64)>, Error> {
    let sql = format!(
        "SELECT extract(isodow FROM t)::int, extract(hour FROM t)::int, count(*) FROM ( \
           SELECT s.started_at AT TIME ZONE l.time_zone AS t \
           FROM charging_sessions s JOIN listings l ON l.id = s.listing_id \
           WHERE {SCOPE} AND s.started_at >= $3 AND s.started_at < $4) x \
         GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT $5"
    );
    Ok(sqlx::query_as(&sql)
        .bind(s.host_id)
        .bind(s.charger_id)
        .bind(s.from)
        .bind(s.to)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

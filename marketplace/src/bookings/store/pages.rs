//! Reading many bookings: pages of them, and the times they hold each port.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::rows::{BookingRow, BOOKING_COLUMNS};
use super::{ACTIVE, FROM_BOOKINGS};
use crate::bookings::model::{Booking, BookingStatus};
use crate::error::Error;

/// Whose bookings a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Driver(Uuid),
    /// Bookings on the listings of this host.
    Host(Uuid),
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    pub scope: Scope,
    pub statuses: Vec<BookingStatus>,
    /// Only bookings that end after `from` / start before `to` (overlap the range).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub charger_id: Option<Uuid>,
    pub limit: i64,
    pub offset: i64,
}

/// One page, latest start first, and the total number of matches.
pub async fn list(conn: &mut PgConnection, f: &ListFilter) -> Result<(Vec<Booking>, i64), Error> {
    let (driver, host) = match f.scope {
        Scope::Driver(id) => (Some(id), None),
        Scope::Host(id) => (None, Some(id)),
        Scope::All => (None, None),
    };
    let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
    let condition =
        "($1::uuid IS NULL OR b.driver_id = $1) AND ($2::uuid IS NULL OR l.host_id = $2) \
         AND (cardinality($3::text[]) = 0 OR b.status = ANY($3)) \
         AND ($4::timestamptz IS NULL OR b.ends_at > $4) \
         AND ($5::timestamptz IS NULL OR b.starts_at < $5) \
         AND ($6::uuid IS NULL OR b.listing_id = $6)";
    let sql = format!(
        "SELECT {BOOKING_COLUMNS} FROM {FROM_BOOKINGS} WHERE {condition} \
         ORDER BY b.starts_at DESC, b.id DESC LIMIT $7 OFFSET $8"
    );
    let rows = sqlx::query_as::<_, BookingRow>(&sql)
        .bind(driver)
        .bind(host)
        .bind(&statuses)
        .bind(f.from)
        .bind(f.to)
        .bind(f.charger_id)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(&mut *conn)
        .await?;
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM bookings b JOIN listings l ON l.id = b.listing_id WHERE {condition}"
    ))
    .bind(driver)
    .bind(host)
    .bind(&statuses)
    .bind(f.from)
    .bind(f.to)
    .bind(f.charger_id)
    .fetch_one(conn)
    .await?;
    let items = rows
        .into_iter()
        .map(Booking::try_from)
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

/// The times each port of a listing is held within `[from, to)`: live bookings, except
/// pending ones already past their expiry (free for anyone, whether or not the sweep ran).
pub async fn held_intervals(
    conn: &mut PgConnection,
    listing_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)>, Error> {
    let rows = sqlx::query_as(&format!(
        "SELECT port_id, starts_at, ends_at FROM bookings \
         WHERE listing_id = $1 AND status IN {ACTIVE} AND period && tstzrange($2, $3, '[)') \
           AND NOT (status = 'pending' AND expires_at <= $4) \
         ORDER BY port_id, starts_at"
    ))
    .bind(listing_id)
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

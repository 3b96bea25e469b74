//! Holds: a row per hold (who, for which booking, how much, open or closed); the money itself
//! is in the driver's hold account, and what is left of a hold is the sum of its postings'
//! entries there.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Hold {
    pub id: Uuid,
    pub driver_id: Uuid,
    pub booking_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub currency: String,
    pub amount_minor: Minor,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// What is left of it (entries on the hold account of postings naming it).
    pub remaining_minor: Minor,
}

impl Hold {
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
}

const HOLD_COLUMNS: &str =
    "h.id, h.driver_id, h.booking_id, h.session_id, h.currency, h.amount_minor, \
    h.status, h.created_at, h.closed_at, \
    (SELECT coalesce(sum(e.amount_minor), 0)::bigint FROM ledger_postings p \
       JOIN ledger_entries e ON e.posting_id = p.id \
       JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'driver_hold' \
      WHERE p.hold_id = h.id) AS remaining_minor";

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    driver: Uuid,
    booking: Option<Uuid>,
    session: Option<Uuid>,
    currency: &str,
    amount: Minor,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO ledger_holds (id, driver_id, booking_id, session_id, currency, \
           amount_minor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(driver)
    .bind(booking)
    .bind(session)
    .bind(currency)
    .bind(amount)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The hold; with `lock`, its row stays locked until the transaction ends (every change to
/// a hold locks it first, before the driver's balances).
pub async fn by_id(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Option<Hold>, Error> {
    one(conn, "h.id = $1", id, lock).await
}

/// The booking's open hold, if any.
pub async fn open_for_booking(
    conn: &mut PgConnection,
    booking: Uuid,
    lock: bool,
) -> Result<Option<Hold>, Error> {
    one(
        conn,
        "h.booking_id = $1 AND h.status = 'open'",
        booking,
        lock,
    )
    .await
}

/// The session's own open hold, if any.
pub async fn open_for_session(
    conn: &mut PgConnection,
    session: Uuid,
    lock: bool,
) -> Result<Option<Hold>, Error> {
    one(
        conn,
        "h.session_id = $1 AND h.status = 'open'",
        session,
        lock,
    )
    .await
}

/// The hold matching `condition` on `$1`; with `lock`, its row stays locked.
async fn one(
    conn: &mut PgConnection,
    condition: &str,
    id: Uuid,
    lock: bool,
) -> Result<Option<Hold>, Error> {
    let lock = if lock { " FOR UPDATE OF h" } else { "" };
    let sql = format!("SELECT {HOLD_COLUMNS} FROM ledger_holds h WHERE {condition}{lock}");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// A hold grows by `amount` (its posting moves the money).
pub async fn grow(conn: &mut PgConnection, id: Uuid, amount: Minor) -> Result<(), Error> {
    sqlx::query("UPDATE ledger_holds SET amount_minor = amount_minor + $2 WHERE id = $1")
        .bind(id)
        .bind(amount)
        .execute(conn)
        .await?;
    Ok(())
}

/// Open holds of sessions that will never be billed against them: cancelled sessions (no
/// transaction ever ran), and sessions ended `abandon` ago that still have no bill (a
/// charger that could not be priced).
pub async fn of_unbillable_sessions(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    abandon: chrono::Duration,
    limit: i64,
) -> Result<Vec<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT h.session_id FROM ledger_holds h JOIN charging_sessions s ON s.id = h.session_id \
         WHERE h.status = 'open' AND (s.status = 'cancelled' OR (s.status = 'completed' \
           AND s.ended_at <= $1 AND NOT EXISTS ( \
             SELECT 1 FROM session_bills b WHERE b.session_id = s.id))) \
         ORDER BY h.created_at LIMIT $2",
    )
    .bind(now - abandon)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// A driver's open holds, newest first.
pub async fn open_of_driver(conn: &mut PgConnection, driver: Uuid) -> Result<Vec<Hold>, Error> {
    let sql = format!(
        "SELECT {HOLD_COLUMNS} FROM ledger_holds h \
         WHERE h.driver_id = $1 AND h.status = 'open' ORDER BY h.created_at DESC, h.id DESC"
    );
    Ok(sqlx::query_as(&sql).bind(driver).fetch_all(conn).await?)
}

pub async fn close(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> Result<(), Error> {
    sqlx::query("UPDATE ledger_holds SET status = 'closed', closed_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Open holds whose booking ended without a bill to capture them: no-shows, and bookings
/// completed `grace` ago with no charging session (other than cancelled starts). With
/// `only`, just that hold if it qualifies (to check again under its lock).
pub async fn ended_without_bill(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    grace: chrono::Duration,
    limit: i64,
    only: Option<Uuid>,
) -> Result<Vec<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT h.id FROM ledger_holds h JOIN bookings b ON b.id = h.booking_id \
         WHERE h.status = 'open' AND (b.status = 'no_show' \
            OR (b.status = 'completed' AND b.completed_at <= $1 AND NOT EXISTS ( \
                SELECT 1 FROM charging_sessions s \
                 WHERE s.booking_id = b.id AND s.status <> 'cancelled'))) \
           AND ($3::uuid IS NULL OR h.id = $3) \
         ORDER BY h.created_at LIMIT $2",
    )
    .bind(now - grace)
    .bind(limit)
    .bind(only)
    .fetch_all(conn)
    .await?)
}

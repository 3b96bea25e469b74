//! SQL for settling card authorizations: which ones may have become due, the facts that
//! decide them (read from the bookings', sessions' and ledger's tables, never written), and
//! the decisions (`card_authorization_actions`, migration `0013_card_authorizations.sql`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;
use crate::payments::authorizations::Decision;

/// Card payments of `provider` that may need the job at `now`: a decision not carried out
/// yet (and not failed too recently: the wait doubles with each attempt, up to an hour), or
/// an authorization of a session or of a booking that left the live states once every
/// session it pays is billed (so one waiting for its bill is not re-examined every run), or
/// one older than `stale_before`. Keyset-paged by (created_at, id) after `after`. Runs every
/// tick: each payment's sessions are found by index (by id, and by booking), never by a scan
/// of all sessions or bills.
pub async fn candidates(
    conn: &mut PgConnection,
    provider: &str,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<(DateTime<Utc>, Uuid)>, Error> {
    Ok(sqlx::query_as(
        "SELECT p.created_at, p.id FROM payments p \
         LEFT JOIN card_authorization_actions a ON a.payment_id = p.id \
         LEFT JOIN bookings b ON b.id = p.booking_id \
         WHERE p.method = 'card' AND p.provider = $1 \
           AND ((a.payment_id IS NOT NULL AND a.done_at IS NULL \
               AND (a.attempted_at IS NULL OR a.attempted_at + least(interval '1 hour', \
                 interval '1 second' * power(2, least(a.attempts, 12))) <= $6)) \
             OR (a.payment_id IS NULL AND p.status = 'requires_capture' \
               AND (p.created_at <= $2 \
                 OR ((p.purpose = 'session' \
                     OR b.status NOT IN ('pending', 'confirmed', 'checked_in')) \
                   AND NOT EXISTS (SELECT 1 FROM ( \
                       SELECT s.id, s.status FROM charging_sessions s WHERE s.id = p.session_id \
                       UNION ALL \
                       SELECT s.id, s.status FROM charging_sessions s \
                        WHERE s.booking_id = p.booking_id) s \
                     WHERE s.status <> 'cancelled' AND (s.status <> 'completed' \
                       OR (SELECT b.posted_at IS NULL FROM session_bills b \
                           WHERE b.session_id = s.id ORDER BY b.revision DESC LIMIT 1) \
                         IS NOT FALSE)))))) \
           AND ($3::timestamptz IS NULL OR (p.created_at, p.id) > ($3, $4)) \
         ORDER BY p.created_at, p.id LIMIT $5",
    )
    .bind(provider)
    .bind(stale_before)
    .bind(after.map(|a| a.0))
    .bind(after.map_or(Uuid::nil(), |a| a.1))
    .bind(limit)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// A booking as settling its authorization needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookingFacts {
    pub status: String,
    pub amount_cents: Minor,
    pub currency: String,
    pub host_id: Uuid,
    pub confirmed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    /// The refund decision of a cancellation, and whether the ledger has settled it.
    pub refund_cents: Option<Minor>,
    pub refund_percent: Option<i16>,
    pub refund_posted: bool,
    /// A wallet hold still open: the ledger has not settled the booking's money yet.
    pub open_hold: bool,
    /// The booking's fees the ledger already took (host share and commission credited by a
    /// kept cancellation share, a hold captured for a no-show, an earlier card's fee).
    pub kept_by_ledger: Minor,
}

pub async fn booking_facts(
    conn: &mut PgConnection,
    booking: Uuid,
) -> Result<Option<BookingFacts>, Error> {
    Ok(sqlx::query_as(
        "SELECT b.status, b.amount_cents, b.currency::text AS currency, l.host_id, \
           (b.confirmed_at IS NOT NULL) AS confirmed, b.completed_at, \
           r.amount_cents AS refund_cents, r.percent AS refund_percent, \
           (r.posted_at IS NOT NULL) AS refund_posted, \
           EXISTS (SELECT 1 FROM ledger_holds h WHERE h.booking_id = b.id AND h.status = 'open') \
             AS open_hold, \
           (SELECT coalesce(sum(e.amount_minor), 0)::bigint FROM ledger_postings p \
              JOIN ledger_entries e ON e.posting_id = p.id \
              JOIN ledger_accounts a ON a.id = e.account_id \
             WHERE p.booking_id = b.id AND p.session_bill_id IS NULL \
               AND p.kind IN ('refund', 'capture') \
               AND a.kind IN ('host_payable', 'platform_commission')) AS kept_by_ledger \
         FROM bookings b JOIN listings l ON l.id = b.listing_id \
         LEFT JOIN booking_refunds r ON r.booking_id = b.id WHERE b.id = $1",
    )
    .bind(booking)
    .fetch_optional(conn)
    .await?)
}

/// A charging session that counts (not cancelled) and its bill in force.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionFacts {
    pub id: Uuid,
    pub status: String,
    pub bill_id: Option<Uuid>,
    pub posted: bool,
}

impl SessionFacts {
    /// Ended, and its bill in force is in the ledger.
    pub fn billed(&self) -> bool {
        self.status == "completed" && self.posted
    }
}

/// The sessions an authorization pays: the session itself, or those charged on the booking.
pub async fn sessions(
    conn: &mut PgConnection,
    booking: Option<Uuid>,
    session: Option<Uuid>,
) -> Result<Vec<SessionFacts>, Error> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.status, c.id AS bill_id, (c.posted_at IS NOT NULL) AS posted \
         FROM charging_sessions s LEFT JOIN session_bills_current c ON c.session_id = s.id \
         WHERE (s.booking_id = $1 OR s.id = $2) AND s.status <> 'cancelled' ORDER BY s.id",
    )
    .bind(booking)
    .bind(session)
    .fetch_all(conn)
    .await?)
}

/// What the sessions' bill postings left the driver owing (their receivable entries).
pub async fn on_account(conn: &mut PgConnection, sessions: &[Uuid]) -> Result<Minor, Error> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(-sum(e.amount_minor), 0)::bigint FROM ledger_postings p \
         JOIN ledger_entries e ON e.posting_id = p.id \
         JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'driver_receivable' \
         WHERE p.session_id = ANY($1) AND p.session_bill_id IS NOT NULL",
    )
    .bind(sessions)
    .fetch_one(conn)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActionRow {
    pub payment_id: Uuid,
    pub action: String,
    pub amount_minor: Minor,
    pub reason: String,
    pub detail: String,
    pub decided_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub attempts: i32,
    pub attempted_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub async fn action(conn: &mut PgConnection, payment: Uuid) -> Result<Option<ActionRow>, Error> {
    Ok(sqlx::query_as(
        "SELECT payment_id, action, amount_minor, reason, detail, decided_at, done_at, outcome, \
         attempts, attempted_at, last_error FROM card_authorization_actions WHERE payment_id = $1",
    )
    .bind(payment)
    .fetch_optional(conn)
    .await?)
}

/// Records a decision; the first one stands (a concurrent worker decided the same).
pub async fn insert_action(
    conn: &mut PgConnection,
    payment: Uuid,
    d: &Decision,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO card_authorization_actions (payment_id, action, amount_minor, reason, \
         detail, decided_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(payment)
    .bind(d.action.as_str())
    .bind(d.amount)
    .bind(d.reason.as_str())
    .bind(detail)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn action_failed(
    conn: &mut PgConnection,
    payment: Uuid,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE card_authorization_actions SET attempts = attempts + 1, attempted_at = $3, \
         last_error = $2 WHERE payment_id = $1 AND done_at IS NULL",
    )
    .bind(payment)
    .bind(error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn action_done(
    conn: &mut PgConnection,
    payment: Uuid,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE card_authorization_actions SET done_at = $3, outcome = $2, \
         attempts = attempts + 1, attempted_at = $3 WHERE payment_id = $1 AND done_at IS NULL",
    )
    .bind(payment)
    .bind(outcome)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

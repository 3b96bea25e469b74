//! The money events other modules record for the ledger to post: bookings' refund decisions
//! (`booking_refunds`) and charging sessions' bills (`session_bills`). Each has a `posted_at`
//! the ledger sets once, in the transaction that posts it.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::{Charge, Minor};

/// A refund decision with what the ledger needs of its booking.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookingRefund {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub amount_cents: Minor,
    pub currency: String,
    pub percent: i16,
    pub posted_at: Option<DateTime<Utc>>,
    pub driver_id: Uuid,
    pub host_id: Uuid,
    /// What the booking cost when it was cancelled: what the driver owed before the refund.
    pub due_cents: Minor,
}

const REFUND_SELECT: &str = "SELECT r.id, r.booking_id, r.amount_cents, r.currency, \
    r.percent, r.posted_at, b.driver_id, l.host_id, \
    CASE WHEN b.confirmed_at IS NULL THEN 0 ELSE b.amount_cents END AS due_cents \
    FROM booking_refunds r JOIN bookings b ON b.id = r.booking_id \
    JOIN listings l ON l.id = b.listing_id";

/// The booking's refund decision, locked.
pub async fn refund_of_booking(
    conn: &mut PgConnection,
    booking: Uuid,
) -> Result<Option<BookingRefund>, Error> {
    let sql = format!("{REFUND_SELECT} WHERE r.booking_id = $1 FOR UPDATE OF r");
    Ok(sqlx::query_as(&sql)
        .bind(booking)
        .fetch_optional(conn)
        .await?)
}

pub async fn mark_refund_posted(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query("UPDATE booking_refunds SET posted_at = $2 WHERE id = $1 AND posted_at IS NULL")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// A session bill's amounts and parties.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionBill {
    pub id: Uuid,
    pub session_id: Uuid,
    pub revision: i32,
    pub supersedes: Option<Uuid>,
    pub currency: String,
    pub total_cents: Minor,
    pub platform_commission_cents: Minor,
    pub host_share_cents: Minor,
    pub insurance_cents: Minor,
    pub tax_cents: Minor,
    pub posted_at: Option<DateTime<Utc>>,
    pub driver_id: Uuid,
    pub host_id: Uuid,
    pub booking_id: Option<Uuid>,
}

impl SessionBill {
    /// The bill's split as the ledger posts it (the bill guarantees the parts sum to the
    /// total: `session_bills_split_check`).
    pub fn charge(&self) -> Charge {
        Charge {
            host: self.host_id,
            host_share: self.host_share_cents,
            commission: self.platform_commission_cents,
            insurance: self.insurance_cents,
            tax: self.tax_cents,
        }
    }
}

const BILL_SELECT: &str = "SELECT b.id, b.session_id, b.revision, b.supersedes, b.currency, \
    b.total_cents, b.platform_commission_cents, b.host_share_cents, b.insurance_cents, \
    b.tax_cents, b.posted_at, s.driver_id, l.host_id, s.booking_id \
    FROM session_bills b JOIN charging_sessions s ON s.id = b.session_id \
    JOIN listings l ON l.id = s.listing_id";

/// The bill, locked.
pub async fn bill(conn: &mut PgConnection, id: Uuid) -> Result<Option<SessionBill>, Error> {
    let sql = format!("{BILL_SELECT} WHERE b.id = $1 FOR UPDATE OF b");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// Unposted bills' ids, oldest first (revisions in order).
pub async fn unposted_bills(conn: &mut PgConnection, limit: i64) -> Result<Vec<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM session_bills WHERE posted_at IS NULL \
         ORDER BY computed_at, session_id, revision LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

pub async fn mark_bill_posted(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query("UPDATE session_bills SET posted_at = $2 WHERE id = $1 AND posted_at IS NULL")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The host of the listing a booking is on.
pub async fn booking_host(conn: &mut PgConnection, booking: Uuid) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT l.host_id FROM bookings b JOIN listings l ON l.id = b.listing_id WHERE b.id = $1",
    )
    .bind(booking)
    .fetch_optional(conn)
    .await?)
}

/// The host of the listing a charging session is on.
pub async fn session_host(conn: &mut PgConnection, session: Uuid) -> Result<Uuid, Error> {
    Ok(sqlx::query_scalar(
        "SELECT l.host_id FROM charging_sessions s JOIN listings l ON l.id = s.listing_id \
         WHERE s.id = $1",
    )
    .bind(session)
    .fetch_one(conn)
    .await?)
}

/// Bookings whose refund decision is not posted yet, oldest first.
pub async fn unposted_refund_bookings(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT booking_id FROM booking_refunds WHERE posted_at IS NULL \
         ORDER BY decided_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Whether a card authorization of the booking (a manual-capture payment the provider
/// authorized and nobody captured or released yet) covers `amount` in `currency`: money
/// secured at the provider instead of on the wallet.
/// What card authorizations of the booking still let the platform capture.
pub async fn card_authorized(
    conn: &mut PgConnection,
    booking: Uuid,
    currency: &str,
) -> Result<Minor, Error> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(amount_capturable), 0)::bigint FROM payments \
         WHERE booking_id = $1 AND method = 'card' AND capture_method = 'manual' \
           AND status = 'requires_capture' AND currency = $2",
    )
    .bind(booking)
    .bind(currency)
    .fetch_one(conn)
    .await?)
}

pub async fn card_authorization_covers(
    conn: &mut PgConnection,
    booking: Uuid,
    currency: &str,
    amount: Minor,
) -> Result<bool, Error> {
    let found: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM payments WHERE booking_id = $1 AND method = 'card' \
         AND capture_method = 'manual' AND status = 'requires_capture' AND currency = $2 \
         AND amount_capturable >= $3)",
    )
    .bind(booking)
    .bind(currency)
    .bind(amount)
    .fetch_one(conn)
    .await?;
    Ok(found)
}

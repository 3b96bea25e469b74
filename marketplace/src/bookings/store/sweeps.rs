//! The time-driven moves, as set-based statements: pending bookings expire, confirmed
//! drivers who never arrived become no-shows, checked-in bookings that ran out complete.
//!
//! Each takes a batch with `FOR UPDATE SKIP LOCKED`, so several nodes may sweep at once and a
//! request holding a booking (say, confirming it this very moment) is skipped, not waited
//! for; each logs its event in the same statement.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;

/// `model::reservation_after_change(state, still_held = false, _)` in SQL: what the station
/// reservation of a booking that just ended becomes.
pub(super) const RESERVATION_AFTER_END: &str = "CASE \
       WHEN reservation_state IN ('sent', 'accepted') THEN 'cancel_due' \
       WHEN reservation_state = 'due' THEN 'none' \
       ELSE reservation_state END";

/// Expires pending bookings whose hold ran out at `now`: all of them, or with `on_port` only
/// those of one port overlapping a range (so a new booking can take their slot at once).
pub async fn expire_pending(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    on_port: Option<(Uuid, DateTime<Utc>, DateTime<Utc>)>,
    limit: i64,
) -> Result<u64, Error> {
    let (port, from, to) = match on_port {
        Some((p, f, t)) => (Some(p), Some(f), Some(t)),
        None => (None, None, None),
    };
    let done = sqlx::query(&format!(
        "WITH due AS ( \
           SELECT id FROM bookings WHERE status = 'pending' AND expires_at <= $1 \
             AND ($2::uuid IS NULL OR (port_id = $2 AND period && tstzrange($3, $4, '[)'))) \
           ORDER BY expires_at LIMIT $5 FOR UPDATE SKIP LOCKED), \
         x AS ( \
           UPDATE bookings b SET status = 'expired', updated_at = $1, \
             reservation_state = {RESERVATION_AFTER_END} \
           FROM due WHERE b.id = due.id RETURNING b.id, b.expires_at) \
         INSERT INTO booking_events (booking_id, at, kind, actor, data) \
         SELECT id, $1, 'expired', 'system', jsonb_build_object('expires_at', expires_at) FROM x"
    ))
    .bind(now)
    .bind(port)
    .bind(from)
    .bind(to)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Confirmed bookings whose arrival window closed (start + the listing's grace, never past
/// the end) without a check-in or a charging session become no-shows. Nothing is refunded.
pub async fn mark_no_shows(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    default_grace_minutes: u32,
    limit: i64,
) -> Result<u64, Error> {
    let done = sqlx::query(&format!(
        "WITH due AS ( \
           SELECT b.id FROM bookings b \
           LEFT JOIN listing_booking_rules r ON r.listing_id = b.listing_id \
           WHERE b.status = 'confirmed' AND b.starts_at <= $1 \
             AND LEAST(b.starts_at + make_interval(mins => COALESCE(r.arrival_grace_minutes, $2)), \
                       b.ends_at) <= $1 \
           ORDER BY b.starts_at LIMIT $3 FOR UPDATE OF b SKIP LOCKED), \
         x AS ( \
           UPDATE bookings b SET status = 'no_show', updated_at = $1, \
             reservation_state = {RESERVATION_AFTER_END} \
           FROM due WHERE b.id = due.id RETURNING b.id) \
         INSERT INTO booking_events (booking_id, at, kind, actor) \
         SELECT id, $1, 'no_show', 'system' FROM x"
    ))
    .bind(now)
    .bind(i32::try_from(default_grace_minutes).unwrap_or(15))
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A checked-in driver whose booked time is over, and who never started a session the
/// station reported, is done. (A charging booking completes when its session ends.)
pub async fn complete_checked_in(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<u64, Error> {
    let done = sqlx::query(&format!(
        "WITH due AS ( \
           SELECT id FROM bookings WHERE status = 'checked_in' AND ends_at <= $1 \
           ORDER BY ends_at LIMIT $2 FOR UPDATE SKIP LOCKED), \
         x AS ( \
           UPDATE bookings b SET status = 'completed', completed_at = $1, updated_at = $1, \
             reservation_state = {RESERVATION_AFTER_END} \
           FROM due WHERE b.id = due.id RETURNING b.id) \
         INSERT INTO booking_events (booking_id, at, kind, actor) \
         SELECT id, $1, 'completed', 'system' FROM x"
    ))
    .bind(now)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

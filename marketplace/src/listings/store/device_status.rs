//! Live port status from devices, one set-based round of statements per batch.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::listings::model::DeviceStatus;

/// Applies reports whose `status` is already known to be valid; returns how many ports
/// changed. Must run inside a transaction.
///
/// The listings bound to the reporting devices are locked first, in id order: port edits lock
/// the same row, so `ports_available` is never recomputed from a stale view, and two batches
/// cannot deadlock.
pub async fn apply_device_status(
    conn: &mut PgConnection,
    statuses: &[DeviceStatus],
) -> Result<u64, Error> {
    let mut kinds = Vec::with_capacity(statuses.len());
    let mut devices = Vec::with_capacity(statuses.len());
    let mut evses = Vec::with_capacity(statuses.len());
    let mut connectors = Vec::with_capacity(statuses.len());
    let mut states = Vec::with_capacity(statuses.len());
    let mut ats = Vec::with_capacity(statuses.len());
    for s in statuses {
        kinds.push(s.device_kind.as_str());
        devices.push(s.device_id.as_str());
        evses.push(s.evse_id);
        connectors.push(s.connector_id);
        states.push(s.status.as_str());
        ats.push(s.at);
    }
    let locked: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM listings \
         WHERE (device_kind, device_id) IN \
               (SELECT k, d FROM UNNEST($1::text[], $2::text[]) AS v(k, d)) \
         ORDER BY id FOR UPDATE",
    )
    .bind(&kinds)
    .bind(&devices)
    .fetch_all(&mut *conn)
    .await?;
    if locked.is_empty() {
        return Ok(0);
    }
    // The latest report per connector wins, whatever order the batch holds them in; an older
    // report than the stored one (a late retry) changes nothing.
    let updated = sqlx::query(
        "UPDATE listing_ports p SET live_status = v.st, live_status_at = v.at \
         FROM (SELECT DISTINCT ON (k, d, e, c) k, d, e, c, st, at \
               FROM UNNEST($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], \
                           $6::timestamptz[]) AS u(k, d, e, c, st, at) \
               ORDER BY k, d, e, c, at DESC) v, listings l \
         WHERE l.id = ANY($7) AND l.device_kind = v.k AND l.device_id = v.d \
           AND p.listing_id = l.id AND p.evse_id = v.e AND p.connector_id = v.c \
           AND (p.live_status_at IS NULL OR p.live_status_at < v.at)",
    )
    .bind(&kinds)
    .bind(&devices)
    .bind(&evses)
    .bind(&connectors)
    .bind(&states)
    .bind(&ats)
    .bind(&locked)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated > 0 {
        super::refresh_port_summaries(&mut *conn, &locked).await?;
    }
    Ok(updated)
}

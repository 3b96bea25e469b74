//! Listing use cases. Each is one transaction; every change locks the listing row first (see
//! [`store::listing_by_id`]) and checks the caller's access and the lifecycle there.

use std::collections::HashSet;

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::model::{
    access, transition, validate_blackout, validate_listing, validate_opening_hours, validate_port,
    validate_rejection_reason, Access, Blackout, DeviceStatus, Listing, ListingAction,
    ListingDetails, ListingInput, ListingStatus, OpeningWindow, Port, PortInput, PortStatus,
};
use super::store::{self, ListFilter};
use super::ListingCalendar;
use crate::accounts::{AuthUser, Role};
use crate::error::Error;

const NOT_FOUND: Error = Error::NotFound("listing");

/// Creates a draft owned by the caller (a host, or an admin listing a charger of their own).
pub async fn create(
    pool: &PgPool,
    caller: &AuthUser,
    input: ListingInput,
) -> Result<ListingDetails, Error> {
    caller.require(&[Role::Host])?;
    let fields = validate_listing(input).map_err(Error::Validation)?;
    let mut tx = pool.begin().await?;
    let listing = store::insert_listing(&mut tx, caller.id, &fields).await?;
    tx.commit().await?;
    Ok(ListingDetails {
        listing,
        ports: Vec::new(),
        opening_hours: Vec::new(),
        blackouts: Vec::new(),
    })
}

/// A listing with its ports and calendar; 404 unless the caller may see it.
pub async fn get(
    pool: &PgPool,
    caller: Option<&AuthUser>,
    id: Uuid,
) -> Result<ListingDetails, Error> {
    let mut conn = pool.acquire().await?;
    let listing = store::listing_by_id(&mut conn, id, false)
        .await?
        .filter(|l| access(caller, l.host_id, l.status) >= Access::Read)
        .ok_or(NOT_FOUND)?;
    details(&mut conn, listing).await
}

/// One page of the listings the caller may see, narrowed by `filter` (whose `scope` is
/// replaced by the caller's own) and the total count.
pub async fn list(
    pool: &PgPool,
    caller: Option<&AuthUser>,
    mut filter: ListFilter,
) -> Result<(Vec<Listing>, i64), Error> {
    filter.scope = match caller {
        Some(u) if u.role == Role::Admin => store::Scope::All,
        Some(u) if u.role == Role::Host => store::Scope::OwnedBy(u.id),
        _ => store::Scope::Listed,
    };
    store::list_listings(&mut *pool.acquire().await?, &filter).await
}

/// Full update of the listing's own fields (ports and calendar have their own calls).
pub async fn update(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    input: ListingInput,
) -> Result<ListingDetails, Error> {
    let fields = validate_listing(input).map_err(Error::Validation)?;
    let mut tx = pool.begin().await?;
    let before = lock_for(&mut tx, caller, id, ListingAction::Edit).await?;
    let rebound = (before.fields.device_kind, &before.fields.device_id)
        != (fields.device_kind, &fields.device_id);
    if rebound {
        if fields.device_kind == super::model::DeviceKind::Plain {
            // A plain charger has nothing to map EVSE ids to; keep the ports consistent with
            // the rule validate_port enforces on new ones.
            check_no_bound_ports(&mut tx, id).await?;
        }
        store::forget_live_status(&mut tx, id).await?;
        store::refresh_port_summary(&mut tx, id).await?;
    }
    let listing = store::update_listing(&mut tx, id, &fields).await?;
    let details = details(&mut tx, listing).await?;
    tx.commit().await?;
    Ok(details)
}

/// Deletes a draft, rejected or unlisted listing with its ports and calendar.
pub async fn delete(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    lock_for(&mut tx, caller, id, ListingAction::Delete).await?;
    store::delete_listing(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Asks for review. Needs at least one port; coordinates and time zone are required fields
/// from creation on, so a stored listing always has them.
pub async fn submit(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<ListingDetails, Error> {
    let mut tx = pool.begin().await?;
    let listing = lock_for(&mut tx, caller, id, ListingAction::Submit).await?;
    if listing.ports_total < 1 {
        return Err(Error::invalid(
            "ports",
            "a charger needs at least one port before it is submitted",
        ));
    }
    let listing = store::set_status(&mut tx, id, ListingStatus::Submitted, None).await?;
    let details = details(&mut tx, listing).await?;
    tx.commit().await?;
    Ok(details)
}

pub async fn approve(pool: &PgPool, admin: &AuthUser, id: Uuid) -> Result<ListingDetails, Error> {
    admin.require(&[Role::Admin])?;
    change_status(pool, admin, id, ListingAction::Approve, None).await
}

pub async fn reject(
    pool: &PgPool,
    admin: &AuthUser,
    id: Uuid,
    reason: &str,
) -> Result<ListingDetails, Error> {
    admin.require(&[Role::Admin])?;
    let reason = validate_rejection_reason(reason).map_err(|e| Error::Validation(vec![e]))?;
    change_status(pool, admin, id, ListingAction::Reject, Some(&reason)).await
}

pub async fn unlist(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<ListingDetails, Error> {
    change_status(pool, caller, id, ListingAction::Unlist, None).await
}

/// Back on the map without a new review: it was approved before and edits never needed one.
pub async fn relist(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<ListingDetails, Error> {
    change_status(pool, caller, id, ListingAction::Relist, None).await
}

async fn change_status(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    action: ListingAction,
    reason: Option<&str>,
) -> Result<ListingDetails, Error> {
    let mut tx = pool.begin().await?;
    let listing = lock_for(&mut tx, caller, id, action).await?;
    let to = transition(listing.status, action)
        .ok()
        .flatten()
        .ok_or_else(|| Error::Internal("lock_for let an impossible transition through".into()))?;
    let listing = store::set_status(&mut tx, id, to, reason).await?;
    let details = details(&mut tx, listing).await?;
    tx.commit().await?;
    Ok(details)
}

pub async fn ports(pool: &PgPool, caller: Option<&AuthUser>, id: Uuid) -> Result<Vec<Port>, Error> {
    Ok(get(pool, caller, id).await?.ports)
}

pub async fn add_port(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    input: PortInput,
) -> Result<Port, Error> {
    let mut tx = pool.begin().await?;
    let listing = lock_for(&mut tx, caller, id, ListingAction::Edit).await?;
    validate_port(&input, listing.fields.device_kind).map_err(Error::Validation)?;
    let port = store::insert_port(&mut tx, id, &input).await?;
    store::refresh_port_summary(&mut tx, id).await?;
    tx.commit().await?;
    Ok(port)
}

pub async fn update_port(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    port_id: Uuid,
    input: PortInput,
) -> Result<Port, Error> {
    let mut tx = pool.begin().await?;
    let listing = lock_for(&mut tx, caller, id, ListingAction::Edit).await?;
    validate_port(&input, listing.fields.device_kind).map_err(Error::Validation)?;
    let port = store::update_port(&mut tx, id, port_id, &input)
        .await?
        .ok_or(Error::NotFound("port"))?;
    store::refresh_port_summary(&mut tx, id).await?;
    tx.commit().await?;
    Ok(port)
}

/// A listed charger keeps at least one port: it was approved as chargeable.
pub async fn delete_port(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    port_id: Uuid,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    let listing = lock_for(&mut tx, caller, id, ListingAction::Edit).await?;
    if !store::delete_port(&mut tx, id, port_id).await? {
        return Err(Error::NotFound("port"));
    }
    if listing.status == ListingStatus::Listed && listing.ports_total <= 1 {
        return Err(Error::Conflict {
            code: "last_port",
            detail: "a listed charger keeps at least one port; unlist it first".into(),
        });
    }
    store::refresh_port_summary(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn opening_hours(
    pool: &PgPool,
    caller: Option<&AuthUser>,
    id: Uuid,
) -> Result<Vec<OpeningWindow>, Error> {
    Ok(get(pool, caller, id).await?.opening_hours)
}

/// Replaces the weekly hours; an empty list means open around the clock.
pub async fn set_opening_hours(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    windows: Vec<OpeningWindow>,
) -> Result<Vec<OpeningWindow>, Error> {
    let windows = validate_opening_hours(windows).map_err(Error::Validation)?;
    let mut tx = pool.begin().await?;
    lock_for(&mut tx, caller, id, ListingAction::Edit).await?;
    store::replace_opening_hours(&mut tx, id, &windows).await?;
    tx.commit().await?;
    Ok(windows)
}

pub async fn blackouts(
    pool: &PgPool,
    caller: Option<&AuthUser>,
    id: Uuid,
) -> Result<Vec<Blackout>, Error> {
    Ok(get(pool, caller, id).await?.blackouts)
}

pub async fn add_blackout(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    blackout: Blackout,
) -> Result<Blackout, Error> {
    let blackout = validate_blackout(blackout).map_err(Error::Validation)?;
    let mut tx = pool.begin().await?;
    lock_for(&mut tx, caller, id, ListingAction::Edit).await?;
    store::insert_blackout(&mut tx, id, &blackout).await?;
    tx.commit().await?;
    Ok(blackout)
}

pub async fn delete_blackout(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    starts_on: NaiveDate,
) -> Result<(), Error> {
    let mut tx = pool.begin().await?;
    lock_for(&mut tx, caller, id, ListingAction::Edit).await?;
    if !store::delete_blackout(&mut tx, id, starts_on).await? {
        return Err(Error::NotFound("blackout"));
    }
    tx.commit().await?;
    Ok(())
}

/// Records device status reports on the ports bound to them and keeps `ports_available`
/// right, in one transaction. Reports with a status outside OCPP's ConnectorStatus are
/// skipped (and logged) rather than failing the batch, and so are reports for devices no
/// listing is bound to.
pub async fn apply_device_status(pool: &PgPool, statuses: &[DeviceStatus]) -> Result<(), Error> {
    let (valid, invalid): (Vec<_>, Vec<_>) = statuses.iter().partition(|s| {
        s.status
            .parse::<PortStatus>()
            .is_ok_and(|st| st != PortStatus::Unknown)
    });
    if !invalid.is_empty() {
        let names: HashSet<&str> = invalid.iter().map(|s| s.status.as_str()).collect();
        tracing::warn!(skipped = invalid.len(), statuses = ?names, "unknown connector status");
    }
    if valid.is_empty() {
        return Ok(());
    }
    let valid: Vec<DeviceStatus> = valid.into_iter().cloned().collect();
    let mut tx = pool.begin().await?;
    let updated = store::apply_device_status(&mut tx, &valid).await?;
    tx.commit().await?;
    tracing::debug!(
        reports = valid.len(),
        updated,
        "applied device status to listing ports"
    );
    Ok(())
}

/// Locks the listing, then checks that the caller may change it and that `action` is allowed
/// in its current state. Not visible → 404; visible but not theirs → 403; wrong state → 409.
async fn lock_for(
    conn: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
    action: ListingAction,
) -> Result<Listing, Error> {
    let listing = store::listing_by_id(conn, id, true)
        .await?
        .ok_or(NOT_FOUND)?;
    match access(Some(caller), listing.host_id, listing.status) {
        Access::None => return Err(NOT_FOUND),
        Access::Read => return Err(Error::Forbidden),
        Access::Write => {}
    }
    transition(listing.status, action).map_err(|err| Error::Conflict {
        code: "invalid_listing_transition",
        detail: err.to_string(),
    })?;
    Ok(listing)
}

async fn check_no_bound_ports(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
    let ports = store::ports_of(conn, id).await?;
    if ports.iter().any(|p| p.evse_id.is_some()) {
        return Err(Error::invalid(
            "device_kind",
            "ports are still bound to EVSEs; unbind them before making the charger plain",
        ));
    }
    Ok(())
}

async fn details(conn: &mut PgConnection, listing: Listing) -> Result<ListingDetails, Error> {
    let ports = store::ports_of(conn, listing.id).await?;
    let opening_hours = store::opening_hours_of(conn, listing.id).await?;
    let blackouts = store::blackouts_of(conn, listing.id).await?;
    Ok(ListingDetails {
        listing,
        ports,
        opening_hours,
        blackouts,
    })
}

// For other modules (bookings, search), in their own transaction or connection.

/// A listing, locked until the transaction ends when `for_update` (see
/// [`store::listing_by_id`]); `None` if it does not exist.
pub async fn listing_by_id(
    conn: &mut PgConnection,
    id: Uuid,
    for_update: bool,
) -> Result<Option<Listing>, Error> {
    store::listing_by_id(conn, id, for_update).await
}

/// A listing's calendar (opening hours, blackouts, time zone); `None` if it does not exist.
pub async fn calendar_of(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ListingCalendar>, Error> {
    store::calendar_of(conn, id).await
}

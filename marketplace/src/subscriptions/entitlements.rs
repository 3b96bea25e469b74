//! What subscribers get, asked by the rest of the marketplace: the plan discount and the
//! insurance coverage on session bills, priority booking, featured listings in search, and
//! access to host analytics. Always "at an instant", from the spans: a bill restated months
//! later still sees the plan the driver had when the session started.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{plan_of, Group};
use super::store::spans;
use crate::error::Error;
use crate::tariffs::{Extras, Plan};

/// Everything a user is entitled to at one instant (`GET /api/me/entitlements`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = Entitlements)]
pub struct Benefits {
    pub as_of: DateTime<Utc>,
    /// `basic` without a plan.
    pub plan: Plan,
    /// Off the charging lines of session bills.
    #[schema(minimum = 0, maximum = 100, example = 10)]
    pub discount_percent: i16,
    /// Pro: book up to 7 days beyond a charger's advance window; pending holds last 30 min.
    pub priority_booking: bool,
    /// Premium insurance coverage: session bills carry no per-transaction insurance fee.
    pub insurance_coverage: bool,
    /// `GET /api/host/analytics`.
    pub analytics: bool,
    /// The real-time availability API for the host's chargers.
    pub availability_api: bool,
    /// The host's listings shown as featured (first among equals) in search.
    pub featured_listings: Vec<Uuid>,
}

pub async fn benefits_at(
    conn: &mut PgConnection,
    user: Uuid,
    at: DateTime<Utc>,
) -> Result<Benefits, Error> {
    let mut b = Benefits {
        as_of: at,
        plan: Plan::Basic,
        discount_percent: 0,
        priority_booking: false,
        insurance_coverage: false,
        analytics: false,
        availability_api: false,
        featured_listings: Vec::new(),
    };
    for h in spans::held_at(conn, user, at).await? {
        let group: Group = h.product_group.parse().map_err(Error::Internal)?;
        match group {
            Group::DriverPlan => {
                b.plan = plan_of(&h.product_code);
                b.discount_percent = h.discount_percent;
                b.priority_booking |= h.priority_booking;
            }
            Group::Insurance => b.insurance_coverage = true,
            Group::Analytics => b.analytics = true,
            Group::AvailabilityApi => b.availability_api = true,
            Group::FeaturedListing => b.featured_listings.extend(h.listing_id),
        }
    }
    Ok(b)
}

/// The bill extras a driver's subscriptions give a session that started at `start`: the
/// plan discount, and no per-transaction insurance fee under insurance coverage.
pub async fn extras_at(
    conn: &mut PgConnection,
    driver: Uuid,
    start: DateTime<Utc>,
) -> Result<Extras, Error> {
    let b = benefits_at(conn, driver, start).await?;
    let mut extras = Extras {
        plan: b.plan,
        ..Extras::default()
    };
    if b.insurance_coverage {
        extras.insurance_fee = Decimal::ZERO;
    }
    Ok(extras)
}

/// Whether the user may book with priority at `at` (Pro; what it gives is the bookings' rule,
/// `BookingRules::with_priority`: bookings ask this, never the other way round).
pub async fn priority_booking(
    conn: &mut PgConnection,
    user: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, Error> {
    Ok(benefits_at(conn, user, at).await?.priority_booking)
}

/// 403 `subscription_required` unless the user holds a product of `group` at `at`.
pub async fn require(
    conn: &mut PgConnection,
    user: Uuid,
    group: Group,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    let held = spans::held_at(conn, user, at).await?;
    if held.iter().any(|h| h.product_group == group.as_str()) {
        Ok(())
    } else {
        Err(Error::SubscriptionRequired(group.as_str()))
    }
}

/// Which of `listings` are featured at `at`.
pub async fn featured(
    conn: &mut PgConnection,
    listings: &[Uuid],
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, Error> {
    spans::featured(conn, listings, at).await
}

//! What a booking needs to know about its charger: the listing's status, price summary and
//! booking rules (with the refund tiers), in one statement, and its ports.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::bookings::refund::{RefundPolicy, RefundTier};
use crate::bookings::rules::BookingRules;
use crate::error::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct PortInfo {
    pub id: Uuid,
    pub label: String,
    pub connector_type: String,
    pub power_kw: f64,
    pub evse_id: Option<i32>,
    pub live_status: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChargerContext {
    pub listing_id: Uuid,
    pub host_id: Uuid,
    pub title: String,
    /// The listing's status (`listed` to be bookable).
    pub status: String,
    pub device_kind: String,
    pub currency: String,
    pub price_per_hour: Option<Decimal>,
    pub rules: BookingRules,
    /// Whether the host set rules (otherwise `rules` are the defaults).
    pub custom_rules: bool,
    pub ports: Vec<PortInfo>,
}

impl ChargerContext {
    pub fn port(&self, id: Uuid) -> Option<&PortInfo> {
        self.ports.iter().find(|p| p.id == id)
    }

    /// Bookings of this port get a station reservation (OCPP ReserveNow).
    pub fn station_bound(&self, port: &PortInfo) -> bool {
        self.device_kind == "ocpp" && port.evse_id.is_some()
    }
}

#[derive(sqlx::FromRow)]
struct ContextRow {
    id: Uuid,
    host_id: Uuid,
    title: String,
    status: String,
    device_kind: String,
    currency: String,
    price_per_hour: Option<String>,
    has_rules: bool,
    min_duration_minutes: Option<i32>,
    max_duration_minutes: Option<i32>,
    lead_time_minutes: Option<i32>,
    max_advance_days: Option<i32>,
    arrival_grace_minutes: Option<i32>,
    tier_notices: Vec<i32>,
    tier_percents: Vec<i32>,
}

#[derive(sqlx::FromRow)]
struct PortRow {
    id: Uuid,
    label: String,
    connector_type: String,
    power_kw: f64,
    evse_id: Option<i32>,
    live_status: String,
}

/// The charger and its ports; `None` when no listing has that id.
pub async fn charger(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> Result<Option<ChargerContext>, Error> {
    let row: Option<ContextRow> = sqlx::query_as(
        "SELECT l.id, l.host_id, l.title, l.status, l.device_kind, l.currency::text AS currency, \
           l.price_per_hour::text AS price_per_hour, r.listing_id IS NOT NULL AS has_rules, \
           r.min_duration_minutes, r.max_duration_minutes, r.lead_time_minutes, \
           r.max_advance_days, r.arrival_grace_minutes, \
           COALESCE(t.notices, '{}') AS tier_notices, COALESCE(t.percents, '{}') AS tier_percents \
         FROM listings l \
         LEFT JOIN listing_booking_rules r ON r.listing_id = l.id \
         LEFT JOIN LATERAL ( \
           SELECT array_agg(min_notice_minutes ORDER BY min_notice_minutes DESC) AS notices, \
                  array_agg(refund_percent::int ORDER BY min_notice_minutes DESC) AS percents \
           FROM listing_refund_tiers WHERE listing_id = l.id) t ON true \
         WHERE l.id = $1",
    )
    .bind(listing_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let ports: Vec<PortRow> = sqlx::query_as(
        "SELECT id, label, connector_type, power_kw::float8 AS power_kw, evse_id, live_status \
         FROM listing_ports WHERE listing_id = $1 ORDER BY created_at, id",
    )
    .bind(listing_id)
    .fetch_all(conn)
    .await?;
    let bad = |what: &str| Error::Internal(format!("listing {listing_id}: bad {what}"));
    let price_per_hour = row
        .price_per_hour
        .map(|p| p.parse::<Decimal>().map_err(|_| bad("price")))
        .transpose()?;
    let rules = if row.has_rules {
        let m = |v: Option<i32>| {
            v.and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| bad("rules"))
        };
        let tiers = row
            .tier_notices
            .iter()
            .zip(&row.tier_percents)
            .map(|(n, p)| {
                Ok(RefundTier {
                    min_notice_minutes: u32::try_from(*n).map_err(|_| bad("refund tier"))?,
                    refund_percent: u8::try_from(*p).map_err(|_| bad("refund tier"))?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        BookingRules {
            min_duration_minutes: m(row.min_duration_minutes)?,
            max_duration_minutes: m(row.max_duration_minutes)?,
            lead_time_minutes: m(row.lead_time_minutes)?,
            max_advance_days: m(row.max_advance_days)?,
            arrival_grace_minutes: m(row.arrival_grace_minutes)?,
            refund_tiers: RefundPolicy::new(tiers).map_err(|_| bad("refund tiers"))?,
        }
    } else {
        BookingRules::default()
    };
    Ok(Some(ChargerContext {
        listing_id: row.id,
        host_id: row.host_id,
        title: row.title,
        status: row.status,
        device_kind: row.device_kind,
        currency: row.currency,
        price_per_hour,
        rules,
        custom_rules: row.has_rules,
        ports: ports
            .into_iter()
            .map(|p| PortInfo {
                id: p.id,
                label: p.label,
                connector_type: p.connector_type,
                power_kw: p.power_kw,
                evse_id: p.evse_id,
                live_status: p.live_status,
            })
            .collect(),
    }))
}

/// Replaces a listing's rules and refund tiers (the caller's transaction makes it atomic).
pub async fn save_rules(
    conn: &mut PgConnection,
    listing_id: Uuid,
    rules: &BookingRules,
) -> Result<(), Error> {
    let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    sqlx::query(
        "INSERT INTO listing_booking_rules (listing_id, min_duration_minutes, \
           max_duration_minutes, lead_time_minutes, max_advance_days, arrival_grace_minutes) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (listing_id) DO UPDATE SET min_duration_minutes = $2, \
           max_duration_minutes = $3, lead_time_minutes = $4, max_advance_days = $5, \
           arrival_grace_minutes = $6, updated_at = now()",
    )
    .bind(listing_id)
    .bind(int(rules.min_duration_minutes))
    .bind(int(rules.max_duration_minutes))
    .bind(int(rules.lead_time_minutes))
    .bind(int(rules.max_advance_days))
    .bind(int(rules.arrival_grace_minutes))
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM listing_refund_tiers WHERE listing_id = $1")
        .bind(listing_id)
        .execute(&mut *conn)
        .await?;
    let tiers = rules.refund_tiers.tiers();
    let notices: Vec<i32> = tiers.iter().map(|t| int(t.min_notice_minutes)).collect();
    let percents: Vec<i16> = tiers.iter().map(|t| i16::from(t.refund_percent)).collect();
    sqlx::query(
        "INSERT INTO listing_refund_tiers (listing_id, min_notice_minutes, refund_percent) \
         SELECT $1, n, p FROM UNNEST($2::int4[], $3::int2[]) AS t(n, p)",
    )
    .bind(listing_id)
    .bind(notices)
    .bind(percents)
    .execute(conn)
    .await?;
    Ok(())
}

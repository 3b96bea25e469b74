//! SQL for tariff versions (`listing_tariffs`) and the few listing columns pricing reads or
//! keeps in sync. Decimals cross the wire as text, as in listings (no sqlx `rust_decimal`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::ocpi::Tariff;
use super::peak_night::SimpleSettings;
use crate::error::Error;

/// What pricing needs to know about a listing.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ListingFacts {
    pub id: Uuid,
    pub host_id: Uuid,
    pub status: String,
    pub time_zone: String,
    pub currency: String,
    pub price_per_kwh: Option<String>,
    pub price_per_hour: Option<String>,
}

pub async fn listing(
    conn: &mut PgConnection,
    id: Uuid,
    for_update: bool,
) -> Result<Option<ListingFacts>, Error> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT id, host_id, status, time_zone, currency::text AS currency, \
           price_per_kwh::text AS price_per_kwh, price_per_hour::text AS price_per_hour \
         FROM listings WHERE id = $1{lock}"
    );
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// Keeps the search summary of a listing in step with its tariff in force.
pub async fn set_listing_summary(
    conn: &mut PgConnection,
    id: Uuid,
    price_per_kwh: Option<Decimal>,
    price_per_hour: Option<Decimal>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE listings SET price_per_kwh = $2::numeric, price_per_hour = $3::numeric, \
           updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(price_per_kwh.map(|d| d.to_string()))
    .bind(price_per_hour.map(|d| d.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Where a tariff version came from: the host's simple settings, or a full OCPI tariff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PricingSource)]
pub enum Source {
    Simple,
    Ocpi,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Simple => "simple",
            Self::Ocpi => "ocpi",
        }
    }
}

/// One stored tariff version.
#[derive(Debug, Clone, PartialEq)]
pub struct TariffVersion {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub version: i32,
    pub valid_from: DateTime<Utc>,
    pub source: Source,
    pub settings: Option<SimpleSettings>,
    pub tariff: Tariff,
    pub currency: String,
    pub emergency_multiplier: Decimal,
    pub sales_tax_percent: Option<Decimal>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    listing_id: Uuid,
    version: i32,
    valid_from: DateTime<Utc>,
    source: String,
    settings: Option<Json<SimpleSettings>>,
    tariff: Json<Tariff>,
    currency: String,
    emergency_multiplier: String,
    sales_tax_percent: Option<String>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, listing_id, version, valid_from, source, settings, tariff, \
    currency::text AS currency, emergency_multiplier::text AS emergency_multiplier, \
    sales_tax_percent::text AS sales_tax_percent, created_by, created_at";

fn decimal(id: Uuid, text: &str) -> Result<Decimal, Error> {
    text.parse::<Decimal>()
        .map(|d| d.normalize())
        .map_err(|_| Error::Internal(format!("tariff {id}: bad number `{text}` in the database")))
}

impl TryFrom<Row> for TariffVersion {
    type Error = Error;

    fn try_from(r: Row) -> Result<Self, Error> {
        let id = r.id;
        Ok(Self {
            id,
            listing_id: r.listing_id,
            version: r.version,
            valid_from: r.valid_from,
            source: if r.source == "simple" {
                Source::Simple
            } else {
                Source::Ocpi
            },
            settings: r.settings.map(|j| j.0),
            tariff: r.tariff.0,
            currency: r.currency,
            emergency_multiplier: decimal(id, &r.emergency_multiplier)?,
            sales_tax_percent: r.sales_tax_percent.map(|t| decimal(id, &t)).transpose()?,
            created_by: r.created_by,
            created_at: r.created_at,
        })
    }
}

pub struct NewVersion<'a> {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub source: Source,
    pub settings: Option<&'a SimpleSettings>,
    pub tariff: &'a Tariff,
    pub emergency_multiplier: Decimal,
    pub sales_tax_percent: Option<Decimal>,
    pub created_by: Uuid,
}

/// Appends the next version, in force from now. The caller holds the listing's row lock, so
/// versions and their `valid_from` grow together (`clock_timestamp`, not the transaction's
/// start, and never at or before the previous version).
pub async fn insert_version(
    conn: &mut PgConnection,
    v: &NewVersion<'_>,
) -> Result<TariffVersion, Error> {
    let sql = format!(
        "WITH last AS (SELECT max(version) AS version, max(valid_from) AS valid_from \
                         FROM listing_tariffs WHERE listing_id = $2) \
         INSERT INTO listing_tariffs (id, listing_id, version, valid_from, source, settings, \
           tariff, currency, emergency_multiplier, sales_tax_percent, created_by) \
         SELECT $1, $2, coalesce(last.version, 0) + 1, \
           greatest(clock_timestamp(), last.valid_from + interval '1 microsecond'), \
           $3, $4, $5, $6, $7::numeric, $8::numeric, $9 FROM last \
         RETURNING {COLUMNS}"
    );
    let row: Row = sqlx::query_as(&sql)
        .bind(v.id)
        .bind(v.listing_id)
        .bind(v.source.as_str())
        .bind(v.settings.map(Json))
        .bind(Json(v.tariff))
        .bind(&v.tariff.currency)
        .bind(v.emergency_multiplier.to_string())
        .bind(v.sales_tax_percent.map(|d| d.to_string()))
        .bind(v.created_by)
        .fetch_one(conn)
        .await?;
    row.try_into()
}

/// Every version of a listing, newest first.
pub async fn versions(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> Result<Vec<TariffVersion>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM listing_tariffs WHERE listing_id = $1 ORDER BY valid_from DESC"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(listing_id)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// The version in force at `at`: the newest one that was valid from then or earlier.
pub async fn in_force(
    conn: &mut PgConnection,
    listing_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<TariffVersion>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM listing_tariffs WHERE listing_id = $1 AND valid_from <= $2 \
         ORDER BY valid_from DESC LIMIT 1"
    );
    let row: Option<Row> = sqlx::query_as(&sql)
        .bind(listing_id)
        .bind(at)
        .fetch_optional(conn)
        .await?;
    row.map(TryInto::try_into).transpose()
}

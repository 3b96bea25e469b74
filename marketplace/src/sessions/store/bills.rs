//! Session bills: written once per revision (the database refuses updates and deletes, and
//! checks that the lines add up to the total when the transaction commits), read back in
//! minor units turned into decimals of the currency.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::decimal;
use crate::error::Error;
use crate::money::minor_unit_digits;
use crate::tariffs::bill::{Bill, LineItem};
use crate::tariffs::model::to_minor_units;
use crate::tariffs::quote::TariffRef;

/// A bill about to be stored.
pub struct NewBill<'a> {
    pub session_id: Uuid,
    pub revision: i32,
    pub supersedes: Option<Uuid>,
    pub reason: &'a str,
    pub bill: &'a Bill,
    pub tariff: Option<&'a TariffRef>,
    pub session_start: DateTime<Utc>,
    pub session_end: DateTime<Utc>,
    pub energy_wh: Decimal,
    pub charging_seconds: i64,
    pub idle_seconds: i64,
    pub paused_seconds: i64,
    pub ocpi_totals: Value,
    pub computed_at: DateTime<Utc>,
}

/// Stores a bill and its lines. `Ok(None)`: that revision exists already (another node or a
/// retried event billed it first), nothing was written.
pub async fn insert(conn: &mut PgConnection, b: &NewBill<'_>) -> Result<Option<Uuid>, Error> {
    let id = Uuid::now_v7();
    let currency = b.bill.currency.as_str();
    let cents = |d: Decimal| to_minor_units(d, currency);
    let split = &b.bill.split;
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO session_bills (id, session_id, revision, supersedes, reason, currency, \
           minor_digits, total_cents, tax_kind, tax_percent, taxable_cents, tax_cents, \
           commission_base_cents, platform_commission_cents, host_share_cents, \
           insurance_cents, tariff_id, tariff_version, session_start, session_end, energy_wh, \
           charging_seconds, idle_seconds, paused_seconds, ocpi_totals, computed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::numeric, $11, $12, $13, $14, $15, \
           $16, $17, $18, $19, $20, $21::numeric, $22, $23, $24, $25, $26) \
         ON CONFLICT ON CONSTRAINT session_bills_revision_key DO NOTHING RETURNING id",
    )
    .bind(id)
    .bind(b.session_id)
    .bind(b.revision)
    .bind(b.supersedes)
    .bind(b.reason)
    .bind(currency)
    .bind(i16::try_from(minor_unit_digits(currency)).unwrap_or(2))
    .bind(cents(b.bill.total))
    .bind(b.bill.tax.kind)
    .bind(b.bill.tax.percent.to_string())
    .bind(cents(b.bill.tax.taxable_amount))
    .bind(cents(b.bill.tax.tax_amount))
    .bind(cents(split.commission_base))
    .bind(cents(split.platform_commission))
    .bind(cents(split.host_share))
    .bind(cents(split.insurance_reserve))
    .bind(b.tariff.map(|t| t.id))
    .bind(b.tariff.map(|t| t.version))
    .bind(b.session_start)
    .bind(b.session_end)
    .bind(b.energy_wh.round_dp(3).to_string())
    .bind(b.charging_seconds)
    .bind(b.idle_seconds)
    .bind(b.paused_seconds)
    .bind(&b.ocpi_totals)
    .bind(b.computed_at)
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_none() {
        return Ok(None);
    }
    insert_lines(conn, id, &b.bill.lines, currency).await?;
    Ok(Some(id))
}

async fn insert_lines(
    conn: &mut PgConnection,
    bill_id: Uuid,
    lines: &[LineItem],
    currency: &str,
) -> Result<(), Error> {
    let positions: Vec<i16> = (1..).take(lines.len()).collect();
    let kinds: Vec<String> = lines.iter().map(kind_name).collect();
    let texts: Vec<&str> = lines.iter().map(|l| l.description.as_str()).collect();
    let quantities: Vec<Option<String>> = lines
        .iter()
        .map(|l| l.quantity.map(|q| q.to_string()))
        .collect();
    let units: Vec<Option<&str>> = lines.iter().map(|l| l.unit).collect();
    let prices: Vec<Option<String>> = lines
        .iter()
        .map(|l| l.unit_price.map(|p| p.round_dp(6).to_string()))
        .collect();
    let amounts: Vec<i64> = lines
        .iter()
        .map(|l| to_minor_units(l.amount, currency))
        .collect();
    sqlx::query(
        "INSERT INTO session_bill_lines (bill_id, position, kind, description, quantity, unit, \
           unit_price, amount_cents) \
         SELECT $1, p, k, d, q::numeric, u, up::numeric, a FROM unnest($2::smallint[], \
           $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[]) \
           AS x(p, k, d, q, u, up, a)",
    )
    .bind(bill_id)
    .bind(&positions)
    .bind(&kinds)
    .bind(&texts)
    .bind(&quantities)
    .bind(&units)
    .bind(&prices)
    .bind(&amounts)
    .execute(conn)
    .await?;
    Ok(())
}

/// A line kind's wire name (`energy`, `minimum_charge`, ...).
pub fn kind_name(line: &LineItem) -> String {
    match serde_json::to_value(line.kind) {
        Ok(Value::String(s)) => s,
        _ => "other".into(),
    }
}

/// One line of a stored bill; amounts in the currency's units, negative for discounts.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BillLine)]
pub struct StoredLine {
    /// `energy`, `time`, `multiplier`, `parking`, `flat`, `minimum_charge`, `fee`, `tax`, ...
    #[schema(example = "energy")]
    pub kind: String,
    pub description: String,
    #[schema(required)]
    pub quantity: Option<Decimal>,
    #[schema(required)]
    pub unit: Option<String>,
    #[schema(required)]
    pub unit_price: Option<Decimal>,
    pub amount: Decimal,
}

/// The tax a bill states.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BillTax)]
pub struct StoredTax {
    /// `vat_included` or `sales_tax`.
    #[schema(example = "vat_included")]
    pub kind: String,
    pub percent: Decimal,
    pub taxable_amount: Decimal,
    pub tax_amount: Decimal,
}

/// Who gets what: commission + host share + insurance + tax = total, exactly.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BillSplit)]
pub struct StoredSplit {
    pub commission_base: Decimal,
    pub platform_commission: Decimal,
    pub host_share: Decimal,
    pub insurance_reserve: Decimal,
    pub tax: Decimal,
}

/// One revision of a session's bill, amounts in the currency's units: immutable once
/// written.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = SessionBill)]
pub struct StoredBill {
    pub id: Uuid,
    pub session_id: Uuid,
    /// 1: computed when the transaction ended; 2, 3...: restated (late station data).
    #[schema(minimum = 1)]
    pub revision: i32,
    /// The revision this one replaces.
    #[schema(required)]
    pub supersedes: Option<Uuid>,
    /// `transaction_ended` or `late_station_data`.
    #[schema(example = "transaction_ended")]
    pub reason: String,
    #[schema(example = "EUR")]
    pub currency: String,
    /// The sum of the lines.
    #[schema(example = "5.04")]
    pub total: Decimal,
    #[schema(example = 504)]
    pub total_cents: i64,
    pub lines: Vec<StoredLine>,
    pub tax: StoredTax,
    pub split: StoredSplit,
    /// The tariff version in force when the session started; `null`: summary prices.
    #[schema(required)]
    pub tariff: Option<TariffRef>,
    pub session_start: DateTime<Utc>,
    pub session_end: DateTime<Utc>,
    #[schema(example = "12.5")]
    pub energy_kwh: Decimal,
    pub charging_seconds: i64,
    pub idle_seconds: i64,
    pub paused_seconds: i64,
    /// OCPI 2.2.1 CDR totals (before the driver's extras).
    #[schema(value_type = Object)]
    pub ocpi_totals: Value,
    pub computed_at: DateTime<Utc>,
    /// When the ledger posted it (issue 7); `null` until then.
    #[schema(required)]
    pub posted_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct BillRow {
    id: Uuid,
    session_id: Uuid,
    revision: i32,
    supersedes: Option<Uuid>,
    reason: String,
    currency: String,
    minor_digits: i16,
    total_cents: i64,
    tax_kind: String,
    tax_percent: String,
    taxable_cents: i64,
    tax_cents: i64,
    commission_base_cents: i64,
    platform_commission_cents: i64,
    host_share_cents: i64,
    insurance_cents: i64,
    tariff_id: Option<Uuid>,
    tariff_version: Option<i32>,
    session_start: DateTime<Utc>,
    session_end: DateTime<Utc>,
    energy_wh: String,
    charging_seconds: i64,
    idle_seconds: i64,
    paused_seconds: i64,
    ocpi_totals: Value,
    computed_at: DateTime<Utc>,
    posted_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    kind: String,
    description: String,
    quantity: Option<String>,
    unit: Option<String>,
    unit_price: Option<String>,
    amount_cents: i64,
}

const BILL_COLUMNS: &str = "id, session_id, revision, supersedes, reason, \
    currency::text AS currency, minor_digits, total_cents, tax_kind, \
    tax_percent::text AS tax_percent, taxable_cents, tax_cents, commission_base_cents, \
    platform_commission_cents, host_share_cents, insurance_cents, tariff_id, tariff_version, \
    session_start, session_end, energy_wh::text AS energy_wh, charging_seconds, idle_seconds, \
    paused_seconds, ocpi_totals, computed_at, posted_at";

/// Every revision of a session's bill, oldest first.
pub async fn revisions(
    conn: &mut PgConnection,
    session_id: Uuid,
) -> Result<Vec<StoredBill>, Error> {
    let sql =
        format!("SELECT {BILL_COLUMNS} FROM session_bills WHERE session_id = $1 ORDER BY revision");
    let rows: Vec<BillRow> = sqlx::query_as(&sql)
        .bind(session_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let lines: Vec<LineRow> = sqlx::query_as(
            "SELECT kind, description, quantity::text AS quantity, unit, \
               unit_price::text AS unit_price, amount_cents \
             FROM session_bill_lines WHERE bill_id = $1 ORDER BY position",
        )
        .bind(r.id)
        .fetch_all(&mut *conn)
        .await?;
        out.push(stored(r, lines)?);
    }
    Ok(out)
}

fn stored(r: BillRow, lines: Vec<LineRow>) -> Result<StoredBill, Error> {
    let digits = u32::try_from(r.minor_digits).unwrap_or(2);
    let money = |cents: i64| Decimal::new(cents, digits);
    let opt = |t: Option<String>| t.as_deref().map(decimal).transpose();
    let lines = lines
        .into_iter()
        .map(|l| {
            Ok(StoredLine {
                quantity: opt(l.quantity)?,
                unit_price: opt(l.unit_price)?,
                amount: money(l.amount_cents),
                kind: l.kind,
                description: l.description,
                unit: l.unit,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(StoredBill {
        id: r.id,
        session_id: r.session_id,
        revision: r.revision,
        supersedes: r.supersedes,
        reason: r.reason,
        total: money(r.total_cents),
        total_cents: r.total_cents,
        lines,
        tax: StoredTax {
            kind: r.tax_kind,
            percent: decimal(&r.tax_percent)?,
            taxable_amount: money(r.taxable_cents),
            tax_amount: money(r.tax_cents),
        },
        split: StoredSplit {
            commission_base: money(r.commission_base_cents),
            platform_commission: money(r.platform_commission_cents),
            host_share: money(r.host_share_cents),
            insurance_reserve: money(r.insurance_cents),
            tax: money(r.tax_cents),
        },
        tariff: r
            .tariff_id
            .zip(r.tariff_version)
            .map(|(id, version)| TariffRef { id, version }),
        currency: r.currency,
        session_start: r.session_start,
        session_end: r.session_end,
        energy_kwh: (decimal(&r.energy_wh)? / Decimal::from(1000)).normalize(),
        charging_seconds: r.charging_seconds,
        idle_seconds: r.idle_seconds,
        paused_seconds: r.paused_seconds,
        ocpi_totals: r.ocpi_totals,
        computed_at: r.computed_at,
        posted_at: r.posted_at,
    })
}

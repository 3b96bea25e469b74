//! The SQL of invoices (migration `0011_invoices.sql`). Numbers come from the issuer's series
//! row, locked until the issuing transaction ends: gap-free by construction, and the
//! database's deferred check proves it at commit.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use super::model::{self, Draft, Invoice, InvoiceKind, Issuer, Line, Source, TaxLine};
use crate::error::Error;
use crate::money::Minor;

/// Takes the issuer's next number (creating the series on first use).
async fn next_number(conn: &mut PgConnection, issuer: Issuer) -> Result<(i64, String), Error> {
    let key = issuer.key();
    sqlx::query(
        "INSERT INTO invoice_series (issuer_key, prefix) VALUES ($1, $2) \
         ON CONFLICT (issuer_key) DO NOTHING",
    )
    .bind(&key)
    .bind(issuer.prefix())
    .execute(&mut *conn)
    .await?;
    let (prefix, sequence): (String, i64) = sqlx::query_as(
        "UPDATE invoice_series SET last_number = last_number + 1 WHERE issuer_key = $1 \
         RETURNING prefix, last_number",
    )
    .bind(&key)
    .fetch_one(&mut *conn)
    .await?;
    Ok((sequence, model::number(&prefix, sequence)))
}

/// A user's name on an invoice: their display name, else their e-mail.
async fn party(conn: &mut PgConnection, user: Uuid) -> Result<(String, String), Error> {
    sqlx::query_as(
        "SELECT coalesce(display_name, email::text), email::text FROM users WHERE id = $1",
    )
    .bind(user)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("user"))
}

/// Issues `draft` in the caller's transaction (a savepoint of it, or a transaction of its
/// own on a bare connection: the lines must be there when the deferred check runs): numbers
/// it and stores it with its lines.
pub async fn insert(
    conn: &mut PgConnection,
    draft: &Draft,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let mut tx = conn.begin().await?;
    let id = insert_lines(&mut tx, draft, now).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_lines(
    conn: &mut PgConnection,
    draft: &Draft,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let (customer_name, customer_email) = party(conn, draft.customer_id).await?;
    let issuer_name = match draft.issuer.host() {
        Some(host) => party(conn, host).await?.0,
        None => model::PLATFORM_NAME.to_owned(),
    };
    let (sequence, number) = next_number(conn, draft.issuer).await?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO invoices (id, kind, issuer_key, issuer_id, issuer_name, sequence, number, \
           customer_id, customer_name, customer_email, subject, currency, minor_digits, \
           tax_kind, lines_cents, tax_cents, total_cents, source, source_id, corrects, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
           $18, $19, $20, $21)",
    )
    .bind(id)
    .bind(draft.kind.as_str())
    .bind(draft.issuer.key())
    .bind(draft.issuer.host())
    .bind(issuer_name)
    .bind(sequence)
    .bind(number)
    .bind(draft.customer_id)
    .bind(customer_name)
    .bind(customer_email)
    .bind(&draft.subject)
    .bind(&draft.currency)
    .bind(draft.minor_digits)
    .bind(draft.tax_kind.as_str())
    .bind(draft.lines_cents())
    .bind(draft.tax_cents())
    .bind(draft.total_cents())
    .bind(draft.source.as_str())
    .bind(draft.source_id)
    .bind(draft.corrects)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for (position, line) in (1_i16..).zip(&draft.lines) {
        sqlx::query(
            "INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit, \
               unit_price, amount_cents) VALUES ($1, $2, $3, $4::numeric, $5, $6::numeric, $7)",
        )
        .bind(id)
        .bind(position)
        .bind(&line.description)
        .bind(line.quantity.map(|q| q.to_string()))
        .bind(&line.unit)
        .bind(line.unit_price.map(|p| p.to_string()))
        .bind(line.amount_cents)
        .execute(&mut *conn)
        .await?;
    }
    for (position, tax) in (1_i16..).zip(&draft.tax_lines) {
        sqlx::query(
            "INSERT INTO invoice_tax_lines (invoice_id, position, name, percent, taxable_cents, \
               tax_cents) VALUES ($1, $2, $3, $4::numeric, $5, $6)",
        )
        .bind(id)
        .bind(position)
        .bind(&tax.name)
        .bind(tax.percent.to_string())
        .bind(tax.taxable_cents)
        .bind(tax.tax_cents)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// The invoice (or credit note) already issued for a source, if any.
pub async fn by_source(
    conn: &mut PgConnection,
    source: Source,
    source_id: Uuid,
    kind: InvoiceKind,
) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM invoices WHERE source = $1 AND source_id = $2 AND kind = $3",
    )
    .bind(source.as_str())
    .bind(source_id)
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await?)
}

/// The latest invoice (not credit note) issued for any of these sources: what a credit on
/// them corrects.
pub async fn latest_of_sources(
    conn: &mut PgConnection,
    source: Source,
    source_ids: &[Uuid],
) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM invoices WHERE source = $1 AND source_id = ANY($2) AND kind = 'invoice' \
         ORDER BY issued_at DESC, sequence DESC LIMIT 1",
    )
    .bind(source.as_str())
    .bind(source_ids)
    .fetch_optional(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    kind: String,
    number: String,
    issuer_id: Option<Uuid>,
    issuer_name: String,
    customer_id: Uuid,
    customer_name: String,
    customer_email: String,
    subject: String,
    currency: String,
    minor_digits: i16,
    tax_kind: String,
    lines_cents: Minor,
    tax_cents: Minor,
    total_cents: Minor,
    source: String,
    source_id: Uuid,
    corrects: Option<Uuid>,
    issued_at: DateTime<Utc>,
}

fn parsed<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T, Error> {
    text.parse().map_err(Error::Internal)
}

impl Row {
    fn invoice(self, lines: Vec<Line>, tax_lines: Vec<TaxLine>) -> Result<Invoice, Error> {
        Ok(Invoice {
            id: self.id,
            kind: parsed(&self.kind)?,
            number: self.number,
            issuer_id: self.issuer_id,
            issuer_name: self.issuer_name,
            customer_id: self.customer_id,
            customer_name: self.customer_name,
            customer_email: self.customer_email,
            subject: self.subject,
            currency: self.currency,
            minor_digits: self.minor_digits,
            tax_kind: parsed(&self.tax_kind)?,
            lines_cents: self.lines_cents,
            tax_cents: self.tax_cents,
            total_cents: self.total_cents,
            source: parsed(&self.source)?,
            source_id: self.source_id,
            corrects: self.corrects,
            issued_at: self.issued_at,
            lines,
            tax_lines,
        })
    }
}

const SELECT: &str = "SELECT id, kind, number, issuer_id, issuer_name, customer_id, \
    customer_name, customer_email, subject, currency, minor_digits, tax_kind, lines_cents, \
    tax_cents, total_cents, source, source_id, corrects, issued_at FROM invoices";

type LineRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Minor,
);

/// numeric columns travel as text (sqlx is built without a decimal type); the column's
/// scale is padding (`21.000`), not precision, so it is dropped.
pub(super) fn decimal(text: Option<String>) -> Result<Option<Decimal>, Error> {
    text.map(|t| {
        t.parse::<Decimal>()
            .map(|d| d.normalize())
            .map_err(|e| Error::Internal(format!("numeric `{t}`: {e}")))
    })
    .transpose()
}

/// The invoice with its lines.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<Invoice>, Error> {
    let Some(row) = sqlx::query_as::<_, Row>(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT description, quantity::text, unit, unit_price::text, amount_cents \
         FROM invoice_lines \
         WHERE invoice_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let taxes: Vec<(String, String, Minor, Minor)> = sqlx::query_as(
        "SELECT name, percent::text, taxable_cents, tax_cents FROM invoice_tax_lines \
         WHERE invoice_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let lines = lines
        .into_iter()
        .map(|(description, quantity, unit, unit_price, amount_cents)| {
            Ok(Line {
                description,
                quantity: decimal(quantity)?,
                unit,
                unit_price: decimal(unit_price)?,
                amount_cents,
            })
        })
        .collect::<Result<_, Error>>()?;
    let taxes = taxes
        .into_iter()
        .map(|(name, percent, taxable_cents, tax_cents)| {
            Ok(TaxLine {
                name,
                percent: decimal(Some(percent))?.unwrap_or_default(),
                taxable_cents,
                tax_cents,
            })
        })
        .collect::<Result<_, Error>>()?;
    row.invoice(lines, taxes).map(Some)
}

/// Whose invoices a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// Invoices to this customer.
    Customer(Uuid),
    /// Invoices issued in this host's name.
    Issuer(Uuid),
    /// Every invoice (admins).
    Anyone,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub source: Option<Source>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub offset: i64,
}

/// A page of invoices (without their lines), newest first, and how many match.
pub async fn page(
    pool: &PgPool,
    party: Party,
    filter: &Filter,
) -> Result<(Vec<Invoice>, i64), Error> {
    let (column, who) = match party {
        Party::Customer(id) => ("customer_id", Some(id)),
        Party::Issuer(id) => ("issuer_id", Some(id)),
        Party::Anyone => ("customer_id", None),
    };
    let cond = format!(
        "($1::uuid IS NULL OR {column} = $1) AND ($2::text IS NULL OR source = $2) \
         AND ($3::timestamptz IS NULL OR issued_at >= $3) \
         AND ($4::timestamptz IS NULL OR issued_at < $4)"
    );
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE {cond} ORDER BY issued_at DESC, id DESC LIMIT $5 OFFSET $6"
    ))
    .bind(who)
    .bind(filter.source.map(Source::as_str))
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.limit)
    .bind(filter.offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM invoices WHERE {cond}"))
        .bind(who)
        .bind(filter.source.map(Source::as_str))
        .bind(filter.from)
        .bind(filter.to)
        .fetch_one(pool)
        .await?;
    let invoices = rows
        .into_iter()
        .map(|r| r.invoice(Vec::new(), Vec::new()))
        .collect::<Result<_, _>>()?;
    Ok((invoices, total))
}

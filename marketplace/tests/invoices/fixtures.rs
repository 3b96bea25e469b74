//! Sessions and bills as the sessions module writes them, and invoices read back.

#![allow(dead_code)]

use chrono::Duration;
use marketplace::invoices::{store, Invoice, InvoiceKind, Source};
use marketplace::ledger::service as ledger;
use sqlx::PgPool;
use uuid::Uuid;

use super::support::*;

/// A completed session on the charger's first port.
pub async fn session(pool: &PgPool, c: &Charger, driver: Uuid) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO charging_sessions (id, driver_id, listing_id, port_id, station_id, evse_id, \
           id_token, id_token_type, transaction_id, status, origin, requested_at, started_at, \
           ended_at) \
         VALUES ($1, $2, $3, $4, 'ST-1', 1, 'TOKEN', 'Central', $5, 'completed', 'app', $6, $6, \
           $7)",
    )
    .bind(id)
    .bind(driver)
    .bind(c.id)
    .bind(c.ports[0])
    .bind(id.to_string())
    .bind(now())
    .bind(now() + Duration::hours(1))
    .execute(pool)
    .await
    .unwrap();
    id
}

/// A bill of `energy` (12.5 kWh) split 20/80, a 50 insurance fee, and 10 % sales tax on the
/// energy as its own line.
pub async fn bill(
    pool: &PgPool,
    session: Uuid,
    supersedes: Option<(Uuid, i32)>,
    energy: i64,
) -> Uuid {
    let id = Uuid::now_v7();
    let tax = energy / 10;
    let commission = energy / 5;
    let revision = supersedes.map_or(1, |(_, r)| r + 1);
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO session_bills (id, session_id, revision, supersedes, reason, currency, \
           minor_digits, total_cents, tax_kind, tax_percent, taxable_cents, tax_cents, \
           commission_base_cents, platform_commission_cents, host_share_cents, \
           insurance_cents, session_start, session_end, energy_wh, charging_seconds, \
           idle_seconds, paused_seconds, ocpi_totals, computed_at) \
         VALUES ($1, $2, $3, $4, 'test', 'EUR', 2, $5, 'sales_tax', 10, $6, $7, $6, $8, $9, \
           50, $10, $11, 12500, 3600, 0, 0, '{}', $10)",
    )
    .bind(id)
    .bind(session)
    .bind(revision)
    .bind(supersedes.map(|(b, _)| b))
    .bind(energy + 50 + tax)
    .bind(energy)
    .bind(tax)
    .bind(commission)
    .bind(energy - commission)
    .bind(now())
    .bind(now() + Duration::hours(1))
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO session_bill_lines (bill_id, position, kind, description, quantity, unit, \
           unit_price, amount_cents) VALUES \
         ($1, 1, 'energy', 'Energy', 12.5, 'kWh', $2::numeric / 1250, $2), \
         ($1, 2, 'fee', 'Insurance fee (damage reserve)', 1, 'session', 0.5, 50), \
         ($1, 3, 'tax', 'Sales tax 10%', NULL, NULL, NULL, $3)",
    )
    .bind(id)
    .bind(energy)
    .bind(tax)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

pub async fn post(pool: &PgPool, bill: Uuid) {
    let mut tx = pool.begin().await.unwrap();
    ledger::post_session_bill(&mut tx, bill, now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

pub async fn invoice_of(
    pool: &PgPool,
    source: Source,
    id: Uuid,
    kind: InvoiceKind,
) -> Option<Invoice> {
    let mut conn = pool.acquire().await.unwrap();
    let found = store::by_source(&mut conn, source, id, kind)
        .await
        .unwrap()?;
    store::get(pool, found).await.unwrap()
}

/// Every number an issuer handed out, in order.
pub async fn numbers(pool: &PgPool, issuer_key: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT number FROM invoices WHERE issuer_key = $1 ORDER BY sequence")
        .bind(issuer_key)
        .fetch_all(pool)
        .await
        .unwrap()
}

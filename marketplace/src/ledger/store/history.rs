//! Reads for people: a driver's wallets, their transaction history, their settings, and the
//! admin's view of any account.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::Minor;

/// One of a driver's accounts (wallet, hold or receivable) with its balance.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DriverAccount {
    pub id: Uuid,
    pub kind: String,
    pub currency: String,
    pub balance_minor: Minor,
}

/// The driver's accounts in every currency they have used, by currency.
pub async fn driver_accounts(
    conn: &mut PgConnection,
    driver: Uuid,
) -> Result<Vec<DriverAccount>, Error> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.kind, a.currency, coalesce(w.balance_minor, \
           (SELECT coalesce(sum(e.amount_minor), 0) FROM ledger_entries e \
             WHERE e.account_id = a.id))::bigint AS balance_minor \
         FROM ledger_accounts a LEFT JOIN wallet_balances w ON w.account_id = a.id \
         WHERE a.owner_id = $1 \
           AND a.kind IN ('driver_wallet', 'driver_hold', 'driver_receivable') \
         ORDER BY a.currency, a.kind",
    )
    .bind(driver)
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    /// Just this posting.
    pub id: Option<Uuid>,
    pub kinds: Vec<String>,
    pub currency: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub offset: i64,
}

/// A posting as its driver sees it: what it did to their wallet, hold and debt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TransactionRow {
    pub id: Uuid,
    pub kind: String,
    pub currency: String,
    pub memo: String,
    pub booking_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub hold_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub wallet_minor: Minor,
    pub held_minor: Minor,
    /// The receivable's change: negative when the driver came to owe more.
    pub receivable_minor: Minor,
    pub total: i64,
}

/// The postings that touched the driver's own accounts, newest first.
pub async fn transactions(
    conn: &mut PgConnection,
    driver: Uuid,
    f: &TransactionFilter,
) -> Result<(Vec<TransactionRow>, i64), Error> {
    let kinds = (!f.kinds.is_empty()).then_some(&f.kinds);
    let rows: Vec<TransactionRow> = sqlx::query_as(
        "SELECT p.id, p.kind, p.currency, p.memo, p.booking_id, p.session_id, p.hold_id, \
           p.created_at, \
           coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'driver_wallet'), 0)::bigint \
             AS wallet_minor, \
           coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'driver_hold'), 0)::bigint \
             AS held_minor, \
           coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'driver_receivable'), 0)::bigint \
             AS receivable_minor, \
           count(*) OVER () AS total \
         FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id \
         JOIN ledger_accounts a ON a.id = e.account_id \
         WHERE a.owner_id = $1 \
           AND a.kind IN ('driver_wallet', 'driver_hold', 'driver_receivable') \
           AND ($2::text[] IS NULL OR p.kind = ANY($2)) \
           AND ($3::text IS NULL OR p.currency = $3) \
           AND ($4::timestamptz IS NULL OR p.created_at >= $4) \
           AND ($5::timestamptz IS NULL OR p.created_at < $5) \
           AND ($8::uuid IS NULL OR p.id = $8) \
         GROUP BY p.id \
         ORDER BY p.created_at DESC, p.id DESC LIMIT $6 OFFSET $7",
    )
    .bind(driver)
    .bind(kinds)
    .bind(&f.currency)
    .bind(f.from)
    .bind(f.to)
    .bind(f.limit)
    .bind(f.offset)
    .bind(f.id)
    .fetch_all(&mut *conn)
    .await?;
    let total = match rows.first() {
        Some(r) => r.total,
        // past the last page: count without the page
        None if f.offset > 0 => {
            let page = TransactionFilter {
                limit: 1,
                offset: 0,
                ..f.clone()
            };
            Box::pin(transactions(conn, driver, &page)).await?.1
        }
        None => 0,
    };
    Ok((rows, total))
}

pub async fn threshold(conn: &mut PgConnection, user: Uuid) -> Result<Option<Minor>, Error> {
    let t: Option<Option<Minor>> = sqlx::query_scalar(
        "SELECT low_balance_threshold_minor FROM wallet_settings WHERE user_id = $1",
    )
    .bind(user)
    .fetch_optional(conn)
    .await?;
    Ok(t.flatten())
}

pub async fn set_threshold(
    conn: &mut PgConnection,
    user: Uuid,
    threshold: Option<Minor>,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO wallet_settings (user_id, low_balance_threshold_minor, updated_at) \
         VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE \
         SET low_balance_threshold_minor = $2, updated_at = $3",
    )
    .bind(user)
    .bind(threshold)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Any account, for admins: its balance from the entries and, for wallets and holds, the
/// cached balance next to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: Uuid,
    pub kind: String,
    pub owner_id: Option<Uuid>,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub balance_minor: Minor,
    pub cached_balance_minor: Option<Minor>,
    pub entry_count: i64,
    pub open_disputes: i64,
}

/// `open_disputes`: a driver's disputes (chargebacks) in the account's currency the provider
/// has not closed yet (`payment_disputes`), so admins see who is under one.
const ACCOUNT_SELECT: &str = "SELECT a.id, a.kind, a.owner_id, a.currency, a.created_at, \
    coalesce(s.balance, 0)::bigint AS balance_minor, w.balance_minor AS cached_balance_minor, \
    coalesce(s.n, 0) AS entry_count, \
    (SELECT count(*) FROM payment_disputes d JOIN payments p ON p.id = d.payment_id \
      WHERE a.kind IN ('driver_wallet', 'driver_hold', 'driver_receivable') \
        AND p.user_id = a.owner_id AND d.currency = a.currency \
        AND d.status NOT IN ('won', 'lost', 'warning_closed')) AS open_disputes \
    FROM ledger_accounts a LEFT JOIN wallet_balances w ON w.account_id = a.id \
    LEFT JOIN LATERAL (SELECT sum(e.amount_minor) AS balance, count(*) AS n \
      FROM ledger_entries e WHERE e.account_id = a.id) s ON true";

pub async fn account(conn: &mut PgConnection, id: Uuid) -> Result<Option<AccountRow>, Error> {
    let sql = format!("{ACCOUNT_SELECT} WHERE a.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub kind: Option<String>,
    pub owner_id: Option<Uuid>,
    pub currency: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn accounts(
    conn: &mut PgConnection,
    f: &AccountFilter,
) -> Result<(Vec<AccountRow>, i64), Error> {
    let filter = "WHERE ($1::text IS NULL OR a.kind = $1) \
        AND ($2::uuid IS NULL OR a.owner_id = $2) AND ($3::text IS NULL OR a.currency = $3)";
    let sql = format!(
        "{ACCOUNT_SELECT} {filter} ORDER BY a.kind, a.currency, a.created_at, a.id \
         LIMIT $4 OFFSET $5"
    );
    let rows = sqlx::query_as(&sql)
        .bind(&f.kind)
        .bind(f.owner_id)
        .bind(&f.currency)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(&mut *conn)
        .await?;
    let total: i64 =
        sqlx::query_scalar(&format!("SELECT count(*) FROM ledger_accounts a {filter}"))
            .bind(&f.kind)
            .bind(f.owner_id)
            .bind(&f.currency)
            .fetch_one(conn)
            .await?;
    Ok((rows, total))
}

/// One entry on an account, with its posting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub posting_id: Uuid,
    pub kind: String,
    pub amount_minor: Minor,
    pub memo: String,
    pub user_id: Option<Uuid>,
    pub booking_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub hold_id: Option<Uuid>,
    pub provider_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn entries(
    conn: &mut PgConnection,
    account: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Vec<EntryRow>, Error> {
    Ok(sqlx::query_as(
        "SELECT e.posting_id, p.kind, e.amount_minor, p.memo, p.user_id, p.booking_id, \
           p.session_id, p.hold_id, p.provider_event_id, p.created_at \
         FROM ledger_entries e JOIN ledger_postings p ON p.id = e.posting_id \
         WHERE e.account_id = $1 ORDER BY p.created_at DESC, e.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(account)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?)
}

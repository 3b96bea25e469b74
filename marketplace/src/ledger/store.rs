//! SQL for the ledger, and nothing else. Every function takes a connection so the service
//! runs several of them in one transaction (often the caller's: a booking's confirm or
//! cancel posts in the transaction that decides it).
//!
//! The database has the last word on every invariant: the deferred `ledger_postings_balanced`
//! trigger refuses an unbalanced posting at commit, `wallet_balances_non_negative` refuses a
//! wallet going below zero, `ledger_postings_idempotency_key` makes a retried posting a no-op.

pub mod history;
pub mod holds;
pub mod shares;
pub mod sources;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{AccountKind, AccountRef, Cause, Entries, Minor, PostingKind};
use crate::error::Error;

/// The CHECK that keeps drivers' wallets and holds at or above zero.
pub const NON_NEGATIVE: &str = "wallet_balances_non_negative";
/// The deferred constraint trigger: every posting sums to zero.
pub const BALANCED: &str = "ledger_postings_balanced";

/// Whether an error is a wallet (or hold) that would have gone below zero.
pub fn is_insufficient(err: &Error) -> bool {
    matches!(err, Error::Database(sqlx::Error::Database(db)) if db.constraint() == Some(NON_NEGATIVE))
}

/// A posting about to be written.
#[derive(Debug, Clone)]
pub struct NewPosting {
    pub kind: PostingKind,
    pub currency: String,
    /// Derived from what caused it: a retry with the same key is a no-op.
    pub key: String,
    pub memo: String,
    pub cause: Cause,
    pub hold_id: Option<Uuid>,
    pub reverses: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl NewPosting {
    pub fn new(kind: PostingKind, currency: &str, key: String, at: DateTime<Utc>) -> Self {
        Self {
            kind,
            currency: currency.to_owned(),
            key,
            memo: String::new(),
            cause: Cause::default(),
            hold_id: None,
            reverses: None,
            at,
        }
    }

    pub fn memo(mut self, memo: impl Into<String>) -> Self {
        self.memo = memo.into();
        self
    }

    pub fn cause(mut self, cause: Cause) -> Self {
        self.cause = cause;
        self
    }

    pub fn hold(mut self, hold: Uuid) -> Self {
        self.hold_id = Some(hold);
        self
    }
}

/// What writing a posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    New(Uuid),
    /// A posting with this key exists already: nothing was written.
    Existing(Uuid),
}

impl Posted {
    pub fn id(self) -> Uuid {
        match self {
            Self::New(id) | Self::Existing(id) => id,
        }
    }
}

/// The account's id, created on first use (concurrent first uses agree on one row).
pub async fn account_id(
    conn: &mut PgConnection,
    account: AccountRef,
    currency: &str,
) -> Result<Uuid, Error> {
    if let Some(id) = find_account(conn, account, currency).await? {
        return Ok(id);
    }
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO ledger_accounts (id, kind, owner_id, currency) VALUES ($1, $2, $3, $4) \
         ON CONFLICT ON CONSTRAINT ledger_accounts_kind_owner_currency_key DO NOTHING \
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(account.kind.as_str())
    .bind(account.owner)
    .bind(currency)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = inserted {
        return Ok(id);
    }
    // another transaction created it meanwhile (and has committed: the insert waited)
    find_account(conn, account, currency)
        .await?
        .ok_or_else(|| Error::Internal(format!("ledger account {account:?} vanished")))
}

/// The account's id if it exists (reads never create accounts).
pub async fn find_account(
    conn: &mut PgConnection,
    account: AccountRef,
    currency: &str,
) -> Result<Option<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM ledger_accounts \
         WHERE kind = $1 AND owner_id IS NOT DISTINCT FROM $2 AND currency = $3",
    )
    .bind(account.kind.as_str())
    .bind(account.owner)
    .bind(currency)
    .fetch_optional(conn)
    .await?)
}

/// Writes a posting and its entries, unless one with the same key exists. Entries go in in
/// account order, so concurrent postings take the balance rows' locks in one order.
///
/// A posting that pays off what a driver owes (whatever it is: a top-up's settlement, a
/// refund, a captured card authorization, a corrected bill) releases, in the same
/// transaction, the hosts' shares that waited for that money (`ledger::pending`).
pub async fn post(
    conn: &mut PgConnection,
    p: &NewPosting,
    entries: &Entries,
) -> Result<Posted, Error> {
    let posted = insert_posting(conn, p, entries).await?;
    if let Posted::New(_) = posted {
        for leg in entries.legs() {
            if let (AccountKind::DriverReceivable, Some(driver), true) =
                (leg.account.kind, leg.account.owner, leg.amount > 0)
            {
                shares::release_paid(conn, driver, &p.currency, p.at).await?;
            }
        }
    }
    Ok(posted)
}

/// [`post`] without releasing shares (the release's own posting).
pub(super) async fn insert_posting(
    conn: &mut PgConnection,
    p: &NewPosting,
    entries: &Entries,
) -> Result<Posted, Error> {
    let id = Uuid::now_v7();
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO ledger_postings (id, kind, currency, idempotency_key, memo, user_id, \
           booking_id, booking_refund_id, session_id, session_bill_id, hold_id, \
           provider_event_id, reverses, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(id)
    .bind(p.kind.as_str())
    .bind(&p.currency)
    .bind(&p.key)
    .bind(&p.memo)
    .bind(p.cause.user_id)
    .bind(p.cause.booking_id)
    .bind(p.cause.booking_refund_id)
    .bind(p.cause.session_id)
    .bind(p.cause.session_bill_id)
    .bind(p.hold_id)
    .bind(&p.cause.provider_event_id)
    .bind(p.reverses)
    .bind(p.at)
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_none() {
        return posting_by_key(conn, &p.key)
            .await?
            .map(Posted::Existing)
            .ok_or_else(|| Error::Internal(format!("posting {} vanished", p.key)));
    }
    let mut accounts = Vec::with_capacity(entries.legs().len());
    let mut amounts = Vec::with_capacity(entries.legs().len());
    for leg in entries.legs() {
        accounts.push(account_id(conn, leg.account, &p.currency).await?);
        amounts.push(leg.amount);
    }
    sqlx::query(
        "INSERT INTO ledger_entries (posting_id, account_id, currency, amount_minor) \
         SELECT $1, a, $2, m FROM unnest($3::uuid[], $4::bigint[]) AS t(a, m) ORDER BY a",
    )
    .bind(id)
    .bind(&p.currency)
    .bind(&accounts)
    .bind(&amounts)
    .execute(conn)
    .await?;
    Ok(Posted::New(id))
}

pub async fn posting_by_key(conn: &mut PgConnection, key: &str) -> Result<Option<Uuid>, Error> {
    Ok(
        sqlx::query_scalar("SELECT id FROM ledger_postings WHERE idempotency_key = $1")
            .bind(key)
            .fetch_optional(conn)
            .await?,
    )
}

/// One entry of a stored posting, with its account as the model names it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEntry {
    pub account_id: Uuid,
    pub kind: String,
    pub owner_id: Option<Uuid>,
    pub amount_minor: Minor,
}

impl StoredEntry {
    pub fn account(&self) -> Result<AccountRef, Error> {
        let kind: AccountKind = self.kind.parse().map_err(Error::Internal)?;
        Ok(AccountRef {
            kind,
            owner: self.owner_id,
        })
    }
}

/// A stored posting's head, as the service needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPosting {
    pub id: Uuid,
    pub kind: String,
    pub currency: String,
    pub hold_id: Option<Uuid>,
    pub provider_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn posting(conn: &mut PgConnection, id: Uuid) -> Result<Option<StoredPosting>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, kind, currency, hold_id, provider_event_id, created_at \
         FROM ledger_postings WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

pub async fn entries_of(conn: &mut PgConnection, posting: Uuid) -> Result<Vec<StoredEntry>, Error> {
    Ok(sqlx::query_as(
        "SELECT e.account_id, a.kind, a.owner_id, e.amount_minor \
         FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
         WHERE e.posting_id = $1 ORDER BY e.account_id",
    )
    .bind(posting)
    .fetch_all(conn)
    .await?)
}

/// A driver's money in one currency, with the wallet and hold balance rows locked until the
/// transaction ends: every use case that moves a driver's money takes this lock first (after
/// the hold, bill or refund row it works on), so its decisions rest on balances nobody else
/// changes meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverLock {
    pub wallet_account: Uuid,
    pub hold_account: Uuid,
    pub wallet: Minor,
    /// Everything held for the driver in this currency (all holds).
    pub held: Minor,
    /// What the driver owes (the receivable's balance, negated).
    pub debt: Minor,
}

pub async fn lock_driver(
    conn: &mut PgConnection,
    driver: Uuid,
    currency: &str,
) -> Result<DriverLock, Error> {
    let wallet_account = account_id(conn, AccountRef::wallet(driver), currency).await?;
    let hold_account = account_id(conn, AccountRef::hold(driver), currency).await?;
    let rows: Vec<(Uuid, Minor)> = sqlx::query_as(
        "SELECT account_id, balance_minor FROM wallet_balances \
         WHERE account_id = ANY($1) ORDER BY account_id FOR UPDATE",
    )
    .bind(&[wallet_account, hold_account][..])
    .fetch_all(&mut *conn)
    .await?;
    let balance = |id| rows.iter().find(|(a, _)| *a == id).map_or(0, |(_, b)| *b);
    Ok(DriverLock {
        wallet_account,
        hold_account,
        wallet: balance(wallet_account),
        held: balance(hold_account),
        debt: debt(conn, driver, currency).await?,
    })
}

/// What the driver owes in `currency` (0 when nothing).
pub async fn debt(conn: &mut PgConnection, driver: Uuid, currency: &str) -> Result<Minor, Error> {
    let owed: Minor = sqlx::query_scalar(
        "SELECT coalesce(sum(e.amount_minor), 0)::bigint FROM ledger_entries e \
         JOIN ledger_accounts a ON a.id = e.account_id \
         WHERE a.kind = 'driver_receivable' AND a.owner_id = $1 AND a.currency = $2",
    )
    .bind(driver)
    .bind(currency)
    .fetch_one(conn)
    .await?;
    Ok(-owed)
}

/// Every currency the driver owes money in, with what is owed (positive), largest first.
pub async fn debts(conn: &mut PgConnection, driver: Uuid) -> Result<Vec<(String, Minor)>, Error> {
    let rows: Vec<(String, Minor)> = sqlx::query_as(
        "SELECT a.currency::text, (-sum(e.amount_minor))::bigint AS owed FROM ledger_entries e \
         JOIN ledger_accounts a ON a.id = e.account_id \
         WHERE a.kind = 'driver_receivable' AND a.owner_id = $1 \
         GROUP BY a.currency HAVING sum(e.amount_minor) < 0 ORDER BY owed DESC",
    )
    .bind(driver)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// The wallet's balance without locking or creating anything (0 when there is no wallet).
pub async fn wallet_balance(
    conn: &mut PgConnection,
    driver: Uuid,
    currency: &str,
) -> Result<Minor, Error> {
    let balance: Option<Minor> = sqlx::query_scalar(
        "SELECT w.balance_minor FROM wallet_balances w \
         JOIN ledger_accounts a ON a.id = w.account_id \
         WHERE a.kind = 'driver_wallet' AND a.owner_id = $1 AND a.currency = $2",
    )
    .bind(driver)
    .bind(currency)
    .fetch_optional(conn)
    .await?;
    Ok(balance.unwrap_or(0))
}

//! Withheld host shares (`ledger_pending_shares`): a row per posting and host that left a
//! driver owing money; see `ledger::pending` for the rules.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::{Minor, PostingKind};
use crate::ledger::pending::{self, Share};
use crate::ledger::plan;
use crate::ledger::store::NewPosting;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredShare {
    pub id: Uuid,
    pub host_id: Uuid,
    pub owed_minor: Minor,
    pub share_minor: Minor,
    pub paid_minor: Minor,
    pub released_minor: Minor,
}

impl StoredShare {
    pub fn share(&self) -> Share {
        Share {
            owed: self.owed_minor,
            share: self.share_minor,
            paid: self.paid_minor,
            released: self.released_minor,
        }
    }
}

const COLUMNS: &str = "id, host_id, owed_minor, share_minor, paid_minor, released_minor";

/// What a withholding posting left owed.
pub struct NewShare<'a> {
    pub driver: Uuid,
    pub host: Uuid,
    pub currency: &'a str,
    pub posting: Uuid,
    pub session: Option<Uuid>,
    pub owed: Minor,
    pub share: Minor,
}

pub async fn insert(
    conn: &mut PgConnection,
    s: &NewShare<'_>,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO ledger_pending_shares (id, driver_id, host_id, currency, posting_id, \
           session_id, owed_minor, share_minor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(s.driver)
    .bind(s.host)
    .bind(s.currency)
    .bind(s.posting)
    .bind(s.session)
    .bind(s.owed)
    .bind(s.share)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The driver's open shares in `currency`, oldest first, locked.
pub async fn open_of_driver(
    conn: &mut PgConnection,
    driver: Uuid,
    currency: &str,
) -> Result<Vec<StoredShare>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM ledger_pending_shares \
         WHERE driver_id = $1 AND currency = $2 AND settled_at IS NULL \
         ORDER BY created_at, id FOR UPDATE"
    );
    Ok(sqlx::query_as(&sql)
        .bind(driver)
        .bind(currency)
        .fetch_all(conn)
        .await?)
}

/// The open shares a session's bills withheld for `host`, newest first, locked.
pub async fn open_of_session(
    conn: &mut PgConnection,
    session: Uuid,
    host: Uuid,
) -> Result<Vec<StoredShare>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM ledger_pending_shares \
         WHERE session_id = $1 AND host_id = $2 AND settled_at IS NULL \
         ORDER BY created_at DESC, id DESC FOR UPDATE"
    );
    Ok(sqlx::query_as(&sql)
        .bind(session)
        .bind(host)
        .fetch_all(conn)
        .await?)
}

/// Stores new figures; the share settles when paid and released in full.
pub async fn update(
    conn: &mut PgConnection,
    s: &StoredShare,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE ledger_pending_shares SET owed_minor = $2, share_minor = $3, paid_minor = $4, \
           released_minor = $5, \
           settled_at = CASE WHEN $5 = $3 AND $4 = $2 THEN $6 END \
         WHERE id = $1",
    )
    .bind(s.id)
    .bind(s.owed_minor)
    .bind(s.share_minor)
    .bind(s.paid_minor)
    .bind(s.released_minor)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Releases what the driver has paid of the shares' debt (see `ledger::pending`): each share
/// paid further moves its released part from the host's pending to their payable, one
/// posting per step (keyed by the share and its new released total, so it happens once).
/// Answers what was released.
pub async fn release_paid(
    conn: &mut PgConnection,
    driver: Uuid,
    currency: &str,
    at: DateTime<Utc>,
) -> Result<Minor, Error> {
    let open = open_of_driver(conn, driver, currency).await?;
    if open.is_empty() {
        return Ok(0);
    }
    let debt = super::debt(conn, driver, currency).await?;
    let figures: Vec<Share> = open.iter().map(StoredShare::share).collect();
    let paid = pending::collected(&figures, debt);
    if paid == 0 {
        return Ok(0);
    }
    let mut released = 0;
    for (s, step) in open.iter().zip(pending::allocate(&figures, paid)) {
        if step == pending::Step::default() {
            continue;
        }
        let next = StoredShare {
            paid_minor: s.paid_minor + step.paid,
            released_minor: s.released_minor + step.released,
            ..s.clone()
        };
        update(conn, &next, at).await?;
        if step.released > 0 {
            let entries = plan::release_share(s.host_id, step.released)
                .map_err(|e| Error::Internal(format!("share release: {e}")))?;
            let posting = NewPosting::new(
                PostingKind::ShareRelease,
                currency,
                format!("share_release:{}:{}", s.id, next.released_minor),
                at,
            )
            .memo("the driver paid what they owed: the host's share is payable");
            super::insert_posting(conn, &posting, &entries).await?;
            released += step.released;
        }
    }
    Ok(released)
}

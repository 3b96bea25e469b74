//! Reconciliation: proves from the stored rows alone that the ledger is whole. Every check
//! is a query for rows that break an invariant; a healthy ledger answers none of them.
//! `csms ledger reconcile` prints the report and fails when anything is found.
//!
//! The database already refuses most of these (the balance trigger, the CHECKs, the
//! append-only triggers); reconciliation is the independent proof that nothing got past
//! them — a trigger disabled for maintenance, a restored backup, a bug in a migration.
//! Provider payments: each top-up must name its provider payment (`provider_event_id`);
//! matching those against the provider's own records is the payment provider's check, to be
//! added here with the provider port.

use serde::Serialize;
use sqlx::PgConnection;

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discrepancy {
    /// Which invariant (a stable name, see [`CHECKS`]).
    pub check: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub postings: i64,
    /// What came in through payment providers (provider clearing, negated).
    pub provider_clearing_cents: i64,
    /// Drivers' wallets and holds together.
    pub drivers_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub accounts: i64,
    pub postings: i64,
    pub entries: i64,
    pub currencies: Vec<CurrencyTotal>,
    pub discrepancies: Vec<Discrepancy>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.discrepancies.is_empty()
    }
}

/// Each check: its name, what it proves, and the query answering one text row per breach.
pub const CHECKS: &[(&str, &str, &str)] = &[
    (
        "posting_balanced",
        "every posting has at least two entries summing to zero",
        "SELECT format('posting %s (%s): %s entries summing to %s', p.id, p.kind, count(e.id), \
           coalesce(sum(e.amount_minor), 0)) \
         FROM ledger_postings p LEFT JOIN ledger_entries e ON e.posting_id = p.id \
         GROUP BY p.id HAVING count(e.id) < 2 OR coalesce(sum(e.amount_minor), 0) <> 0",
    ),
    (
        "currency_balanced",
        "all accounts of each currency sum to zero",
        "SELECT format('%s: all accounts sum to %s', currency, sum(amount_minor)) \
         FROM ledger_entries GROUP BY currency HAVING sum(amount_minor) <> 0",
    ),
    (
        "entry_currency",
        "every entry is in its posting's and its account's currency",
        "SELECT format('entry %s of posting %s: %s, posting %s, account %s', e.id, p.id, \
           e.currency, p.currency, a.currency) \
         FROM ledger_entries e JOIN ledger_postings p ON p.id = e.posting_id \
         JOIN ledger_accounts a ON a.id = e.account_id \
         WHERE e.currency <> p.currency OR e.currency <> a.currency",
    ),
    (
        "wallet_cache",
        "every cached wallet and hold balance equals the sum of its entries",
        "SELECT format('account %s (%s of %s): cached %s, entries sum to %s', a.id, a.kind, \
           a.owner_id, w.balance_minor, coalesce(s.total, 0)) \
         FROM ledger_accounts a LEFT JOIN wallet_balances w ON w.account_id = a.id \
         LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM ledger_entries \
           GROUP BY account_id) s ON s.account_id = a.id \
         WHERE a.kind IN ('driver_wallet', 'driver_hold') \
           AND w.balance_minor IS DISTINCT FROM coalesce(s.total, 0)",
    ),
    (
        "wallet_non_negative",
        "no driver wallet or hold is below zero",
        "SELECT format('account %s (%s of %s) is at %s', a.id, a.kind, a.owner_id, s.total) \
         FROM ledger_accounts a JOIN (SELECT account_id, sum(amount_minor) AS total \
           FROM ledger_entries GROUP BY account_id) s ON s.account_id = a.id \
         WHERE a.kind IN ('driver_wallet', 'driver_hold') AND s.total < 0",
    ),
    (
        "hold_balance",
        "open holds keep what is left of them, closed holds nothing, and each driver's hold \
         account holds exactly the sum of their holds",
        "WITH left_of AS ( \
           SELECT h.id, h.driver_id, h.currency, h.status, h.amount_minor, \
             coalesce((SELECT sum(e.amount_minor) FROM ledger_postings p \
               JOIN ledger_entries e ON e.posting_id = p.id \
               JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'driver_hold' \
              WHERE p.hold_id = h.id), 0) AS remaining \
           FROM ledger_holds h) \
         SELECT format('hold %s (%s): %s of %s left', id, status, remaining, amount_minor) \
           FROM left_of WHERE remaining < 0 OR remaining > amount_minor \
             OR (status = 'closed' AND remaining <> 0) \
         UNION ALL \
         SELECT format('driver %s %s: hold account at %s, holds add up to %s', \
             a.owner_id, a.currency, coalesce(s.total, 0), coalesce(l.total, 0)) \
           FROM ledger_accounts a \
           LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM ledger_entries \
             GROUP BY account_id) s ON s.account_id = a.id \
           LEFT JOIN (SELECT driver_id, currency, sum(remaining) AS total FROM left_of \
             GROUP BY driver_id, currency) l \
             ON l.driver_id = a.owner_id AND l.currency = a.currency \
          WHERE a.kind = 'driver_hold' AND coalesce(s.total, 0) <> coalesce(l.total, 0)",
    ),
    (
        "reversal_exact",
        "every reversal negates the posting it reverses, entry by entry",
        "SELECT format('reversal %s of %s does not negate it', r.id, r.reverses) \
         FROM ledger_postings r WHERE r.reverses IS NOT NULL AND EXISTS ( \
           SELECT account_id, sum(amount_minor) FROM ( \
             SELECT account_id, amount_minor FROM ledger_entries WHERE posting_id = r.id \
             UNION ALL \
             SELECT account_id, amount_minor FROM ledger_entries WHERE posting_id = r.reverses \
           ) x GROUP BY account_id HAVING sum(amount_minor) <> 0)",
    ),
    (
        "provider_payment",
        "every top-up names the provider payment it came from",
        "SELECT format('top-up %s names no provider payment', id) FROM ledger_postings \
         WHERE kind = 'topup' AND provider_event_id IS NULL",
    ),
    (
        "posted_sources",
        "every first bill with an amount that is marked posted has its posting, and every \
         posting of a bill or refund decision has it marked posted",
        "SELECT format('session bill %s is marked posted but has no posting', b.id) \
           FROM session_bills b WHERE b.posted_at IS NOT NULL AND NOT EXISTS ( \
             SELECT 1 FROM ledger_postings p WHERE p.session_bill_id = b.id) \
             AND b.supersedes IS NULL AND b.total_cents <> 0 \
         UNION ALL \
         SELECT format('posting %s of session bill %s, which is not marked posted', p.id, b.id) \
           FROM ledger_postings p JOIN session_bills b ON b.id = p.session_bill_id \
          WHERE b.posted_at IS NULL \
         UNION ALL \
         SELECT format('posting %s of refund decision %s, which is not marked posted', p.id, r.id) \
           FROM ledger_postings p JOIN booking_refunds r ON r.id = p.booking_refund_id \
          WHERE r.posted_at IS NULL",
    ),
];

pub async fn reconcile(conn: &mut PgConnection) -> Result<Report, Error> {
    let mut discrepancies = Vec::new();
    for (check, _, sql) in CHECKS {
        let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut *conn).await?;
        discrepancies.extend(rows.into_iter().map(|detail| Discrepancy { check, detail }));
    }
    let (accounts, postings, entries): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM ledger_accounts), (SELECT count(*) FROM ledger_postings), \
           (SELECT count(*) FROM ledger_entries)",
    )
    .fetch_one(&mut *conn)
    .await?;
    let currencies = sqlx::query_as::<_, (String, i64, i64, i64)>(
        "SELECT p.currency, count(DISTINCT p.id), \
           coalesce(-sum(e.amount_minor) FILTER (WHERE a.kind = 'provider_clearing'), 0)::bigint, \
           coalesce(sum(e.amount_minor) FILTER (WHERE a.kind IN ('driver_wallet', \
             'driver_hold')), 0)::bigint \
         FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id \
         JOIN ledger_accounts a ON a.id = e.account_id GROUP BY p.currency ORDER BY 1",
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|(currency, postings, clearing, drivers)| CurrencyTotal {
        currency: currency.trim().to_owned(),
        postings,
        provider_clearing_cents: clearing,
        drivers_cents: drivers,
    })
    .collect();
    Ok(Report {
        accounts,
        postings,
        entries,
        currencies,
        discrepancies,
    })
}

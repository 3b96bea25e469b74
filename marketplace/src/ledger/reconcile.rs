//! Reconciliation: proves from the stored rows alone that the ledger is whole. Every check
//! is a query for rows that break an invariant; a healthy ledger answers none of them.
//! `csms ledger reconcile` prints the report and fails when anything is found.
//!
//! The database already refuses most of these (the balance trigger, the CHECKs, the
//! append-only triggers); reconciliation is the independent proof that nothing got past
//! them — a trigger disabled for maintenance, a restored backup, a bug in a migration.
//!
//! Card payments (migration `0010_payments.sql`, what the provider did and why) are matched
//! against the ledger both ways: every card payment that received money has exactly one
//! top-up of that amount naming it (`<provider>:<payment>` in `provider_event_id`, the row's
//! `ledger_posting_id`), and one that received nothing (a released authorization) has none;
//! every posting naming a provider payment or refund has the row that records it; every
//! refund to a card has its refund posting (reversed if the provider failed it); nothing
//! captured more than was authorized. The `local_test` development top-ups of the wallet
//! API have no payment rows by design. Subscription charges are matched the same way: each
//! paid charge's posting moves its amount through the wallet and its VAT into tax payable,
//! and each transfer paid to a host its settlement of the host payable. Money the provider
//! moved on its own is matched too: refunds made in its dashboard are refunds to a card
//! (above); each dispute whose funds were withdrawn or reinstated has that posting, of the
//! disputed amount and fee, and every dispute posting is a dispute's; each transfer reversed
//! at the provider has reversal postings adding up to its `amount_reversed`, and every
//! reversal posting is a transfer's.

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
    (
        "card_payment_posted",
        "every card payment that received money has exactly one top-up of that amount and \
         currency naming it, and one that received nothing (a released authorization) has none",
        "SELECT format('card payment %s (%s %s, %s): received %s %s, %s', p.id, p.provider, \
           p.provider_payment_id, p.status, p.amount_received, p.currency, \
           CASE WHEN p.amount_received = 0 THEN format('yet top-up %s names it', \
                  coalesce(t.id, p.ledger_posting_id)) \
                WHEN t.id IS NULL THEN 'no top-up names it' \
                WHEN p.ledger_posting_id IS DISTINCT FROM t.id THEN \
                  format('it records posting %s, top-up %s names it', p.ledger_posting_id, t.id) \
                ELSE format('its top-up %s is a %s of %s %s', t.id, t.kind, c.amount, t.currency) \
           END) \
         FROM payments p \
         LEFT JOIN ledger_postings t \
           ON t.provider_event_id = p.provider || ':' || p.provider_payment_id \
         LEFT JOIN LATERAL (SELECT -sum(e.amount_minor) AS amount FROM ledger_entries e \
           JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'provider_clearing' \
          WHERE e.posting_id = t.id) c ON true \
         WHERE p.method = 'card' AND CASE WHEN p.amount_received = 0 \
           THEN t.id IS NOT NULL OR p.ledger_posting_id IS NOT NULL \
           ELSE t.id IS NULL OR p.ledger_posting_id IS DISTINCT FROM t.id OR t.kind <> 'topup' \
             OR t.currency <> p.currency OR c.amount IS DISTINCT FROM p.amount_received END \
         UNION ALL \
         SELECT format('card payment %s is %s but received nothing', p.id, p.status) \
           FROM payments p \
          WHERE p.method = 'card' AND p.status = 'succeeded' AND p.amount_received = 0",
    ),
    (
        "provider_posting_recorded",
        "every top-up or refund posting that names a provider's payment or refund has the \
         payment or refund row that records it",
        "SELECT format('%s %s names %s, which no card payment records', t.kind, t.id, \
           t.provider_event_id) \
           FROM ledger_postings t \
          WHERE t.kind = 'topup' AND t.provider_event_id IS NOT NULL \
            AND t.provider_event_id NOT LIKE 'local_test:%' \
            AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.method = 'card' \
              AND p.provider || ':' || p.provider_payment_id = t.provider_event_id \
              AND p.ledger_posting_id = t.id) \
         UNION ALL \
         SELECT format('%s %s names %s, which no refund to a card records', t.kind, t.id, \
           t.provider_event_id) \
           FROM ledger_postings t \
          WHERE t.kind = 'refund' AND t.provider_event_id IS NOT NULL \
            AND NOT EXISTS (SELECT 1 FROM payment_refunds r \
              WHERE r.destination = 'original_method' AND r.ledger_posting_id = t.id)",
    ),
    (
        "card_refund_posted",
        "every refund to a card the provider did not fail has its refund posting of that \
         amount and currency, and one it failed after it was posted is reversed",
        "SELECT format('refund %s of payment %s (%s, %s %s): %s', r.id, r.payment_id, r.status, \
           r.amount_minor, r.currency, \
           CASE WHEN r.status IN ('failed', 'canceled') THEN \
                  format('posting %s was not reversed', r.ledger_posting_id) \
                WHEN t.id IS NULL THEN 'no refund posting' \
                WHEN r.ledger_reversal_id IS NOT NULL THEN \
                  format('its posting %s was reversed', t.id) \
                ELSE format('its posting %s is a %s of %s %s', t.id, t.kind, c.amount, t.currency) \
           END) \
         FROM payment_refunds r \
         LEFT JOIN ledger_postings t ON t.id = r.ledger_posting_id \
         LEFT JOIN LATERAL (SELECT sum(e.amount_minor) AS amount FROM ledger_entries e \
           JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'provider_clearing' \
          WHERE e.posting_id = t.id) c ON true \
         WHERE r.destination = 'original_method' AND CASE \
           WHEN r.status IN ('failed', 'canceled') \
             THEN r.ledger_posting_id IS NOT NULL AND r.ledger_reversal_id IS NULL \
           ELSE t.id IS NULL OR t.kind <> 'refund' OR t.currency <> r.currency \
             OR c.amount IS DISTINCT FROM r.amount_minor OR r.ledger_reversal_id IS NOT NULL END",
    ),
    (
        "captured_within_authorized",
        "no payment captured more than it authorized or refunded more than it captured, and no \
         automatic capture was decided above the authorization",
        "SELECT format('payment %s: %s authorized, %s captured, %s still capturable, %s refunded', \
           id, amount_minor, amount_received, amount_capturable, amount_refunded) \
           FROM payments WHERE amount_received > amount_minor \
             OR amount_capturable > amount_minor OR amount_refunded > amount_received \
         UNION ALL \
         SELECT format('automatic capture of payment %s: %s decided, %s authorized', \
           a.payment_id, a.amount_minor, p.amount_minor) \
           FROM card_authorization_actions a JOIN payments p ON p.id = a.payment_id \
          WHERE a.amount_minor > p.amount_minor",
    ),
    (
        "subscription_charge_posted",
        "every paid subscription charge has its subscription posting, moving its amount through \
         the wallet and its VAT into tax payable, and every subscription posting is a paid \
         charge's",
        "SELECT format('subscription charge %s (%s of %s %s, VAT %s): %s', c.id, c.kind, \
           c.amount_minor, c.currency, c.tax_minor, \
           CASE WHEN p.id IS NULL THEN 'its posting is missing' \
                ELSE format('its posting %s is a %s in %s moving %s through the wallet and %s \
                  into tax payable', p.id, p.kind, p.currency, w.amount, t.amount) END) \
         FROM subscription_charges c \
         LEFT JOIN ledger_postings p ON p.id = c.ledger_posting_id \
         LEFT JOIN LATERAL (SELECT coalesce(sum(e.amount_minor), 0) AS amount \
           FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
          WHERE e.posting_id = p.id AND a.kind = 'driver_wallet') w ON true \
         LEFT JOIN LATERAL (SELECT coalesce(sum(e.amount_minor), 0) AS amount \
           FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
          WHERE e.posting_id = p.id AND a.kind = 'tax_payable') t ON true \
         WHERE c.status = 'paid' AND (p.id IS NULL OR p.kind <> 'subscription' \
           OR p.currency <> c.currency \
           OR w.amount <> CASE WHEN c.kind = 'proration_credit' THEN c.amount_minor \
                               ELSE -c.amount_minor END \
           OR t.amount <> CASE WHEN c.kind = 'proration_credit' THEN -c.tax_minor \
                               ELSE c.tax_minor END) \
         UNION ALL \
         SELECT format('subscription posting %s is no paid charge''s', p.id) \
           FROM ledger_postings p \
          WHERE p.kind = 'subscription' AND NOT EXISTS (SELECT 1 FROM subscription_charges c \
            WHERE c.ledger_posting_id = p.id AND c.status = 'paid')",
    ),
    (
        "host_transfer_posted",
        "every transfer paid to a host has its settlement taking that amount from the host's \
         payable, and every such settlement is a paid transfer's",
        "SELECT format('transfer %s to host %s (%s %s): %s', t.id, t.host_id, t.amount_minor, \
           t.currency, CASE WHEN p.id IS NULL THEN 'its posting is missing' \
             ELSE format('its posting %s in %s takes %s from the host payable', p.id, \
               p.currency, -h.amount) END) \
         FROM host_transfers t \
         LEFT JOIN ledger_postings p ON p.id = t.ledger_posting_id \
         LEFT JOIN LATERAL (SELECT coalesce(sum(e.amount_minor), 0) AS amount \
           FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
          WHERE e.posting_id = p.id AND a.kind = 'host_payable' AND a.owner_id = t.host_id) h \
           ON true \
         WHERE t.status = 'paid' AND (p.id IS NULL OR p.currency <> t.currency \
           OR h.amount <> -t.amount_minor) \
         UNION ALL \
         SELECT format('posting %s (%s) pays no paid transfer', p.id, p.idempotency_key) \
           FROM ledger_postings p \
          WHERE p.idempotency_key LIKE 'host\\_transfer:%' AND NOT EXISTS ( \
            SELECT 1 FROM host_transfers t WHERE t.ledger_posting_id = p.id \
              AND t.status = 'paid')",
    ),
    (
        "dispute_posted",
        "every dispute whose funds were withdrawn has its posting giving provider clearing the \
         amount and fee (the fee as provider fees), every reinstated one its posting taking \
         back the amount and any returned fee, and every dispute posting is a dispute's",
        "SELECT format('dispute %s (%s %s %s, fee %s): %s posting %s %s', d.provider_dispute_id, \
           d.status, d.amount_minor, d.currency, d.fee_minor, m.what, m.posting_id, \
           CASE WHEN p.id IS NULL THEN 'is missing' \
             ELSE format('is a %s in %s moving %s through provider clearing and %s through \
               provider fees', p.kind, p.currency, c.clearing, c.fees) END) \
         FROM payment_disputes d \
         CROSS JOIN LATERAL (VALUES \
           ('withdrawal', d.withdrawal_posting_id, d.amount_minor + d.fee_minor, -d.fee_minor, \
            'dispute_withdrawn:'), \
           ('reinstatement', d.reinstatement_posting_id, \
            -(d.amount_minor + d.fee_returned_minor), d.fee_returned_minor, \
            'dispute_reinstated:')) m(what, posting_id, clearing, fees, prefix) \
         LEFT JOIN ledger_postings p ON p.id = m.posting_id \
         LEFT JOIN LATERAL (SELECT \
             coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'provider_clearing'), 0) \
               AS clearing, \
             coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'provider_fees'), 0) AS fees \
           FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
          WHERE e.posting_id = p.id) c ON true \
         WHERE m.posting_id IS NOT NULL AND (p.id IS NULL OR p.currency <> d.currency \
           OR p.idempotency_key <> m.prefix || d.provider || ':' || d.provider_dispute_id \
           OR c.clearing <> m.clearing OR c.fees <> m.fees) \
         UNION ALL \
         SELECT format('posting %s (%s) is no recorded dispute''s', p.id, p.idempotency_key) \
           FROM ledger_postings p \
          WHERE (p.idempotency_key LIKE 'dispute\\_withdrawn:%' \
              OR p.idempotency_key LIKE 'dispute\\_reinstated:%') \
            AND NOT EXISTS (SELECT 1 FROM payment_disputes d \
              WHERE p.id IN (d.withdrawal_posting_id, d.reinstatement_posting_id))",
    ),
    (
        "dispute_fee_posted",
        "every dispute fee reported after its withdrawal is posted (provider clearing to \
         provider fees) exactly once in total, and every such posting is a dispute's",
        "WITH f AS ( \
           SELECT split_part(p.idempotency_key, ':', 2) AS provider, \
             split_part(p.idempotency_key, ':', 3) AS dispute, p.id, p.idempotency_key, \
             coalesce((SELECT sum(e.amount_minor) FROM ledger_entries e \
               JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'provider_fees' \
              WHERE e.posting_id = p.id), 0) AS fees \
           FROM ledger_postings p WHERE p.idempotency_key LIKE 'dispute\\_fee:%') \
         SELECT format('dispute %s: %s of fee reported later, postings move %s', \
           d.provider_dispute_id, d.fee_later_minor, -coalesce(s.fees, 0)) \
         FROM payment_disputes d \
         LEFT JOIN (SELECT provider, dispute, sum(fees) AS fees FROM f \
           GROUP BY provider, dispute) s \
           ON s.provider = d.provider AND s.dispute = d.provider_dispute_id \
         WHERE d.fee_later_minor <> -coalesce(s.fees, 0) \
         UNION ALL \
         SELECT format('posting %s (%s) is no recorded dispute''s', f.id, f.idempotency_key) \
           FROM f WHERE NOT EXISTS (SELECT 1 FROM payment_disputes d \
             WHERE d.provider = f.provider AND d.provider_dispute_id = f.dispute)",
    ),
    (
        "transfer_reversal_posted",
        "every transfer reversed at the provider has reversal postings putting exactly its \
         amount_reversed back into the host's payable, and every reversal posting is a paid \
         transfer's",
        "WITH r AS ( \
           SELECT split_part(p.idempotency_key, ':', 2) AS transfer, p.id, p.currency, \
             coalesce((SELECT sum(e.amount_minor) FROM ledger_entries e \
               JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'host_payable' \
              WHERE e.posting_id = p.id), 0) AS amount \
           FROM ledger_postings p WHERE p.idempotency_key LIKE 'transfer\\_reversal:%') \
         SELECT format('transfer %s to host %s (%s %s): %s reversed, reversal postings put \
           back %s', t.id, t.host_id, t.amount_minor, t.currency, t.amount_reversed, \
           coalesce(s.amount, 0)) \
         FROM host_transfers t \
         LEFT JOIN (SELECT transfer, sum(amount) AS amount FROM r GROUP BY transfer) s \
           ON s.transfer = t.id::text \
         WHERE t.amount_reversed <> coalesce(s.amount, 0) \
         UNION ALL \
         SELECT format('reversal posting %s names transfer %s, which is no paid transfer in %s', \
           r.id, r.transfer, r.currency) \
           FROM r WHERE NOT EXISTS (SELECT 1 FROM host_transfers t \
             WHERE t.id::text = r.transfer AND t.status = 'paid' AND t.currency = r.currency)",
    ),
    (
        "host_pending_shares",
        "each host's pending balance is exactly what their open shares still withhold, and \
         no driver owes less than the shares still count as outstanding (what was paid was \
         released)",
        "SELECT format('host %s %s: pending account at %s, shares withhold %s', a.owner_id, \
           a.currency, coalesce(s.total, 0), coalesce(w.total, 0)) \
         FROM ledger_accounts a \
         LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM ledger_entries \
           GROUP BY account_id) s ON s.account_id = a.id \
         LEFT JOIN (SELECT host_id, currency, sum(share_minor - released_minor) AS total \
           FROM ledger_pending_shares GROUP BY host_id, currency) w \
           ON w.host_id = a.owner_id AND w.currency = a.currency \
         WHERE a.kind = 'host_pending' AND coalesce(s.total, 0) <> coalesce(w.total, 0) \
         UNION ALL \
         SELECT format('driver %s %s: owes %s, open shares count %s as outstanding', \
           o.driver_id, o.currency, coalesce(-r.total, 0), o.outstanding) \
         FROM (SELECT driver_id, currency, sum(owed_minor - paid_minor) AS outstanding \
           FROM ledger_pending_shares WHERE settled_at IS NULL GROUP BY driver_id, currency) o \
         LEFT JOIN (SELECT a.owner_id, a.currency, sum(e.amount_minor) AS total \
           FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
          WHERE a.kind = 'driver_receivable' GROUP BY a.owner_id, a.currency) r \
           ON r.owner_id = o.driver_id AND r.currency = o.currency \
         WHERE coalesce(-r.total, 0) < o.outstanding",
    ),
    (
        "session_hold_settled",
        "no hold of a session outlives it: a cancelled session's hold is released, a billed \
         session's captured",
        "SELECT format('hold %s of session %s (%s) is still open', h.id, s.id, s.status) \
         FROM ledger_holds h JOIN charging_sessions s ON s.id = h.session_id \
         WHERE h.status = 'open' AND (s.status = 'cancelled' OR EXISTS ( \
           SELECT 1 FROM session_bills b WHERE b.session_id = s.id AND b.posted_at IS NOT NULL))",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_top_ups_excused_are_the_wallet_apis() {
        let (_, _, sql) = CHECKS
            .iter()
            .find(|(name, _, _)| *name == "provider_posting_recorded")
            .unwrap();
        let local = crate::ledger::service::LOCAL_TEST;
        assert!(sql.contains(&format!("NOT LIKE '{local}:%'")));
    }

    #[test]
    fn check_names_are_unique() {
        let mut names: Vec<_> = CHECKS.iter().map(|(n, _, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len());
    }
}

//! The money ledger: double-entry, append-only, integer minor units, one currency per posting
//! (migration `0009_ledger.sql`).
//!
//! - Accounts ([`model::AccountKind`]): drivers' wallet, hold and receivable, hosts' payable
//!   and pending (their share of what drivers still owe, released as they pay: [`pending`]),
//!   and the platform's commission, insurance reserve, tax payable, provider clearing and
//!   refunds expense — one per (kind, owner, currency), created on first use.
//! - Sign convention: an entry's amount is what flows INTO its account (credit positive,
//!   debit negative); a posting's entries sum to zero, so all accounts of a currency do too.
//!   Wallets, holds, payables and revenue are positive; provider clearing (cash the providers
//!   collected), refunds expense and what drivers owe are negative.
//! - Every money movement is one posting ([`model::PostingKind`]) carrying what caused it
//!   (user, booking, refund decision, session, bill, hold, provider event) and an idempotency
//!   key derived from that cause, so a retried posting is a no-op. Postings and entries are
//!   never updated or deleted (triggers refuse it); corrections are reversing postings.
//! - The database enforces it too: a deferred constraint trigger refuses an unbalanced
//!   posting at commit; composite foreign keys keep entries in their posting's and account's
//!   currency; the cached `wallet_balances` of wallets and holds, kept by a trigger in the
//!   same transaction, has a CHECK that they never go below zero.
//! - Rules ([`plan`], pure): holds need the wallet; a capture takes the hold, then the
//!   wallet, then goes on account (a receivable the next top-up pays off) and is split
//!   host / commission (20 %, rounded down; the remainder is the host's) / insurance / tax in
//!   the same posting; a cancelled booking's hold goes back by the refund decision, the fee
//!   kept split 20/80.
//! - Wiring ([`service`]): bookings' confirm holds the amount when the wallet covers it
//!   ([`service::HoldPolicy`]), cancellations post their refund decision in the same
//!   transaction, session bills are captured and corrected by difference; [`service::run_due`]
//!   posts whatever is left (no-shows, bills, decisions without a hold).
//! - Payment providers come in through [`service::record_provider_payment`] (the `local_test`
//!   development provider today); [`reconcile`] proves the ledger whole.

pub mod http;
pub mod model;
pub mod pending;
pub mod plan;
pub mod reconcile;
pub mod service;
pub mod store;
pub mod view;

pub use model::{AccountKind, AccountRef, Cause, Charge, Entries, LedgerError, Leg, Minor};
pub use model::{PostingKind, COMMISSION_PERCENT};
pub use reconcile::reconcile;
pub use service::{run_due, DueReport, HoldPolicy};

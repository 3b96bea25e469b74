//! Money a payment provider moved, posted by the ledger: each movement is one small function
//! built from the ledger's plans (balanced entries, idempotency keys derived from what caused
//! them). Payments call these with plain data about their payments and transfers
//! ([`PaymentFacts`], [`TransferFacts`]); the ledger never reads payments' rows.
//!
//! - [`refund_to_card`]: money going back to a card leaves the driver's wallet for provider
//!   clearing (the exact opposite of a top-up).
//! - [`goodwill_to_wallet`]: an admin's refund into the wallet of money the platform already
//!   spent (captured by a bill), at the platform's cost (`platform_refunds`).
//! - [`destination_charge`]: a Connect destination charge sends the host's share to the
//!   host's connected account at once, so what the platform owes the host drops by that
//!   share: host payable → provider clearing, a settlement posted once per payment.
//! - [`host_transfer`]: what the platform owed a host went to the host's connected account
//!   by a transfer: host payable → provider clearing, once per transfer.
//! - [`taken_back`] / [`given_back`]: money the provider moved on its own (a refund made in
//!   its dashboard, a dispute's withdrawal and reinstatement), posted by
//!   [`plan::taken_back`] / [`plan::given_back`]: never refused, since it already moved.
//! - [`transfer_reversed`]: a transfer reversed at the provider puts the amount back into
//!   the host payable (provider clearing → host payable), once per reversal.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Error;
use crate::ledger::model::{AccountKind, AccountRef, Cause, Entries, Leg, Minor, PostingKind};
use crate::ledger::plan::{self, Funds};
use crate::ledger::store::{self as ledger_store, sources, NewPosting};

/// What the ledger needs of a payment a provider collected to post what happens to its money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentFacts<'a> {
    pub payment_id: Uuid,
    /// Whose money it is.
    pub driver_id: Uuid,
    pub currency: &'a str,
    /// The provider that collected it (`stripe`, `local_test`).
    pub provider: &'a str,
    pub booking_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
}

/// What the ledger needs of a transfer of a host's money to their connected account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferFacts<'a> {
    pub transfer_id: Uuid,
    pub host_id: Uuid,
    pub currency: &'a str,
    pub amount: Minor,
    /// The host's connected account at the provider.
    pub destination_account: &'a str,
}

fn insufficient(err: Error) -> Error {
    if ledger_store::is_insufficient(&err) {
        Error::Conflict {
            code: "insufficient_funds",
            detail: "the payment's money is no longer in the wallet (it was spent or held)".into(),
        }
    } else {
        err
    }
}

/// Wallet → provider clearing for a refund to the card, once per provider refund. 409
/// `insufficient_funds` when the wallet no longer holds it.
pub async fn refund_to_card(
    conn: &mut PgConnection,
    payment: PaymentFacts<'_>,
    amount: Minor,
    provider_refund_id: &str,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let entries = plan::topup(payment.driver_id, amount)
        .map_err(|e| Error::Internal(format!("refund plan: {e}")))?
        .reversed();
    ledger_store::lock_driver(conn, payment.driver_id, payment.currency).await?;
    let event = format!("{}:{provider_refund_id}", payment.provider);
    let posting = NewPosting::new(
        PostingKind::Refund,
        payment.currency,
        format!("provider_refund:{event}"),
        now,
    )
    .memo(format!(
        "refund to the card of payment {}",
        payment.payment_id
    ))
    .cause(Cause {
        user_id: actor,
        booking_id: payment.booking_id,
        session_id: payment.session_id,
        provider_event_id: Some(event),
        ..Cause::default()
    });
    ledger_store::post(conn, &posting, &entries)
        .await
        .map(|p| p.id())
        .map_err(insufficient)
}

/// Platform refunds → the driver's wallet: an admin gives money back that was already spent.
pub async fn goodwill_to_wallet(
    conn: &mut PgConnection,
    payment: PaymentFacts<'_>,
    amount: Minor,
    refund_id: Uuid,
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let entries = Entries::balance([
        Leg::new(AccountRef::wallet(payment.driver_id), amount),
        Leg::new(AccountRef::platform(AccountKind::PlatformRefunds), -amount),
    ])
    .map_err(|e| Error::Internal(format!("refund plan: {e}")))?;
    ledger_store::lock_driver(conn, payment.driver_id, payment.currency).await?;
    let posting = NewPosting::new(
        PostingKind::Refund,
        payment.currency,
        format!("payment_refund:{refund_id}"),
        now,
    )
    .memo(format!(
        "refund of payment {} to the wallet",
        payment.payment_id
    ))
    .cause(Cause {
        user_id: Some(actor),
        booking_id: payment.booking_id,
        session_id: payment.session_id,
        ..Cause::default()
    });
    ledger_store::post(conn, &posting, &entries)
        .await
        .map(|p| p.id())
        .map_err(insufficient)
}

/// A destination charge's host share went to the host's connected account: the host
/// payable the session's bill credited is settled by that much, in the same transaction as
/// the payment's own posting, once per payment (the key is the payment's id). `received`
/// less the platform's `application_fee` is the host's share; `destination` is the host's
/// connected account.
pub async fn destination_charge(
    conn: &mut PgConnection,
    payment: PaymentFacts<'_>,
    received: Minor,
    application_fee: Minor,
    destination: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let share = received - application_fee;
    let Some(session) = payment.session_id else {
        return Err(Error::Internal(format!(
            "destination charge {} pays no session",
            payment.payment_id
        )));
    };
    if share <= 0 {
        return Ok(());
    }
    let host = sources::session_host(conn, session).await?;
    let entries = Entries::balance([
        Leg::new(AccountRef::host(host), -share),
        Leg::new(AccountRef::platform(AccountKind::ProviderClearing), share),
    ])
    .map_err(|e| Error::Internal(format!("settlement plan: {e}")))?;
    let posting = NewPosting::new(
        PostingKind::Settlement,
        payment.currency,
        format!("destination_charge:{}", payment.payment_id),
        now,
    )
    .memo(format!(
        "host share of payment {} paid out by the provider to {}",
        payment.payment_id, destination
    ))
    .cause(Cause {
        session_id: Some(session),
        ..Cause::default()
    });
    ledger_store::post(conn, &posting, &entries).await?;
    Ok(())
}

/// A transfer paid the host what the platform owed them: the host payable is settled by
/// that much, once per transfer (the key is the transfer's id).
pub async fn host_transfer(
    conn: &mut PgConnection,
    transfer: TransferFacts<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let amount = transfer.amount;
    let entries = Entries::balance([
        Leg::new(AccountRef::host(transfer.host_id), -amount),
        Leg::new(AccountRef::platform(AccountKind::ProviderClearing), amount),
    ])
    .map_err(|e| Error::Internal(format!("transfer plan: {e}")))?;
    let posting = NewPosting::new(
        PostingKind::Settlement,
        transfer.currency,
        format!("host_transfer:{}", transfer.transfer_id),
        now,
    )
    .memo(format!(
        "paid to the host's account {} by transfer {}",
        transfer.destination_account, transfer.transfer_id
    ));
    Ok(ledger_store::post(conn, &posting, &entries).await?.id())
}

/// A movement the provider made on a payment's money without asking us.
pub struct ProviderMove<'a> {
    pub payment: PaymentFacts<'a>,
    pub amount: Minor,
    /// The provider's fee (taken) or the fee it returned (given back).
    pub fee: Minor,
    pub kind: PostingKind,
    /// The posting's idempotency key: one movement, one posting.
    pub key: String,
    /// `<provider>:<id>` of the provider's refund, when it is one (the reconciliation
    /// matches refund postings to their rows by it).
    pub provider_event: Option<String>,
    pub memo: String,
}

impl ProviderMove<'_> {
    fn posting(&self, now: DateTime<Utc>) -> NewPosting {
        NewPosting::new(self.kind, self.payment.currency, self.key.clone(), now)
            .memo(self.memo.clone())
            .cause(Cause {
                booking_id: self.payment.booking_id,
                session_id: self.payment.session_id,
                provider_event_id: self.provider_event.clone(),
                ..Cause::default()
            })
    }
}

async fn driver_funds(conn: &mut PgConnection, payment: PaymentFacts<'_>) -> Result<Funds, Error> {
    let lock = ledger_store::lock_driver(conn, payment.driver_id, payment.currency).await?;
    Ok(Funds {
        wallet: lock.wallet,
        hold: 0,
        debt: lock.debt,
    })
}

/// The driver's money left at the provider: the wallet first, the rest owed.
pub async fn taken_back(
    conn: &mut PgConnection,
    m: &ProviderMove<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let funds = driver_funds(conn, m.payment).await?;
    let entries = plan::taken_back(m.payment.driver_id, funds, m.amount, m.fee)
        .map_err(|e| Error::Internal(format!("provider move plan: {e}")))?;
    Ok(ledger_store::post(conn, &m.posting(now), &entries)
        .await?
        .id())
}

/// A provider's fee charged to the platform (a dispute's fee reported after its
/// withdrawal): out of provider clearing, into the fees expense.
pub async fn fee_charged(
    conn: &mut PgConnection,
    payment: PaymentFacts<'_>,
    fee: Minor,
    key: String,
    memo: String,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let entries = Entries::balance([
        Leg::new(AccountRef::platform(AccountKind::ProviderClearing), fee),
        Leg::new(AccountRef::platform(AccountKind::ProviderFees), -fee),
    ])
    .map_err(|e| Error::Internal(format!("provider fee plan: {e}")))?;
    let posting = NewPosting::new(PostingKind::Adjustment, payment.currency, key, now).memo(memo);
    Ok(ledger_store::post(conn, &posting, &entries).await?.id())
}

/// Money the provider gave back: the driver's debt first, the rest to the wallet.
pub async fn given_back(
    conn: &mut PgConnection,
    m: &ProviderMove<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let funds = driver_funds(conn, m.payment).await?;
    let entries = plan::given_back(m.payment.driver_id, funds, m.amount, m.fee)
        .map_err(|e| Error::Internal(format!("provider move plan: {e}")))?;
    Ok(ledger_store::post(conn, &m.posting(now), &entries)
        .await?
        .id())
}

/// `amount` of a paid transfer came back from the host's connected account: the platform
/// owes it to the host again. `cumulative` (the provider's `amount_reversed` after this
/// reversal) keys the posting, so each reversal is posted once.
pub async fn transfer_reversed(
    conn: &mut PgConnection,
    transfer: TransferFacts<'_>,
    amount: Minor,
    cumulative: Minor,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let entries = Entries::balance([
        Leg::new(AccountRef::host(transfer.host_id), amount),
        Leg::new(AccountRef::platform(AccountKind::ProviderClearing), -amount),
    ])
    .map_err(|e| Error::Internal(format!("transfer reversal plan: {e}")))?;
    let posting = NewPosting::new(
        PostingKind::Settlement,
        transfer.currency,
        format!("transfer_reversal:{}:{cumulative}", transfer.transfer_id),
        now,
    )
    .memo(format!(
        "transfer {} reversed at the provider: owed to the host again",
        transfer.transfer_id
    ));
    Ok(ledger_store::post(conn, &posting, &entries).await?.id())
}

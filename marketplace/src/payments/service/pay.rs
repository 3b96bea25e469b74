//! Paying a booking, a charging session or a wallet top-up, by card or by wallet; and the
//! card payment's later steps (3-D Secure done, capture, cancel).
//!
//! By wallet the ledger does it at once: a booking's amount is held on the wallet, a
//! session's bill is posted (taken from the booking's hold and the wallet). By card the
//! provider is asked; once money is received it goes into the driver's wallet through the
//! ledger (paying off any debt first) and is used there: held for the booking, or taken by
//! the session's bill. So a card payment and the ledger can never disagree on where the
//! money is, whatever order the provider's answers and webhooks arrive in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{finish, key_error, key_reused, provider_error, request_hash, seam};
use crate::accounts::{AuthUser, Role};
use crate::bookings::{Booking, BookingStatus};
use crate::error::{Error, FieldError};
use crate::ledger::model::Minor;
use crate::ledger::service::{self as ledger, HoldPolicy, ProviderPayment};
use crate::ledger::store::{self as ledger_store, holds, sources};
use crate::payments::model::{
    self, valid_idempotency_key, Method, Purpose, Tracked, TOPUP_MAX_MINOR, TOPUP_MIN_MINOR,
};
use crate::payments::provider::{
    CaptureMethod, Destination, IntentStatus, NewPayment, PaymentProvider, PaymentState,
};
use crate::payments::store::{self, PaymentRow, ProviderUpdate, SessionDue};
use crate::payments::view::{PaymentPage, PaymentView};

/// `POST /api/payments`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PayInput {
    pub purpose: Purpose,
    #[serde(default)]
    pub booking_id: Option<Uuid>,
    #[serde(default)]
    pub session_id: Option<Uuid>,
    /// A top-up's amount and currency (a booking's and a session's come from them).
    #[serde(default)]
    pub amount_cents: Option<Minor>,
    #[serde(default)]
    pub currency: Option<String>,
    pub method: Method,
    /// The card (default: the caller's default card).
    #[serde(default)]
    pub payment_method_id: Option<Uuid>,
    /// Cards only; default `automatic`. `manual` authorizes now and captures later
    /// (`POST /api/payments/{id}/capture`).
    #[serde(default)]
    pub capture: Option<CaptureMethod>,
}

#[derive(Debug, Clone)]
pub enum Paid {
    New(PaymentView),
    /// A retry with the same `Idempotency-Key`: the payment as it stands now.
    Replayed(PaymentView),
}

fn validate(input: &PayInput, key: Option<&str>) -> Result<(), Error> {
    let mut errors = Vec::new();
    let mut forbid = |field: &str, given: bool, why: &str| {
        if given {
            errors.push(FieldError::new(field, why.to_owned()));
        }
    };
    let purpose = input.purpose;
    forbid(
        "booking_id",
        input.booking_id.is_some() && purpose != Purpose::Booking,
        "only goes with purpose `booking`",
    );
    forbid(
        "session_id",
        input.session_id.is_some() && purpose != Purpose::Session,
        "only goes with purpose `session`",
    );
    forbid(
        "amount_cents",
        input.amount_cents.is_some() && purpose != Purpose::Topup,
        "only goes with purpose `topup` (a booking's and a session's amount are theirs)",
    );
    forbid(
        "currency",
        input.currency.is_some() && purpose != Purpose::Topup,
        "only goes with purpose `topup`",
    );
    forbid(
        "payment_method_id",
        input.payment_method_id.is_some() && input.method == Method::Wallet,
        "only goes with method `card`",
    );
    forbid(
        "capture",
        input.capture.is_some() && input.method == Method::Wallet,
        "only goes with method `card`",
    );
    forbid(
        "method",
        purpose == Purpose::Topup && input.method == Method::Wallet,
        "a top-up is paid by `card`",
    );
    match purpose {
        Purpose::Booking if input.booking_id.is_none() => {
            errors.push(FieldError::new(
                "booking_id",
                "is required for purpose `booking`",
            ));
        }
        Purpose::Session if input.session_id.is_none() => {
            errors.push(FieldError::new(
                "session_id",
                "is required for purpose `session`",
            ));
        }
        Purpose::Topup => {
            if !input
                .amount_cents
                .is_some_and(|a| (TOPUP_MIN_MINOR..=TOPUP_MAX_MINOR).contains(&a))
            {
                errors.push(FieldError::new(
                    "amount_cents",
                    format!("is required: {TOPUP_MIN_MINOR} to {TOPUP_MAX_MINOR} (minor units)"),
                ));
            }
            if !input
                .currency
                .as_deref()
                .is_some_and(ledger::valid_currency)
            {
                errors.push(FieldError::new(
                    "currency",
                    "is required: an ISO 4217 code in capitals, such as EUR",
                ));
            }
        }
        _ => {}
    }
    if key.is_some_and(|k| !valid_idempotency_key(k)) {
        return Err(key_error());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// What is being paid, resolved and checked.
struct Target {
    amount: Minor,
    currency: String,
    booking: Option<Booking>,
    session: Option<SessionDue>,
}

fn already_paid(what: &str) -> Error {
    Error::Conflict {
        code: "already_paid",
        detail: format!("the {what} is already paid (or a payment of it is under way)"),
    }
}

const PAYABLE: [BookingStatus; 4] = [
    BookingStatus::Pending,
    BookingStatus::Confirmed,
    BookingStatus::CheckedIn,
    BookingStatus::Charging,
];

async fn resolve(
    conn: &mut PgConnection,
    caller: &AuthUser,
    input: &PayInput,
) -> Result<Target, Error> {
    match input.purpose {
        Purpose::Booking => {
            let id = input.booking_id.unwrap_or_default();
            let b = crate::bookings::store::by_id(conn, id, true)
                .await?
                .filter(|b| b.driver_id == caller.id)
                .ok_or(Error::NotFound("booking"))?;
            if !PAYABLE.contains(&b.status) {
                return Err(Error::Conflict {
                    code: "booking_not_payable",
                    detail: format!("the booking is {}", b.status.as_str()),
                });
            }
            if b.amount_cents <= 0 {
                return Err(Error::Conflict {
                    code: "nothing_to_pay",
                    detail: "the booking costs nothing".into(),
                });
            }
            if holds::open_for_booking(conn, b.id, false).await?.is_some() {
                return Err(already_paid("booking"));
            }
            Ok(Target {
                amount: b.amount_cents,
                currency: b.currency.clone(),
                booking: Some(b),
                session: None,
            })
        }
        Purpose::Session => {
            let id = input.session_id.unwrap_or_default();
            let s = store::session_due(conn, id)
                .await?
                .filter(|s| s.driver_id == caller.id)
                .ok_or(Error::NotFound("session"))?;
            let (Some(total), Some(currency)) = (s.total_cents, s.currency.clone()) else {
                return Err(Error::Conflict {
                    code: "session_not_billed",
                    detail: "the session has no bill yet: it is billed when charging ends".into(),
                });
            };
            let amount = match input.method {
                Method::Wallet if s.posted => return Err(already_paid("session")),
                Method::Wallet => total,
                Method::Card => card_due(conn, &s, total, &currency).await?,
            };
            Ok(Target {
                amount,
                currency,
                booking: None,
                session: Some(s),
            })
        }
        Purpose::Topup => Ok(Target {
            amount: input.amount_cents.unwrap_or_default(),
            currency: input.currency.clone().unwrap_or_default(),
            booking: None,
            session: None,
        }),
    }
}

/// What a card pays of a session: the difference the booking's hold and the wallet do not
/// cover before the bill is posted; what the driver still owes after.
async fn card_due(
    conn: &mut PgConnection,
    s: &SessionDue,
    total: Minor,
    currency: &str,
) -> Result<Minor, Error> {
    if s.posted {
        let debt = ledger_store::debt(conn, s.driver_id, currency).await?;
        if debt <= 0 {
            return Err(already_paid("session"));
        }
        return Ok(debt.min(total));
    }
    let held = match s.booking_id {
        Some(b) => holds::open_for_booking(conn, b, false)
            .await?
            .filter(|h| h.currency == currency)
            .map_or(0, |h| h.remaining_minor),
        None => 0,
    };
    let wallet = ledger_store::wallet_balance(conn, s.driver_id, currency).await?;
    let due = total - held - wallet;
    if due <= 0 {
        return Err(Error::Conflict {
            code: "covered_by_wallet",
            detail: "the booking's hold and the wallet cover the bill: pay it by `wallet`".into(),
        });
    }
    Ok(due)
}

fn map_insert(err: Error) -> Error {
    match err {
        Error::Database(sqlx::Error::Database(db)) => match db.constraint() {
            Some(store::BOOKING_LIVE) => already_paid("booking"),
            Some(store::SESSION_LIVE) => already_paid("session"),
            Some(store::PAYMENT_KEY) => Error::Conflict {
                code: "idempotency_key_in_use",
                detail: "a request with this Idempotency-Key is still being processed".into(),
            },
            _ => Error::Database(sqlx::Error::Database(db)),
        },
        other => other,
    }
}

enum Step {
    New(PaymentRow),
    Existing(PaymentRow),
}

fn new_row(
    caller: &AuthUser,
    input: &PayInput,
    target: &Target,
    key: &str,
    hash: Vec<u8>,
    now: DateTime<Utc>,
) -> PaymentRow {
    PaymentRow {
        id: Uuid::now_v7(),
        user_id: caller.id,
        purpose: input.purpose.as_str().into(),
        booking_id: input.booking_id,
        session_id: input.session_id,
        method: input.method.as_str().into(),
        provider: "wallet".into(),
        payment_method_id: None,
        provider_payment_id: None,
        amount_minor: target.amount,
        currency: target.currency.clone(),
        capture_method: input
            .capture
            .unwrap_or(CaptureMethod::Automatic)
            .as_str()
            .into(),
        status: IntentStatus::Processing.as_str().into(),
        amount_capturable: 0,
        amount_received: 0,
        amount_refunded: 0,
        client_secret: None,
        next_action: None,
        next_action_url: None,
        failure_code: None,
        decline_code: None,
        failure_message: None,
        destination_account: None,
        application_fee_minor: None,
        idempotency_key: key.into(),
        request_hash: hash,
        ledger_posting_id: None,
        ledger_hold_id: None,
        state_as_of: now,
        created_at: now,
        updated_at: now,
    }
}

/// Pays for something. With an `Idempotency-Key`, a retry answers the payment made first (as
/// it stands now; a card payment whose provider call was cut off is sent again with the same
/// provider key); the same key with another request is a 422. A declined card is not an
/// error: the payment answers `failed` with the decline.
pub async fn pay(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    input: PayInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Paid, Error> {
    validate(&input, key)?;
    let key = key.map_or_else(|| format!("auto:{}", Uuid::now_v7()), str::to_owned);
    let hash = request_hash(&input);
    let mut tx = pool.begin().await?;
    let step = async {
        if let Some(existing) = store::payment_by_key(&mut tx, caller.id, &key, true).await? {
            if existing.request_hash != hash {
                return Err(key_reused());
            }
            return Ok(Step::Existing(existing));
        }
        let target = resolve(&mut tx, caller, &input).await?;
        let mut row = new_row(caller, &input, &target, &key, hash, now);
        match input.method {
            Method::Wallet => by_wallet(&mut tx, caller, &target, &mut row, now).await?,
            Method::Card => {
                prepare_card(&mut tx, provider, caller, &input, &target, &mut row).await?
            }
        }
        store::insert_payment(&mut tx, &row)
            .await
            .map_err(map_insert)?;
        Ok(Step::New(row))
    }
    .await;
    let card = |row: &PaymentRow| {
        row.method == Method::Card.as_str() && row.status == IntentStatus::Processing.as_str()
    };
    match finish(tx, step).await? {
        Step::Existing(row) if card(&row) => {
            send(pool, provider, &row, now).await.map(Paid::Replayed)
        }
        Step::Existing(row) => Ok(Paid::Replayed(row.into())),
        Step::New(row) if card(&row) => send(pool, provider, &row, now).await.map(Paid::New),
        Step::New(row) => Ok(Paid::New(row.into())),
    }
}

/// A wallet payment, in the caller's transaction: the booking's amount is held on the wallet;
/// the session's bill is posted (hold, then wallet).
async fn by_wallet(
    conn: &mut PgConnection,
    caller: &AuthUser,
    target: &Target,
    row: &mut PaymentRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if let Some(b) = &target.booking {
        if b.status == BookingStatus::Pending {
            return Err(Error::Conflict {
                code: "booking_not_confirmed",
                detail: "confirm the booking: confirming holds its amount on the wallet when \
                         the wallet covers it"
                    .into(),
            });
        }
        let hold = ledger::hold_for_booking(conn, b, Some(caller.id), HoldPolicy::Required, now)
            .await?
            .ok_or_else(|| Error::Internal("a paid booking without a hold".into()))?;
        row.ledger_hold_id = Some(hold);
    }
    if let Some(s) = &target.session {
        let bill = s
            .bill_id
            .ok_or_else(|| Error::Internal("a billed session without a bill".into()))?;
        // the ledger's lock order: the bill, the hold, then the balances
        lock_bill_chain(conn, bill).await?;
        let held = match s.booking_id {
            Some(b) => holds::open_for_booking(conn, b, true)
                .await?
                .filter(|h| h.currency == target.currency)
                .map_or(0, |h| h.remaining_minor),
            None => 0,
        };
        let lock = ledger_store::lock_driver(conn, s.driver_id, &target.currency).await?;
        if lock.wallet + held < target.amount {
            return Err(Error::Conflict {
                code: "insufficient_funds",
                detail: format!(
                    "the wallet and the booking's hold have {} (minor units); the bill is {}",
                    lock.wallet + held,
                    target.amount
                ),
            });
        }
        ledger::post_session_bill(conn, bill, now).await?;
    }
    row.status = IntentStatus::Succeeded.as_str().into();
    row.amount_received = target.amount;
    Ok(())
}

/// A card payment's row before the provider is asked: the card, the customer, a Connect
/// destination when the card pays a whole session bill of a host who can take charges.
async fn prepare_card(
    conn: &mut PgConnection,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    input: &PayInput,
    target: &Target,
    row: &mut PaymentRow,
) -> Result<(), Error> {
    let method = match input.payment_method_id {
        Some(id) => store::method(conn, caller.id, id, false)
            .await?
            .ok_or_else(|| Error::invalid("payment_method_id", "is not one of your cards"))?,
        None => store::default_method(conn, caller.id)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                "payment_method_id",
                "is required: you have no default card (add one with POST /api/payment-methods)",
            )
            })?,
    };
    if method.provider != provider.name() {
        return Err(Error::invalid(
            "payment_method_id",
            format!(
                "was saved with the `{}` payment provider, which is not in use; add the card again",
                method.provider
            ),
        ));
    }
    row.provider = provider.name().into();
    row.payment_method_id = Some(method.id);
    if let Some(s) = &target.session {
        let whole = s.total_cents == Some(target.amount);
        if let (true, Some(share)) = (whole, s.host_share_cents) {
            if let Some(account) = store::charges_account(conn, s.host_id, provider.name()).await? {
                row.destination_account = Some(account);
                row.application_fee_minor = Some(model::application_fee(target.amount, share));
            }
        }
    }
    Ok(())
}

/// Asks the provider for a card payment whose row is committed as `processing`, with a key
/// derived from the row (a retry sends the same one), and records the answer.
async fn send(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    row: &PaymentRow,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    let mut conn = pool.acquire().await?;
    let method = match row.payment_method_id {
        Some(id) => store::method_by_id(&mut conn, id).await?,
        None => None,
    }
    .ok_or_else(|| Error::Internal(format!("card payment {} without a card", row.id)))?;
    let customer = store::customer(&mut conn, row.user_id, &row.provider)
        .await?
        .ok_or_else(|| Error::Internal(format!("card payment {} without a customer", row.id)))?;
    drop(conn);
    let mut metadata = BTreeMap::from([
        ("payment_id".to_owned(), row.id.to_string()),
        ("user_id".to_owned(), row.user_id.to_string()),
        ("purpose".to_owned(), row.purpose.clone()),
    ]);
    if let Some(b) = row.booking_id {
        metadata.insert("booking_id".into(), b.to_string());
    }
    if let Some(s) = row.session_id {
        metadata.insert("session_id".into(), s.to_string());
    }
    let capture = row
        .capture_method
        .parse()
        .map_err(|e: String| Error::Internal(e))?;
    let key = format!("payment:{}", row.id);
    let request = NewPayment {
        amount: row.amount_minor,
        currency: &row.currency,
        customer: &customer,
        payment_method: &method.provider_method_id,
        capture,
        destination: row.destination_account.clone().map(|account| Destination {
            account,
            application_fee: row.application_fee_minor.unwrap_or(0),
        }),
        description: Some(format!("EV charging: {}", row.purpose)),
        metadata,
        idempotency_key: &key,
    };
    match provider.create_payment(&request).await {
        Ok(state) => record(pool, row.id, &state, now).await,
        Err(err @ crate::payments::provider::ProviderError::Unavailable(_)) => {
            Err(provider_error(err, "payment_method_id"))
        }
        Err(err) => {
            let mut conn = pool.acquire().await?;
            store::mark_failed(&mut conn, row.id, "provider_refused", &err.to_string(), now)
                .await?;
            Err(provider_error(err, "payment_method_id"))
        }
    }
}

/// What the provider answered us directly (true as of now).
fn seen_now(state: &PaymentState, now: DateTime<Utc>) -> Tracked {
    Tracked {
        status: state.status,
        amount_capturable: state.amount_capturable,
        amount_received: state.amount_received,
        decline: state.decline.clone(),
        as_of: now,
    }
}

async fn record(
    pool: &PgPool,
    id: Uuid,
    state: &PaymentState,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    let mut tx = pool.begin().await?;
    let result = async {
        let row = store::payment(&mut tx, id, true)
            .await?
            .ok_or(Error::NotFound("payment"))?;
        let seen = Seen {
            provider_payment_id: &state.id,
            tracked: seen_now(state, now),
            client_secret: state.client_secret.as_deref(),
            next_action: state.next_action.as_ref().map(|a| a.kind.as_str()),
            next_action_url: state
                .next_action
                .as_ref()
                .and_then(|a| a.redirect_url.as_deref()),
        };
        apply(&mut tx, &row, &seen, None, now)
            .await
            .map(PaymentView::from)
    }
    .await;
    finish(tx, result).await
}

/// What the provider said about a payment, from an answer or a webhook.
pub(super) struct Seen<'a> {
    pub provider_payment_id: &'a str,
    pub tracked: Tracked,
    pub client_secret: Option<&'a str>,
    pub next_action: Option<&'a str>,
    pub next_action_url: Option<&'a str>,
}

/// Folds the provider's news into a (locked) payment and, the first time money was
/// received, brings it into the ledger. `event` is the webhook event that said so, if any.
pub(super) async fn apply(
    conn: &mut PgConnection,
    row: &PaymentRow,
    seen: &Seen<'_>,
    event: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PaymentRow, Error> {
    let current = Tracked {
        status: row.status()?,
        amount_capturable: row.amount_capturable,
        amount_received: row.amount_received,
        decline: row
            .failure_code
            .clone()
            .map(|code| crate::payments::provider::Decline {
                code,
                decline_code: row.decline_code.clone(),
                message: row.failure_message.clone().unwrap_or_default(),
            }),
        as_of: row.state_as_of,
    };
    let mut next = model::advance(&current, &seen.tracked);
    // a provider never takes more than was asked; the ledger must not believe otherwise
    next.amount_received = next.amount_received.min(row.amount_minor);
    let update = ProviderUpdate {
        provider_payment_id: row
            .provider_payment_id
            .as_deref()
            .unwrap_or(seen.provider_payment_id),
        tracked: &next,
        client_secret: seen.client_secret,
        next_action: seen.next_action.or(row.next_action.as_deref()),
        next_action_url: seen.next_action_url.or(row.next_action_url.as_deref()),
    };
    store::update_state(conn, row.id, &update, now).await?;
    if next.amount_received > 0 && row.ledger_posting_id.is_none() {
        let fresh = store::payment(conn, row.id, false)
            .await?
            .ok_or(Error::NotFound("payment"))?;
        received(conn, &fresh, next.amount_received, event, now).await?;
    }
    store::payment(conn, row.id, false)
        .await?
        .ok_or(Error::NotFound("payment"))
}

/// Money received by card: into the driver's wallet through the ledger (once per provider
/// payment, however often reported), then used for what it paid.
async fn received(
    conn: &mut PgConnection,
    row: &PaymentRow,
    amount: Minor,
    event: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let provider_id = row
        .provider_payment_id
        .clone()
        .ok_or_else(|| Error::Internal(format!("payment {} received without an id", row.id)))?;
    let memo = match event {
        Some(e) => format!("card payment ({}), reported by event {e}", row.purpose),
        None => format!("card payment ({})", row.purpose),
    };
    // the ledger's lock order: what is paid for (the booking, the bill) before the driver's
    // balances, which recording the money locks
    let booking = match row.booking_id {
        Some(id) => crate::bookings::store::by_id(conn, id, true).await?,
        None => None,
    };
    let bill = match row.session_id {
        Some(id) => store::session_due(conn, id)
            .await?
            .and_then(|s| s.bill_id.filter(|_| !s.posted)),
        None => None,
    };
    if let Some(b) = bill {
        lock_bill_chain(conn, b).await?;
    }
    let posted = ledger::record_provider_payment(
        conn,
        &ProviderPayment {
            provider: &row.provider,
            event_id: &provider_id,
            driver: row.user_id,
            amount,
            currency: &row.currency,
            actor: Some(row.user_id),
            memo,
        },
        now,
    )
    .await?;
    let mut hold = None;
    // a pending booking is held when confirmed (the money waits in the wallet)
    if let Some(b) = booking.filter(|b| PAYABLE[1..].contains(&b.status)) {
        hold = ledger::hold_for_booking(conn, &b, Some(row.user_id), HoldPolicy::IfFunded, now)
            .await?;
    }
    if let Some(b) = bill {
        ledger::post_session_bill(conn, b, now).await?;
    }
    store::set_ledger(conn, row.id, Some(posted.id()), hold, now).await?;
    if row.destination_account.is_some() {
        seam::destination_charge(conn, row, amount, now).await?;
    }
    Ok(())
}

/// Locks a bill and the unposted revisions it corrects, newest first, as the ledger's
/// posting of it does, so that taking the driver's balances after it keeps the ledger's
/// lock order.
async fn lock_bill_chain(conn: &mut PgConnection, bill: Uuid) -> Result<(), Error> {
    let mut next = Some(bill);
    while let Some(id) = next {
        let b = sources::bill(conn, id)
            .await?
            .ok_or(Error::NotFound("session bill"))?;
        next = b.supersedes.filter(|_| b.posted_at.is_none());
    }
    Ok(())
}

/// The payment, for its payer or an admin.
async fn visible(
    conn: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
    lock: bool,
) -> Result<PaymentRow, Error> {
    store::payment(conn, id, lock)
        .await?
        .filter(|p| p.user_id == caller.id || caller.role == Role::Admin)
        .ok_or(Error::NotFound("payment"))
}

pub async fn get(pool: &PgPool, caller: &AuthUser, id: Uuid) -> Result<PaymentView, Error> {
    Ok(visible(&mut *pool.acquire().await?, caller, id, false)
        .await?
        .into())
}

pub async fn list(
    pool: &PgPool,
    caller: &AuthUser,
    limit: i64,
    offset: i64,
) -> Result<PaymentPage, Error> {
    let (rows, total) =
        store::payments_of(&mut *pool.acquire().await?, caller.id, limit, offset).await?;
    Ok(PaymentPage {
        items: rows.into_iter().map(Into::into).collect(),
        total,
        limit,
        offset,
    })
}

/// A card payment's provider id, for the steps after creation.
fn card_of(row: &PaymentRow, provider: &dyn PaymentProvider) -> Result<String, Error> {
    if row.method != Method::Card.as_str() {
        return Err(Error::Conflict {
            code: "not_a_card_payment",
            detail: "a wallet payment has no card step".into(),
        });
    }
    if row.provider != provider.name() {
        return Err(Error::Conflict {
            code: "provider_changed",
            detail: format!("the payment was made with the `{}` provider", row.provider),
        });
    }
    row.provider_payment_id.clone().ok_or(Error::Conflict {
        code: "payment_processing",
        detail: "the provider has not answered yet; retry the payment with its Idempotency-Key"
            .into(),
    })
}

/// After 3-D Secure was completed in the app: the payment as the provider has it now
/// (the local provider completes its simulated challenge here).
pub async fn confirm(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    let row = visible(&mut *pool.acquire().await?, caller, id, false).await?;
    let pi = card_of(&row, provider)?;
    if row.status != IntentStatus::RequiresAction.as_str() {
        return Ok(row.into());
    }
    let state = provider
        .complete_action(&pi, &format!("confirm:{id}"))
        .await
        .map_err(|e| provider_error(e, "id"))?;
    record(pool, id, &state, now).await
}

/// Captures an authorized (manual capture) card payment: `amount` at most what is
/// authorized (default all of it); the rest is released.
pub async fn capture(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    id: Uuid,
    amount: Option<Minor>,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    let row = visible(&mut *pool.acquire().await?, caller, id, false).await?;
    let pi = card_of(&row, provider)?;
    if row.status == IntentStatus::Succeeded.as_str() {
        return Ok(row.into());
    }
    if row.status != IntentStatus::RequiresCapture.as_str() {
        return Err(Error::Conflict {
            code: "not_capturable",
            detail: format!("the payment is {}, not requires_capture", row.status),
        });
    }
    if let Some(a) = amount {
        if a < 1 || a > row.amount_capturable {
            return Err(Error::invalid(
                "amount_cents",
                format!(
                    "must be 1 to {} (what is authorized)",
                    row.amount_capturable
                ),
            ));
        }
    }
    let state = provider
        .capture_payment(&pi, amount, &format!("capture:{id}"))
        .await
        .map_err(|e| provider_error(e, "amount_cents"))?;
    record(pool, id, &state, now).await
}

/// Cancels a card payment not captured yet (an authorization is released; a pending 3-D
/// Secure is abandoned).
pub async fn cancel(
    pool: &PgPool,
    provider: &dyn PaymentProvider,
    caller: &AuthUser,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<PaymentView, Error> {
    let row = visible(&mut *pool.acquire().await?, caller, id, false).await?;
    let pi = card_of(&row, provider)?;
    if row.status == IntentStatus::Canceled.as_str() {
        return Ok(row.into());
    }
    let open = [
        IntentStatus::RequiresCapture,
        IntentStatus::RequiresAction,
        IntentStatus::Failed,
    ];
    if !open.iter().any(|s| s.as_str() == row.status) {
        return Err(Error::Conflict {
            code: "not_cancelable",
            detail: format!(
                "the payment is {}; a captured payment is refunded instead",
                row.status
            ),
        });
    }
    let state = provider
        .cancel_payment(&pi, &format!("cancel:{id}"))
        .await
        .map_err(|e| provider_error(e, "id"))?;
    record(pool, id, &state, now).await
}

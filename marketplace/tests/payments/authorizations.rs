//! Card authorizations settled by the platform on its own (the job's
//! `settle_authorizations`, here with the local provider): a posted bill captures what it
//! left owing and releases the rest at the provider; a cancellation captures only the fee
//! the refund policy keeps, or releases everything; a no-show keeps the booking's price; an
//! authorization nothing claimed is released before it lapses; running twice, or twice at
//! once, or again after a crash or an outage, captures once. The ledger reconciles after each.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use marketplace::accounts::Role;
use marketplace::bookings::Booking;
use marketplace::ledger::model::AccountKind;
use marketplace::payments::authorizations::{Action, Reason};
use marketplace::payments::model::Method;
use marketplace::payments::provider::{
    AccountState, CaptureMethod, CardMethod, Customer, IntentStatus, LinkRequest, MethodSource,
    NewAccount, NewCustomer, NewPayment, NewPayout, NewRefund, NewTransfer, OnboardingLink,
    PaymentProvider, PaymentState, PayoutState, ProviderError, ProviderFuture, RefundState,
    TransferState,
};
use marketplace::payments::service::{self, AuthorizationReport};
use marketplace::payments::view::PaymentView;
use marketplace::payments::LocalProvider;
use marketplace::AuthUser;
use sqlx::PgPool;
use uuid::Uuid;

use super::support::*;

/// Tuesday 5 January 2027, 12:00–14:00: 5.00 at 2.50/h, booked 28 hours ahead.
fn start() -> DateTime<Utc> {
    utc(2027, 1, 5, 12, 0)
}

struct Authorized {
    charger: Charger,
    booking: Booking,
    payment: PaymentView,
}

/// A booking whose 5.00 is authorized on the card, then confirmed on that authorization
/// (an empty wallet: no hold).
async fn authorized_booking(pool: &PgPool, p: &LocalProvider, d: &AuthUser) -> Authorized {
    let charger = charger(pool, Spec::default()).await;
    let req = request(&charger, 0, start(), start() + Duration::hours(2));
    let booking = book(pool, d, req, now()).await;
    let mut input = for_booking(booking.id, Method::Card);
    input.capture = Some(CaptureMethod::Manual);
    let payment = pay(pool, p, d, input, None).await;
    assert_eq!(
        (payment.status.as_str(), payment.amount_capturable_cents),
        ("requires_capture", 500)
    );
    let booking = marketplace::bookings::service::confirm(pool, d, booking.id, now())
        .await
        .unwrap();
    Authorized {
        charger,
        booking,
        payment,
    }
}

/// The booking charged 12:00–13:00 and ended; its bill of `total` (split 20/80, no
/// insurance or tax) is computed, as the sessions module leaves them.
async fn charged(pool: &PgPool, a: &Authorized, driver: Uuid, total: i64) -> Uuid {
    let (from, to) = (start(), start() + Duration::hours(1));
    let session = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO charging_sessions (id, driver_id, listing_id, port_id, booking_id, \
           station_id, evse_id, id_token, id_token_type, transaction_id, status, origin, \
           requested_at, started_at, ended_at) \
         VALUES ($1, $2, $3, $4, $5, 'ST-1', 1, 'TOKEN', 'Central', $6, 'completed', 'app', \
           $7, $7, $8)",
    )
    .bind(session)
    .bind(driver)
    .bind(a.charger.id)
    .bind(a.charger.ports[0])
    .bind(a.booking.id)
    .bind(session.to_string())
    .bind(from)
    .bind(to)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE bookings SET status = 'completed', checked_in_at = $2, charging_at = $2, \
         completed_at = $3 WHERE id = $1",
    )
    .bind(a.booking.id)
    .bind(from)
    .bind(to)
    .execute(pool)
    .await
    .unwrap();
    let commission = total / 5;
    let bill = Uuid::now_v7();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO session_bills (id, session_id, revision, reason, currency, minor_digits, \
           total_cents, tax_kind, tax_percent, taxable_cents, tax_cents, commission_base_cents, \
           platform_commission_cents, host_share_cents, insurance_cents, session_start, \
           session_end, energy_wh, charging_seconds, idle_seconds, paused_seconds, ocpi_totals, \
           computed_at) \
         VALUES ($1, $2, 1, 'test', 'EUR', 2, $3, 'sales_tax', 0, $3, 0, $3, $4, $5, 0, \
           $6, $7, 10000, 3600, 0, 0, '{}', $7)",
    )
    .bind(bill)
    .bind(session)
    .bind(total)
    .bind(commission)
    .bind(total - commission)
    .bind(from)
    .bind(to)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO session_bill_lines (bill_id, position, kind, description, amount_cents) \
         VALUES ($1, 1, 'energy', 'Energy', $2)",
    )
    .bind(bill)
    .bind(total)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    session
}

async fn settle(pool: &PgPool, p: &LocalProvider, at: DateTime<Utc>) -> AuthorizationReport {
    service::settle_authorizations(pool, p, at).await.unwrap()
}

/// The ledger's own job: bills, refund decisions, holds of ended bookings.
async fn post_due(pool: &PgPool, at: DateTime<Utc>) {
    let report = marketplace::ledger::run_due(pool, at).await.unwrap();
    assert_eq!(report.failures, 0, "{report:?}");
}

async fn seen(pool: &PgPool, d: &AuthUser, id: Uuid) -> PaymentView {
    service::get(pool, d, id).await.unwrap()
}

async fn postings(pool: &PgPool, kind: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ledger_postings WHERE kind = $1")
        .bind(kind)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn owed(pool: &PgPool, driver: Uuid) -> i64 {
    -balance(pool, AccountKind::DriverReceivable, Some(driver)).await
}

fn captured(n: u32) -> AuthorizationReport {
    AuthorizationReport {
        captured: n,
        ..AuthorizationReport::default()
    }
}

fn cancelled(n: u32) -> AuthorizationReport {
    AuthorizationReport {
        cancelled: n,
        ..AuthorizationReport::default()
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_posted_bill_captures_what_it_needs_and_releases_the_rest(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let a = authorized_booking(&pool, &p, &d).await;
    charged(&pool, &a, d.id, 300).await;
    let after = start() + Duration::minutes(90);

    // the bill is not in the ledger yet: the authorization waits for it, and the job does
    // not even look at it
    assert_eq!(
        settle(&pool, &p, after).await,
        AuthorizationReport::default()
    );
    let looked_at = |pool: PgPool| async move {
        let stale = after - Duration::days(7);
        let mut conn = pool.acquire().await.unwrap();
        marketplace::payments::store::authorizations::candidates(
            &mut conn, "local", after, stale, None, 10,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|(_, id)| id)
        .collect::<Vec<_>>()
    };
    assert!(looked_at(pool.clone()).await.is_empty());
    post_due(&pool, after).await;
    assert_eq!(looked_at(pool.clone()).await, [a.payment.id]);
    assert_eq!(owed(&pool, d.id).await, 300, "the bill went on account");

    assert_eq!(settle(&pool, &p, after).await, captured(1));
    let paid = seen(&pool, &d, a.payment.id).await;
    assert_eq!(paid.status, "succeeded");
    assert_eq!(
        (paid.amount_received_cents, paid.amount_capturable_cents),
        (300, 0)
    );
    // the provider took 3.00 and let the other 2.00 go
    let pi = p
        .get_payment(paid.provider_payment_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(pi.status, IntentStatus::Succeeded);
    assert_eq!((pi.amount_received, pi.amount_capturable), (300, 0));
    // the card paid the bill: nothing owed, nothing left over, the host is owed their 80 %
    assert_eq!(owed(&pool, d.id).await, 0);
    assert_eq!(wallet(&pool, d.id).await, 0);
    assert_eq!(cleared(&pool).await, 300);
    assert_eq!(
        balance(&pool, AccountKind::HostPayable, Some(a.charger.host.id)).await,
        240
    );
    let (decision, _) = service::authorization_action(&pool, a.payment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (decision.action, decision.amount, decision.reason),
        (Action::Capture, 300, Reason::Bill)
    );
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bill_above_the_authorization_takes_all_of_it_and_the_rest_stays_owed(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let a = authorized_booking(&pool, &p, &d).await;
    charged(&pool, &a, d.id, 800).await;
    let after = start() + Duration::minutes(90);
    post_due(&pool, after).await;
    assert_eq!(settle(&pool, &p, after).await, captured(1));
    let paid = seen(&pool, &d, a.payment.id).await;
    assert_eq!(
        (paid.status.as_str(), paid.amount_received_cents),
        ("succeeded", 500)
    );
    assert_eq!(owed(&pool, d.id).await, 300);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_early_cancellation_releases_the_authorization_and_posts_nothing(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let a = authorized_booking(&pool, &p, &d).await;
    // 28 hours ahead: all of it is refunded
    marketplace::bookings::service::cancel(&pool, &d, a.booking.id, None, now())
        .await
        .unwrap();
    post_due(&pool, now()).await;
    assert_eq!(settle(&pool, &p, now()).await, cancelled(1));
    let paid = seen(&pool, &d, a.payment.id).await;
    assert_eq!(
        (
            paid.status.as_str(),
            paid.amount_received_cents,
            paid.amount_capturable_cents
        ),
        ("canceled", 0, 0)
    );
    let pi = p
        .get_payment(paid.provider_payment_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(pi.status, IntentStatus::Canceled);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM ledger_postings").await,
        0,
        "a released authorization moves no money"
    );
    let (decision, _) = service::authorization_action(&pool, a.payment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(decision.reason, Reason::Released);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_late_cancellation_captures_only_the_fee_kept(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let a = authorized_booking(&pool, &p, &d).await;
    // 90 minutes before the start: half refunded, half kept
    let at = start() - Duration::minutes(90);
    marketplace::bookings::service::cancel(&pool, &d, a.booking.id, None, at)
        .await
        .unwrap();
    // the refund decision is not settled by the ledger yet: nothing is decided
    assert_eq!(settle(&pool, &p, at).await, AuthorizationReport::default());
    post_due(&pool, at).await;
    assert_eq!(settle(&pool, &p, at).await, captured(1));
    let paid = seen(&pool, &d, a.payment.id).await;
    assert_eq!(
        (paid.status.as_str(), paid.amount_received_cents),
        ("succeeded", 250)
    );
    let pi = p
        .get_payment(paid.provider_payment_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!((pi.amount_received, pi.amount_capturable), (250, 0));
    // the fee went where every kept fee goes: 80 % to the host, 20 % commission; the
    // driver's wallet got nothing to spend and owes nothing
    assert_eq!(cleared(&pool).await, 250);
    assert_eq!(
        balance(&pool, AccountKind::HostPayable, Some(a.charger.host.id)).await,
        200
    );
    assert_eq!(
        balance(&pool, AccountKind::PlatformCommission, None).await,
        50
    );
    assert_eq!((wallet(&pool, d.id).await, owed(&pool, d.id).await), (0, 0));
    // and the driver gets the fee's invoice, as for a fee kept from a hold
    let invoiced: Vec<i64> =
        sqlx::query_scalar("SELECT total_cents FROM invoices WHERE source_id = $1")
            .bind(a.booking.id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(invoiced, [250]);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_no_show_keeps_the_bookings_price(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let a = authorized_booking(&pool, &p, &d).await;
    let late = start() + Duration::minutes(30);
    let swept = marketplace::bookings::sweep::run_due(&pool, late)
        .await
        .unwrap();
    assert_eq!(swept.no_shows, 1);
    post_due(&pool, late).await;
    assert_eq!(settle(&pool, &p, late).await, captured(1));
    let paid = seen(&pool, &d, a.payment.id).await;
    assert_eq!(paid.amount_received_cents, 500);
    assert_eq!(
        balance(&pool, AccountKind::HostPayable, Some(a.charger.host.id)).await,
        400
    );
    assert_eq!(wallet(&pool, d.id).await, 0);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn settling_twice_or_twice_at_once_captures_once(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let first = authorized_booking(&pool, &p, &d).await;
    charged(&pool, &first, d.id, 300).await;
    let other = user(&pool, Role::Driver).await;
    save_card(&pool, &p, &other, OK_CARD).await;
    let second = authorized_booking(&pool, &p, &other).await;
    charged(&pool, &second, other.id, 400).await;
    let after = start() + Duration::minutes(90);
    post_due(&pool, after).await;

    // two workers at once (two nodes, or a tick overlapping the next)
    let (x, y) = tokio::join!(settle(&pool, &p, after), settle(&pool, &p, after));
    assert_eq!(x.captured + y.captured, 2, "{x:?} {y:?}");
    assert_eq!(x.failures + y.failures, 0);
    // and once more, later: nothing left to do
    assert_eq!(
        settle(&pool, &p, after).await,
        AuthorizationReport::default()
    );
    assert_eq!(postings(&pool, "topup").await, 2);
    assert_eq!(cleared(&pool).await, 700);
    assert_eq!(
        seen(&pool, &d, first.payment.id)
            .await
            .amount_received_cents,
        300
    );
    assert_eq!(
        seen(&pool, &other, second.payment.id)
            .await
            .amount_received_cents,
        400
    );
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_decision_interrupted_before_the_provider_answered_is_carried_out_once(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let a = authorized_booking(&pool, &p, &d).await;
    charged(&pool, &a, d.id, 300).await;
    let after = start() + Duration::minutes(90);
    post_due(&pool, after).await;
    // a crash after the decision was written and the provider captured, before the answer
    // was recorded: the next run sends the same request again and records it once
    sqlx::query(
        "INSERT INTO card_authorization_actions (payment_id, action, amount_minor, reason, \
         decided_at) VALUES ($1, 'capture', 300, 'bill', $2)",
    )
    .bind(a.payment.id)
    .bind(after)
    .execute(&pool)
    .await
    .unwrap();
    let pi = a.payment.provider_payment_id.clone().unwrap();
    let key = format!("auto_capture:{}", a.payment.id);
    p.capture_payment(&pi, Some(300), &key).await.unwrap();
    assert_eq!(settle(&pool, &p, after).await, captured(1));
    assert_eq!(
        settle(&pool, &p, after).await,
        AuthorizationReport::default()
    );
    assert_eq!(postings(&pool, "topup").await, 1);
    assert_eq!(owed(&pool, d.id).await, 0);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_authorization_nothing_claimed_is_released_when_it_would_lapse(pool: PgPool) {
    let p = provider();
    let d = driver_with(&pool, &p, OK_CARD).await;
    let mut input = topup(1500);
    input.capture = Some(CaptureMethod::Manual);
    let held = pay(&pool, &p, &d, input, None).await;
    assert_eq!(held.status, "requires_capture");

    assert_eq!(
        settle(&pool, &p, now() + Duration::days(6)).await,
        AuthorizationReport::default()
    );
    assert_eq!(
        settle(&pool, &p, now() + Duration::days(7)).await,
        cancelled(1)
    );
    let gone = seen(&pool, &d, held.id).await;
    assert_eq!(
        (gone.status.as_str(), gone.amount_capturable_cents),
        ("canceled", 0)
    );
    let pi = p
        .get_payment(gone.provider_payment_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(pi.status, IntentStatus::Canceled);
    let (decision, row) = service::authorization_action(&pool, held.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (decision.action, decision.reason),
        (Action::Cancel, Reason::Stale)
    );
    assert_eq!(row.outcome.as_deref(), Some("canceled"));
    assert_eq!(wallet(&pool, d.id).await, 0);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM ledger_postings").await,
        0
    );
    ledger_is_whole(&pool).await;
}

/// The local provider, down for its first `outages` captures (a timeout: the same call may be
/// sent again), remembering the key and amount of every capture asked; its first `garbled`
/// payments are made but answered with something unreadable.
struct Flaky {
    inner: LocalProvider,
    outages: Mutex<u32>,
    captures: Mutex<Vec<(String, Option<i64>)>>,
    garbled: Mutex<u32>,
}

impl PaymentProvider for Flaky {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn create_customer<'a>(&'a self, c: &'a NewCustomer<'a>) -> ProviderFuture<'a, Customer> {
        self.inner.create_customer(c)
    }
    fn attach_method<'a>(
        &'a self,
        customer: &'a str,
        source: &'a MethodSource,
        key: &'a str,
    ) -> ProviderFuture<'a, CardMethod> {
        self.inner.attach_method(customer, source, key)
    }
    fn list_methods<'a>(&'a self, customer: &'a str) -> ProviderFuture<'a, Vec<CardMethod>> {
        self.inner.list_methods(customer)
    }
    fn detach_method<'a>(&'a self, method: &'a str, key: &'a str) -> ProviderFuture<'a, ()> {
        self.inner.detach_method(method, key)
    }
    fn create_payment<'a>(&'a self, p: &'a NewPayment<'a>) -> ProviderFuture<'a, PaymentState> {
        let made = self.inner.create_payment(p);
        let mut garbled = self.garbled.lock().unwrap();
        if *garbled == 0 {
            return made;
        }
        *garbled -= 1;
        Box::pin(async move {
            made.await?;
            Err(ProviderError::Unexpected("a torn answer".into()))
        })
    }
    fn get_payment<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, PaymentState> {
        self.inner.get_payment(id)
    }
    fn complete_action<'a>(
        &'a self,
        id: &'a str,
        key: &'a str,
    ) -> ProviderFuture<'a, PaymentState> {
        self.inner.complete_action(id, key)
    }
    fn capture_payment<'a>(
        &'a self,
        id: &'a str,
        amount: Option<i64>,
        key: &'a str,
    ) -> ProviderFuture<'a, PaymentState> {
        self.captures.lock().unwrap().push((key.to_owned(), amount));
        let mut outages = self.outages.lock().unwrap();
        if *outages > 0 {
            *outages -= 1;
            return Box::pin(std::future::ready(Err(ProviderError::Unavailable(
                "timed out".into(),
            ))));
        }
        self.inner.capture_payment(id, amount, key)
    }
    fn cancel_payment<'a>(&'a self, id: &'a str, key: &'a str) -> ProviderFuture<'a, PaymentState> {
        self.inner.cancel_payment(id, key)
    }
    fn refund<'a>(&'a self, r: &'a NewRefund<'a>) -> ProviderFuture<'a, RefundState> {
        self.inner.refund(r)
    }
    fn create_account<'a>(&'a self, a: &'a NewAccount<'a>) -> ProviderFuture<'a, AccountState> {
        self.inner.create_account(a)
    }
    fn get_account<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, AccountState> {
        self.inner.get_account(id)
    }
    fn onboarding_link<'a>(
        &'a self,
        link: &'a LinkRequest<'a>,
    ) -> ProviderFuture<'a, OnboardingLink> {
        self.inner.onboarding_link(link)
    }
    fn create_payout<'a>(&'a self, p: &'a NewPayout<'a>) -> ProviderFuture<'a, PayoutState> {
        self.inner.create_payout(p)
    }
    fn create_transfer<'a>(&'a self, t: &'a NewTransfer<'a>) -> ProviderFuture<'a, TransferState> {
        self.inner.create_transfer(t)
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_provider_outage_is_retried_later_with_the_same_request(pool: PgPool) {
    let flaky = Flaky {
        inner: provider(),
        outages: Mutex::new(2),
        captures: Mutex::new(Vec::new()),
        garbled: Mutex::new(0),
    };
    let d = driver_with(&pool, &flaky.inner, OK_CARD).await;
    let a = authorized_booking(&pool, &flaky.inner, &d).await;
    charged(&pool, &a, d.id, 300).await;
    let t = start() + Duration::minutes(90);
    post_due(&pool, t).await;

    let run = |at| service::settle_authorizations(&pool, &flaky, at);
    assert_eq!(run(t).await.unwrap().failures, 1);
    assert_eq!(
        seen(&pool, &d, a.payment.id).await.status,
        "requires_capture"
    );
    let (_, action) = service::authorization_action(&pool, a.payment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(action.attempts, 1);
    assert!(action.last_error.unwrap().contains("timed out"));
    // meanwhile the driver's own capture or cancel would race it: refused
    for manual in [
        service::capture(&pool, &flaky, &d, a.payment.id, None, t).await,
        service::cancel(&pool, &flaky, &d, a.payment.id, t).await,
    ] {
        match manual {
            Err(marketplace::Error::Conflict { code, detail }) => {
                assert_eq!(code, "settling", "{detail}");
            }
            other => panic!("not refused: {other:?}"),
        }
    }
    // not hammered: the next try waits 2 s, the one after 4 s
    assert_eq!(
        run(t + Duration::seconds(1)).await.unwrap(),
        AuthorizationReport::default()
    );
    assert_eq!(run(t + Duration::seconds(2)).await.unwrap().failures, 1);
    assert_eq!(
        run(t + Duration::seconds(5)).await.unwrap(),
        AuthorizationReport::default()
    );
    assert_eq!(run(t + Duration::seconds(6)).await.unwrap(), captured(1));
    let key = format!("auto_capture:{}", a.payment.id);
    assert_eq!(
        *flaky.captures.lock().unwrap(),
        vec![
            (key.clone(), Some(300)),
            (key.clone(), Some(300)),
            (key, Some(300))
        ],
        "every try is the same request"
    );
    assert_eq!(
        seen(&pool, &d, a.payment.id).await.amount_received_cents,
        300
    );
    assert_eq!(owed(&pool, d.id).await, 0);
    ledger_is_whole(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unreadable_answer_leaves_the_payment_to_its_retry(pool: PgPool) {
    let flaky = Flaky {
        inner: provider(),
        outages: Mutex::new(0),
        captures: Mutex::new(Vec::new()),
        garbled: Mutex::new(1),
    };
    let d = driver_with(&pool, &flaky.inner, OK_CARD).await;
    // the provider took the money but its answer could not be read
    assert!(
        service::pay(&pool, &flaky, &d, topup(2500), Some("torn"), now())
            .await
            .is_err()
    );
    assert_eq!(wallet(&pool, d.id).await, 0);
    // the retry sends the same provider key and finds the payment made
    let paid = match service::pay(&pool, &flaky, &d, topup(2500), Some("torn"), now())
        .await
        .unwrap()
    {
        marketplace::payments::service::Paid::New(p)
        | marketplace::payments::service::Paid::Replayed(p) => p,
    };
    assert_eq!(paid.status, "succeeded");
    assert_eq!(wallet(&pool, d.id).await, 2500);
    ledger_is_whole(&pool).await;
}

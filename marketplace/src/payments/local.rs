//! The `local` payment provider: Stripe's test mode without a network, for development, the
//! demo and tests. Chosen when no Stripe key is configured.
//!
//! - Cards: only Stripe's test card numbers ([`super::model::TEST_CARDS`]): 4242 4242 4242
//!   4242 succeeds, 4000 0000 0000 0002 is declined (`card_declined`), 4000 0000 0000 9995
//!   has insufficient funds, 4000 0025 0000 3155 needs 3-D Secure (`requires_action` until
//!   [`PaymentProvider::complete_action`]), ... A saved method keeps the brand and the last
//!   four digits only; its id names them (`pm_local_visa_4242_...`), so what a card does is
//!   known without keeping the number.
//! - Payments, refunds and payouts live in memory, like a test-mode account that is reset
//!   when the process restarts (our database keeps the truth); the same idempotency key
//!   answers the same object, as Stripe does.
//! - Connected accounts are enabled at once: there is no onboarding to go through; the
//!   onboarding link is the return URL itself.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::model::{self, CardBehaviour};
use super::provider::*;
use crate::ledger::model::Minor;

pub const NAME: &str = "local";

#[derive(Debug, Default)]
pub struct LocalProvider {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    intents: HashMap<String, Intent>,
    /// idempotency key → the id of what it created
    keys: HashMap<String, String>,
    refunds: HashMap<String, RefundState>,
    payouts: HashMap<String, PayoutState>,
    transfers: HashMap<String, TransferState>,
    accounts: HashMap<String, AccountState>,
}

#[derive(Debug, Clone)]
struct Intent {
    state: PaymentState,
    capture: CaptureMethod,
    refunded: Minor,
}

fn id(prefix: &str) -> String {
    format!("{prefix}_local_{}", Uuid::new_v4().simple())
}

fn ready<'a, T: Send + 'a>(value: Result<T, ProviderError>) -> ProviderFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

fn invalid(param: &str, message: impl Into<String>) -> ProviderError {
    ProviderError::InvalidRequest {
        code: Some("resource_missing".into()),
        param: Some(param.into()),
        message: message.into(),
    }
}

fn state_error(message: impl Into<String>) -> ProviderError {
    ProviderError::InvalidRequest {
        code: Some("payment_intent_unexpected_state".into()),
        param: None,
        message: message.into(),
    }
}

/// `pm_local_<brand>_<last4>_<mm>_<yyyy>_<random>`: what the card is, without its number.
fn method_id(brand: &str, last4: &str, exp_month: u32, exp_year: i32) -> String {
    format!(
        "pm_local_{brand}_{last4}_{exp_month:02}_{exp_year}_{}",
        &Uuid::new_v4().simple().to_string()[..12]
    )
}

fn parse_method(id: &str) -> Option<CardMethod> {
    let rest = id.strip_prefix("pm_local_")?;
    let mut parts = rest.split('_');
    let brand = parts.next()?.to_owned();
    let last4 = parts.next()?.to_owned();
    let exp_month = parts.next()?.parse().ok()?;
    let exp_year = parts.next()?.parse().ok()?;
    parts.next()?;
    Some(CardMethod {
        id: id.to_owned(),
        brand,
        last4,
        exp_month,
        exp_year,
    })
}

impl LocalProvider {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // a panic elsewhere cannot leave the maps half-written: every change is one insert
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn create(&self, p: &NewPayment<'_>) -> Result<PaymentState, ProviderError> {
        let mut st = self.lock();
        if let Some(existing) = st.keys.get(p.idempotency_key) {
            return st
                .intents
                .get(existing)
                .map(|i| i.state.clone())
                .ok_or_else(|| state_error("the idempotency key names another object"));
        }
        if p.amount < 1 {
            return Err(ProviderError::InvalidRequest {
                code: Some("amount_too_small".into()),
                param: Some("amount".into()),
                message: "Amount must be at least 1 minor unit.".into(),
            });
        }
        let method = parse_method(p.payment_method)
            .ok_or_else(|| invalid("payment_method", "No such PaymentMethod"))?;
        let behaviour = model::test_card_by_last4(&method.last4)
            .map_or(CardBehaviour::Succeeds, |c| c.behaviour);
        let id = id("pi");
        let mut state = PaymentState {
            id: id.clone(),
            status: IntentStatus::Processing,
            amount: p.amount,
            amount_capturable: 0,
            amount_received: 0,
            currency: p.currency.to_ascii_lowercase(),
            client_secret: Some(format!("{id}_secret_{}", Uuid::new_v4().simple())),
            next_action: None,
            decline: None,
            metadata: p.metadata.clone(),
        };
        match behaviour {
            CardBehaviour::Succeeds => authorize(&mut state, p.capture),
            CardBehaviour::Declined { .. } => {
                state.status = IntentStatus::Failed;
                state.decline = behaviour.decline();
            }
            CardBehaviour::RequiresAction => {
                state.status = IntentStatus::RequiresAction;
                state.next_action = Some(NextAction {
                    kind: "local_three_d_secure".into(),
                    redirect_url: None,
                });
            }
        }
        st.keys.insert(p.idempotency_key.to_owned(), id.clone());
        st.intents.insert(
            id,
            Intent {
                state: state.clone(),
                capture: p.capture,
                refunded: 0,
            },
        );
        Ok(state)
    }

    fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut Intent) -> Result<(), ProviderError>,
    ) -> Result<PaymentState, ProviderError> {
        let mut st = self.lock();
        let intent = st
            .intents
            .get_mut(id)
            .ok_or_else(|| invalid("intent", format!("No such payment_intent: '{id}'")))?;
        change(intent)?;
        Ok(intent.state.clone())
    }

    fn refund_now(&self, r: &NewRefund<'_>) -> Result<RefundState, ProviderError> {
        let mut st = self.lock();
        if let Some(existing) = st.keys.get(r.idempotency_key) {
            return st
                .refunds
                .get(existing)
                .cloned()
                .ok_or_else(|| state_error("the idempotency key names another object"));
        }
        let intent = st
            .intents
            .get_mut(r.payment)
            .ok_or_else(|| invalid("payment_intent", "No such payment_intent"))?;
        let left = intent.state.amount_received - intent.refunded;
        let amount = r.amount.unwrap_or(left);
        if intent.state.status != IntentStatus::Succeeded || amount < 1 || amount > left {
            return Err(ProviderError::InvalidRequest {
                code: Some("charge_already_refunded".into()),
                param: Some("amount".into()),
                message: format!(
                    "Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
                ),
            });
        }
        intent.refunded += amount;
        let refund = RefundState {
            id: id("re"),
            payment: Some(r.payment.to_owned()),
            amount,
            currency: intent.state.currency.clone(),
            status: RefundStatus::Succeeded,
            failure_reason: None,
        };
        st.keys
            .insert(r.idempotency_key.to_owned(), refund.id.clone());
        st.refunds.insert(refund.id.clone(), refund.clone());
        Ok(refund)
    }
}

/// A card that needs nothing more: authorized, and captured unless capture is manual.
fn authorize(state: &mut PaymentState, capture: CaptureMethod) {
    state.next_action = None;
    match capture {
        CaptureMethod::Automatic => {
            state.status = IntentStatus::Succeeded;
            state.amount_received = state.amount;
        }
        CaptureMethod::Manual => {
            state.status = IntentStatus::RequiresCapture;
            state.amount_capturable = state.amount;
        }
    }
}

impl PaymentProvider for LocalProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn create_customer<'a>(&'a self, c: &'a NewCustomer<'a>) -> ProviderFuture<'a, Customer> {
        // deterministic: the same user is the same customer, however often asked
        ready(Ok(Customer {
            id: format!("cus_local_{}", c.user_id.simple()),
        }))
    }

    fn attach_method<'a>(
        &'a self,
        _customer: &'a str,
        source: &'a MethodSource,
        _key: &'a str,
    ) -> ProviderFuture<'a, CardMethod> {
        ready(match source {
            MethodSource::Token(token) => parse_method(token).ok_or_else(|| {
                invalid(
                    "payment_method",
                    format!("No such PaymentMethod: '{token}'"),
                )
            }),
            MethodSource::TestCard {
                number,
                exp_month,
                exp_year,
            } => match model::test_card(number) {
                Some(card) => {
                    let last4 = &card.number[card.number.len() - 4..];
                    Ok(CardMethod {
                        id: method_id(card.brand, last4, *exp_month, *exp_year),
                        brand: card.brand.into(),
                        last4: last4.into(),
                        exp_month: *exp_month,
                        exp_year: *exp_year,
                    })
                }
                None => Err(ProviderError::Card {
                    code: "card_declined".into(),
                    decline_code: Some("test_mode_live_card".into()),
                    message: "The local payment provider takes Stripe's test card numbers \
                              only, such as 4242 4242 4242 4242."
                        .into(),
                }),
            },
        })
    }

    fn list_methods<'a>(&'a self, _customer: &'a str) -> ProviderFuture<'a, Vec<CardMethod>> {
        // methods are not kept here: our database lists them
        ready(Ok(Vec::new()))
    }

    fn detach_method<'a>(&'a self, method: &'a str, _key: &'a str) -> ProviderFuture<'a, ()> {
        ready(
            parse_method(method)
                .map(|_| ())
                .ok_or_else(|| invalid("payment_method", "No such PaymentMethod")),
        )
    }

    fn create_payment<'a>(&'a self, p: &'a NewPayment<'a>) -> ProviderFuture<'a, PaymentState> {
        ready(self.create(p))
    }

    fn get_payment<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, PaymentState> {
        ready(self.update(id, |_| Ok(())))
    }

    fn complete_action<'a>(
        &'a self,
        id: &'a str,
        _key: &'a str,
    ) -> ProviderFuture<'a, PaymentState> {
        ready(self.update(id, |i| {
            if i.state.status == IntentStatus::RequiresAction {
                authorize(&mut i.state, i.capture);
            }
            Ok(())
        }))
    }

    fn capture_payment<'a>(
        &'a self,
        id: &'a str,
        amount: Option<Minor>,
        _key: &'a str,
    ) -> ProviderFuture<'a, PaymentState> {
        ready(self.update(id, |i| {
            let s = &mut i.state;
            if s.status == IntentStatus::Succeeded {
                return Ok(()); // a retried capture
            }
            if s.status != IntentStatus::RequiresCapture {
                return Err(state_error(format!(
                    "This PaymentIntent could not be captured because it has a status of {}.",
                    s.status
                )));
            }
            let amount = amount.unwrap_or(s.amount_capturable);
            if amount < 1 || amount > s.amount_capturable {
                return Err(ProviderError::InvalidRequest {
                    code: Some("amount_too_large".into()),
                    param: Some("amount_to_capture".into()),
                    message: "The amount to capture is greater than the amount capturable.".into(),
                });
            }
            s.status = IntentStatus::Succeeded;
            s.amount_received = amount;
            s.amount_capturable = 0;
            Ok(())
        }))
    }

    fn cancel_payment<'a>(
        &'a self,
        id: &'a str,
        _key: &'a str,
    ) -> ProviderFuture<'a, PaymentState> {
        ready(self.update(id, |i| {
            let s = &mut i.state;
            match s.status {
                IntentStatus::Canceled => Ok(()),
                IntentStatus::Succeeded => Err(state_error(
                    "You cannot cancel this PaymentIntent because it has a status of succeeded.",
                )),
                _ => {
                    s.status = IntentStatus::Canceled;
                    s.amount_capturable = 0;
                    s.next_action = None;
                    Ok(())
                }
            }
        }))
    }

    fn refund<'a>(&'a self, r: &'a NewRefund<'a>) -> ProviderFuture<'a, RefundState> {
        ready(self.refund_now(r))
    }

    fn create_account<'a>(&'a self, a: &'a NewAccount<'a>) -> ProviderFuture<'a, AccountState> {
        let account = AccountState {
            id: format!("acct_local_{}", a.host_id.simple()),
            charges_enabled: true,
            payouts_enabled: true,
            details_submitted: true,
        };
        self.lock()
            .accounts
            .insert(account.id.clone(), account.clone());
        ready(Ok(account))
    }

    fn get_account<'a>(&'a self, id: &'a str) -> ProviderFuture<'a, AccountState> {
        let known = id.starts_with("acct_local_");
        ready(if known {
            Ok(AccountState {
                id: id.to_owned(),
                charges_enabled: true,
                payouts_enabled: true,
                details_submitted: true,
            })
        } else {
            Err(invalid("account", format!("No such account: '{id}'")))
        })
    }

    fn onboarding_link<'a>(
        &'a self,
        link: &'a LinkRequest<'a>,
    ) -> ProviderFuture<'a, OnboardingLink> {
        let sep = if link.return_url.contains('?') {
            '&'
        } else {
            '?'
        };
        ready(Ok(OnboardingLink {
            url: format!("{}{sep}account={}", link.return_url, link.account),
            expires_at: Utc::now() + Duration::minutes(5),
        }))
    }

    fn create_payout<'a>(&'a self, p: &'a NewPayout<'a>) -> ProviderFuture<'a, PayoutState> {
        let mut st = self.lock();
        if let Some(existing) = st.keys.get(p.idempotency_key).cloned() {
            return ready(
                st.payouts
                    .get(&existing)
                    .cloned()
                    .ok_or_else(|| state_error("the idempotency key names another object")),
            );
        }
        let payout = PayoutState {
            id: id("po"),
            amount: p.amount,
            currency: p.currency.to_ascii_lowercase(),
            status: PayoutStatus::Paid,
            arrival_date: Some(Utc::now()),
            failure_code: None,
        };
        st.keys
            .insert(p.idempotency_key.to_owned(), payout.id.clone());
        st.payouts.insert(payout.id.clone(), payout.clone());
        ready(Ok(payout))
    }

    fn create_transfer<'a>(&'a self, t: &'a NewTransfer<'a>) -> ProviderFuture<'a, TransferState> {
        let mut st = self.lock();
        if let Some(existing) = st.keys.get(t.idempotency_key).cloned() {
            return ready(
                st.transfers
                    .get(&existing)
                    .cloned()
                    .ok_or_else(|| state_error("the idempotency key names another object")),
            );
        }
        // accounts are named after their host, so they outlive a restart (as get_account)
        if !t.destination.starts_with("acct_local_") {
            return ready(Err(invalid(
                "destination",
                format!("no such destination: {}", t.destination),
            )));
        }
        let transfer = TransferState {
            id: id("tr"),
            amount: t.amount,
            currency: t.currency.to_ascii_lowercase(),
            amount_reversed: 0,
        };
        st.keys
            .insert(t.idempotency_key.to_owned(), transfer.id.clone());
        st.transfers.insert(transfer.id.clone(), transfer.clone());
        ready(Ok(transfer))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn card(number: &str) -> MethodSource {
        MethodSource::TestCard {
            number: number.into(),
            exp_month: 12,
            exp_year: 2034,
        }
    }

    async fn pay(
        p: &LocalProvider,
        number: &str,
        capture: CaptureMethod,
        key: &str,
    ) -> PaymentState {
        let method = p.attach_method("cus_x", &card(number), "k").await.unwrap();
        p.create_payment(&NewPayment {
            amount: 1250,
            currency: "EUR",
            customer: "cus_x",
            payment_method: &method.id,
            capture,
            destination: None,
            description: None,
            metadata: BTreeMap::new(),
            idempotency_key: key,
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn test_cards_behave_as_in_stripe_test_mode() {
        let p = LocalProvider::new();
        let ok = pay(&p, "4242424242424242", CaptureMethod::Automatic, "a").await;
        assert_eq!(ok.status, IntentStatus::Succeeded);
        assert_eq!(ok.amount_received, 1250);

        let declined = pay(&p, "4000000000000002", CaptureMethod::Automatic, "b").await;
        assert_eq!(declined.status, IntentStatus::Failed);
        assert_eq!(declined.decline.unwrap().code, "card_declined");

        let poor = pay(&p, "4000000000009995", CaptureMethod::Automatic, "c").await;
        assert_eq!(
            poor.decline.unwrap().decline_code.as_deref(),
            Some("insufficient_funds")
        );

        let secure = pay(&p, "4000002500003155", CaptureMethod::Automatic, "d").await;
        assert_eq!(secure.status, IntentStatus::RequiresAction);
        assert!(secure.client_secret.is_some());
        let done = p.complete_action(&secure.id, "d2").await.unwrap();
        assert_eq!(done.status, IntentStatus::Succeeded);
        assert_eq!(done.amount_received, 1250);
    }

    #[tokio::test]
    async fn same_key_same_payment() {
        let p = LocalProvider::new();
        let a = pay(&p, "4242424242424242", CaptureMethod::Automatic, "same").await;
        let b = pay(&p, "4242424242424242", CaptureMethod::Automatic, "same").await;
        assert_eq!(a.id, b.id);
    }

    #[tokio::test]
    async fn manual_capture_takes_at_most_the_authorization() {
        let p = LocalProvider::new();
        let held = pay(&p, "4242424242424242", CaptureMethod::Manual, "m").await;
        assert_eq!(held.status, IntentStatus::RequiresCapture);
        assert_eq!(held.amount_capturable, 1250);
        assert!(p.capture_payment(&held.id, Some(1251), "c1").await.is_err());
        let captured = p.capture_payment(&held.id, Some(1000), "c2").await.unwrap();
        assert_eq!(captured.amount_received, 1000);
        assert_eq!(captured.amount_capturable, 0);
        // refunds: at most what was captured, with idempotent retries
        let refund = |amount, key| NewRefund {
            payment: &held.id,
            amount: Some(amount),
            metadata: BTreeMap::new(),
            idempotency_key: key,
        };
        let r1 = p.refund(&refund(600, "r1")).await.unwrap();
        assert_eq!(p.refund(&refund(600, "r1")).await.unwrap().id, r1.id);
        assert!(p.refund(&refund(401, "r2")).await.is_err());
        assert_eq!(p.refund(&refund(400, "r3")).await.unwrap().amount, 400);
    }

    #[tokio::test]
    async fn unknown_cards_are_refused_and_numbers_never_kept() {
        let p = LocalProvider::new();
        let err = p
            .attach_method("cus_x", &card("4111111111111111"), "k")
            .await
            .unwrap_err();
        assert!(matches!(err, ProviderError::Card { .. }));
        let m = p
            .attach_method("cus_x", &card("4242424242424242"), "k")
            .await
            .unwrap();
        assert_eq!((m.brand.as_str(), m.last4.as_str()), ("visa", "4242"));
        assert!(!m.id.contains("424242424242"));
        assert!(!format!("{:?}", card("4242424242424242")).contains("424242424242"));
    }
}

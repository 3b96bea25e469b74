//! The provider of a server that has none: production without a Stripe key. Every call fails
//! with [`ProviderError::NotConfigured`] (answered `503 payments_not_configured`), so no card
//! is charged and no money is credited; wallet payments, which need no provider, still work.
//! The routes ask [`PaymentProvider::configured`] first, so nothing is written either.

use super::provider::*;
use crate::ledger::model::Minor;

pub const NAME: &str = "none";

#[derive(Debug, Default, Clone, Copy)]
pub struct Unconfigured;

fn refuse<'a, T: Send + 'a>() -> ProviderFuture<'a, T> {
    Box::pin(async { Err(ProviderError::NotConfigured) })
}

impl PaymentProvider for Unconfigured {
    fn name(&self) -> &'static str {
        NAME
    }

    fn configured(&self) -> bool {
        false
    }

    fn create_customer<'a>(&'a self, _: &'a NewCustomer<'a>) -> ProviderFuture<'a, Customer> {
        refuse()
    }

    fn attach_method<'a>(
        &'a self,
        _: &'a str,
        _: &'a MethodSource,
        _: &'a str,
    ) -> ProviderFuture<'a, CardMethod> {
        refuse()
    }

    fn list_methods<'a>(&'a self, _: &'a str) -> ProviderFuture<'a, Vec<CardMethod>> {
        refuse()
    }

    fn detach_method<'a>(&'a self, _: &'a str, _: &'a str) -> ProviderFuture<'a, ()> {
        refuse()
    }

    fn create_payment<'a>(&'a self, _: &'a NewPayment<'a>) -> ProviderFuture<'a, PaymentState> {
        refuse()
    }

    fn get_payment<'a>(&'a self, _: &'a str) -> ProviderFuture<'a, PaymentState> {
        refuse()
    }

    fn complete_action<'a>(&'a self, _: &'a str, _: &'a str) -> ProviderFuture<'a, PaymentState> {
        refuse()
    }

    fn capture_payment<'a>(
        &'a self,
        _: &'a str,
        _: Option<Minor>,
        _: &'a str,
    ) -> ProviderFuture<'a, PaymentState> {
        refuse()
    }

    fn cancel_payment<'a>(&'a self, _: &'a str, _: &'a str) -> ProviderFuture<'a, PaymentState> {
        refuse()
    }

    fn refund<'a>(&'a self, _: &'a NewRefund<'a>) -> ProviderFuture<'a, RefundState> {
        refuse()
    }

    fn create_account<'a>(&'a self, _: &'a NewAccount<'a>) -> ProviderFuture<'a, AccountState> {
        refuse()
    }

    fn get_account<'a>(&'a self, _: &'a str) -> ProviderFuture<'a, AccountState> {
        refuse()
    }

    fn onboarding_link<'a>(&'a self, _: &'a LinkRequest<'a>) -> ProviderFuture<'a, OnboardingLink> {
        refuse()
    }

    fn create_payout<'a>(&'a self, _: &'a NewPayout<'a>) -> ProviderFuture<'a, PayoutState> {
        refuse()
    }

    fn create_transfer<'a>(&'a self, _: &'a NewTransfer<'a>) -> ProviderFuture<'a, TransferState> {
        refuse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_call_is_refused() {
        let p = Unconfigured;
        assert!(!p.configured());
        assert_eq!(
            p.get_payment("pi_1").await.unwrap_err(),
            ProviderError::NotConfigured
        );
        let customer = NewCustomer {
            user_id: uuid::Uuid::nil(),
            email: "a@b.c",
            idempotency_key: "k",
        };
        assert_eq!(
            p.create_customer(&customer).await.unwrap_err(),
            ProviderError::NotConfigured
        );
    }
}

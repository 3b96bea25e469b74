//! Fixtures: the router with a clock the test moves, calls as a user (with an optional
//! Idempotency-Key), money in the wallet, balances read back from the ledger, the outbox.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use marketplace::accounts::{AuthKeys, DEFAULT_ACCESS_TTL};
use marketplace::ledger::model::{AccountKind, Minor};
use marketplace::ledger::service::{self, ProviderPayment};
use marketplace::plumbing::FixedClock;
use marketplace::{ApiContext, AuthUser};
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

pub use super::booking_support::*;

const SECRET: [u8; 32] = [9; 32];

pub struct App {
    pub router: Router,
    pub clock: Arc<FixedClock>,
    pub pool: PgPool,
}

pub fn app(pool: &PgPool, at: DateTime<Utc>) -> App {
    let clock = Arc::new(FixedClock::new(at));
    let ctx = ApiContext::new(pool.clone(), AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL))
        .development()
        .with_clock(clock.clone());
    App {
        router: marketplace::app(ctx),
        clock,
        pool: pool.clone(),
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub replayed: bool,
    pub body: Value,
}

impl App {
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        who: &AuthUser,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Answer {
        let token = AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL)
            .issue_access(who.id, who.role)
            .unwrap();
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        let response = self.router.clone().oneshot(request.unwrap()).await.unwrap();
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        if status.is_client_error() {
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "application/problem+json"
            );
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            replayed,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, uri: &str, who: &AuthUser) -> Answer {
        self.call(Method::GET, uri, who, None, None).await
    }

    pub async fn post(&self, uri: &str, who: &AuthUser, body: Value) -> Answer {
        self.call(Method::POST, uri, who, Some(body), None).await
    }

    /// Subscribes `who` to `product` in EUR; the answer must be 201.
    pub async fn subscribe(&self, who: &AuthUser, product: &str) -> Value {
        let a = self
            .post(
                "/api/subscriptions",
                who,
                json!({"product": product, "currency": "EUR"}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.body
    }

    /// The renewal job, as the CSMS runs it, at the clock's time.
    pub async fn renew(&self) -> marketplace::subscriptions::RenewalReport {
        marketplace::subscriptions::run_due(&self.pool, self.now())
            .await
            .unwrap()
    }

    pub fn now(&self) -> DateTime<Utc> {
        use marketplace::plumbing::Clock;
        self.clock.now()
    }

    /// The subscription as its subscriber lists it.
    pub async fn subscription(&self, who: &AuthUser, id: &str) -> Value {
        let a = self.get("/api/subscriptions", who).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .expect("the subscription is listed")
    }
}

/// Credits `amount` (EUR) to the user's wallet as a provider payment would.
pub async fn fund(pool: &PgPool, who: Uuid, amount: Minor) {
    fund_in(pool, who, amount, "EUR").await
}

/// Credits `amount` in `currency` to the user's wallet as a provider payment would.
pub async fn fund_in(pool: &PgPool, who: Uuid, amount: Minor, currency: &str) {
    let event = Uuid::now_v7().to_string();
    let mut tx = pool.begin().await.unwrap();
    service::record_provider_payment(
        &mut tx,
        &ProviderPayment {
            provider: "local_test",
            event_id: &event,
            driver: who,
            amount,
            currency,
            actor: Some(who),
            memo: "test top-up".into(),
        },
        now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

pub async fn balance(pool: &PgPool, kind: AccountKind, owner: Option<Uuid>) -> Minor {
    sqlx::query_scalar(
        "SELECT coalesce(sum(e.amount_minor), 0)::bigint FROM ledger_entries e \
         JOIN ledger_accounts a ON a.id = e.account_id \
         WHERE a.kind = $1 AND a.owner_id IS NOT DISTINCT FROM $2 AND a.currency = 'EUR'",
    )
    .bind(kind.as_str())
    .bind(owner)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn wallet(pool: &PgPool, who: Uuid) -> Minor {
    balance(pool, AccountKind::DriverWallet, Some(who)).await
}

/// Subscription revenue so far (plans and host products).
pub async fn revenue(pool: &PgPool) -> Minor {
    balance(pool, AccountKind::PlatformSubscriptions, None).await
}

/// VAT collected and not yet remitted.
pub async fn tax_payable(pool: &PgPool) -> Minor {
    balance(pool, AccountKind::TaxPayable, None).await
}

pub async fn subscription_postings(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ledger_postings WHERE kind = 'subscription'")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The subjects of the e-mails queued for `who`, oldest first, but the receipts of the
/// money they were funded with.
pub async fn mails(pool: &PgPool, who: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT o.subject FROM outbox_messages o JOIN users u ON u.email::text = o.recipient \
         WHERE u.id = $1 AND o.subject <> 'Payment received' ORDER BY o.id",
    )
    .bind(who)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The ledger proves itself whole.
pub async fn ledger_is_whole(pool: &PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    let report = marketplace::ledger::reconcile(&mut conn).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
}

/// The kinds and amounts of a subscription's charges, oldest first.
pub fn charges(s: &Value) -> Vec<(String, String, i64)> {
    s["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                c["amount_cents"].as_i64().unwrap(),
            )
        })
        .collect()
}

pub fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

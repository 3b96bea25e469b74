//! The Stripe adapter against a local HTTP double (wiremock) standing in for
//! `api.stripe.com`: every test checks the request the adapter really sent — method, path,
//! `Authorization`, `Idempotency-Key`, `Stripe-Account`, and the form fields Stripe reads —
//! and answers with Stripe's own JSON shapes (fixtures under `tests/fixtures/`).

use std::collections::{BTreeMap, HashMap};

use marketplace::payments::provider::*;
use serde_json::Value;
use stripe_adapter::StripeProvider;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk_test_51QxTestKeyForTheDouble";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

async fn double() -> (MockServer, StripeProvider) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = MockServer::start().await;
    let provider = StripeProvider::new(KEY, Some(&server.uri())).unwrap();
    (server, provider)
}

/// Mounts one answer for `verb path`, requiring the secret key as a bearer token.
async fn answer(server: &MockServer, verb: &str, at: &str, status: u16, body: Value) {
    Mock::given(method(verb))
        .and(path(at))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(1..)
        .mount(server)
        .await;
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The form fields of a request body (`a[b]=c` keys kept as Stripe spells them).
fn form(req: &Request) -> BTreeMap<String, String> {
    let body = std::str::from_utf8(&req.body).unwrap();
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn header_of<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The one request the double received.
async fn only_request(server: &MockServer) -> Request {
    let mut all = server.received_requests().await.unwrap();
    assert_eq!(all.len(), 1, "expected one request, got {all:#?}");
    all.remove(0)
}

fn assert_post(req: &Request, key: &str) {
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(header_of(req, "idempotency-key"), Some(key));
    assert_eq!(
        header_of(req, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(header_of(req, "stripe-version").is_some());
}

fn payment<'a>(
    capture: CaptureMethod,
    destination: Option<Destination>,
    key: &'a str,
) -> NewPayment<'a> {
    NewPayment {
        amount: 2000,
        currency: "EUR",
        customer: "cus_Qx4kT0yVhS8LbQ",
        payment_method: "pm_1QxHc2LkdIwHu7ixJ5r0aBcD",
        capture,
        destination,
        description: Some("EV charging: session".into()),
        metadata: BTreeMap::from([
            (
                "payment_id".to_owned(),
                "0192f0c4-0000-7000-8000-0000000000aa".to_owned(),
            ),
            ("purpose".to_owned(), "session".to_owned()),
        ]),
        idempotency_key: key,
    }
}

#[tokio::test]
async fn a_customer_is_created_once_per_key() {
    let (server, stripe) = double().await;
    answer(&server, "POST", "/v1/customers", 200, fixture("customer")).await;
    let user = uuid::Uuid::nil();
    let customer = stripe
        .create_customer(&NewCustomer {
            user_id: user,
            email: "driver@example.test",
            idempotency_key: "customer:u1",
        })
        .await
        .unwrap();
    assert_eq!(customer.id, "cus_Qx4kT0yVhS8LbQ");
    let req = only_request(&server).await;
    assert_post(&req, "customer:u1");
    let f = form(&req);
    assert_eq!(f["email"], "driver@example.test");
    assert_eq!(f["metadata[user_id]"], user.to_string());
}

#[tokio::test]
async fn a_test_card_is_attached_as_stripes_test_method() {
    let (server, stripe) = double().await;
    answer(
        &server,
        "POST",
        "/v1/payment_methods/pm_card_visa/attach",
        200,
        fixture("payment_method"),
    )
    .await;
    let source = MethodSource::TestCard {
        number: "4242424242424242".into(),
        exp_month: 8,
        exp_year: 2031,
    };
    let card = stripe
        .attach_method("cus_Qx4kT0yVhS8LbQ", &source, "method:k1")
        .await
        .unwrap();
    assert_eq!(
        (card.id.as_str(), card.brand.as_str(), card.last4.as_str()),
        ("pm_1QxHc2LkdIwHu7ixJ5r0aBcD", "visa", "4242")
    );
    assert_eq!((card.exp_month, card.exp_year), (8, 2031));
    let req = only_request(&server).await;
    assert_post(&req, "method:k1");
    assert_eq!(form(&req)["customer"], "cus_Qx4kT0yVhS8LbQ");
    // the number itself never leaves
    assert!(!std::str::from_utf8(&req.body)
        .unwrap()
        .contains("4242424242424242"));
}

#[tokio::test]
async fn a_live_key_takes_tokens_only() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = MockServer::start().await;
    let live = StripeProvider::new("sk_live_abc", Some(&server.uri())).unwrap();
    let source = MethodSource::TestCard {
        number: "4242424242424242".into(),
        exp_month: 8,
        exp_year: 2031,
    };
    let err = live.attach_method("cus_x", &source, "k").await.unwrap_err();
    assert!(matches!(err, ProviderError::Card { .. }), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn saved_cards_are_listed_without_an_idempotency_key() {
    let (server, stripe) = double().await;
    answer(
        &server,
        "GET",
        "/v1/payment_methods",
        200,
        fixture("payment_method_list"),
    )
    .await;
    let cards = stripe.list_methods("cus_Qx4kT0yVhS8LbQ").await.unwrap();
    assert_eq!(cards.len(), 1);
    let req = only_request(&server).await;
    let query: HashMap<_, _> = req.url.query_pairs().into_owned().collect();
    assert_eq!(query["customer"], "cus_Qx4kT0yVhS8LbQ");
    assert_eq!(query["type"], "card");
    assert_eq!(header_of(&req, "idempotency-key"), None);
}

#[tokio::test]
async fn a_hold_is_a_manual_capture_destination_charge() {
    let (server, stripe) = double().await;
    answer(
        &server,
        "POST",
        "/v1/payment_intents",
        200,
        fixture("pi_requires_capture"),
    )
    .await;
    let dest = Destination {
        account: "acct_1QxHf3Ph9XwQ2mZk".into(),
        application_fee: 400,
    };
    let state = stripe
        .create_payment(&payment(CaptureMethod::Manual, Some(dest), "payment:p1"))
        .await
        .unwrap();
    assert_eq!(state.status, IntentStatus::RequiresCapture);
    assert_eq!(state.amount_capturable, 1250);
    assert_eq!(state.amount_received, 0);
    let req = only_request(&server).await;
    assert_post(&req, "payment:p1");
    let f = form(&req);
    let expect = [
        ("amount", "2000"),
        ("currency", "eur"),
        ("customer", "cus_Qx4kT0yVhS8LbQ"),
        ("payment_method", "pm_1QxHc2LkdIwHu7ixJ5r0aBcD"),
        ("confirm", "true"),
        ("capture_method", "manual"),
        ("application_fee_amount", "400"),
        ("transfer_data[destination]", "acct_1QxHf3Ph9XwQ2mZk"),
        ("automatic_payment_methods[enabled]", "true"),
        ("automatic_payment_methods[allow_redirects]", "never"),
        (
            "metadata[payment_id]",
            "0192f0c4-0000-7000-8000-0000000000aa",
        ),
        ("metadata[purpose]", "session"),
        ("description", "EV charging: session"),
    ];
    for (field, value) in expect {
        assert_eq!(
            f.get(field).map(String::as_str),
            Some(value),
            "{field} in {f:?}"
        );
    }
}

#[tokio::test]
async fn an_automatic_payment_succeeds_without_connect_fields() {
    let (server, stripe) = double().await;
    answer(
        &server,
        "POST",
        "/v1/payment_intents",
        200,
        fixture("pi_succeeded"),
    )
    .await;
    let state = stripe
        .create_payment(&payment(CaptureMethod::Automatic, None, "payment:p2"))
        .await
        .unwrap();
    assert_eq!(state.status, IntentStatus::Succeeded);
    assert_eq!(state.amount_received, 1250);
    assert_eq!(state.metadata["purpose"], "booking");
    let f = form(&only_request(&server).await);
    assert_eq!(f["capture_method"], "automatic");
    assert!(!f.contains_key("application_fee_amount"));
    assert!(!f.contains_key("transfer_data[destination]"));
}

#[tokio::test]
async fn a_declined_card_is_a_failed_payment_not_an_error() {
    let (server, stripe) = double().await;
    answer(
        &server,
        "POST",
        "/v1/payment_intents",
        402,
        fixture("error_card_declined"),
    )
    .await;
    let state = stripe
        .create_payment(&payment(CaptureMethod::Automatic, None, "payment:p3"))
        .await
        .unwrap();
    assert_eq!(state.status, IntentStatus::Failed);
    let decline = state.decline.unwrap();
    assert_eq!(decline.code, "card_declined");
    assert_eq!(decline.decline_code.as_deref(), Some("insufficient_funds"));
    assert_eq!(state.id, "pi_3QxHd1LkdIwHu7ix0Xy1AbCd");
}

#[tokio::test]
async fn three_d_secure_answers_requires_action_with_a_client_secret() {
    let (server, stripe) = double().await;
    answer(
        &server,
        "POST",
        "/v1/payment_intents",
        200,
        fixture("pi_requires_action"),
    )
    .await;
    answer(
        &server,
        "GET",
        "/v1/payment_intents/pi_3QxHd1LkdIwHu7ix0Xy1AbCd",
        200,
        fixture("pi_succeeded"),
    )
    .await;
    let state = stripe
        .create_payment(&payment(CaptureMethod::Automatic, None, "payment:p4"))
        .await
        .unwrap();
    assert_eq!(state.status, IntentStatus::RequiresAction);
    assert_eq!(state.next_action.unwrap().kind, "use_stripe_sdk");
    assert!(state.client_secret.unwrap().contains("_secret_"));
    // after the app completed the challenge with Stripe: the payment is read back
    let done = stripe
        .complete_action("pi_3QxHd1LkdIwHu7ix0Xy1AbCd", "confirm:p4")
        .await
        .unwrap();
    assert_eq!(done.status, IntentStatus::Succeeded);
}

#[tokio::test]
async fn capture_sends_the_amount_and_cancel_releases() {
    let (server, stripe) = double().await;
    let pi = "/v1/payment_intents/pi_3QxHd1LkdIwHu7ix0Xy1AbCd";
    answer(
        &server,
        "POST",
        &format!("{pi}/capture"),
        200,
        fixture("pi_captured"),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{pi}/cancel"),
        200,
        fixture("pi_canceled"),
    )
    .await;
    let captured = stripe
        .capture_payment("pi_3QxHd1LkdIwHu7ix0Xy1AbCd", Some(1000), "capture:p5")
        .await
        .unwrap();
    assert_eq!(captured.status, IntentStatus::Succeeded);
    assert_eq!(captured.amount_received, 1000);
    let canceled = stripe
        .cancel_payment("pi_3QxHd1LkdIwHu7ix0Xy1AbCd", "cancel:p6")
        .await
        .unwrap();
    assert_eq!(canceled.status, IntentStatus::Canceled);
    let sent = server.received_requests().await.unwrap();
    assert_post(&sent[0], "capture:p5");
    assert_eq!(form(&sent[0])["amount_to_capture"], "1000");
    assert_post(&sent[1], "cancel:p6");
}

#[tokio::test]
async fn a_capture_of_everything_sends_no_amount() {
    let (server, stripe) = double().await;
    let pi = "/v1/payment_intents/pi_3QxHd1LkdIwHu7ix0Xy1AbCd";
    answer(
        &server,
        "POST",
        &format!("{pi}/capture"),
        200,
        fixture("pi_captured"),
    )
    .await;
    stripe
        .capture_payment("pi_3QxHd1LkdIwHu7ix0Xy1AbCd", None, "auto_capture:p7")
        .await
        .unwrap();
    let req = only_request(&server).await;
    assert_post(&req, "auto_capture:p7");
    // Stripe captures all that is capturable when the amount is left out
    assert!(!form(&req).contains_key("amount_to_capture"));
}

#[tokio::test]
async fn a_partial_refund_names_the_payment_and_the_amount() {
    let (server, stripe) = double().await;
    answer(&server, "POST", "/v1/refunds", 200, fixture("refund")).await;
    let refund = stripe
        .refund(&NewRefund {
            payment: "pi_3QxHd1LkdIwHu7ix0Xy1AbCd",
            amount: Some(600),
            metadata: BTreeMap::from([("refund_id".to_owned(), "r1".to_owned())]),
            idempotency_key: "refund:p1:k",
        })
        .await
        .unwrap();
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.amount, 600);
    assert_eq!(
        refund.payment.as_deref(),
        Some("pi_3QxHd1LkdIwHu7ix0Xy1AbCd")
    );
    let req = only_request(&server).await;
    assert_post(&req, "refund:p1:k");
    let f = form(&req);
    assert_eq!(f["payment_intent"], "pi_3QxHd1LkdIwHu7ix0Xy1AbCd");
    assert_eq!(f["amount"], "600");
    assert_eq!(f["metadata[refund_id]"], "r1");
}

#[tokio::test]
async fn a_host_gets_an_express_account_and_an_onboarding_link() {
    let (server, stripe) = double().await;
    answer(&server, "POST", "/v1/accounts", 200, fixture("account")).await;
    answer(
        &server,
        "POST",
        "/v1/account_links",
        200,
        fixture("account_link"),
    )
    .await;
    let host = uuid::Uuid::nil();
    let account = stripe
        .create_account(&NewAccount {
            host_id: host,
            email: "host@example.test",
            country: Some("NL"),
            idempotency_key: "connect_account:h1",
        })
        .await
        .unwrap();
    assert_eq!(account.id, "acct_1QxHf3Ph9XwQ2mZk");
    assert!(!account.charges_enabled);
    let link = stripe
        .onboarding_link(&LinkRequest {
            account: &account.id,
            refresh_url: "https://app.example.test/payouts/refresh",
            return_url: "https://app.example.test/payouts/done",
            idempotency_key: "account_link:h1:1",
        })
        .await
        .unwrap();
    assert!(link.url.starts_with("https://connect.stripe.com/"));
    assert_eq!(link.expires_at.timestamp(), 1_760_000_700);
    let sent = server.received_requests().await.unwrap();
    assert_post(&sent[0], "connect_account:h1");
    let f = form(&sent[0]);
    assert_eq!(f["type"], "express");
    assert_eq!(f["country"], "NL");
    assert_eq!(f["email"], "host@example.test");
    assert_eq!(f["capabilities[card_payments][requested]"], "true");
    assert_eq!(f["capabilities[transfers][requested]"], "true");
    assert_eq!(f["metadata[host_id]"], host.to_string());
    assert_post(&sent[1], "account_link:h1:1");
    let f = form(&sent[1]);
    assert_eq!(f["account"], "acct_1QxHf3Ph9XwQ2mZk");
    assert_eq!(f["type"], "account_onboarding");
    assert_eq!(f["return_url"], "https://app.example.test/payouts/done");
    assert_eq!(f["refresh_url"], "https://app.example.test/payouts/refresh");
}

#[tokio::test]
async fn a_payout_is_sent_as_the_connected_account() {
    let (server, stripe) = double().await;
    Mock::given(method("POST"))
        .and(path("/v1/payouts"))
        .and(header("stripe-account", "acct_1QxHf3Ph9XwQ2mZk"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("payout")))
        .expect(1)
        .mount(&server)
        .await;
    let payout = stripe
        .create_payout(&NewPayout {
            account: "acct_1QxHf3Ph9XwQ2mZk",
            amount: 5000,
            currency: "EUR",
            metadata: BTreeMap::new(),
            idempotency_key: "payout:x",
        })
        .await
        .unwrap();
    assert_eq!(payout.status, PayoutStatus::Pending);
    assert_eq!(payout.amount, 5000);
    let req = only_request(&server).await;
    assert_post(&req, "payout:x");
    let f = form(&req);
    assert_eq!(
        (f["amount"].as_str(), f["currency"].as_str()),
        ("5000", "eur")
    );
}

fn transfer<'a>(key: &'a str) -> NewTransfer<'a> {
    NewTransfer {
        destination: "acct_1QxHf3Ph9XwQ2mZk",
        amount: 4200,
        currency: "EUR",
        metadata: BTreeMap::from([
            (
                "host_id".to_owned(),
                "0192f0c4-0000-7000-8000-0000000000cc".to_owned(),
            ),
            (
                "settlement_id".to_owned(),
                "0192f0c4-0000-7000-8000-0000000000dd".to_owned(),
            ),
        ]),
        idempotency_key: key,
    }
}

#[tokio::test]
async fn a_transfer_to_a_host_goes_from_the_platform_with_its_key() {
    let (server, stripe) = double().await;
    answer(&server, "POST", "/v1/transfers", 200, fixture("transfer")).await;
    let state = stripe
        .create_transfer(&transfer("transfer:s1"))
        .await
        .unwrap();
    assert_eq!(
        state,
        TransferState {
            id: "tr_1QxHh5LkdIwHu7ixT9u8V7w6".into(),
            amount: 4200,
            currency: "eur".into(),
            amount_reversed: 0,
        }
    );
    let req = only_request(&server).await;
    assert_eq!(req.url.path(), "/v1/transfers");
    assert_post(&req, "transfer:s1");
    // the platform's own call, from its balance: never as the connected account
    assert_eq!(header_of(&req, "stripe-account"), None);
    let f = form(&req);
    let expect = [
        ("amount", "4200"),
        ("currency", "eur"),
        ("destination", "acct_1QxHf3Ph9XwQ2mZk"),
        ("metadata[host_id]", "0192f0c4-0000-7000-8000-0000000000cc"),
        (
            "metadata[settlement_id]",
            "0192f0c4-0000-7000-8000-0000000000dd",
        ),
    ];
    for (field, value) in expect {
        assert_eq!(
            f.get(field).map(String::as_str),
            Some(value),
            "{field} in {f:?}"
        );
    }
    assert_eq!(f.len(), expect.len(), "unexpected fields in {f:?}");
}

#[tokio::test]
async fn a_transfer_beyond_the_platform_balance_is_an_invalid_request() {
    let (server, stripe) = double().await;
    answer(
        &server,
        "POST",
        "/v1/transfers",
        400,
        fixture("error_balance_insufficient"),
    )
    .await;
    let err = stripe
        .create_transfer(&transfer("transfer:s2"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidRequest { code: Some(c), param: None, .. }
            if c == "balance_insufficient"),
        "{err:?}"
    );
}

#[tokio::test]
async fn stripe_errors_become_typed_provider_errors() {
    let (server, stripe) = double().await;
    answer(
        &server,
        "GET",
        "/v1/payment_intents/pi_missing",
        404,
        fixture("error_resource_missing"),
    )
    .await;
    let err = stripe.get_payment("pi_missing").await.unwrap_err();
    assert!(
        matches!(&err, ProviderError::InvalidRequest { code: Some(c), param: Some(p), .. }
            if c == "resource_missing" && p == "intent"),
        "{err:?}"
    );
    answer(
        &server,
        "GET",
        "/v1/payment_intents/pi_auth",
        401,
        fixture("error_auth"),
    )
    .await;
    let err = stripe.get_payment("pi_auth").await.unwrap_err();
    assert!(matches!(err, ProviderError::Auth(_)), "{err:?}");
    answer(
        &server,
        "GET",
        "/v1/payment_intents/pi_down",
        503,
        serde_json::json!({"error": {"type": "api_error", "message": "try later"}}),
    )
    .await;
    let err = stripe.get_payment("pi_down").await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_stripe_is_unavailable() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // a port nobody listens on
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let stripe = StripeProvider::new(KEY, Some(&base)).unwrap();
    let err = stripe.get_payment("pi_x").await.unwrap_err();
    assert!(matches!(err, ProviderError::Unavailable(_)), "{err:?}");
}

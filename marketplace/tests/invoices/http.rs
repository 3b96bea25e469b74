//! The invoice routes as a client reads them: the driver's list and invoice, the host's
//! issued ones, strangers refused, bad filters named, and a real PDF.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use marketplace::accounts::{AuthKeys, Role, DEFAULT_ACCESS_TTL};
use marketplace::plumbing::FixedClock;
use marketplace::{ApiContext, AuthUser};
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

use super::fixtures::*;
use super::support::*;

const SECRET: [u8; 32] = [9; 32];

fn app(pool: PgPool) -> Router {
    let ctx = ApiContext::new(pool, AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL))
        .development()
        .with_clock(Arc::new(FixedClock::new(now())));
    marketplace::app(ctx)
}

/// GET as `who`: status, content type, body bytes.
async fn get(app: &Router, uri: &str, who: &AuthUser) -> (StatusCode, String, Vec<u8>) {
    let token = AuthKeys::new(&SECRET, DEFAULT_ACCESS_TTL)
        .issue_access(who.id, who.role)
        .unwrap();
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, kind, bytes.to_vec())
}

async fn json(app: &Router, uri: &str, who: &AuthUser) -> (StatusCode, Value) {
    let (status, _, bytes) = get(app, uri, who).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn drivers_hosts_and_admins_read_what_is_theirs(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    let stranger = user(&pool, Role::Driver).await;
    let admin = user(&pool, Role::Admin).await;
    fund(&pool, driver.id, 1000).await;
    let s = session(&pool, &c, driver.id).await;
    post(&pool, bill(&pool, s, None, 300).await).await;
    let app = app(pool.clone());

    let (status, page) = json(&app, "/api/invoices", &driver).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 1);
    let item = &page["items"][0];
    assert_eq!(item["kind"], "invoice");
    assert_eq!(item["source"], "session_bill");
    assert_eq!(item["total_cents"], 380);
    let id = item["id"].as_str().unwrap().to_owned();

    let (status, one) = json(&app, &format!("/api/invoices/{id}"), &driver).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["lines"].as_array().unwrap().len(), 2);
    assert_eq!(one["tax_lines"][0]["tax_cents"], 30);
    assert_eq!(one["tax_lines"][0]["percent"], "10");
    assert_eq!(one["lines"][0]["quantity"], "12.5");
    assert_eq!(one["number"], item["number"]);

    // someone else's invoice does not exist for them; a malformed id neither
    let (status, _) = json(&app, &format!("/api/invoices/{id}"), &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = json(&app, "/api/invoices/not-an-id/pdf", &driver).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = json(&app, "/api/invoices", &stranger).await;
    assert_eq!(page["total"], 0);

    // the host sees it among those issued in their name, not among their own purchases
    let (_, page) = json(&app, "/api/invoices?as=issuer", &c.host).await;
    assert_eq!(page["total"], 1);
    let (_, page) = json(&app, "/api/invoices", &c.host).await;
    assert_eq!(page["total"], 0);
    let (status, _) = json(&app, &format!("/api/invoices/{id}"), &c.host).await;
    assert_eq!(status, StatusCode::OK);

    // admins read any, or one customer's
    let (_, page) = json(&app, "/api/invoices", &admin).await;
    assert_eq!(page["total"], 1);
    let uri = format!("/api/invoices?user_id={}", stranger.id);
    let (_, page) = json(&app, &uri, &admin).await;
    assert_eq!(page["total"], 0);
    let (_, page) = json(&app, "/api/invoices?source=booking_fee", &admin).await;
    assert_eq!(page["total"], 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_filters_are_named(pool: PgPool) {
    let driver = user(&pool, Role::Driver).await;
    let app = app(pool);
    let uri = "/api/invoices?as=boss&source=x&limit=0&from=yesterday&user_id=1&colour=red";
    let (status, body) = json(&app, uri, &driver).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["as", "colour", "from", "limit", "source", "user_id"]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_pdf_is_a_real_document_with_the_invoice_on_it(pool: PgPool) {
    let c = charger(&pool, Spec::default()).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 1000).await;
    let s = session(&pool, &c, driver.id).await;
    post(&pool, bill(&pool, s, None, 300).await).await;
    let app = app(pool.clone());
    let (_, page) = json(&app, "/api/invoices", &driver).await;
    let id = page["items"][0]["id"].as_str().unwrap();
    let number = page["items"][0]["number"].as_str().unwrap();

    let (status, kind, bytes) = get(&app, &format!("/api/invoices/{id}/pdf"), &driver).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "application/pdf");
    assert!(bytes.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(&bytes).expect("a PDF lopdf can read");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    for expected in [
        format!("Invoice {number}"),
        "Energy".to_owned(),
        "Sales tax 10% on 3.00 EUR".to_owned(),
        "3.80 EUR".to_owned(),
        format!("{}@example.test", driver.id),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in {text:?}");
    }
    let (status, _, _) = get(&app, &format!("/api/invoices/{id}/pdf"), &c.host).await;
    assert_eq!(status, StatusCode::OK, "the issuing host downloads it too");
}

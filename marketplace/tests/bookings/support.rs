//! Fixtures: users (plain SQL, no password hashing), listed chargers made through the
//! listings service, and shorthands for booking requests.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use marketplace::accounts::Role;
use marketplace::bookings::model::NewBooking;
use marketplace::bookings::service::{self, Created};
use marketplace::bookings::Booking;
use marketplace::listings::model::{
    ConnectorType, CurrentType, DeviceKind, ListingInput, OpeningWindow, PortInput,
};
use marketplace::listings::service as listings;
use marketplace::{AuthUser, Error};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

pub fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Monday 4 January 2027, 08:00 UTC: the "now" of most tests.
pub fn now() -> DateTime<Utc> {
    utc(2027, 1, 4, 8, 0)
}

pub async fn user(pool: &PgPool, role: Role) -> AuthUser {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, '$argon2id$test', $3)",
    )
    .bind(id)
    .bind(format!("{id}@example.test"))
    .bind(role.as_str())
    .execute(pool)
    .await
    .unwrap();
    AuthUser { id, role }
}

/// A driver with 1,000.00 EUR in the wallet: confirming a booking holds its amount.
pub async fn funded_driver(pool: &PgPool) -> AuthUser {
    let d = user(pool, Role::Driver).await;
    fund(pool, d.id, 100_000).await;
    d
}

/// Credits `amount` (EUR cents) to the user's wallet, as a provider's payment would.
pub async fn fund(pool: &PgPool, who: Uuid, amount: i64) {
    use marketplace::ledger::service::{record_provider_payment, ProviderPayment};
    let event = Uuid::now_v7().to_string();
    let mut tx = pool.begin().await.unwrap();
    let payment = ProviderPayment {
        provider: "local_test",
        event_id: &event,
        driver: who,
        amount,
        currency: "EUR",
        actor: Some(who),
        memo: "test top-up".into(),
    };
    record_provider_payment(&mut tx, &payment, now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

pub struct Charger {
    pub id: Uuid,
    pub host: AuthUser,
    pub ports: Vec<Uuid>,
}

pub struct Spec {
    pub time_zone: &'static str,
    pub ports: Vec<ConnectorType>,
    pub price_per_hour: Option<Decimal>,
    pub opening_hours: Vec<OpeningWindow>,
    /// OCPP station id: the ports become EVSEs 1, 2, ... of it.
    pub station: Option<&'static str>,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            time_zone: "Europe/Amsterdam",
            ports: vec![ConnectorType::Type2],
            // 2.50 an hour
            price_per_hour: Some(Decimal::new(250, 2)),
            opening_hours: vec![],
            station: None,
        }
    }
}

/// A listed charger of a new host, made as a host and an admin would.
pub async fn charger(pool: &PgPool, spec: Spec) -> Charger {
    let host = user(pool, Role::Host).await;
    let admin = user(pool, Role::Admin).await;
    if let Some(station) = spec.station {
        // stations belong to someone: the host owns this one (as after an approved claim)
        sqlx::query(
            "INSERT INTO stations (id, security_profile, owner_id) VALUES ($1, 0, $2) \
             ON CONFLICT (id) DO UPDATE SET owner_id = EXCLUDED.owner_id",
        )
        .bind(station)
        .bind(host.id)
        .execute(pool)
        .await
        .unwrap();
    }
    let input = ListingInput {
        title: "Wallbox in the garage".into(),
        address: "Prinsengracht 1, Amsterdam".into(),
        latitude: 52.37,
        longitude: 4.89,
        time_zone: spec.time_zone.into(),
        currency: Some("EUR".into()),
        price_per_hour: spec.price_per_hour,
        device_kind: spec.station.map(|_| DeviceKind::Ocpp),
        device_id: spec.station.map(Into::into),
        ..ListingInput::default()
    };
    let id = listings::create(pool, &host, input)
        .await
        .unwrap()
        .listing
        .id;
    let mut ports = Vec::new();
    for (i, connector_type) in spec.ports.iter().enumerate() {
        let evse = spec.station.map(|_| i as i32 + 1);
        let port = PortInput {
            label: format!("P{}", i + 1),
            connector_type: *connector_type,
            power_kw: 11.0,
            current_type: CurrentType::Ac,
            evse_id: evse,
            connector_id: evse.map(|_| 1),
        };
        ports.push(listings::add_port(pool, &host, id, port).await.unwrap().id);
    }
    if !spec.opening_hours.is_empty() {
        listings::set_opening_hours(pool, &host, id, spec.opening_hours)
            .await
            .unwrap();
    }
    listings::submit(pool, &host, id).await.unwrap();
    listings::approve(pool, &admin, id).await.unwrap();
    Charger { id, host, ports }
}

pub fn request(c: &Charger, port: usize, start: DateTime<Utc>, end: DateTime<Utc>) -> NewBooking {
    NewBooking {
        charger_id: c.id,
        port_id: c.ports[port],
        start_time: Some(start),
        end_time: end,
        emergency: false,
    }
}

pub async fn try_book(
    pool: &PgPool,
    driver: &AuthUser,
    req: NewBooking,
    at: DateTime<Utc>,
) -> Result<Booking, Error> {
    match service::create(pool, driver, req, None, at).await? {
        Created::New(b) => Ok(*b),
        Created::Replayed { .. } => panic!("replayed without a key"),
    }
}

pub async fn book(pool: &PgPool, driver: &AuthUser, req: NewBooking, at: DateTime<Utc>) -> Booking {
    try_book(pool, driver, req, at).await.unwrap()
}

/// A confirmed booking.
pub async fn confirmed(
    pool: &PgPool,
    driver: &AuthUser,
    req: NewBooking,
    at: DateTime<Utc>,
) -> Booking {
    let b = book(pool, driver, req, at).await;
    // confirming holds the booking's amount: the wallet gets what it lacks for it first
    let mut conn = pool.acquire().await.unwrap();
    let balance = marketplace::ledger::store::wallet_balance(&mut conn, driver.id, &b.currency)
        .await
        .unwrap();
    drop(conn);
    if balance < b.amount_cents {
        fund(pool, driver.id, b.amount_cents - balance).await;
    }
    service::confirm(pool, driver, b.id, at).await.unwrap()
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

pub async fn events(pool: &PgPool, id: Uuid) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM booking_events WHERE booking_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Runs `sql` past the database's guards (triggers off, as a careless restore or maintenance
/// session would), then answers what reconciliation finds: (check, detail) per discrepancy.
pub async fn reconcile_after_tampering(pool: &PgPool, sql: &str) -> Vec<(&'static str, String)> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    marketplace::ledger::reconcile(&mut conn)
        .await
        .unwrap()
        .discrepancies
        .into_iter()
        .map(|d| (d.check, d.detail))
        .collect()
}

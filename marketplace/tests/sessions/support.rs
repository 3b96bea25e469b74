//! Fixtures: users, a listed charger bound to a station with a simple tariff, a fake station
//! that records what the platform asks of it, station events, and pure pricing.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use marketplace::accounts::Role;
use marketplace::bookings::model::NewBooking;
use marketplace::bookings::service::{self as bookings, Created};
use marketplace::bookings::Booking;
use marketplace::listings::model::{
    ConnectorType, CurrentType, DeviceKind, ListingInput, PortInput,
};
use marketplace::listings::service as listings;
use marketplace::sessions::energy::Breakdown;
use marketplace::sessions::port::ControlFuture;
use marketplace::sessions::{
    station, Answer, ChargingLimit, EventOutcome, EventType, IdToken, Sample, StartAnswer,
    StationControl, StationEvent,
};
use marketplace::tariffs::bill::{self, Bill, Extras};
use marketplace::tariffs::peak_night::{self, Header, SimpleSettings};
use marketplace::tariffs::rules::PricingInput;
use marketplace::tariffs::zones::TaxRule;
use marketplace::tariffs::{engine, service as tariffs};
use marketplace::AuthUser;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

/// Tuesday 10 June 2031, 08:00 UTC (10:00 in Amsterdam): no peak or night window near.
pub fn t0() -> DateTime<Utc> {
    utc(2031, 6, 10, 8, 0)
}

pub fn at(min: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(min)
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

/// 0.30 per kWh, 2.00 per charging hour, 6.00 per idle hour, no peak or night multiplier
/// (so examples are plain arithmetic), 21 % VAT (Amsterdam).
pub fn settings() -> SimpleSettings {
    SimpleSettings {
        price_per_kwh: d("0.30"),
        price_per_hour: d("2.00"),
        minimum_charge: Decimal::ZERO,
        peak_multiplier: Decimal::ONE,
        night_multiplier: Decimal::ONE,
        idle_fee_per_hour: d("6.00"),
    }
}

pub struct Charger {
    pub id: Uuid,
    pub host: AuthUser,
    pub ports: Vec<Uuid>,
    pub station: String,
}

/// A listed charger in Amsterdam bound to `station` (ports = EVSEs 1, 2, ...), priced with
/// [`settings`].
pub async fn charger(pool: &PgPool, station: &str, ports: usize) -> Charger {
    let host = user(pool, Role::Host).await;
    let admin = user(pool, Role::Admin).await;
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
    let input = ListingInput {
        title: "Wallbox at the depot".into(),
        address: "Depotweg 1, Amsterdam".into(),
        latitude: 52.37,
        longitude: 4.89,
        time_zone: "Europe/Amsterdam".into(),
        currency: Some("EUR".into()),
        device_kind: Some(DeviceKind::Ocpp),
        device_id: Some(station.into()),
        ..ListingInput::default()
    };
    let id = listings::create(pool, &host, input)
        .await
        .unwrap()
        .listing
        .id;
    let mut port_ids = Vec::new();
    for i in 0..ports {
        let port = PortInput {
            label: format!("P{}", i + 1),
            connector_type: ConnectorType::Ccs2,
            power_kw: 50.0,
            current_type: CurrentType::Dc,
            evse_id: Some(i as i32 + 1),
            connector_id: Some(1),
        };
        port_ids.push(listings::add_port(pool, &host, id, port).await.unwrap().id);
    }
    listings::submit(pool, &host, id).await.unwrap();
    listings::approve(pool, &admin, id).await.unwrap();
    let pricing = PricingInput {
        simple: Some(settings()),
        ocpi: None,
        emergency_multiplier: None,
        sales_tax_percent: None,
    };
    tariffs::set_pricing(pool, &host, id, pricing)
        .await
        .unwrap();
    Charger {
        id,
        host,
        ports: port_ids,
        station: station.into(),
    }
}

/// A confirmed booking of `port` for `[start, start + 1 h)`, made at `start - 1 h`.
pub async fn booking(
    pool: &PgPool,
    driver: &AuthUser,
    c: &Charger,
    port: usize,
    start: DateTime<Utc>,
) -> Booking {
    let req = NewBooking {
        charger_id: c.id,
        port_id: c.ports[port],
        start_time: Some(start),
        end_time: start + Duration::hours(1),
        emergency: false,
    };
    let made = start - Duration::hours(1);
    let Created::New(b) = bookings::create(pool, driver, req, None, made)
        .await
        .unwrap()
    else {
        panic!("replayed without a key")
    };
    // confirming holds the booking's amount on the wallet
    fund(pool, driver.id, b.amount_cents, made).await;
    bookings::confirm(pool, driver, b.id, made).await.unwrap()
}

/// A driver with 100.00 EUR in the wallet: enough for a session without a booking to hold
/// its estimate (at most 50.00 by default).
pub async fn funded_driver(pool: &PgPool) -> AuthUser {
    let driver = user(pool, Role::Driver).await;
    fund(pool, driver.id, 10_000, t0() - chrono::Duration::days(1)).await;
    driver
}

/// Credits `amount` (EUR cents) to the user's wallet, as a provider's payment would.
pub async fn fund(pool: &PgPool, who: Uuid, amount: i64, at: DateTime<Utc>) {
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
    record_provider_payment(&mut tx, &payment, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// What the fake station was asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Start {
        station: String,
        evse: i32,
        token: IdToken,
        remote_start_id: i32,
    },
    Stop {
        station: String,
        transaction: String,
    },
    Limit(ChargingLimit),
    Cost {
        transaction: String,
        total: Decimal,
    },
}

/// A station that accepts everything unless told otherwise, and remembers every call.
#[derive(Default)]
pub struct FakeStations {
    pub calls: Mutex<Vec<Call>>,
    pub reject: Mutex<bool>,
    pub offline: Mutex<bool>,
    pub driver_tokens: Mutex<Vec<(Uuid, IdToken)>>,
    /// Answer RequestStartTransaction with this transaction id.
    pub start_transaction: Mutex<Option<String>>,
}

impl FakeStations {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn answer<T: Send + 'static>(&self, call: Call, ok: T) -> ControlFuture<'_, T> {
        self.calls.lock().unwrap().push(call);
        let result = if *self.offline.lock().unwrap() {
            Err(marketplace::Error::Unavailable(
                "the charger's station is offline".into(),
            ))
        } else {
            Ok(ok)
        };
        Box::pin(std::future::ready(result))
    }

    fn yes_or_no(&self) -> Answer {
        if *self.reject.lock().unwrap() {
            Answer::Rejected(Some("Busy".into()))
        } else {
            Answer::Accepted
        }
    }
}

impl StationControl for FakeStations {
    fn driver_token(&self, driver_id: Uuid) -> ControlFuture<'_, Option<IdToken>> {
        let found = self
            .driver_tokens
            .lock()
            .unwrap()
            .iter()
            .find(|(d, _)| *d == driver_id)
            .map(|(_, t)| t.clone());
        Box::pin(std::future::ready(Ok(found)))
    }

    fn start<'a>(
        &'a self,
        station_id: &'a str,
        evse_id: i32,
        id_token: &'a IdToken,
        remote_start_id: i32,
    ) -> ControlFuture<'a, StartAnswer> {
        let call = Call::Start {
            station: station_id.into(),
            evse: evse_id,
            token: id_token.clone(),
            remote_start_id,
        };
        let answer = StartAnswer {
            answer: self.yes_or_no(),
            transaction_id: self.start_transaction.lock().unwrap().clone(),
        };
        self.answer(call, answer)
    }

    fn stop<'a>(
        &'a self,
        station_id: &'a str,
        transaction_id: &'a str,
    ) -> ControlFuture<'a, Answer> {
        let call = Call::Stop {
            station: station_id.into(),
            transaction: transaction_id.into(),
        };
        let answer = self.yes_or_no();
        self.answer(call, answer)
    }

    fn set_charging_limit<'a>(&'a self, limit: &'a ChargingLimit) -> ControlFuture<'a, Answer> {
        let answer = self.yes_or_no();
        self.answer(Call::Limit(limit.clone()), answer)
    }

    fn cost_updated<'a>(
        &'a self,
        _: &'a str,
        transaction_id: &'a str,
        total_cost: Decimal,
    ) -> ControlFuture<'a, ()> {
        let call = Call::Cost {
            transaction: transaction_id.into(),
            total: total_cost,
        };
        self.answer(call, ())
    }
}

/// A TransactionEvent of `station`'s transaction `tx` at minute `min` after [`t0`], with an
/// energy register reading (Wh) when given.
pub fn event(
    station: &str,
    tx: &str,
    seq: i32,
    kind: EventType,
    min: i64,
    wh: Option<i64>,
) -> StationEvent {
    StationEvent {
        station_id: station.into(),
        transaction_id: tx.into(),
        seq_no: seq,
        event_type: kind,
        timestamp: at(min),
        evse_id: (kind == EventType::Started).then_some(1),
        connector_id: (kind == EventType::Started).then_some(1),
        id_token: None,
        token_owner: None,
        remote_start_id: None,
        charging_state: None,
        stopped_reason: (kind == EventType::Ended).then(|| "Local".to_owned()),
        samples: wh
            .map(|wh| {
                vec![Sample {
                    measurand: "energy_wh",
                    at: at(min),
                    value: Decimal::from(wh),
                }]
            })
            .unwrap_or_default(),
    }
}

pub async fn send(pool: &PgPool, ev: &StationEvent, now_min: i64) -> EventOutcome {
    station::transaction_event(
        pool,
        &marketplace::sessions::SessionFunds::default(),
        ev,
        at(now_min),
    )
    .await
    .unwrap()
}

/// Prices a breakdown with the simple tariff of [`settings`] (or others) in Amsterdam, 21 %
/// VAT included, default extras: no database.
pub fn bill_of(s: &SimpleSettings, b: &Breakdown) -> Bill {
    let tz: Tz = "Europe/Amsterdam".parse().unwrap();
    let header = Header {
        id: "test".into(),
        currency: "EUR".into(),
        country_code: Some("NL".into()),
        party_id: Some("EVP".into()),
        vat: Some(Decimal::from(21)),
        last_updated: t0(),
    };
    let (tariff, labels) = peak_night::to_ocpi(s, &header);
    let report = engine::price(&tariff, &b.session, tz).unwrap();
    let extras = Extras {
        tax: TaxRule::VatInclusive {
            percent: Decimal::from(21),
        },
        ..Extras::default()
    };
    bill::bill(&report, Some(&labels), &extras)
}

/// (kind, amount) of each line.
pub fn lines(b: &Bill) -> Vec<(String, String)> {
    b.lines
        .iter()
        .map(|l| {
            let kind = serde_json::to_value(l.kind).unwrap();
            (kind.as_str().unwrap().to_owned(), l.amount.to_string())
        })
        .collect()
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// A conflict's code, or the whole error.
pub fn code(e: marketplace::Error) -> String {
    match e {
        marketplace::Error::Conflict { code, .. } => code.into(),
        other => format!("{other:?}"),
    }
}

//! Plain-SQL fixtures: a host and listings with exactly the columns search reads.

use sqlx::PgPool;
use uuid::Uuid;

pub async fn host(pool: &PgPool) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, '$argon2id$test', 'host')")
        .bind(id)
        .bind(format!("{id}@example.test"))
        .execute(pool)
        .await
        .unwrap();
    id
}

#[derive(Clone)]
pub struct Spec {
    pub title: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub status: &'static str,
    pub time_zone: &'static str,
    pub connector_types: Vec<&'static str>,
    pub max_power_kw: f64,
    pub ports_total: i32,
    pub ports_available: i32,
    pub price_per_kwh: Option<f64>,
    pub price_per_hour: Option<f64>,
    pub rating: (f64, i32),
    pub amenities: Vec<&'static str>,
}

impl Spec {
    pub fn at(title: &'static str, lat: f64, lon: f64) -> Self {
        Self {
            title,
            lat,
            lon,
            status: "listed",
            time_zone: "Europe/Paris",
            connector_types: vec!["Type2"],
            max_power_kw: 22.0,
            ports_total: 2,
            ports_available: 1,
            price_per_kwh: Some(0.30),
            price_per_hour: None,
            rating: (0.0, 0),
            amenities: vec![],
        }
    }
}

pub async fn listing(pool: &PgPool, host: Uuid, s: Spec) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO listings (id, host_id, title, address, location, time_zone, status, \
         connector_types, max_power_kw, ports_total, ports_available, price_per_kwh, \
         price_per_hour, rating_avg, rating_count, amenities, currency) \
         VALUES ($1, $2, $3, '1 Test Street', ST_SetSRID(ST_MakePoint($4, $5), 4326)::geography, \
         $6, $7, $8, $9::float8::numeric, $10, $11, $12::float8::numeric, $13::float8::numeric, \
         $14::float8::numeric, $15, $16, 'EUR')",
    )
    .bind(id)
    .bind(host)
    .bind(s.title)
    .bind(s.lon)
    .bind(s.lat)
    .bind(s.time_zone)
    .bind(s.status)
    .bind(
        s.connector_types
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>(),
    )
    .bind(s.max_power_kw)
    .bind(s.ports_total)
    .bind(s.ports_available)
    .bind(s.price_per_kwh)
    .bind(s.price_per_hour)
    .bind(s.rating.0)
    .bind(s.rating.1)
    .bind(
        s.amenities
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>(),
    )
    .execute(pool)
    .await
    .unwrap();
    id
}

pub async fn port(pool: &PgPool, listing: Uuid, label: &str, live: &str) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO listing_ports (id, listing_id, label, connector_type, power_kw, current_type, live_status) \
         VALUES ($1, $2, $3, 'Type2', 22, 'AC', $4)",
    )
    .bind(id)
    .bind(listing)
    .bind(label)
    .bind(live)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// Opening hours every day of the week, local `HH:MM` times.
pub async fn daily_hours(pool: &PgPool, listing: Uuid, opens: &str, closes: &str) {
    for weekday in 1..=7i16 {
        sqlx::query(
            "INSERT INTO listing_opening_hours (listing_id, weekday, opens_at, closes_at) \
             VALUES ($1, $2, $3::time, $4::time)",
        )
        .bind(listing)
        .bind(weekday)
        .bind(opens)
        .bind(closes)
        .execute(pool)
        .await
        .unwrap();
    }
}

//! `csms demo --synthetic N`: N listed listings with 1-4 ports each, for search benchmarks.
//!
//! Everything is generated inside PostgreSQL (`INSERT ... SELECT ... generate_series`): a
//! client-side loop would spend its time on round trips, not on the data. 80 % of the rows
//! cluster around 40 real cities of Europe and North America (bigger cities get more, with a
//! normal scatter of a few km), 20 % scatter over the countryside of both continents.

use std::time::Instant;

use marketplace::accounts::Role;
use sqlx::PgPool;

use super::ensure_user;

pub const SYNTHETIC_HOST: &str = "synthetic-host@demo.local";

pub async fn seed(pool: &PgPool, n: u32, seed: u64) -> anyhow::Result<()> {
    let host = ensure_user(pool, SYNTHETIC_HOST, Role::Host, "Synthetic Host").await?;
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM listings WHERE host_id = $1")
        .bind(host)
        .fetch_one(pool)
        .await?;
    let missing = i64::from(n) - have;
    if missing <= 0 {
        println!("{have} synthetic listings already there");
        return Ok(());
    }
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    // setseed takes [-1, 1]; same seed, same points.
    let unit = (seed % 1_000_003) as f64 / 1_000_003.0 * 2.0 - 1.0;
    sqlx::query("SELECT setseed($1)")
        .bind(unit)
        .execute(&mut *tx)
        .await?;
    sqlx::query(CREATE_PLAN)
        .bind(missing)
        .bind(have)
        .execute(&mut *tx)
        .await?;
    sqlx::query(INSERT_LISTINGS)
        .bind(host)
        .execute(&mut *tx)
        .await?;
    sqlx::query(INSERT_PORTS).execute(&mut *tx).await?;
    tx.commit().await?;
    // Fresh statistics so the planner picks the GiST index at once, and the state autovacuum
    // would reach later: a million just-written rows without hint bits or a visibility map
    // make every read pay for them (measured: half again the CPU per search).
    sqlx::query("VACUUM (FREEZE, ANALYZE) listings, listing_ports")
        .execute(pool)
        .await?;
    println!(
        "{missing} synthetic listings added ({} in all) in {:.1} s",
        have + missing,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One row per listing to make: where, how many ports and which kinds. A temporary table,
/// so that listings and ports (and the listing's port summary) come from the same draw.
/// $1 how many, $2 how many exist (numbers continue after them).
const CREATE_PLAN: &str = r#"
CREATE TEMP TABLE synthetic_plan ON COMMIT DROP AS
WITH city(n, name, lat, lon, km) AS (VALUES
    (1,'London',51.507,-0.128,14),(2,'Paris',48.857,2.352,10),(3,'New York',40.713,-74.006,14),
    (4,'Los Angeles',34.052,-118.244,20),(5,'Berlin',52.520,13.405,11),(6,'Madrid',40.417,-3.704,9),
    (7,'Chicago',41.878,-87.630,14),(8,'Toronto',43.653,-79.383,13),(9,'Rome',41.903,12.496,9),
    (10,'Amsterdam',52.368,4.904,7),(11,'Hamburg',53.551,9.994,9),(12,'Barcelona',41.385,2.173,7),
    (13,'Munich',48.137,11.576,8),(14,'Milan',45.464,9.190,8),(15,'San Francisco',37.775,-122.419,10),
    (16,'Houston',29.760,-95.370,18),(17,'Vienna',48.208,16.373,8),(18,'Warsaw',52.230,21.012,9),
    (19,'Stockholm',59.329,18.069,8),(20,'Oslo',59.914,10.752,7),(21,'Copenhagen',55.676,12.568,7),
    (22,'Brussels',50.850,4.352,7),(23,'Zurich',47.377,8.541,6),(24,'Lyon',45.764,4.836,7),
    (25,'Seattle',47.606,-122.332,10),(26,'Boston',42.360,-71.059,10),(27,'Montreal',45.502,-73.567,10),
    (28,'Vancouver',49.283,-123.121,9),(29,'Dublin',53.350,-6.260,7),(30,'Lisbon',38.722,-9.139,7),
    (31,'Prague',50.076,14.438,7),(32,'Frankfurt',50.110,8.682,7),(33,'Manchester',53.481,-2.243,8),
    (34,'Utrecht',52.091,5.122,5),(35,'Rotterdam',51.924,4.478,6),(36,'Atlanta',33.749,-84.388,14),
    (37,'Denver',39.739,-104.990,11),(38,'Austin',30.267,-97.743,11),(39,'Miami',25.762,-80.192,10),
    (40,'Washington',38.907,-77.037,11)
), draw AS (
    SELECT $2::bigint + g AS i, random() kind, random() pick, random() u1, random() u2,
        random() r1, random() r2, random() nports
    FROM generate_series(1, $1::bigint) g
), placed AS (
    SELECT d.i, d.nports,
        CASE WHEN d.kind < 0.8 THEN
            -- skewed towards the first (bigger) cities; Box-Muller normal scatter in km
            c.lat + c.km / 111.0 * sqrt(-2 * ln(1 - d.u1)) * cos(2 * pi() * d.u2) * 0.5
        WHEN d.kind < 0.92 THEN 43 + d.r1 * 15          -- rural Europe
        ELSE 30 + d.r1 * 17 END AS lat,                -- rural North America
        CASE WHEN d.kind < 0.8 THEN
            c.lon + c.km / (111.0 * cos(radians(c.lat))) * sqrt(-2 * ln(1 - d.u1)) * sin(2 * pi() * d.u2) * 0.5
        WHEN d.kind < 0.92 THEN -4 + d.r2 * 28
        ELSE -122 + d.r2 * 45 END AS lon,
        CASE WHEN d.kind < 0.8 THEN c.name ELSE 'countryside' END AS place,
        CASE WHEN d.kind < 0.8 AND c.lon > -30 THEN 'Europe/' || CASE
            WHEN c.name IN ('London','Manchester') THEN 'London'
            WHEN c.name = 'Dublin' THEN 'Dublin' WHEN c.name = 'Lisbon' THEN 'Lisbon'
            ELSE 'Berlin' END
            WHEN d.kind < 0.8 THEN 'America/' || CASE
            WHEN c.lon < -115 THEN 'Los_Angeles' WHEN c.lon < -100 THEN 'Denver'
            WHEN c.lon < -85 THEN 'Chicago' ELSE 'New_York' END
            WHEN d.kind < 0.92 THEN 'Europe/Berlin' ELSE 'America/Chicago' END AS time_zone
    FROM draw d
    JOIN city c ON c.n = 1 + floor(power(d.pick, 1.6) * 40)::int
)
SELECT i, gen_random_uuid() AS id, greatest(-89.9, least(89.9, lat)) AS lat,
    greatest(-179.9, least(179.9, lon)) AS lon, place, time_zone,
    1 + floor(nports * 4)::int AS ports,
    -- port kinds: 1-3 Type2 AC 7.4/11/22 kW, 4-5 CCS2 DC 50/150 kW, 6 CHAdeMO 50 kW
    ARRAY(SELECT CASE WHEN r < 0.3 THEN 1 WHEN r < 0.55 THEN 2 WHEN r < 0.75 THEN 3
                      WHEN r < 0.88 THEN 4 WHEN r < 0.96 THEN 5 ELSE 6 END
          FROM (SELECT random() + 0 * i AS r FROM generate_series(1, 1 + floor(nports * 4)::int)) x) AS kinds
FROM placed
"#;

/// The port kinds' connector and power are looked up by index (1-6, as in the plan), so the
/// listing's summary and its ports agree by construction. $1: the synthetic host.
const INSERT_LISTINGS: &str = r#"
INSERT INTO listings (id, host_id, title, description, address, location, time_zone, currency,
    price_per_kwh, rating_avg, rating_count, status, submitted_at, decided_at,
    connector_types, max_power_kw, ports_total, ports_available)
SELECT p.id, $1, 'Synthetic charger ' || p.i || ' near ' || p.place, 'synthetic',
    'Synthetic street ' || p.i || ', ' || p.place,
    ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography, p.time_zone,
    CASE WHEN p.time_zone LIKE 'America/%' THEN 'USD' ELSE 'EUR' END,
    round((0.20 + (abs(hashtext(p.id::text)) % 4500) / 10000.0)::numeric, 2),
    round((3 + (p.i % 200) / 100.0)::numeric, 2), (p.i % 60)::int,
    'listed', now(), now(),
    ARRAY(SELECT DISTINCT (ARRAY['Type2','Type2','Type2','CCS2','CCS2','CHAdeMO'])[k] FROM unnest(p.kinds) k ORDER BY 1),
    (SELECT max((ARRAY[7.4,11,22,50,150,50]::numeric[])[k]) FROM unnest(p.kinds) k),
    p.ports,
    -- every fourth port is taken
    p.ports - (SELECT count(*) FROM generate_series(1, p.ports) j WHERE (p.i + j) % 4 = 0)::int
FROM synthetic_plan p
"#;

const INSERT_PORTS: &str = r#"
INSERT INTO listing_ports (id, listing_id, label, connector_type, power_kw, current_type, live_status)
SELECT gen_random_uuid(), p.id, 'Port ' || j,
    (ARRAY['Type2','Type2','Type2','CCS2','CCS2','CHAdeMO'])[p.kinds[j]],
    (ARRAY[7.4,11,22,50,150,50]::numeric[])[p.kinds[j]],
    CASE WHEN p.kinds[j] <= 3 THEN 'AC' ELSE 'DC' END,
    CASE WHEN (p.i + j) % 4 = 0 THEN 'Occupied' ELSE 'Available' END
FROM synthetic_plan p, generate_series(1, p.ports) j
"#;

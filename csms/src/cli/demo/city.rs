//! A believable Amsterdam: 10 hosts with ~300 chargers around the real neighbourhoods, 20
//! drivers with vehicles, and the simulated stations SIM-1..SIM-5 bound to five listings.
//!
//! Rows are made server-side (one `INSERT ... SELECT` per table, one transaction) from
//! street and neighbourhood lists, with `setseed` so every run makes the same city.
//! Idempotent: skipped when the demo hosts already have listings.

use marketplace::accounts::Role;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ensure_user, DEMO_STATIONS};

const LISTINGS: i32 = 300;
/// The last few are left for the admin queue (submitted) and the hosts' drafts.
const SUBMITTED: i32 = 8;
const DRAFTS: i32 = 7;
const HOSTS: usize = 10;
const DRIVERS: usize = 20;

pub async fn seed(pool: &PgPool) -> anyhow::Result<()> {
    let mut hosts: Vec<Uuid> = Vec::with_capacity(HOSTS);
    hosts.push(ensure_user(pool, "host@demo.local", Role::Host, "Hana Host").await?);
    for (i, name) in HOST_NAMES.iter().enumerate() {
        let email = format!("host{}@demo.local", i + 2);
        hosts.push(ensure_user(pool, &email, Role::Host, name).await?);
    }
    let mut drivers: Vec<Uuid> = Vec::with_capacity(DRIVERS);
    drivers.push(ensure_user(pool, "driver@demo.local", Role::Driver, "Dario Driver").await?);
    for (i, name) in DRIVER_NAMES.iter().enumerate() {
        let email = format!("driver{}@demo.local", i + 2);
        drivers.push(ensure_user(pool, &email, Role::Driver, name).await?);
    }
    println!("hosts host@demo.local, host2..host{HOSTS}@demo.local; drivers driver@demo.local, driver2..driver{DRIVERS}@demo.local");

    let mut tx = pool.begin().await?;
    let seeded: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM listings WHERE host_id = ANY($1))")
            .bind(&hosts)
            .fetch_one(&mut *tx)
            .await?;
    if seeded {
        println!("Amsterdam listings already there");
    } else {
        sqlx::query("SELECT setseed(0.1976)")
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_LISTINGS)
            .bind(&hosts)
            .bind(LISTINGS)
            .bind(LISTINGS - SUBMITTED - DRAFTS)
            .bind(LISTINGS - DRAFTS)
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_PORTS)
            .bind(&hosts)
            .execute(&mut *tx)
            .await?;
        sqlx::query(OWN_SIMULATED_STATIONS)
            .bind(&hosts)
            .bind(DEMO_STATIONS as i32)
            .execute(&mut *tx)
            .await?;
        sqlx::query(BIND_SIMULATED_STATIONS)
            .bind(&hosts)
            .bind(DEMO_STATIONS as i32)
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_OPENING_HOURS)
            .bind(&hosts)
            .execute(&mut *tx)
            .await?;
        marketplace::listings::store::refresh_port_summaries_of_hosts(&mut tx, &hosts).await?;
        println!(
            "{LISTINGS} Amsterdam listings ({SUBMITTED} submitted, {DRAFTS} drafts), SIM-1..SIM-{DEMO_STATIONS} bound to listings"
        );
    }
    // The vehicles table comes with a migration that may not have landed: look, don't assume.
    let vehicles: Option<String> = sqlx::query_scalar("SELECT to_regclass('vehicles')::text")
        .fetch_one(&mut *tx)
        .await?;
    if vehicles.is_some() {
        let added = sqlx::query(INSERT_VEHICLES)
            .bind(&drivers)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        println!("{added} vehicles for the demo drivers");
    }
    tx.commit().await?;
    Ok(())
}

const HOST_NAMES: [&str; HOSTS - 1] = [
    "Sanne de Vries",
    "Daan Jansen",
    "Fleur Bakker",
    "Bram Visser",
    "Noor Smit",
    "Lucas Meijer",
    "Eva de Boer",
    "Thijs Mulder",
    "Lotte de Groot",
];

const DRIVER_NAMES: [&str; DRIVERS - 1] = [
    "Emma Bos",
    "Sem Vos",
    "Julia Peters",
    "Finn Hendriks",
    "Tess van Dijk",
    "Milan Dekker",
    "Sophie Brouwer",
    "Levi de Wit",
    "Anna Dijkstra",
    "Jesse Smits",
    "Zoë de Graaf",
    "Luuk van der Meer",
    "Mila van den Berg",
    "Ruben Kok",
    "Isa Jacobs",
    "Gijs de Haan",
    "Lisa Vermeulen",
    "Max van Leeuwen",
    "Sara Koster",
];

/// $1 hosts, $2 how many, rows up to $3 are listed, up to $4 submitted, the rest drafts.
/// Neighbourhood centres and radii (degrees) are real; points scatter around them.
const INSERT_LISTINGS: &str = r#"
WITH hood(name, lat, lon, r, postcode) AS (VALUES
    ('Jordaan', 52.3745, 4.8810, 0.005, '1015'), ('De Pijp', 52.3532, 4.8936, 0.005, '1073'),
    ('Oud-West', 52.3650, 4.8660, 0.006, '1054'), ('Oost', 52.3600, 4.9280, 0.008, '1092'),
    ('Noord', 52.3900, 4.9200, 0.012, '1031'), ('Zuid', 52.3420, 4.8720, 0.008, '1077'),
    ('Westerpark', 52.3870, 4.8720, 0.006, '1051'), ('Centrum', 52.3700, 4.8950, 0.004, '1012'),
    ('Bos en Lommer', 52.3780, 4.8480, 0.006, '1055'), ('IJburg', 52.3550, 5.0000, 0.010, '1087'),
    ('Nieuw-West', 52.3640, 4.8050, 0.012, '1062'), ('Zuidoost', 52.3100, 4.9700, 0.012, '1102'),
    ('Watergraafsmeer', 52.3530, 4.9460, 0.007, '1097'), ('Rivierenbuurt', 52.3440, 4.9040, 0.006, '1078')
), h AS (SELECT array_agg(name ORDER BY name) n, array_agg(lat ORDER BY name) la,
               array_agg(lon ORDER BY name) lo, array_agg(r ORDER BY name) r,
               array_agg(postcode ORDER BY name) pc FROM hood),
street AS (SELECT ARRAY['Prinsengracht','Keizersgracht','Herengracht','Westerstraat','Ferdinand Bolstraat',
    'Albert Cuypstraat','Overtoom','Kinkerstraat','Linnaeusstraat','Javastraat','Van Woustraat',
    'Amstelveenseweg','Jan Pieter Heijestraat','Bilderdijkstraat','Haarlemmerweg','Spaarndammerstraat',
    'Middenweg','Ringdijk','Meeuwenlaan','Buiksloterweg','Beethovenstraat','Rijnstraat',
    'Pieter Calandlaan','Bijlmerdreef','Pedro de Medinalaan','Nassaukade','Stadionweg',
    'Sarphatistraat','Plantage Middenlaan','Czaar Peterstraat'] s),
g AS (
    SELECT i, 1 + (i % 14) AS hood, random() a, random() b, random() c, random() d, random() e
    FROM generate_series(1, $2) i
)
INSERT INTO listings (id, host_id, title, description, address, location, time_zone, amenities,
    access_instructions, currency, price_per_kwh, rating_avg, rating_count, status,
    submitted_at, decided_at, created_at, updated_at)
SELECT gen_random_uuid(),
    ($1::uuid[])[1 + (g.i % cardinality($1::uuid[]))],
    (ARRAY['Home charger','Driveway wall box','Fast charger','Garage charger','Courtyard charger',
           'Office car park charger'])[1 + floor(g.c * 6)::int] || ' ' || h.n[g.hood] || ' – '
        || street.s[1 + floor(g.d * 30)::int],
    'Private charger offered by its owner. Park on the marked spot; the cable is attached.',
    street.s[1 + floor(g.d * 30)::int] || ' ' || (1 + floor(g.e * 250))::int || ', '
        || h.pc[g.hood] || ' ' || chr(65 + (g.i % 26)) || chr(65 + ((g.i / 26) % 26)) || ' Amsterdam',
    ST_SetSRID(ST_MakePoint(h.lo[g.hood] + (g.a - 0.5) * 2 * h.r[g.hood] * 1.6,
                            h.la[g.hood] + (g.b - 0.5) * 2 * h.r[g.hood]), 4326)::geography,
    'Europe/Amsterdam',
    string_to_array((ARRAY['', 'wifi', 'covered,lighting', 'cafe,toilet', 'shop,toilet,wifi',
        'lighting'])[1 + (g.i % 6)], ','),
    CASE WHEN g.c < 0.5 THEN 'Ring the bell at the front door; the gate code is in the booking.'
         ELSE '' END,
    'EUR',
    round((0.20 + g.e * 0.45)::numeric, 2),
    CASE WHEN g.i % 5 = 0 THEN 0 ELSE round((3.4 + g.a * 1.6)::numeric, 2) END,
    CASE WHEN g.i % 5 = 0 THEN 0 ELSE 1 + floor(g.b * 80)::int END,
    CASE WHEN g.i <= $3 THEN 'listed' WHEN g.i <= $4 THEN 'submitted' ELSE 'draft' END,
    CASE WHEN g.i <= $4 THEN now() - make_interval(days => 1 + (g.i % 90)) END,
    CASE WHEN g.i <= $3 THEN now() - make_interval(days => (g.i % 90)) END,
    now() - make_interval(days => 2 + (g.i % 120)),
    now()
FROM g, h, street
"#;

/// 1-3 ports per listing, a mix weighted towards home AC (what hosts really have).
const INSERT_PORTS: &str = r#"
WITH kind(k, ct, kw, cur) AS (VALUES
    (1, 'Type2', 7.4, 'AC'), (2, 'Type2', 11, 'AC'), (3, 'Type2', 22, 'AC'),
    (4, 'CCS2', 50, 'DC'), (5, 'CCS2', 150, 'DC'), (6, 'CHAdeMO', 50, 'DC')
), p AS (
    SELECT l.id, n, random() r, random() s
    FROM listings l, generate_series(1, 3) n
    WHERE l.host_id = ANY($1) AND n <= 1 + (abs(hashtext(l.id::text)) % 3)
)
INSERT INTO listing_ports (id, listing_id, label, connector_type, power_kw, current_type, live_status, live_status_at)
SELECT gen_random_uuid(), p.id, 'Port ' || p.n, kind.ct, kind.kw, kind.cur,
    CASE WHEN p.s < 0.75 THEN 'Available' WHEN p.s < 0.93 THEN 'Occupied' ELSE 'Unavailable' END,
    now()
FROM p JOIN kind ON kind.k = CASE WHEN p.r < 0.30 THEN 1 WHEN p.r < 0.55 THEN 2 WHEN p.r < 0.75 THEN 3
                                  WHEN p.r < 0.88 THEN 4 WHEN p.r < 0.96 THEN 5 ELSE 6 END
"#;

/// Stations belong to someone: SIM-n is owned by the host of the listing it will drive (the
/// same pick as [`BIND_SIMULATED_STATIONS`]), as after an approved claim.
const OWN_SIMULATED_STATIONS: &str = r#"
WITH pick AS (
    SELECT host_id, row_number() OVER (ORDER BY created_at, id) n
    FROM listings WHERE host_id = ANY($1) AND status = 'listed'
    ORDER BY created_at, id LIMIT $2
)
UPDATE stations s SET owner_id = pick.host_id FROM pick WHERE s.id = 'SIM-' || pick.n
"#;

/// The first $2 listed chargers become SIM-1..SIM-n: two Type2 22 kW EVSEs each, so the
/// simulators' StatusNotifications land on real ports.
const BIND_SIMULATED_STATIONS: &str = r#"
WITH pick AS (
    SELECT id, row_number() OVER (ORDER BY created_at, id) n
    FROM listings WHERE host_id = ANY($1) AND status = 'listed'
    ORDER BY created_at, id LIMIT $2
), bound AS (
    UPDATE listings l SET device_kind = 'ocpp', device_id = 'SIM-' || pick.n,
        title = 'Smart charger ' || pick.n || ' – ' || split_part(l.address, ',', 1)
    FROM pick WHERE l.id = pick.id RETURNING l.id
), dropped AS (
    DELETE FROM listing_ports WHERE listing_id IN (SELECT id FROM bound)
)
INSERT INTO listing_ports (id, listing_id, label, connector_type, power_kw, current_type, evse_id, connector_id)
SELECT gen_random_uuid(), bound.id, 'EVSE ' || e, 'Type2', 22, 'AC', e, 1
FROM bound, generate_series(1, 2) e
"#;

/// A third of the chargers keep business hours; the rest are open around the clock.
const INSERT_OPENING_HOURS: &str = r#"
INSERT INTO listing_opening_hours (listing_id, weekday, opens_at, closes_at)
SELECT l.id, d,
    CASE WHEN d <= 5 THEN time '07:00' ELSE time '09:00' END,
    CASE WHEN d <= 5 THEN time '22:00' ELSE time '18:00' END
FROM listings l, generate_series(1, 7) d
WHERE l.host_id = ANY($1) AND abs(hashtext(l.id::text)) % 3 = 0 AND l.device_kind = 'plain'
"#;

/// One default vehicle per driver, a second for every third driver; skips drivers who have any.
const INSERT_VEHICLES: &str = r#"
WITH model(n, make, model, kwh, conns) AS (VALUES
    (0, 'Volkswagen', 'ID.3', 58, ARRAY['CCS2','Type2']), (1, 'Tesla', 'Model 3', 60, ARRAY['CCS2','Type2']),
    (2, 'Kia', 'EV6', 77.4, ARRAY['CCS2','Type2']), (3, 'Nissan', 'Leaf', 40, ARRAY['CHAdeMO','Type2']),
    (4, 'Renault', 'Zoe', 52, ARRAY['CCS2','Type2']), (5, 'Hyundai', 'Kona Electric', 64, ARRAY['CCS2','Type2']),
    (6, 'Polestar', '2', 78, ARRAY['CCS2','Type2']), (7, 'BMW', 'i4', 80.7, ARRAY['CCS2','Type2'])
), d AS (
    SELECT u, ord FROM unnest($1::uuid[]) WITH ORDINALITY AS t(u, ord)
    WHERE NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.user_id = t.u)
), v AS (
    SELECT u, ord, 1 AS k FROM d UNION ALL SELECT u, ord, 2 FROM d WHERE ord % 3 = 0
)
INSERT INTO vehicles (id, user_id, make, model, year, battery_kwh, connector_types, nickname, is_default)
SELECT gen_random_uuid(), v.u, m.make, m.model, 2018 + ((v.ord + v.k) % 7)::int, m.kwh, m.conns,
    CASE WHEN v.k = 1 THEN 'Daily' ELSE 'Weekend' END, v.k = 1
FROM v JOIN model m ON m.n = (v.ord * 3 + v.k) % 8
"#;

//! `nearby`, `advanced` and `recommend` at the service level, with a fixed clock.

use chrono::{DateTime, TimeZone, Utc};
use marketplace::search::model::{
    great_circle_km, CurrentType, Filters, GeoPoint, NearbyQuery, SortBy,
};
use marketplace::search::scoring::Weights;
use marketplace::search::service;
use sqlx::PgPool;

use super::support::{daily_hours, host, listing, Spec};

const PARIS: GeoPoint = GeoPoint {
    latitude: 48.8566,
    longitude: 2.3522,
};

fn query(radius_km: f64) -> NearbyQuery {
    NearbyQuery {
        center: PARIS,
        radius_km,
        filters: Filters::default(),
        sort: SortBy::Distance,
        limit: 20,
        offset: 0,
    }
}

/// A Wednesday, 12:00 in Paris (CEST).
fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 11, 10, 0, 0).unwrap()
}

/// `d` km north of Paris.
fn north(km: f64) -> (f64, f64) {
    (PARIS.latitude + km / 111.195, PARIS.longitude)
}

async fn at(
    pool: &PgPool,
    h: uuid::Uuid,
    title: &'static str,
    km: f64,
    f: impl FnOnce(&mut Spec),
) -> uuid::Uuid {
    let (lat, lon) = north(km);
    let mut s = Spec::at(title, lat, lon);
    f(&mut s);
    listing(pool, h, s).await
}

#[sqlx::test(migrations = "../migrations")]
async fn nearest_first_with_sphere_distances(pool: PgPool) {
    let h = host(&pool).await;
    for (title, km) in [
        ("c far", 9.0),
        ("a near", 1.0),
        ("b mid", 4.0),
        ("out of radius", 12.0),
    ] {
        at(&pool, h, title, km, |_| {}).await;
    }
    let page = service::nearby(&pool, &query(10.0), noon()).await.unwrap();
    let titles: Vec<_> = page.results.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["a near", "b mid", "c far"]);
    for r in &page.results {
        let expected = great_circle_km(PARIS, GeoPoint::new(r.latitude, r.longitude));
        assert!(
            (r.distance_km - expected).abs() < 1e-3,
            "{} vs {expected}",
            r.distance_km
        );
    }
    assert!((page.results[0].distance_km - 1.0).abs() < 0.01);
    assert_eq!(page.count, 3);
    assert_eq!(page.next_offset, None);
    // no opening hours: open around the clock
    assert!(page.results.iter().all(|r| r.open_now));
}

#[sqlx::test(migrations = "../migrations")]
async fn database_distances_match_known_city_pairs(pool: PgPool) {
    // the same sphere the queries use (`ST_Distance(.., false)`), against the published figures
    let pairs = [
        ((48.8566, 2.3522), (51.5074, -0.1278), 344.0),
        ((40.7128, -74.0060), (34.0522, -118.2437), 3936.0),
    ];
    for ((lat1, lon1), (lat2, lon2), km) in pairs {
        let d: f64 = sqlx::query_scalar(
            "SELECT ST_Distance(ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, \
             ST_SetSRID(ST_MakePoint($3, $4), 4326)::geography, false) / 1000.0",
        )
        .bind(lon1)
        .bind(lat1)
        .bind(lon2)
        .bind(lat2)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(((d - km) / km).abs() < 0.01, "{d} vs {km}");
        let rust = great_circle_km(GeoPoint::new(lat1, lon1), GeoPoint::new(lat2, lon2));
        assert!((rust - d).abs() < 0.01, "rust {rust} vs db {d}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn only_listed_listings_are_found(pool: PgPool) {
    let h = host(&pool).await;
    for status in ["draft", "submitted", "rejected", "unlisted"] {
        at(&pool, h, "hidden", 1.0, |s| s.status = status).await;
    }
    at(&pool, h, "shown", 2.0, |_| {}).await;
    let page = service::nearby(&pool, &query(10.0), noon()).await.unwrap();
    assert_eq!(page.count, 1);
    assert_eq!(page.results[0].title, "shown");
}

#[sqlx::test(migrations = "../migrations")]
async fn filters_combine(pool: PgPool) {
    let h = host(&pool).await;
    at(&pool, h, "ccs fast dear", 1.0, |s| {
        s.connector_types = vec!["CCS2"];
        s.max_power_kw = 150.0;
        s.price_per_kwh = Some(0.60);
    })
    .await;
    at(&pool, h, "ccs fast cheap", 2.0, |s| {
        s.connector_types = vec!["CCS2", "Type2"];
        s.max_power_kw = 50.0;
        s.price_per_kwh = Some(0.35);
    })
    .await;
    at(&pool, h, "type2 slow cheap", 3.0, |_| {}).await;
    at(&pool, h, "chademo no price", 4.0, |s| {
        s.connector_types = vec!["CHAdeMO"];
        s.max_power_kw = 50.0;
        s.price_per_kwh = None;
    })
    .await;
    let titles = |f: Filters| {
        let pool = pool.clone();
        async move {
            let q = NearbyQuery {
                filters: f,
                ..query(10.0)
            };
            let page = service::nearby(&pool, &q, noon()).await.unwrap();
            page.results
                .into_iter()
                .map(|r| r.title)
                .collect::<Vec<_>>()
        }
    };
    let ccs = Filters {
        connector_types: vec!["CCS2".into(), "CHAdeMO".into()],
        ..Filters::default()
    };
    assert_eq!(
        titles(ccs.clone()).await,
        ["ccs fast dear", "ccs fast cheap", "chademo no price"]
    );
    let fast_cheap = Filters {
        min_power_kw: Some(50.0),
        max_price_per_kwh: Some(0.40),
        ..ccs
    };
    // an unpriced listing never passes a price ceiling
    assert_eq!(titles(fast_cheap).await, ["ccs fast cheap"]);
    let ac = Filters {
        current_type: Some(CurrentType::Ac),
        ..Filters::default()
    };
    assert_eq!(titles(ac).await, ["ccs fast cheap", "type2 slow cheap"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn available_now_needs_a_free_port_and_open_hours(pool: PgPool) {
    let h = host(&pool).await;
    at(&pool, h, "free and open", 1.0, |_| {}).await;
    at(&pool, h, "all ports busy", 2.0, |s| s.ports_available = 0).await;
    let closed = at(&pool, h, "closed at noon", 3.0, |_| {}).await;
    daily_hours(&pool, closed, "18:00", "24:00").await;
    let open = at(&pool, h, "open at noon", 4.0, |_| {}).await;
    daily_hours(&pool, open, "08:00", "20:00").await;
    let holiday = at(&pool, h, "blacked out", 5.0, |_| {}).await;
    sqlx::query("INSERT INTO listing_blackouts (listing_id, starts_on, ends_on) VALUES ($1, '2025-06-10', '2025-06-12')")
        .bind(holiday)
        .execute(&pool)
        .await
        .unwrap();
    let q = NearbyQuery {
        filters: Filters {
            available_now: true,
            ..Filters::default()
        },
        ..query(10.0)
    };
    let page = service::nearby(&pool, &q, noon()).await.unwrap();
    let titles: Vec<_> = page.results.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["free and open", "open at noon"]);
    // without the filter, open_now tells the same story row by row
    let all = service::nearby(&pool, &query(10.0), noon()).await.unwrap();
    let open_now: Vec<_> = all
        .results
        .iter()
        .map(|r| (r.title.as_str(), r.open_now))
        .collect();
    assert_eq!(
        open_now,
        [
            ("free and open", true),
            ("all ports busy", true),
            ("closed at noon", false),
            ("open at noon", true),
            ("blacked out", false),
        ]
    );
    // at 19:00 local the evening one opens and the day one is still open
    let evening = Utc.with_ymd_and_hms(2025, 6, 11, 17, 0, 0).unwrap();
    let q = NearbyQuery {
        filters: Filters {
            open_at: Some(evening),
            ..Filters::default()
        },
        ..query(10.0)
    };
    let page = service::nearby(&pool, &q, noon()).await.unwrap();
    assert_eq!(page.count, 4);
}

#[sqlx::test(migrations = "../migrations")]
async fn paging_and_sorting(pool: PgPool) {
    let h = host(&pool).await;
    for (i, title) in ["pp0", "pp1", "pp2", "pp3", "pp4"].into_iter().enumerate() {
        at(&pool, h, title, 1.0 + i as f64, |s| {
            s.price_per_kwh = Some(0.50 - 0.05 * i as f64);
            s.max_power_kw = 11.0 * (i % 3 + 1) as f64;
            s.rating = (3.0 + 0.4 * i as f64, 10);
        })
        .await;
    }
    let mut q = NearbyQuery {
        limit: 2,
        ..query(10.0)
    };
    let first = service::nearby(&pool, &q, noon()).await.unwrap();
    assert_eq!(first.next_offset, Some(2));
    q.offset = 4;
    let last = service::nearby(&pool, &q, noon()).await.unwrap();
    assert_eq!((last.count, last.next_offset), (1, None));
    assert_eq!(last.results[0].title, "pp4");

    let sorted = |sort| {
        let pool = pool.clone();
        async move {
            let q = NearbyQuery {
                sort,
                ..query(10.0)
            };
            let page = service::nearby(&pool, &q, noon()).await.unwrap();
            page.results
                .into_iter()
                .map(|r| r.title)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        sorted(SortBy::Price).await,
        ["pp4", "pp3", "pp2", "pp1", "pp0"]
    );
    assert_eq!(
        sorted(SortBy::Rating).await,
        ["pp4", "pp3", "pp2", "pp1", "pp0"]
    );
    // power 11, 22, 33, 11, 22 → 33 first, then the nearer of equals
    assert_eq!(
        sorted(SortBy::Power).await,
        ["pp2", "pp1", "pp4", "pp0", "pp3"]
    );
    let q = NearbyQuery {
        filters: Filters {
            min_rating: Some(4.0),
            ..Filters::default()
        },
        ..query(10.0)
    };
    // ratings 3.0, 3.4, 3.8, 4.2, 4.6
    assert_eq!(service::nearby(&pool, &q, noon()).await.unwrap().count, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn recommend_weighs_four_factors(pool: PgPool) {
    let h = host(&pool).await;
    let near_dear = at(&pool, h, "near but dear", 0.5, |s| {
        s.price_per_kwh = Some(0.80);
        s.rating = (5.0, 1);
    })
    .await;
    let good = at(&pool, h, "a bit further, cheap, well rated", 3.0, |s| {
        s.price_per_kwh = Some(0.25);
        s.ports_available = 2;
        s.rating = (4.8, 200);
    })
    .await;
    at(&pool, h, "full", 1.0, |s| s.ports_available = 0).await;
    let rec = service::recommend(&pool, &query(10.0), Weights::default(), noon())
        .await
        .unwrap();
    assert_eq!(rec.candidates, 3);
    assert_eq!(rec.results[0].listing.id, good);
    let top = &rec.results[0];
    assert!((0.0..=1.0).contains(&top.score));
    assert_eq!(top.factors.price.score, 1.0);
    assert_eq!(top.factors.availability.score, 1.0);
    assert!((top.factors.distance.score - 0.7).abs() < 0.01);
    let sum = top.factors.distance.contribution
        + top.factors.price.contribution
        + top.factors.availability.contribution
        + top.factors.rating.contribution;
    assert!((sum - top.score).abs() < 1e-9);
    // a driver who only cares about distance gets the nearest
    let w = Weights {
        distance: 1.0,
        price: 0.0,
        availability: 0.0,
        rating: 0.0,
    };
    let rec = service::recommend(&pool, &query(10.0), w, noon())
        .await
        .unwrap();
    assert_eq!(rec.results[0].listing.id, near_dear);
}

/// The planar fast path answers exactly what the geography KNN answers: same rows, same
/// order (up to ties), same distances — at mid and high latitudes, beside the antimeridian
/// (where it must fall back), with filters, radii and pages that force a second fetch.
#[sqlx::test(migrations = "../migrations")]
async fn planar_path_agrees_with_the_geography_knn(pool: PgPool) {
    let h = host(&pool).await;
    let centres = [
        (48.8566, 2.3522),
        (69.65, 18.96),
        (-17.8, 179.97),
        (0.2, -78.5),
        (64.1, -21.9),
    ];
    sqlx::query("SELECT setseed(0.42)")
        .execute(&pool)
        .await
        .unwrap();
    for (lat, lon) in centres {
        // 400 listings scattered over about 30 km, some across the antimeridian
        sqlx::query(
            "INSERT INTO listings (id, host_id, title, address, location, time_zone, status, \
             connector_types, max_power_kw, ports_total, ports_available, price_per_kwh) \
             SELECT gen_random_uuid(), $1, 'Spot ' || g, '1 Test Street', \
               ST_SetSRID(ST_MakePoint( \
                 (($3 + (random() - 0.5) * 0.6 / cos(radians($2)) + 540)::numeric % 360 - 180)::float8, \
                 $2 + (random() - 0.5) * 0.3), 4326)::geography, \
               'UTC', 'listed', \
               CASE WHEN random() < 0.5 THEN ARRAY['Type2'] ELSE ARRAY['CCS2','Type2'] END, \
               (ARRAY[7.4, 11, 22, 50, 150])[1 + floor(random() * 5)::int], 2, \
               floor(random() * 3)::int, 0.2 + floor(random() * 6) * 0.05 \
             FROM generate_series(1, 400) g",
        )
        .bind(h)
        .bind(lat)
        .bind(lon)
        .execute(&pool)
        .await
        .unwrap();
    }
    let filter_sets = [
        Filters::default(),
        Filters {
            connector_types: vec!["CCS2".into()],
            min_power_kw: Some(50.0),
            ..Filters::default()
        },
        Filters {
            available_now: true,
            max_price_per_kwh: Some(0.3),
            ..Filters::default()
        },
    ];
    let mut compared = 0;
    for (lat, lon) in centres {
        for (i, filters) in filter_sets.iter().enumerate() {
            for (radius_km, limit, offset) in [(5.0, 20, 0), (15.0, 50, 30), (1.0, 5, 0)] {
                let q = NearbyQuery {
                    center: GeoPoint::new(lat + 0.01 * i as f64, lon),
                    radius_km,
                    filters: filters.clone(),
                    sort: SortBy::Distance,
                    limit,
                    offset,
                };
                let fast = service::nearby(&pool, &q, noon()).await.unwrap().results;
                let exact = marketplace::search::store::nearby(&pool, &q, noon())
                    .await
                    .unwrap();
                let d = |v: &[marketplace::search::model::ListingHit]| -> Vec<i64> {
                    v.iter()
                        .map(|h| (h.distance_km * 1e6).round() as i64)
                        .collect()
                };
                assert_eq!(d(&fast), d(&exact), "at {lat},{lon} r={radius_km} #{i}");
                let mut a: Vec<_> = fast.iter().map(|h| h.id).collect();
                let mut b: Vec<_> = exact.iter().map(|h| h.id).collect();
                a.sort();
                b.sort();
                assert_eq!(a, b, "at {lat},{lon} r={radius_km} #{i}");
                compared += fast.len();
            }
        }
    }
    assert!(compared > 300, "only {compared} rows compared");
}

//! A latency probe for `nearby` on a big table, ignored by default. Point it at a database
//! holding many listings (e.g. 1 000 000 over Europe) and run:
//! `SEARCH_BENCH_URL=postgres://.../search_bench cargo test --release -p marketplace --test search bench -- --ignored --nocapture`

use std::time::Instant;

use chrono::Utc;
use marketplace::search::model::{Filters, GeoPoint, NearbyQuery, SortBy};
use marketplace::search::service;

#[tokio::test]
#[ignore = "needs SEARCH_BENCH_URL with a large listings table"]
async fn nearby_latency() {
    let url = std::env::var("SEARCH_BENCH_URL").expect("SEARCH_BENCH_URL");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let mut times = Vec::new();
    for i in 0..500 {
        // spread the centres over the data so caches do not flatter one spot
        let q = NearbyQuery {
            center: GeoPoint::new(40.0 + (i % 37) as f64 * 0.5, -5.0 + (i % 53) as f64 * 0.5),
            radius_km: 10.0,
            filters: Filters {
                connector_types: if i % 2 == 0 {
                    vec!["CCS2".into()]
                } else {
                    vec![]
                },
                min_power_kw: (i % 3 == 0).then_some(50.0),
                ..Filters::default()
            },
            sort: SortBy::Distance,
            limit: 20,
            offset: 0,
        };
        let t = Instant::now();
        let page = service::nearby(&pool, &q, Utc::now()).await.unwrap();
        times.push(t.elapsed());
        assert!(page.count <= 20);
    }
    times.sort();
    let pct = |p: usize| times[times.len() * p / 100];
    println!(
        "nearby over 500 queries: p50 {:?}, p95 {:?}, p99 {:?}",
        pct(50),
        pct(95),
        pct(99)
    );
}

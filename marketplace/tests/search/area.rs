//! Map boxes: antimeridian, poles, markers vs clusters.

use chrono::Utc;
use marketplace::search::model::{Filters, MapBox};
use marketplace::search::service::{self, AreaView};
use sqlx::PgPool;

use super::support::{host, listing, Spec};

async fn titles(pool: &PgPool, b: MapBox, limit: u32) -> Vec<String> {
    match service::area(pool, &b, &Filters::default(), limit, Utc::now())
        .await
        .unwrap()
    {
        AreaView::Markers { results, .. } => {
            let mut t: Vec<_> = results.into_iter().map(|r| r.title).collect();
            t.sort();
            t
        }
        AreaView::Clusters { .. } => panic!("expected markers"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn antimeridian_box_is_split(pool: PgPool) {
    let h = host(&pool).await;
    listing(&pool, h, Spec::at("east of 180", 0.0, 179.5)).await;
    listing(&pool, h, Spec::at("west of 180", 0.0, -179.5)).await;
    listing(&pool, h, Spec::at("greenwich", 0.0, 0.0)).await;
    listing(&pool, h, Spec::at("too far west", 0.0, -169.0)).await;
    let b = MapBox::new(-10.0, 170.0, 10.0, -170.0).unwrap();
    assert_eq!(titles(&pool, b, 100).await, ["east of 180", "west of 180"]);
    // the same box not crossing (170 → -170 the long way round) finds the rest
    let b = MapBox::new(-10.0, -170.0, 10.0, 170.0).unwrap();
    assert_eq!(titles(&pool, b, 100).await, ["greenwich", "too far west"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn pole_boxes(pool: PgPool) {
    let h = host(&pool).await;
    listing(&pool, h, Spec::at("svalbard", 78.2, 15.6)).await;
    listing(&pool, h, Spec::at("alert", 82.5, -62.3)).await;
    listing(&pool, h, Spec::at("pole", 90.0, 0.0)).await;
    listing(&pool, h, Spec::at("oslo", 59.9, 10.7)).await;
    listing(&pool, h, Spec::at("south pole", -90.0, 0.0)).await;
    // overscrolled past the pole: clamped to 90
    let b = MapBox::new(75.0, -180.0, 95.0, 180.0).unwrap();
    assert_eq!(titles(&pool, b, 100).await, ["alert", "pole", "svalbard"]);
    let b = MapBox::new(-91.0, -180.0, -80.0, 180.0).unwrap();
    assert_eq!(titles(&pool, b, 100).await, ["south pole"]);
    // a narrow box near the pole, across the antimeridian
    listing(&pool, h, Spec::at("chukotka", 80.0, 179.9)).await;
    listing(&pool, h, Spec::at("wrangel-ish", 80.0, -179.9)).await;
    let b = MapBox::new(79.0, 179.0, 81.0, -179.0).unwrap();
    assert_eq!(titles(&pool, b, 100).await, ["chukotka", "wrangel-ish"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn unlisted_never_on_the_map(pool: PgPool) {
    let h = host(&pool).await;
    let mut hidden = Spec::at("hidden", 1.0, 1.0);
    hidden.status = "unlisted";
    listing(&pool, h, hidden).await;
    listing(&pool, h, Spec::at("shown", 1.0, 1.1)).await;
    let b = MapBox::new(0.0, 0.0, 2.0, 2.0).unwrap();
    assert_eq!(titles(&pool, b, 100).await, ["shown"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn clusters_above_the_limit(pool: PgPool) {
    let h = host(&pool).await;
    // 6 around (1,1), 4 around (9,9) in a 10°×10° box: cells are 1.25° wide
    for i in 0..6 {
        listing(&pool, h, Spec::at("south-west", 1.0 + 0.01 * i as f64, 1.0)).await;
    }
    for i in 0..4 {
        listing(&pool, h, Spec::at("north-east", 9.0, 9.0 + 0.01 * i as f64)).await;
    }
    let b = MapBox::new(0.0, 0.0, 10.0, 10.0).unwrap();
    // at the limit: markers
    match service::area(&pool, &b, &Filters::default(), 10, Utc::now())
        .await
        .unwrap()
    {
        AreaView::Markers { count, .. } => assert_eq!(count, 10),
        other => panic!("{other:?}"),
    }
    // above it: two clusters with their counts and centroids
    let AreaView::Clusters { clusters, count } =
        service::area(&pool, &b, &Filters::default(), 5, Utc::now())
            .await
            .unwrap()
    else {
        panic!("expected clusters")
    };
    assert_eq!(count, 10);
    assert_eq!(clusters.len(), 2);
    assert_eq!(clusters[0].count, 6);
    assert!((clusters[0].latitude - 1.025).abs() < 1e-6);
    assert!((clusters[0].longitude - 1.0).abs() < 1e-6);
    assert_eq!(clusters[1].count, 4);
    assert!((clusters[1].longitude - 9.015).abs() < 1e-6);
}

#[sqlx::test(migrations = "../migrations")]
async fn clusters_across_the_antimeridian_keep_their_centroid(pool: PgPool) {
    let h = host(&pool).await;
    for lon in [179.9, -179.9, 179.8, -179.8] {
        listing(&pool, h, Spec::at("dateline", 0.0, lon)).await;
    }
    let b = MapBox::new(-10.0, 170.0, 10.0, -170.0).unwrap();
    let AreaView::Clusters { clusters, .. } =
        service::area(&pool, &b, &Filters::default(), 2, Utc::now())
            .await
            .unwrap()
    else {
        panic!("expected clusters")
    };
    // 4 points straddling 180 make cells either side of it; their centroids stay near 180
    assert_eq!(clusters.iter().map(|c| c.count).sum::<i64>(), 4);
    for c in clusters {
        assert!(c.longitude.abs() > 179.0, "{c:?}");
    }
}

//! Port-by-port availability from the database rows.

use chrono::{TimeZone, Utc};
use marketplace::search::calendar::SlotStatus;
use marketplace::search::service;
use marketplace::Error;
use sqlx::PgPool;
use uuid::Uuid;

use super::support::{daily_hours, host, listing, port, Spec};

#[sqlx::test(migrations = "../migrations")]
async fn ports_hours_and_a_dst_day(pool: PgPool) {
    let h = host(&pool).await;
    let id = listing(&pool, h, Spec::at("garage", 48.85, 2.35)).await;
    daily_hours(&pool, id, "08:00", "20:00").await;
    port(&pool, id, "A", "Available").await;
    port(&pool, id, "B", "Faulted").await;
    // 30 March 2025, 07:30 local (05:30 UTC), the morning after the clocks went forward
    let now = Utc.with_ymd_and_hms(2025, 3, 30, 5, 30, 0).unwrap();
    let a = service::availability(&pool, id, now).await.unwrap();
    assert_eq!(a.time_zone, "Europe/Paris");
    assert!(!a.open_now);
    assert_eq!(a.ports_total, 2);
    assert_eq!(a.ports_free_now, 0);
    let port_a = a.ports.iter().find(|p| p.label == "A").unwrap();
    assert_eq!(port_a.status_now, SlotStatus::Closed);
    assert_eq!(port_a.slots[0].starts_at, "2025-03-30T07:00:00+02:00");
    assert_eq!(port_a.slots[0].status, SlotStatus::Closed);
    assert_eq!(port_a.slots[1].starts_at, "2025-03-30T08:00:00+02:00");
    assert_eq!(port_a.slots[1].status, SlotStatus::Free);
    assert_eq!(port_a.slots[13].starts_at, "2025-03-30T20:00:00+02:00");
    assert_eq!(port_a.slots[13].status, SlotStatus::Closed);
    let port_b = a.ports.iter().find(|p| p.label == "B").unwrap();
    assert_eq!(port_b.slots[1].status, SlotStatus::OutOfOrder);

    // at 09:00 local the free port is free now
    let later = Utc.with_ymd_and_hms(2025, 3, 30, 7, 0, 0).unwrap();
    let a = service::availability(&pool, id, later).await.unwrap();
    assert!(a.open_now);
    assert_eq!(a.ports_free_now, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_or_unlisted_is_not_found(pool: PgPool) {
    let h = host(&pool).await;
    let mut s = Spec::at("draft", 1.0, 1.0);
    s.status = "draft";
    let draft = listing(&pool, h, s).await;
    for id in [draft, Uuid::now_v7()] {
        let err = service::availability(&pool, id, Utc::now())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    }
}

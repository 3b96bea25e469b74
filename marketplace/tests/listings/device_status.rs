use chrono::{DateTime, Duration, Utc};
use marketplace::accounts::Role;
use marketplace::listings::model::{ConnectorType, DeviceKind, DeviceStatus, PortStatus};
use marketplace::listings::{apply_device_status, service};
use sqlx::PgPool;
use uuid::Uuid;

use super::common::{listing_input, ocpp_port, user};

fn report(station: &str, evse: i32, status: &str, at: DateTime<Utc>) -> DeviceStatus {
    DeviceStatus {
        device_kind: DeviceKind::Ocpp,
        device_id: station.into(),
        evse_id: evse,
        connector_id: 1,
        status: status.into(),
        at,
    }
}

async fn ocpp_listing(pool: &PgPool, email: &str, station: &str, evses: i32) -> Uuid {
    let host = user(pool, email, Role::Host).await;
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
    let mut input = listing_input();
    input.device_kind = Some(DeviceKind::Ocpp);
    input.device_id = Some(station.into());
    let id = service::create(pool, &host, input)
        .await
        .unwrap()
        .listing
        .id;
    for evse in 1..=evses {
        service::add_port(pool, &host, id, ocpp_port(ConnectorType::Ccs2, evse, 1))
            .await
            .unwrap();
    }
    id
}

async fn state(pool: &PgPool, id: Uuid) -> (i32, Vec<PortStatus>) {
    let d = service::get(pool, None, id).await.err();
    assert!(d.is_some(), "drafts stay hidden from the public");
    let owner: Uuid = sqlx::query_scalar("SELECT host_id FROM listings WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    let owner = marketplace::AuthUser {
        id: owner,
        role: Role::Host,
    };
    let d = service::get(pool, Some(&owner), id).await.unwrap();
    (
        d.listing.ports_available,
        d.ports.iter().map(|p| p.live_status).collect(),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn reports_update_ports_and_availability(pool: PgPool) {
    let a = ocpp_listing(&pool, "a@example.com", "CP-A", 2).await;
    let b = ocpp_listing(&pool, "b@example.com", "CP-B", 1).await;
    let t0 = Utc::now();
    apply_device_status(
        &pool,
        &[
            report("CP-A", 1, "Available", t0),
            report("CP-A", 2, "Occupied", t0),
            report("CP-B", 1, "Available", t0),
            report("CP-UNBOUND", 1, "Available", t0),
        ],
    )
    .await
    .unwrap();
    use PortStatus::*;
    assert_eq!(state(&pool, a).await, (1, vec![Available, Occupied]));
    assert_eq!(state(&pool, b).await, (1, vec![Available]));

    // In one batch the latest report per connector wins, whatever the order.
    let t1 = t0 + Duration::seconds(10);
    apply_device_status(
        &pool,
        &[
            report("CP-A", 2, "Available", t1 + Duration::seconds(1)),
            report("CP-A", 2, "Faulted", t1),
        ],
    )
    .await
    .unwrap();
    assert_eq!(state(&pool, a).await, (2, vec![Available, Available]));

    // A late (older) report changes nothing; unknown statuses are skipped, not fatal.
    apply_device_status(
        &pool,
        &[
            report("CP-A", 1, "Occupied", t0 - Duration::seconds(5)),
            report("CP-B", 1, "Charging", t1),
            report("CP-B", 1, "Reserved", t1),
        ],
    )
    .await
    .unwrap();
    assert_eq!(state(&pool, a).await, (2, vec![Available, Available]));
    assert_eq!(state(&pool, b).await, (0, vec![Reserved]));
    apply_device_status(&pool, &[]).await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn deleting_an_available_port_lowers_availability(pool: PgPool) {
    let id = ocpp_listing(&pool, "a@example.com", "CP-A", 2).await;
    let t0 = Utc::now();
    apply_device_status(
        &pool,
        &[
            report("CP-A", 1, "Available", t0),
            report("CP-A", 2, "Available", t0),
        ],
    )
    .await
    .unwrap();
    let host = marketplace::AuthUser {
        id: sqlx::query_scalar("SELECT host_id FROM listings WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap(),
        role: Role::Host,
    };
    let ports = service::ports(&pool, Some(&host), id).await.unwrap();
    service::delete_port(&pool, &host, id, ports[0].id)
        .await
        .unwrap();
    assert_eq!(state(&pool, id).await, (1, vec![PortStatus::Available]));
    // re-binding a port to another connector forgets its status
    service::update_port(
        &pool,
        &host,
        id,
        ports[1].id,
        ocpp_port(ConnectorType::Ccs2, 3, 1),
    )
    .await
    .unwrap();
    assert_eq!(state(&pool, id).await, (0, vec![PortStatus::Unknown]));
}

use marketplace::accounts::Role;
use marketplace::listings::model::{
    Blackout, ClockTime, ConnectorType, DeviceKind, ListingStatus, OpeningWindow,
};
use marketplace::listings::service;
use marketplace::listings::store::{ListFilter, Scope};
use marketplace::Error;
use sqlx::PgPool;

use super::common::{listing_input, ocpp_port, own_station, port, user};

fn code(err: &Error) -> &'static str {
    err.code()
}

fn filter() -> ListFilter {
    ListFilter {
        scope: Scope::Listed,
        status: None,
        host_id: None,
        limit: 20,
        offset: 0,
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn create_stores_location_and_defaults(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    let mut input = listing_input();
    input.price_per_kwh = Some("0.35".parse().unwrap());
    input.amenities = vec![" wifi ".into(), "toilet".into()];
    let created = service::create(&pool, &host, input).await.unwrap();
    let l = &created.listing;
    assert_eq!(l.status, ListingStatus::Draft);
    assert_eq!(l.host_id, host.id);
    assert!((l.fields.latitude - 52.52).abs() < 1e-9);
    assert!((l.fields.longitude - 13.405).abs() < 1e-9);
    assert_eq!(l.fields.time_zone.name(), "Europe/Berlin");
    assert_eq!(l.fields.amenities, ["wifi", "toilet"]);
    assert_eq!(l.fields.price_per_kwh, Some("0.3500".parse().unwrap()));
    assert_eq!(l.fields.currency, "USD");
    assert_eq!(
        (l.ports_total, l.ports_available, l.max_power_kw),
        (0, 0, 0.0)
    );

    let driver = user(&pool, "driver@example.com", Role::Driver).await;
    let err = service::create(&pool, &driver, listing_input())
        .await
        .unwrap_err();
    assert_eq!(code(&err), "forbidden");
}

#[sqlx::test(migrations = "../migrations")]
async fn port_changes_keep_search_columns_right(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    let id = service::create(&pool, &host, listing_input())
        .await
        .unwrap()
        .listing
        .id;
    let a = service::add_port(&pool, &host, id, port(ConnectorType::Type2, 11.0))
        .await
        .unwrap();
    service::add_port(&pool, &host, id, port(ConnectorType::Type2, 22.0))
        .await
        .unwrap();
    let c = service::add_port(&pool, &host, id, port(ConnectorType::Schuko, 3.7))
        .await
        .unwrap();
    let l = service::get(&pool, Some(&host), id).await.unwrap().listing;
    assert_eq!(
        l.connector_types,
        [ConnectorType::Schuko, ConnectorType::Type2],
        "sorted"
    );
    assert_eq!((l.ports_total, l.max_power_kw), (3, 22.0));

    service::update_port(&pool, &host, id, a.id, port(ConnectorType::Ccs2, 150.0))
        .await
        .unwrap();
    service::delete_port(&pool, &host, id, c.id).await.unwrap();
    let l = service::get(&pool, Some(&host), id).await.unwrap().listing;
    assert_eq!(
        l.connector_types,
        [ConnectorType::Ccs2, ConnectorType::Type2]
    );
    assert_eq!((l.ports_total, l.max_power_kw), (2, 150.0));

    let err = service::delete_port(&pool, &host, id, c.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("port")));
}

#[sqlx::test(migrations = "../migrations")]
async fn lifecycle_through_review(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    let admin = user(&pool, "admin@example.com", Role::Admin).await;
    let driver = user(&pool, "driver@example.com", Role::Driver).await;
    let id = service::create(&pool, &host, listing_input())
        .await
        .unwrap()
        .listing
        .id;

    // no port yet
    let err = service::submit(&pool, &host, id).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(e) if e[0].field == "ports"),
        "{err:?}"
    );
    service::add_port(&pool, &host, id, port(ConnectorType::Type2, 11.0))
        .await
        .unwrap();
    let err = service::approve(&pool, &admin, id).await.unwrap_err();
    assert_eq!(code(&err), "invalid_listing_transition");

    let l = service::submit(&pool, &host, id).await.unwrap().listing;
    assert_eq!(l.status, ListingStatus::Submitted);
    assert!(l.submitted_at.is_some());
    // under review: no edits, and drivers still cannot see it
    let err = service::update(&pool, &host, id, listing_input())
        .await
        .unwrap_err();
    assert_eq!(code(&err), "invalid_listing_transition");
    assert!(matches!(
        service::get(&pool, Some(&driver), id).await,
        Err(Error::NotFound(_))
    ));
    // only admins decide
    assert_eq!(
        code(&service::approve(&pool, &host, id).await.unwrap_err()),
        "forbidden"
    );

    let l = service::reject(&pool, &admin, id, "photos missing")
        .await
        .unwrap()
        .listing;
    assert_eq!(l.status, ListingStatus::Rejected);
    assert_eq!(l.rejection_reason.as_deref(), Some("photos missing"));
    service::update(&pool, &host, id, listing_input())
        .await
        .unwrap();
    service::submit(&pool, &host, id).await.unwrap();
    let l = service::approve(&pool, &admin, id).await.unwrap().listing;
    assert_eq!(l.status, ListingStatus::Listed);
    assert_eq!(l.rejection_reason, None);
    assert!(l.decided_at.is_some());

    // editing a listed listing keeps it listed
    let mut input = listing_input();
    input.title = "Renamed wallbox".into();
    let l = service::update(&pool, &host, id, input)
        .await
        .unwrap()
        .listing;
    assert_eq!(
        (l.status, l.fields.title.as_str()),
        (ListingStatus::Listed, "Renamed wallbox")
    );
    assert_eq!(
        service::get(&pool, Some(&driver), id)
            .await
            .unwrap()
            .listing
            .id,
        id
    );
    assert_eq!(
        code(&service::delete(&pool, &host, id).await.unwrap_err()),
        "invalid_listing_transition"
    );

    service::unlist(&pool, &host, id).await.unwrap();
    assert!(matches!(
        service::get(&pool, None, id).await,
        Err(Error::NotFound(_))
    ));
    let l = service::relist(&pool, &host, id).await.unwrap().listing;
    assert_eq!(l.status, ListingStatus::Listed);
    service::unlist(&pool, &host, id).await.unwrap();
    service::delete(&pool, &host, id).await.unwrap();
    assert!(matches!(
        service::get(&pool, Some(&host), id).await,
        Err(Error::NotFound(_))
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn other_hosts_cannot_touch(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    let other = user(&pool, "other@example.com", Role::Host).await;
    let admin = user(&pool, "admin@example.com", Role::Admin).await;
    let id = service::create(&pool, &host, listing_input())
        .await
        .unwrap()
        .listing
        .id;
    // a draft it cannot see: 404
    let err = service::update(&pool, &other, id, listing_input())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("listing")));
    // admins edit anything
    service::add_port(&pool, &admin, id, port(ConnectorType::Type2, 11.0))
        .await
        .unwrap();
    service::submit(&pool, &host, id).await.unwrap();
    service::approve(&pool, &admin, id).await.unwrap();
    // a listed one it can see: 403
    let err = service::add_port(&pool, &other, id, port(ConnectorType::Type2, 11.0))
        .await
        .unwrap_err();
    assert_eq!(code(&err), "forbidden");
    assert_eq!(
        code(&service::unlist(&pool, &other, id).await.unwrap_err()),
        "forbidden"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn listing_pages_depend_on_the_caller(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    let other = user(&pool, "other@example.com", Role::Host).await;
    let admin = user(&pool, "admin@example.com", Role::Admin).await;
    let listed = service::create(&pool, &host, listing_input())
        .await
        .unwrap()
        .listing
        .id;
    service::add_port(&pool, &host, listed, port(ConnectorType::Type2, 11.0))
        .await
        .unwrap();
    service::submit(&pool, &host, listed).await.unwrap();
    service::approve(&pool, &admin, listed).await.unwrap();
    service::create(&pool, &host, listing_input())
        .await
        .unwrap();
    service::create(&pool, &other, listing_input())
        .await
        .unwrap();

    let (page, total) = service::list(&pool, None, filter()).await.unwrap();
    assert_eq!((page.len(), total), (1, 1));
    assert_eq!(page[0].id, listed);
    let (_, total) = service::list(&pool, Some(&host), filter()).await.unwrap();
    assert_eq!(
        total, 2,
        "a host pages through their own listings in every state"
    );
    let drafts = ListFilter {
        status: Some(ListingStatus::Draft),
        ..filter()
    };
    let (_, total) = service::list(&pool, Some(&host), drafts.clone())
        .await
        .unwrap();
    assert_eq!(total, 1);
    let (_, total) = service::list(&pool, Some(&admin), drafts).await.unwrap();
    assert_eq!(total, 2);
    let of_other = ListFilter {
        host_id: Some(other.id),
        ..filter()
    };
    let (_, total) = service::list(&pool, Some(&admin), of_other).await.unwrap();
    assert_eq!(total, 1);
    let paged = ListFilter {
        limit: 1,
        offset: 1,
        scope: Scope::All,
        ..filter()
    };
    let (page, total) = service::list(&pool, Some(&admin), paged).await.unwrap();
    assert_eq!((page.len(), total), (1, 3));
}

#[sqlx::test(migrations = "../migrations")]
async fn calendar_round_trips(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    let id = service::create(&pool, &host, listing_input())
        .await
        .unwrap()
        .listing
        .id;
    let t = |s: &str| ClockTime::parse(s).unwrap();
    let hours = vec![
        OpeningWindow {
            weekday: 5,
            opens: t("14:00"),
            closes: t("24:00"),
        },
        OpeningWindow {
            weekday: 5,
            opens: t("08:00"),
            closes: t("12:00"),
        },
    ];
    let saved = service::set_opening_hours(&pool, &host, id, hours)
        .await
        .unwrap();
    assert_eq!(saved[0].opens, t("08:00"));
    let read = service::opening_hours(&pool, Some(&host), id)
        .await
        .unwrap();
    assert_eq!(read, saved);
    assert_eq!(read[1].closes, ClockTime::END_OF_DAY);
    service::set_opening_hours(&pool, &host, id, vec![])
        .await
        .unwrap();
    assert!(service::opening_hours(&pool, Some(&host), id)
        .await
        .unwrap()
        .is_empty());

    let b = Blackout {
        starts_on: "2026-12-24".parse().unwrap(),
        ends_on: "2026-12-26".parse().unwrap(),
        reason: "holidays".into(),
    };
    service::add_blackout(&pool, &host, id, b.clone())
        .await
        .unwrap();
    let err = service::add_blackout(&pool, &host, id, b.clone())
        .await
        .unwrap_err();
    assert_eq!(code(&err), "blackout_exists");
    let stored = service::blackouts(&pool, Some(&host), id).await.unwrap();
    assert_eq!(stored, std::slice::from_ref(&b));
    service::delete_blackout(&pool, &host, id, b.starts_on)
        .await
        .unwrap();
    let err = service::delete_blackout(&pool, &host, id, b.starts_on)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("blackout")));
}

#[sqlx::test(migrations = "../migrations")]
async fn ocpp_ports_are_unique_per_connector(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    own_station(&pool, &host, "CP-1").await;
    let mut input = listing_input();
    input.device_kind = Some(DeviceKind::Ocpp);
    input.device_id = Some("CP-1".into());
    let id = service::create(&pool, &host, input)
        .await
        .unwrap()
        .listing
        .id;
    service::add_port(&pool, &host, id, ocpp_port(ConnectorType::Ccs2, 1, 1))
        .await
        .unwrap();
    let err = service::add_port(&pool, &host, id, ocpp_port(ConnectorType::Ccs2, 1, 1))
        .await
        .unwrap_err();
    assert_eq!(code(&err), "port_exists");
    // a plain listing takes no EVSE binding
    let plain = service::create(&pool, &host, listing_input())
        .await
        .unwrap()
        .listing
        .id;
    let err = service::add_port(&pool, &host, plain, ocpp_port(ConnectorType::Ccs2, 1, 1))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Validation(e) if e[0].field == "evse_id"));
}

#[sqlx::test(migrations = "../migrations")]
async fn calendars_load_in_bulk(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    let a = service::create(&pool, &host, listing_input())
        .await
        .unwrap()
        .listing
        .id;
    let mut input = listing_input();
    input.time_zone = "America/New_York".into();
    let b = service::create(&pool, &host, input)
        .await
        .unwrap()
        .listing
        .id;
    let t = |s: &str| ClockTime::parse(s).unwrap();
    let window = OpeningWindow {
        weekday: 1,
        opens: t("09:00"),
        closes: t("17:00"),
    };
    service::set_opening_hours(&pool, &host, a, vec![window])
        .await
        .unwrap();

    let mut conn = pool.acquire().await.unwrap();
    let ids = [a, b, uuid::Uuid::now_v7()];
    let calendars = marketplace::listings::store::calendars_of(&mut conn, &ids)
        .await
        .unwrap();
    assert_eq!(calendars.len(), 2);
    assert_eq!(calendars[&a].opening_hours, [window]);
    assert_eq!(calendars[&b].time_zone.name(), "America/New_York");
    // Monday 2026-06-01 10:00 in Berlin is 08:00 UTC; b has no hours and is always open
    let at = "2026-06-01T08:00:00Z".parse().unwrap();
    assert!(calendars[&a].is_open(at) && calendars[&b].is_open(at));
    let sunday = "2026-06-07T08:00:00Z".parse().unwrap();
    assert!(!calendars[&a].is_open(sunday));
}

#[sqlx::test(migrations = "../migrations")]
async fn listed_chargers_keep_a_port(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    let admin = user(&pool, "admin@example.com", Role::Admin).await;
    let id = service::create(&pool, &host, listing_input())
        .await
        .unwrap()
        .listing
        .id;
    let p = service::add_port(&pool, &host, id, port(ConnectorType::Type2, 11.0))
        .await
        .unwrap();
    service::submit(&pool, &host, id).await.unwrap();
    service::approve(&pool, &admin, id).await.unwrap();
    let err = service::delete_port(&pool, &host, id, p.id)
        .await
        .unwrap_err();
    assert_eq!(code(&err), "last_port");
    assert_eq!(
        service::ports(&pool, None, id).await.unwrap().len(),
        1,
        "rolled back"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn changing_the_device_forgets_live_status(pool: PgPool) {
    use marketplace::listings::model::{DeviceStatus, PortStatus};
    let host = user(&pool, "host@example.com", Role::Host).await;
    for station in ["CP-1", "CP-2"] {
        own_station(&pool, &host, station).await;
    }
    let mut input = listing_input();
    input.device_kind = Some(DeviceKind::Ocpp);
    input.device_id = Some("CP-1".into());
    let id = service::create(&pool, &host, input.clone())
        .await
        .unwrap()
        .listing
        .id;
    service::add_port(&pool, &host, id, ocpp_port(ConnectorType::Ccs2, 1, 1))
        .await
        .unwrap();
    let report = DeviceStatus {
        device_kind: DeviceKind::Ocpp,
        device_id: "CP-1".into(),
        evse_id: 1,
        connector_id: 1,
        status: "Available".into(),
        at: chrono::Utc::now(),
    };
    service::apply_device_status(&pool, &[report])
        .await
        .unwrap();
    assert_eq!(
        service::get(&pool, Some(&host), id)
            .await
            .unwrap()
            .listing
            .ports_available,
        1
    );

    // the same device again: nothing is forgotten
    let d = service::update(&pool, &host, id, input.clone())
        .await
        .unwrap();
    assert_eq!(
        (d.listing.ports_available, d.ports[0].live_status),
        (1, PortStatus::Available)
    );
    input.device_id = Some("CP-2".into());
    let d = service::update(&pool, &host, id, input.clone())
        .await
        .unwrap();
    assert_eq!(
        (d.listing.ports_available, d.ports[0].live_status),
        (0, PortStatus::Unknown)
    );
    // ports bound to EVSEs cannot stay on a plain charger
    input.device_kind = Some(DeviceKind::Plain);
    input.device_id = None;
    let err = service::update(&pool, &host, id, input).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation(e) if e[0].field == "device_kind"),
        "{err:?}"
    );
}

/// A plain socket never reports a status, so its ports count as available; a device-bound
/// port that has not reported yet does not.
#[sqlx::test(migrations = "../migrations")]
async fn unreported_ports_count_as_available_only_on_plain_sockets(pool: PgPool) {
    let host = user(&pool, "host@example.com", Role::Host).await;
    let plain = service::create(&pool, &host, listing_input())
        .await
        .unwrap()
        .listing
        .id;
    service::add_port(&pool, &host, plain, port(ConnectorType::Type2, 11.0))
        .await
        .unwrap();
    let mut input = listing_input();
    input.device_kind = Some(DeviceKind::Ocpp);
    input.device_id = Some("CP-9".into());
    own_station(&pool, &host, "CP-9").await;
    let bound = service::create(&pool, &host, input)
        .await
        .unwrap()
        .listing
        .id;
    service::add_port(&pool, &host, bound, ocpp_port(ConnectorType::Ccs2, 1, 1))
        .await
        .unwrap();
    let available = |id| {
        let pool = pool.clone();
        async move {
            service::get(&pool, Some(&host), id)
                .await
                .unwrap()
                .listing
                .ports_available
        }
    };
    assert_eq!(available(plain).await, 1);
    assert_eq!(available(bound).await, 0);
}

/// A host binds a listing only to a station they own, and a station drives one listing.
#[sqlx::test(migrations = "../migrations")]
async fn stations_are_bound_only_by_their_owner_and_once(pool: PgPool) {
    let owner = user(&pool, "owner@example.com", Role::Host).await;
    let thief = user(&pool, "thief@example.com", Role::Host).await;
    own_station(&pool, &owner, "CP-1").await;
    let mut input = listing_input();
    input.device_kind = Some(DeviceKind::Ocpp);
    input.device_id = Some("CP-1".into());

    let err = service::create(&pool, &thief, input.clone())
        .await
        .unwrap_err();
    match err {
        Error::Validation(errors) => assert_eq!(errors[0].field, "device_id"),
        other => panic!("{other:?}"),
    }
    // nor by moving a plain listing onto it
    let theirs = service::create(&pool, &thief, listing_input())
        .await
        .unwrap()
        .listing
        .id;
    assert!(matches!(
        service::update(&pool, &thief, theirs, input.clone()).await,
        Err(Error::Validation(_))
    ));

    service::create(&pool, &owner, input.clone()).await.unwrap();
    let err = service::create(&pool, &owner, input).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                code: "device_already_bound",
                ..
            }
        ),
        "{err:?}"
    );
    // the station cannot be handed to someone else under its owner's listing
    let moved = sqlx::query("UPDATE stations SET owner_id = $1 WHERE id = 'CP-1'")
        .bind(thief.id)
        .execute(&pool)
        .await;
    assert!(moved.is_err());
}

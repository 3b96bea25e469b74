//! The driver's use cases against a real PostgreSQL with a fake station: start (free port,
//! booking, driver's card), the station's answers, pause/resume/stop, and what is refused.

use marketplace::sessions::service::{self, StartInput};
use marketplace::sessions::{station, EventType, IdToken, SessionFunds, SessionStatus};
use marketplace::Error;
use sqlx::PgPool;

use super::support::*;

/// `service::start` with the default session funds.
async fn start(
    stations: &FakeStations,
    pool: &PgPool,
    driver: &marketplace::AuthUser,
    input: StartInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<marketplace::sessions::view::SessionView, Error> {
    service::start(pool, stations, &SessionFunds::default(), driver, input, now).await
}

fn on_port(c: &Charger, port: usize) -> StartInput {
    StartInput {
        booking_id: None,
        charger_id: Some(c.id),
        port_id: Some(c.ports[port]),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_session_from_a_free_port(pool: PgPool) {
    let c = charger(&pool, "CS-1", 1).await;
    let driver = funded_driver(&pool).await;
    let stations = FakeStations::new();

    let s = start(&stations, &pool, &driver, on_port(&c, 0), t0())
        .await
        .unwrap();
    assert_eq!(s.status, SessionStatus::Start);
    assert_eq!(s.cost, None);
    let token = IdToken::central(format!("SESSION-{}", s.number));
    assert_eq!(
        stations.calls(),
        vec![Call::Start {
            station: "CS-1".into(),
            evse: 1,
            token: token.clone(),
            remote_start_id: s.number,
        }]
    );

    // the station reports the transaction, echoing the remoteStartId and our token
    let mut started = event("CS-1", "TX-1", 0, EventType::Started, 0, Some(1000));
    started.remote_start_id = Some(s.number);
    started.id_token = Some(token);
    let o = send(&pool, &started, 0).await;
    assert_eq!(o.session_id, Some(s.id));
    assert!(o.linked && o.token_accepted && o.total_cost.is_none());
    send(
        &pool,
        &event("CS-1", "TX-1", 1, EventType::Updated, 15, Some(6000)),
        15,
    )
    .await;

    let live = service::get(&pool, &driver, s.id, at(15)).await.unwrap();
    assert_eq!(live.status, SessionStatus::Active);
    assert_eq!(live.transaction_id.as_deref(), Some("TX-1"));
    assert_eq!(live.energy_kwh, d("5"));
    assert_eq!(live.power_kw, Some(d("20")));
    let cost = live.cost.unwrap();
    assert!(!cost.is_final);
    // 5 kWh → 1.50 → 1.82; 15 min → 0.50 → 0.61; fee 0.50
    assert_eq!(cost.total, d("2.93"));

    let paused = service::pause_or_resume(&pool, stations.as_ref(), &driver, s.id, true, at(20))
        .await
        .unwrap();
    assert_eq!(paused.status, SessionStatus::Paused);
    assert_eq!(paused.paused_since, Some(at(20)));
    let Some(Call::Limit(limit)) = stations.calls().last().cloned() else {
        panic!("no charging profile")
    };
    assert_eq!(
        (
            limit.transaction_id.as_str(),
            limit.evse_id,
            limit.profile_id,
            limit.amps
        ),
        ("TX-1", 1, s.number, Some(0.0))
    );
    let again = service::pause_or_resume(&pool, stations.as_ref(), &driver, s.id, true, at(21))
        .await
        .unwrap_err();
    assert_eq!(code(again), "invalid_session_state");
    let resumed = service::pause_or_resume(&pool, stations.as_ref(), &driver, s.id, false, at(30))
        .await
        .unwrap();
    assert_eq!(resumed.status, SessionStatus::Active);
    assert_eq!(resumed.paused_seconds, 600);
    assert!(matches!(stations.calls().last(), Some(Call::Limit(l)) if l.amps.is_none()));

    send(
        &pool,
        &event("CS-1", "TX-1", 2, EventType::Updated, 40, Some(8000)),
        40,
    )
    .await;
    let stopping = service::stop(&pool, stations.as_ref(), &driver, s.id, at(45))
        .await
        .unwrap();
    assert_eq!(stopping.stop_requested_at, Some(at(45)));
    assert_eq!(
        stations.calls().last(),
        Some(&Call::Stop {
            station: "CS-1".into(),
            transaction: "TX-1".into()
        })
    );
    let ended = send(
        &pool,
        &event("CS-1", "TX-1", 3, EventType::Ended, 45, Some(8000)),
        45,
    )
    .await;
    // 7 kWh → 2.10 → 2.54. The 2000 Wh of 15–40 flowed outside the pause (20–30), so 15–20
    // and 30–40 charged: 30 min → 1.00 → 1.21; paused 10 min and idle 40–45 → 1.50 → 1.82
    // (1.815 half-up); fee 0.50
    assert_eq!(ended.total_cost, Some(d("6.07")));

    let done = service::get(&pool, &driver, s.id, at(50)).await.unwrap();
    assert_eq!(done.status, SessionStatus::Completed);
    assert_eq!(
        (
            done.charging_seconds,
            done.idle_seconds,
            done.paused_seconds
        ),
        (1800, 300, 600)
    );
    let cost = done.cost.unwrap();
    assert!(cost.is_final);
    assert_eq!((cost.total, cost.revision), (d("6.07"), Some(1)));
    let bill = service::billing(&pool, &driver, s.id).await.unwrap();
    assert_eq!(bill.bill.total, d("6.07"));
    let amounts: Vec<String> = bill
        .bill
        .lines
        .iter()
        .map(|l| l.amount.to_string())
        .collect();
    assert_eq!(amounts, ["2.54", "1.21", "1.82", "0.50"]);
    let sum: rust_decimal::Decimal = bill.bill.lines.iter().map(|l| l.amount).sum();
    assert_eq!(sum, bill.bill.total);
    assert!(bill.superseded.is_empty());
    assert!(bill.bill.posted_at.is_none());

    // the port is free again
    let next = start(&stations, &pool, &driver, on_port(&c, 0), at(60)).await;
    assert!(next.is_ok(), "{next:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn tokens_a_card_or_the_booking_s(pool: PgPool) {
    let c = charger(&pool, "CS-2", 2).await;
    let driver = funded_driver(&pool).await;
    let stations = FakeStations::new();
    let card = IdToken {
        id_token: "04A2B3C4".into(),
        kind: "ISO14443".into(),
    };
    stations
        .driver_tokens
        .lock()
        .unwrap()
        .push((driver.id, card.clone()));
    let s = start(&stations, &pool, &driver, on_port(&c, 0), t0())
        .await
        .unwrap();
    assert!(matches!(&stations.calls()[0], Call::Start { token, .. } if *token == card));
    assert_eq!(s.origin, "app");

    // without a card, a booking's session uses the token its EVSE was reserved with
    let other = funded_driver(&pool).await;
    let b = booking(&pool, &other, &c, 1, at(10)).await;
    let early = start(
        &stations,
        &pool,
        &other,
        StartInput {
            booking_id: Some(b.id),
            charger_id: None,
            port_id: None,
        },
        at(-10),
    )
    .await
    .unwrap_err();
    assert_eq!(code(early), "booking_not_startable");
    let s = start(
        &stations,
        &pool,
        &other,
        StartInput {
            booking_id: Some(b.id),
            charger_id: None,
            port_id: None,
        },
        at(0),
    )
    .await
    .unwrap();
    assert_eq!(s.booking_id, Some(b.id));
    assert_eq!(s.port_id, c.ports[1]);
    let Some(Call::Start { token, evse, .. }) = stations.calls().last().cloned() else {
        panic!()
    };
    assert_eq!(
        token,
        IdToken::central(format!("BOOKING-{}", b.reservation_id))
    );
    assert_eq!(evse, 2);
    // someone else's booking
    let err = start(
        &stations,
        &pool,
        &driver,
        StartInput {
            booking_id: Some(b.id),
            charger_id: None,
            port_id: None,
        },
        at(0),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::NotFound("booking")), "{err:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn what_a_start_refuses(pool: PgPool) {
    let c = charger(&pool, "CS-3", 2).await;
    let driver = funded_driver(&pool).await;
    let rival = funded_driver(&pool).await;
    let stations = FakeStations::new();

    let bad = StartInput {
        booking_id: None,
        charger_id: Some(c.id),
        port_id: None,
    };
    let e = start(&stations, &pool, &driver, bad, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Validation(ref f) if f[0].field == "port_id"),
        "{e:?}"
    );

    // the station refuses: 409, the session is cancelled and the port stays free
    *stations.reject.lock().unwrap() = true;
    let e = start(&stations, &pool, &driver, on_port(&c, 0), t0())
        .await
        .unwrap_err();
    assert_eq!(code(e), "station_rejected");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM charging_sessions WHERE status = 'cancelled'"
        )
        .await,
        1
    );
    // offline: 503, same
    *stations.reject.lock().unwrap() = false;
    *stations.offline.lock().unwrap() = true;
    let e = start(&stations, &pool, &driver, on_port(&c, 0), t0())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unavailable(_)), "{e:?}");
    *stations.offline.lock().unwrap() = false;

    start(&stations, &pool, &driver, on_port(&c, 0), t0())
        .await
        .unwrap();
    let e = start(&stations, &pool, &rival, on_port(&c, 0), t0())
        .await
        .unwrap_err();
    assert_eq!(code(e), "port_busy");

    // a port another driver booked for now
    booking(&pool, &rival, &c, 1, at(5)).await;
    let e = start(&stations, &pool, &driver, on_port(&c, 1), t0())
        .await
        .unwrap_err();
    assert_eq!(code(e), "port_booked");
}

#[sqlx::test(migrations = "../migrations")]
async fn who_may_see_and_control(pool: PgPool) {
    let c = charger(&pool, "CS-4", 1).await;
    let driver = funded_driver(&pool).await;
    let stranger = funded_driver(&pool).await;
    let stations = FakeStations::new();
    let s = start(&stations, &pool, &driver, on_port(&c, 0), t0())
        .await
        .unwrap();
    let e = service::get(&pool, &stranger, s.id, t0())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound("session")));
    // the host sees it, but may not stop it
    assert!(service::get(&pool, &c.host, s.id, t0()).await.is_ok());
    let e = service::stop(&pool, stations.as_ref(), &c.host, s.id, t0())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden));
    // pausing before the transaction is reported
    let e = service::pause_or_resume(&pool, stations.as_ref(), &driver, s.id, true, t0())
        .await
        .unwrap_err();
    assert_eq!(code(e), "invalid_session_state");
    // no bill while it runs
    let e = service::billing(&pool, &driver, s.id).await.unwrap_err();
    assert_eq!(code(e), "not_billed");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stop_before_the_transaction_cancels_and_a_late_start_is_stopped(pool: PgPool) {
    let c = charger(&pool, "CS-5", 1).await;
    let driver = funded_driver(&pool).await;
    let stations = FakeStations::new();
    let s = start(&stations, &pool, &driver, on_port(&c, 0), t0())
        .await
        .unwrap();
    let v = service::stop(&pool, stations.as_ref(), &driver, s.id, at(1))
        .await
        .unwrap();
    assert_eq!(v.status, SessionStatus::Cancelled);
    // no RequestStopTransaction: there is no transaction to name
    assert_eq!(stations.calls().len(), 1);

    // the station started after all: the session is revived to be billed, and stopped
    let mut started = event("CS-5", "TX-5", 0, EventType::Started, 2, Some(0));
    started.remote_start_id = Some(s.number);
    let o = send(&pool, &started, 2).await;
    assert_eq!(o.session_id, Some(s.id));
    assert!(o.stop_transaction);
    let v = service::get(&pool, &driver, s.id, at(3)).await.unwrap();
    assert_eq!(v.status, SessionStatus::Active);
}

#[sqlx::test(migrations = "../migrations")]
async fn starts_time_out(pool: PgPool) {
    let c = charger(&pool, "CS-6", 1).await;
    let driver = funded_driver(&pool).await;
    let stations = FakeStations::new();
    let s = start(&stations, &pool, &driver, on_port(&c, 0), t0())
        .await
        .unwrap();
    let report = station::sweep(&pool, at(9), 10).await.unwrap();
    assert_eq!(report.cancelled, 0);
    let report = station::sweep(&pool, at(10), 10).await.unwrap();
    assert_eq!(report.cancelled, 1);
    let v = service::get(&pool, &driver, s.id, at(11)).await.unwrap();
    assert_eq!(v.status, SessionStatus::Cancelled);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_transaction_id_in_the_start_answer_links_at_once(pool: PgPool) {
    // the EV was plugged in first: the station already had a transaction on the EVSE
    let c = charger(&pool, "CS-7", 1).await;
    let driver = funded_driver(&pool).await;
    let stations = FakeStations::new();
    *stations.start_transaction.lock().unwrap() = Some("TX-PLUGGED".into());
    let s = start(&stations, &pool, &driver, on_port(&c, 0), t0())
        .await
        .unwrap();
    assert_eq!(s.transaction_id.as_deref(), Some("TX-PLUGGED"));
    let o = send(
        &pool,
        &event("CS-7", "TX-PLUGGED", 3, EventType::Updated, 1, Some(50)),
        1,
    )
    .await;
    assert_eq!(o.session_id, Some(s.id));
    assert!(!o.linked);
}

//! Sessions no booking pays for hold money on the wallet first: a walk-up start from the
//! app, a driver's own card at the station. A session whose cost reaches what secures it is
//! topped up from the wallet, or stopped once (`funds_exhausted`). Against a real PostgreSQL
//! with a fake station.

use marketplace::accounts::Role;
use marketplace::ledger::reconcile;
use marketplace::sessions::funds::{self, SessionFunds};
use marketplace::sessions::service::{self, StartInput};
use marketplace::sessions::{EventType, IdToken};
use sqlx::PgPool;
use uuid::Uuid;

use super::support::*;

fn on_port(c: &Charger) -> StartInput {
    StartInput {
        booking_id: None,
        charger_id: Some(c.id),
        port_id: Some(c.ports[0]),
    }
}

async fn wallet(pool: &PgPool, driver: Uuid) -> i64 {
    let mut conn = pool.acquire().await.unwrap();
    marketplace::ledger::service::balance(&mut conn, driver, "EUR")
        .await
        .unwrap()
}

/// (amount, remaining, status) of the session's hold.
async fn hold_of(pool: &PgPool, session: Uuid) -> Option<(i64, i64, String)> {
    let mut conn = pool.acquire().await.unwrap();
    let sql = "SELECT id FROM ledger_holds WHERE session_id = $1 ORDER BY created_at DESC LIMIT 1";
    let id: Option<Uuid> = sqlx::query_scalar(sql)
        .bind(session)
        .fetch_optional(&mut *conn)
        .await
        .unwrap();
    let h = marketplace::ledger::store::holds::by_id(&mut conn, id?, false)
        .await
        .unwrap()?;
    Some((h.amount_minor, h.remaining_minor, h.status))
}

async fn target(pool: &PgPool, c: &Charger, driver: Uuid) -> i64 {
    let mut conn = pool.acquire().await.unwrap();
    let (_, ask) = funds::ask(
        &mut conn,
        &SessionFunds::default(),
        c.id,
        c.ports[0],
        driver,
        t0(),
    )
    .await
    .unwrap();
    ask.target
}

async fn reconciles(pool: &PgPool) {
    let report = reconcile(&mut pool.acquire().await.unwrap()).await.unwrap();
    assert!(report.is_clean(), "{report:#?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_walk_up_start_holds_the_estimate_and_the_bill_takes_it(pool: PgPool) {
    let c = charger(&pool, "CS-H1", 1).await;
    let driver = user(&pool, Role::Driver).await;
    fund(&pool, driver.id, 10_000, at(-60)).await;
    let stations = FakeStations::new();
    let funds = SessionFunds::default();
    let target = target(&pool, &c, driver.id).await;
    // a full battery at 0.30/kWh and 2.00/h with VAT: more than the minimum, capped
    assert!(
        (funds.min_hold_minor..=funds.max_hold_minor).contains(&target),
        "{target}"
    );

    let s = service::start(&pool, stations.as_ref(), &funds, &driver, on_port(&c), t0())
        .await
        .unwrap();
    assert_eq!(
        hold_of(&pool, s.id).await,
        Some((target, target, "open".into()))
    );
    assert_eq!(wallet(&pool, driver.id).await, 10_000 - target);
    reconciles(&pool).await;

    let tx = "TX-H1";
    let mut started = event(&c.station, tx, 0, EventType::Started, 1, Some(0));
    started.remote_start_id = Some(s.number);
    send(&pool, &started, 1).await;
    let ended = send(
        &pool,
        &event(&c.station, tx, 1, EventType::Ended, 31, Some(10_000)),
        32,
    )
    .await;
    let total = ended.total_cost.expect("billed at the end");
    marketplace::ledger::run_due(&pool, at(33)).await.unwrap();
    // 10 kWh and 30 minutes: the bill came out of the hold, the rest went back
    let bill = marketplace::tariffs::model::to_minor_units(total, "EUR");
    assert!(bill > 0 && bill < target, "{bill} of {target}");
    assert_eq!(
        hold_of(&pool, s.id).await,
        Some((target, 0, "closed".into()))
    );
    assert_eq!(wallet(&pool, driver.id).await, 10_000 - bill);
    reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_short_wallet_starts_nothing_and_a_refused_start_gives_the_hold_back(pool: PgPool) {
    let c = charger(&pool, "CS-H2", 1).await;
    let driver = user(&pool, Role::Driver).await;
    let stations = FakeStations::new();
    let funds = SessionFunds::default();
    // nothing, then less than the minimum: 409, and nothing is sent or written
    for amount in [0, funds.min_hold_minor - 1] {
        if amount > 0 {
            fund(&pool, driver.id, amount, at(-60)).await;
        }
        let e = service::start(&pool, stations.as_ref(), &funds, &driver, on_port(&c), t0())
            .await
            .unwrap_err();
        assert_eq!(code(e), "payment_required");
    }
    assert!(stations.calls().is_empty());
    assert_eq!(
        count(&pool, "SELECT count(*) FROM charging_sessions").await,
        0
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM ledger_holds").await, 0);

    // at the minimum, the wallet's all is held; a station that refuses gives it back
    fund(&pool, driver.id, 1, at(-60)).await;
    *stations.reject.lock().unwrap() = true;
    let e = service::start(&pool, stations.as_ref(), &funds, &driver, on_port(&c), t0())
        .await
        .unwrap_err();
    assert_eq!(code(e), "station_rejected");
    let session: Uuid = sqlx::query_scalar("SELECT id FROM charging_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    let held = funds.min_hold_minor;
    assert_eq!(
        hold_of(&pool, session).await,
        Some((held, 0, "closed".into()))
    );
    assert_eq!(wallet(&pool, driver.id).await, held);
    reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_drivers_card_without_money_is_no_credit(pool: PgPool) {
    let c = charger(&pool, "CS-H3", 1).await;
    let driver = user(&pool, Role::Driver).await;
    let funds = SessionFunds::default();
    let card = |tx: &str| {
        let mut ev = event("CS-H3", tx, 0, EventType::Started, 1, Some(0));
        ev.id_token = Some(IdToken {
            id_token: "CARD-H3".into(),
            kind: "ISO14443".into(),
        });
        ev.token_owner = Some(driver.id);
        ev
    };
    // asked before: NoCredit; the transaction gets no session and no hold
    let asked = funds::credit(&pool, &funds, "CS-H3", driver.id, t0())
        .await
        .unwrap();
    assert_eq!(asked, Some("NoCredit"));
    let o = send(&pool, &card("TX-H3a"), 1).await;
    assert_eq!((o.session_id, o.token_refused), (None, Some("NoCredit")));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM charging_sessions").await,
        0
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM ledger_holds").await, 0);

    // with money on the wallet the card charges, and the session holds its estimate
    fund(&pool, driver.id, 10_000, at(-60)).await;
    let asked = funds::credit(&pool, &funds, "CS-H3", driver.id, t0())
        .await
        .unwrap();
    assert_eq!(asked, None);
    let o = send(&pool, &card("TX-H3b"), 2).await;
    let session = o.session_id.expect("a session");
    assert_eq!(o.token_refused, None);
    let target = target(&pool, &c, driver.id).await;
    assert_eq!(
        hold_of(&pool, session).await,
        Some((target, target, "open".into()))
    );
    // a station that is no listed charger is not the marketplace's to refuse
    let elsewhere = funds::credit(&pool, &funds, "CS-NOT-LISTED", driver.id, t0()).await;
    assert_eq!(elsewhere.unwrap(), None);
    reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_session_whose_money_runs_out_is_topped_up_then_stopped_once(pool: PgPool) {
    let c = charger(&pool, "CS-H4", 1).await;
    let driver = user(&pool, Role::Driver).await;
    let funds = SessionFunds::default();
    fund(&pool, driver.id, 600, at(-60)).await;
    let stations = FakeStations::new();
    let s = service::start(&pool, stations.as_ref(), &funds, &driver, on_port(&c), t0())
        .await
        .unwrap();
    assert_eq!(hold_of(&pool, s.id).await, Some((600, 600, "open".into())));
    let tx = "TX-H4";
    let mut started = event(&c.station, tx, 0, EventType::Started, 0, Some(0));
    started.remote_start_id = Some(s.number);
    send(&pool, &started, 0).await;
    // 5 kWh in 10 minutes: about 2.20 with VAT, well within 6.00
    send(
        &pool,
        &event(&c.station, tx, 1, EventType::Updated, 10, Some(5_000)),
        10,
    )
    .await;
    let (report, stops) = funds::check(&pool, &funds, at(10), 2).await.unwrap();
    assert_eq!((report.checked, report.stopped, stops.len()), (1, 0, 0));

    // 15 kWh: past the hold; a top-up on the wallet tops the hold up instead of stopping
    send(
        &pool,
        &event(&c.station, tx, 2, EventType::Updated, 20, Some(15_000)),
        20,
    )
    .await;
    fund(&pool, driver.id, 1_000, at(20)).await;
    let (report, stops) = funds::check(&pool, &funds, at(20), 2).await.unwrap();
    assert_eq!((report.topped_up, stops.len()), (1, 0));
    assert_eq!(hold_of(&pool, s.id).await.map(|h| h.0), Some(1_600));
    assert_eq!(wallet(&pool, driver.id).await, 0);

    // 40 kWh: past it again with an empty wallet: stopped, once
    send(
        &pool,
        &event(&c.station, tx, 3, EventType::Updated, 40, Some(40_000)),
        40,
    )
    .await;
    let (_, stops) = funds::check(&pool, &funds, at(40), 2).await.unwrap();
    assert_eq!(stops.len(), 1);
    assert_eq!(
        (
            stops[0].station_id.as_str(),
            stops[0].transaction_id.as_str()
        ),
        ("CS-H4", tx)
    );
    let (_, again) = funds::check(&pool, &funds, at(41), 2).await.unwrap();
    assert!(again.is_empty(), "asked once");
    let driver_view = service::get(&pool, &driver, s.id, at(41)).await.unwrap();
    assert_eq!(driver_view.stop_reason.as_deref(), Some("funds_exhausted"));
    assert_eq!(driver_view.stop_requested_at, Some(at(40)));

    // the station ends it: the bill takes the hold and the rest is owed (a debt that blocks)
    send(
        &pool,
        &event(&c.station, tx, 4, EventType::Ended, 41, Some(40_500)),
        42,
    )
    .await;
    marketplace::ledger::run_due(&pool, at(43)).await.unwrap();
    assert_eq!(
        hold_of(&pool, s.id).await.map(|h| h.2),
        Some("closed".into())
    );
    let e = service::start(
        &pool,
        stations.as_ref(),
        &funds,
        &driver,
        on_port(&c),
        at(50),
    )
    .await
    .unwrap_err();
    assert_eq!(code(e), "outstanding_debt");
    // the host's share of what is owed waits for the driver to pay
    let pending: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(share_minor - released_minor), 0)::bigint \
         FROM ledger_pending_shares WHERE host_id = $1",
    )
    .bind(c.host.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(pending > 0);
    reconciles(&pool).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_session_revived_after_its_hold_went_back_is_secured_again(pool: PgPool) {
    let c = charger(&pool, "CS-H5", 1).await;
    let driver = user(&pool, Role::Driver).await;
    let funds = SessionFunds::default();
    fund(&pool, driver.id, 10_000, at(-60)).await;
    let stations = FakeStations::new();
    // the station refuses: the session is cancelled and its hold given back
    *stations.reject.lock().unwrap() = true;
    service::start(&pool, stations.as_ref(), &funds, &driver, on_port(&c), t0())
        .await
        .unwrap_err();
    let session: Uuid = sqlx::query_scalar("SELECT id FROM charging_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(wallet(&pool, driver.id).await, 10_000);
    // ...and charges after all (the station is the authority on energy): the next check
    // secures it from the wallet with a new hold
    let number: i32 = sqlx::query_scalar("SELECT number FROM charging_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut started = event(&c.station, "TX-H5", 0, EventType::Started, 1, Some(0));
    started.remote_start_id = Some(number);
    send(&pool, &started, 1).await;
    send(
        &pool,
        &event(&c.station, "TX-H5", 1, EventType::Updated, 11, Some(5_000)),
        11,
    )
    .await;
    let (report, stops) = funds::check(&pool, &funds, at(11), 10).await.unwrap();
    assert_eq!((report.topped_up, stops.len()), (1, 0));
    let (amount, remaining, status) = hold_of(&pool, session).await.unwrap();
    assert_eq!((remaining, status.as_str()), (amount, "open"));
    assert_eq!(wallet(&pool, driver.id).await, 10_000 - amount);
    reconciles(&pool).await;
}

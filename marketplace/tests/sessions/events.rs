//! Station news against a real PostgreSQL: sessions a station starts (a user's card, a booked
//! EVSE), offline events in any order, a meter reset, MeterValues, the bill computed once,
//! restated only as a new revision, and immutable in the database.

use marketplace::accounts::Role;
use marketplace::bookings::reservations;
use marketplace::sessions::service;
use marketplace::sessions::{station, EventType, IdToken, Sample, SessionStatus};
use rust_decimal::Decimal;
use sqlx::PgPool;

use super::support::*;

/// A session a station starts for a user's card, then the given (seq, kind, minute, Wh)
/// events in the given order; answers the session id.
async fn card_session(
    pool: &PgPool,
    c: &Charger,
    tx: &str,
    events: &[(i32, EventType, i64, i64)],
) -> uuid::Uuid {
    let driver = funded_driver(pool).await;
    let mut id = None;
    for &(seq, kind, min, wh) in events {
        let mut ev = event(&c.station, tx, seq, kind, min, Some(wh));
        ev.evse_id = Some(1);
        ev.id_token = Some(IdToken {
            id_token: "CARD-1".into(),
            kind: "ISO14443".into(),
        });
        ev.token_owner = Some(driver.id);
        let o = send(pool, &ev, 100).await;
        id = id.or(o.session_id);
    }
    id.expect("a session")
}

#[sqlx::test(migrations = "../migrations")]
async fn offline_events_in_any_order_are_billed_once_all_arrived(pool: PgPool) {
    let c = charger(&pool, "CS-10", 1).await;
    use EventType::*;
    let in_order = [
        (0, Started, 0, 0),
        (1, Updated, 20, 4000),
        (2, Updated, 40, 4000),
        (3, Ended, 60, 9000),
    ];
    let a = card_session(&pool, &c, "TX-A", &in_order).await;

    // the same transaction replayed by an offline station: the end first
    let driver = funded_driver(&pool).await;
    let replay = [
        (0, Started, 0, 0),
        (3, Ended, 60, 9000),
        (2, Updated, 40, 4000),
        (1, Updated, 20, 4000),
    ];
    let mut outcomes = Vec::new();
    let mut bills = Vec::new();
    for (seq, kind, min, wh) in replay {
        let mut ev = event("CS-10", "TX-B", seq, kind, min, Some(wh));
        ev.evse_id = Some(1);
        ev.token_owner = Some(driver.id);
        outcomes.push(send(&pool, &ev, 100).await);
        bills.push(count(&pool, "SELECT count(*) FROM session_bills").await);
    }
    let b = outcomes[0].session_id.unwrap();
    assert!(outcomes.iter().all(|o| o.session_id == Some(b)));
    // the Ended event came before seqNo 1 and 2: no bill (nor totalCost) until the last
    // missing event completes the transaction; session A's bill is the one already there
    assert_eq!(outcomes[1].total_cost, None);
    assert_eq!(bills, [1, 1, 1, 2]);

    let bill_a = service::billing(&pool, &user_of(&pool, a).await, a)
        .await
        .unwrap()
        .bill;
    let bill_b = service::billing(&pool, &driver, b).await.unwrap().bill;
    assert_eq!(bill_a.lines, bill_b.lines);
    assert_eq!(bill_a.total, bill_b.total);
    // 9 kWh → 2.70 → 3.27; charging 0–20 and 40–60 = 40 min → 1.33 → 1.61; idle 20 min →
    // 2.00 → 2.42; fee 0.50
    assert_eq!(bill_b.total, d("7.80"));
    assert_eq!(
        (bill_b.revision, bill_b.reason.as_str()),
        (1, "transaction_ended")
    );

    // a retried Ended answers the same total and writes nothing
    let mut again = event("CS-10", "TX-B", 3, Ended, 60, Some(9000));
    again.token_owner = Some(driver.id);
    let o = send(&pool, &again, 101).await;
    assert_eq!(o.total_cost, Some(d("7.80")));
    assert_eq!(count(&pool, "SELECT count(*) FROM session_bills").await, 2);
}

async fn user_of(pool: &PgPool, session: uuid::Uuid) -> marketplace::AuthUser {
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT driver_id FROM charging_sessions WHERE id = $1")
            .bind(session)
            .fetch_one(pool)
            .await
            .unwrap();
    marketplace::AuthUser {
        id,
        role: Role::Driver,
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_meter_reset_mid_session(pool: PgPool) {
    let c = charger(&pool, "CS-11", 1).await;
    use EventType::*;
    // 1000 → 6000, reset (200 at minute 20), on to 3200 and 5200
    let id = card_session(
        &pool,
        &c,
        "TX-R",
        &[
            (0, Started, 0, 1000),
            (1, Updated, 15, 6000),
            (2, Updated, 20, 200),
            (3, Updated, 30, 3200),
            (4, Ended, 40, 5200),
        ],
    )
    .await;
    let driver = user_of(&pool, id).await;
    let v = service::get(&pool, &driver, id, at(50)).await.unwrap();
    assert_eq!(v.energy_kwh, d("10"));
    // charging 0–15, 20–40 = 35 min; idle 15–20 (the reset interval)
    assert_eq!((v.charging_seconds, v.idle_seconds), (2100, 300));
    let bill = service::billing(&pool, &driver, id).await.unwrap().bill;
    // 3.00 → 3.63; 35 min → 1.17 → 1.41; 5 min idle → 0.50 → 0.61; fee 0.50
    assert_eq!(bill.total, d("6.15"));
    assert_eq!(bill.energy_kwh, d("10"));
}

#[sqlx::test(migrations = "../migrations")]
async fn late_data_after_the_grace_period_is_a_new_revision(pool: PgPool) {
    let c = charger(&pool, "CS-12", 1).await;
    use EventType::*;
    // seqNo 1 (the charge ended at minute 30) is missing when the transaction ends
    let id = card_session(
        &pool,
        &c,
        "TX-L",
        &[(0, Started, 0, 0), (2, Ended, 60, 6000)],
    )
    .await;
    let driver = user_of(&pool, id).await;
    assert!(service::billing(&pool, &driver, id).await.is_err());
    // the sweep bills it after the grace period with what it has: 60 min charging
    assert_eq!(station::sweep(&pool, at(64), 10).await.unwrap().billed, 0);
    assert_eq!(station::sweep(&pool, at(66), 10).await.unwrap().billed, 1);
    let first = service::billing(&pool, &driver, id).await.unwrap().bill;
    // 6 kWh → 1.80 → 2.18; 60 min → 2.00 → 2.42; fee 0.50
    assert_eq!(first.total, d("5.10"));

    // then the missing event arrives: 30 min charging, 30 min idle
    let mut late = event("CS-12", "TX-L", 1, Updated, 30, Some(6000));
    late.token_owner = Some(driver.id);
    send(&pool, &late, 70).await;
    let billing = service::billing(&pool, &driver, id).await.unwrap();
    // 2.18; 30 min → 1.00 → 1.21; idle 30 min → 3.00 → 3.63; fee 0.50
    assert_eq!(billing.bill.total, d("7.52"));
    assert_eq!(billing.bill.revision, 2);
    assert_eq!(billing.bill.reason, "late_station_data");
    assert_eq!(billing.bill.supersedes, Some(first.id));
    assert_eq!(billing.superseded, vec![first]);
}

#[sqlx::test(migrations = "../migrations")]
async fn bills_are_immutable_but_can_be_posted_once(pool: PgPool) {
    let c = charger(&pool, "CS-13", 1).await;
    use EventType::*;
    let id = card_session(
        &pool,
        &c,
        "TX-I",
        &[(0, Started, 0, 0), (1, Ended, 30, 3000)],
    )
    .await;
    let bill: uuid::Uuid = sqlx::query_scalar("SELECT id FROM session_bills WHERE session_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    for sql in [
        "UPDATE session_bills SET total_cents = 1 WHERE id = $1",
        "DELETE FROM session_bills WHERE id = $1",
        "UPDATE session_bill_lines SET amount_cents = 0 WHERE bill_id = $1",
        "DELETE FROM session_bill_lines WHERE bill_id = $1",
        "UPDATE session_bills SET posted_at = now(), reason = 'x' WHERE id = $1",
    ] {
        let e = sqlx::query(sql)
            .bind(bill)
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("immutable"), "{sql}: {e}");
    }
    // the ledger's seam: posted_at set once
    sqlx::query("UPDATE session_bills SET posted_at = now() WHERE id = $1")
        .bind(bill)
        .execute(&pool)
        .await
        .unwrap();
    let e = sqlx::query("UPDATE session_bills SET posted_at = now() WHERE id = $1")
        .bind(bill)
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("immutable"));
    // a bill whose lines do not add up never commits
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO session_bills SELECT gen_random_uuid(), session_id, 2, id, 'test', currency, \
           minor_digits, total_cents + 1, tax_kind, tax_percent, taxable_cents, tax_cents, \
           commission_base_cents + 1, platform_commission_cents, host_share_cents + 1, \
           insurance_cents, tariff_id, tariff_version, session_start, session_end, energy_wh, \
           charging_seconds, idle_seconds, paused_seconds, ocpi_totals, now(), NULL \
         FROM session_bills WHERE id = $1",
    )
    .bind(bill)
    .execute(&mut *tx)
    .await
    .unwrap();
    let e = tx.commit().await.unwrap_err();
    assert!(e.to_string().contains("lines sum to"), "{e}");
}

#[sqlx::test(migrations = "../migrations")]
async fn station_started_sessions_on_a_booked_evse_and_unknown_cards(pool: PgPool) {
    let c = charger(&pool, "CS-14", 1).await;
    let driver = funded_driver(&pool).await;
    let b = booking(&pool, &driver, &c, 0, at(0)).await;
    // the bookings module matches the transaction to the booking first (as the CSMS does)
    reservations::session_started(&pool, "CS-14", 1, Some(b.reservation_id), "TX-BK", at(1))
        .await
        .unwrap()
        .unwrap();
    let mut ev = event("CS-14", "TX-BK", 0, EventType::Started, 1, Some(0));
    ev.id_token = Some(IdToken::central(format!("BOOKING-{}", b.reservation_id)));
    let o = send(&pool, &ev, 1).await;
    let id = o.session_id.expect("a session for the booking");
    assert!(o.linked);
    let v = service::get(&pool, &driver, id, at(2)).await.unwrap();
    assert_eq!((v.booking_id, v.origin.as_str()), (Some(b.id), "station"));
    assert_eq!(v.status, SessionStatus::Active);

    // a card nobody owns on a station nobody booked: a plain CSMS transaction, no session
    let mut stray = event("CS-14", "TX-X", 0, EventType::Started, 5, Some(0));
    stray.evse_id = Some(1);
    assert_eq!(send(&pool, &stray, 5).await.session_id, None);
    // a station that is no listing's: none either
    let mut other = event("NOT-LISTED", "TX-Y", 0, EventType::Started, 5, Some(0));
    other.token_owner = Some(driver.id);
    assert_eq!(send(&pool, &other, 5).await.session_id, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_cached_energy_follows_readings_in_any_order_and_resets(pool: PgPool) {
    let c = charger(&pool, "CS-16", 1).await;
    use EventType::*;
    let id = card_session(&pool, &c, "TX-E", &[(0, Started, 0, 0)]).await;
    let cached = |pool: PgPool| async move {
        let wh: String =
            sqlx::query_scalar("SELECT energy_wh::text FROM charging_sessions WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        wh.parse::<Decimal>().unwrap().normalize()
    };
    // (minute, register Wh, energy since the start): in order, one arriving late (the drop
    // after it is then a reset), a reset, and on after it
    let steps = [
        (10, 1000, 1000),
        (20, 2500, 2500),
        (5, 1200, 2700),
        (30, 100, 2700),
        (40, 900, 3500),
    ];
    for (min, wh, expected) in steps {
        let sample = Sample {
            measurand: "energy_wh",
            at: at(min),
            value: Decimal::from(wh),
        };
        station::meter_values(&pool, "CS-16", 1, &[sample])
            .await
            .unwrap();
        assert_eq!(
            cached(pool.clone()).await,
            Decimal::from(expected),
            "after {wh} Wh at minute {min}"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn meter_values_and_state_of_charge_reach_the_live_session(pool: PgPool) {
    let c = charger(&pool, "CS-15", 1).await;
    use EventType::*;
    let id = card_session(&pool, &c, "TX-M", &[(0, Started, 0, 0)]).await;
    let driver = user_of(&pool, id).await;
    let samples = [
        Sample {
            measurand: "energy_wh",
            at: at(10),
            value: Decimal::from(1500),
        },
        Sample {
            measurand: "power_w",
            at: at(10),
            value: Decimal::from(9000),
        },
        Sample {
            measurand: "soc_percent",
            at: at(10),
            value: Decimal::from(64),
        },
    ];
    let found = station::meter_values(&pool, "CS-15", 1, &samples)
        .await
        .unwrap();
    assert_eq!(found, Some(id));
    assert_eq!(
        station::meter_values(&pool, "CS-15", 2, &samples)
            .await
            .unwrap(),
        None
    );
    let v = service::get(&pool, &driver, id, at(10)).await.unwrap();
    assert_eq!(v.energy_kwh, d("1.5"));
    assert_eq!(v.power_kw, Some(d("9")));
    assert_eq!(v.state_of_charge, Some(d("64")));
    assert_eq!(v.last_reading_at, Some(at(10)));

    // the running cost for CostUpdated, until it was sent
    let costs = station::running_costs(&pool, at(10), 10).await.unwrap();
    assert_eq!(costs.len(), 1);
    // 1.5 kWh → 0.45 → 0.54; 10 min → 0.33 → 0.40; fee 0.50
    assert_eq!(costs[0].total, d("1.44"));
    station::cost_sent(&pool, id, costs[0].total).await.unwrap();
    assert!(station::running_costs(&pool, at(10), 10)
        .await
        .unwrap()
        .is_empty());
}

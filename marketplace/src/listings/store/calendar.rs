//! SQL for opening hours and blackouts. Times cross as seconds since midnight / `HH:MM`
//! text, because PostgreSQL's `time` allows `24:00` and chrono's `NaiveTime` does not.

use std::collections::HashMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, ResultExt};
use crate::listings::model::{Blackout, ClockTime, ListingCalendar, OpeningWindow};

/// The calendars of many listings in three queries (search and bookings check candidates in
/// bulk). Unknown ids are simply absent from the map.
pub async fn calendars_of(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, ListingCalendar>, Error> {
    let zones: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, time_zone FROM listings WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *conn)
            .await?;
    let mut calendars = HashMap::with_capacity(zones.len());
    for (id, zone) in zones {
        let time_zone: Tz = zone
            .parse()
            .map_err(|_| Error::Internal(format!("listing {id}: bad time zone `{zone}`")))?;
        calendars.insert(
            id,
            ListingCalendar {
                time_zone,
                opening_hours: Vec::new(),
                blackouts: Vec::new(),
            },
        );
    }
    let hours: Vec<(Uuid, i16, i32, i32)> = sqlx::query_as(
        "SELECT listing_id, weekday, (extract(epoch FROM opens_at) / 60)::int, \
                (extract(epoch FROM closes_at) / 60)::int \
         FROM listing_opening_hours WHERE listing_id = ANY($1) ORDER BY weekday, opens_at",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    for (id, weekday, opens, closes) in hours {
        if let Some(c) = calendars.get_mut(&id) {
            c.opening_hours.push(window(id, weekday, opens, closes)?);
        }
    }
    let blackouts: Vec<(Uuid, NaiveDate, NaiveDate, String)> = sqlx::query_as(
        "SELECT listing_id, starts_on, ends_on, reason FROM listing_blackouts \
         WHERE listing_id = ANY($1) ORDER BY starts_on",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    for (id, starts_on, ends_on, reason) in blackouts {
        if let Some(c) = calendars.get_mut(&id) {
            c.blackouts.push(Blackout {
                starts_on,
                ends_on,
                reason,
            });
        }
    }
    Ok(calendars)
}

/// One listing's calendar; `None` if the listing does not exist.
pub async fn calendar_of(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ListingCalendar>, Error> {
    Ok(calendars_of(conn, &[id]).await?.remove(&id))
}

fn window(listing_id: Uuid, weekday: i16, opens: i32, closes: i32) -> Result<OpeningWindow, Error> {
    let bad = |what: &str| Error::Internal(format!("listing {listing_id}: bad {what}"));
    let time = |m: i32| {
        u16::try_from(m)
            .ok()
            .and_then(ClockTime::from_minutes)
            .ok_or_else(|| bad("time"))
    };
    Ok(OpeningWindow {
        weekday: u8::try_from(weekday).map_err(|_| bad("weekday"))?,
        opens: time(opens)?,
        closes: time(closes)?,
    })
}

pub async fn opening_hours_of(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> Result<Vec<OpeningWindow>, Error> {
    let rows: Vec<(i16, i32, i32)> = sqlx::query_as(
        "SELECT weekday, (extract(epoch FROM opens_at) / 60)::int, \
                (extract(epoch FROM closes_at) / 60)::int \
         FROM listing_opening_hours WHERE listing_id = $1 ORDER BY weekday, opens_at",
    )
    .bind(listing_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(weekday, opens, closes)| window(listing_id, weekday, opens, closes))
        .collect()
}

/// Replaces the whole week in one statement pair (the caller's transaction makes it atomic).
pub async fn replace_opening_hours(
    conn: &mut PgConnection,
    listing_id: Uuid,
    windows: &[OpeningWindow],
) -> Result<(), Error> {
    sqlx::query("DELETE FROM listing_opening_hours WHERE listing_id = $1")
        .bind(listing_id)
        .execute(&mut *conn)
        .await?;
    let weekdays: Vec<i16> = windows.iter().map(|w| i16::from(w.weekday)).collect();
    let opens: Vec<String> = windows.iter().map(|w| w.opens.to_string()).collect();
    let closes: Vec<String> = windows.iter().map(|w| w.closes.to_string()).collect();
    sqlx::query(
        "INSERT INTO listing_opening_hours (listing_id, weekday, opens_at, closes_at) \
         SELECT $1, w, o::time, c::time FROM UNNEST($2::int2[], $3::text[], $4::text[]) AS v(w, o, c)",
    )
    .bind(listing_id)
    .bind(weekdays)
    .bind(opens)
    .bind(closes)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn blackouts_of(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> Result<Vec<Blackout>, Error> {
    let rows: Vec<(NaiveDate, NaiveDate, String)> = sqlx::query_as(
        "SELECT starts_on, ends_on, reason FROM listing_blackouts \
         WHERE listing_id = $1 ORDER BY starts_on",
    )
    .bind(listing_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(starts_on, ends_on, reason)| Blackout {
            starts_on,
            ends_on,
            reason,
        })
        .collect())
}

pub async fn insert_blackout(
    conn: &mut PgConnection,
    listing_id: Uuid,
    b: &Blackout,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO listing_blackouts (listing_id, starts_on, ends_on, reason) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(listing_id)
    .bind(b.starts_on)
    .bind(b.ends_on)
    .bind(&b.reason)
    .execute(conn)
    .await
    .on_constraint("listing_blackouts_pkey", |_| Error::Conflict {
        code: "blackout_exists",
        detail: "a blackout already starts on that day; delete it first".into(),
    })?;
    Ok(())
}

/// Whether a blackout started on that day.
pub async fn delete_blackout(
    conn: &mut PgConnection,
    listing_id: Uuid,
    starts_on: NaiveDate,
) -> Result<bool, Error> {
    let done =
        sqlx::query("DELETE FROM listing_blackouts WHERE listing_id = $1 AND starts_on = $2")
            .bind(listing_id)
            .bind(starts_on)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

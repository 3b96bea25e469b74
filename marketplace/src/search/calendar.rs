//! Port-by-port hourly availability: the listing's calendar (owned by listings, see
//! [`ListingCalendar`] for the opening-hours, blackout and DST rules), the ports' live status
//! and, once bookings exist, the booked intervals. Only the slot logic lives here.

use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use uuid::Uuid;

use crate::listings::ListingCalendar;

/// Open at some instant of `[from, to)`: exact, from the calendar's own open intervals.
fn is_open_during(calendar: &ListingCalendar, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    // open_intervals drops empty stretches, so any interval at all is a real opening
    !calendar.open_intervals(from, to).is_empty()
}

/// What a port is doing in one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlotStatus {
    Free,
    Occupied,
    Reserved,
    OutOfOrder,
    Closed,
}

/// The port status a device last reported, mapped to what a driver cares about.
///
/// OCPP `ConnectorStatus`: Available → free, Occupied → occupied, Reserved → reserved,
/// Unavailable/Faulted → out of order. `Unknown` means nothing was ever reported: for a plain
/// socket (no device, the host switches it by hand) that is normal and it counts as free; for
/// a connected device a silent port cannot be promised to a driver, so it is out of order.
pub fn live_status(live: &str, has_device: bool) -> SlotStatus {
    match live {
        "Available" => SlotStatus::Free,
        "Occupied" => SlotStatus::Occupied,
        "Reserved" => SlotStatus::Reserved,
        "Unknown" if !has_device => SlotStatus::Free,
        _ => SlotStatus::OutOfOrder,
    }
}

/// A booked time on one port (or the whole listing when `port_id` is `None`).
///
/// The seam for the bookings module: today the service passes none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookedInterval {
    pub port_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// One port as the availability view needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PortState {
    pub id: Uuid,
    pub label: String,
    pub connector_type: String,
    pub power_kw: f64,
    pub current_type: String,
    pub live_status: String,
}

/// One hour of one port.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = AvailabilitySlot)]
pub struct Slot {
    /// slot start, on the listing's local clock (with its UTC offset)
    #[schema(format = DateTime, example = "2031-01-01T09:00:00+01:00")]
    pub starts_at: String,
    #[schema(format = DateTime, example = "2031-01-01T10:00:00+01:00")]
    pub ends_at: String,
    pub status: SlotStatus,
}

/// One port: its status now and over the next 24 hours.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PortAvailability {
    pub id: Uuid,
    pub label: String,
    #[schema(value_type = crate::listings::ConnectorType)]
    pub connector_type: String,
    pub power_kw: f64,
    #[schema(value_type = crate::listings::CurrentType)]
    pub current_type: String,
    pub status_now: SlotStatus,
    /// The next 24 hourly slots, from the start of the current local hour.
    pub slots: Vec<Slot>,
}

/// How many hourly slots the availability view shows.
pub const SLOTS: i64 = 24;

/// The start of the local hour that holds `now` (the first slot), so slots line up with the
/// hours on the driver's clock even in half-hour time zones.
pub fn slot_origin(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&tz);
    now - Duration::seconds(i64::from(local.minute() * 60 + local.second()))
        - Duration::nanoseconds(i64::from(local.nanosecond() % 1_000_000_000))
}

/// Port-by-port status now and for the next [`SLOTS`] hours.
///
/// Rules, in order: closed by the calendar (for the whole slot) wins; a port reported
/// out of order stays so for the forecast (nothing says when it is fixed); a booking makes
/// the slot reserved; the live occupied/reserved status only speaks for the current hour.
pub fn port_availability(
    calendar: &ListingCalendar,
    ports: &[PortState],
    has_device: bool,
    booked: &[BookedInterval],
    now: DateTime<Utc>,
) -> Vec<PortAvailability> {
    let origin = slot_origin(now, calendar.time_zone);
    let bounds: Vec<_> = (0..SLOTS)
        .map(|i| (origin + Duration::hours(i), origin + Duration::hours(i + 1)))
        .collect();
    // the calendar does not depend on the port: evaluate it once per slot
    let open: Vec<bool> = bounds
        .iter()
        .map(|(a, b)| is_open_during(calendar, *a, *b))
        .collect();
    let open_now = calendar.is_open(now);
    ports
        .iter()
        .map(|port| {
            let live = live_status(&port.live_status, has_device);
            let is_booked = |a: DateTime<Utc>, b: DateTime<Utc>| {
                booked.iter().any(|iv| {
                    iv.port_id.is_none_or(|p| p == port.id) && iv.starts_at < b && a < iv.ends_at
                })
            };
            let status = |open: bool, a, b, current: bool| {
                if !open {
                    SlotStatus::Closed
                } else if live == SlotStatus::OutOfOrder {
                    SlotStatus::OutOfOrder
                } else if current && live != SlotStatus::Free {
                    live
                } else if is_booked(a, b) {
                    SlotStatus::Reserved
                } else {
                    SlotStatus::Free
                }
            };
            let slots = bounds
                .iter()
                .zip(&open)
                .enumerate()
                .map(|(i, ((a, b), open))| Slot {
                    starts_at: a.with_timezone(&calendar.time_zone).to_rfc3339(),
                    ends_at: b.with_timezone(&calendar.time_zone).to_rfc3339(),
                    status: status(*open, *a, *b, i == 0),
                })
                .collect();
            PortAvailability {
                id: port.id,
                label: port.label.clone(),
                connector_type: port.connector_type.clone(),
                power_kw: port.power_kw,
                current_type: port.current_type.clone(),
                status_now: status(open_now, now, now + Duration::seconds(1), true),
                slots,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listings::{Blackout, ClockTime, OpeningWindow};
    use chrono::{NaiveDate, TimeZone};

    fn hm(hours: u16, minutes: u16) -> ClockTime {
        ClockTime::from_minutes(hours * 60 + minutes).unwrap()
    }

    fn paris_weekdays_8_to_20() -> ListingCalendar {
        ListingCalendar {
            time_zone: chrono_tz::Europe::Paris,
            opening_hours: (1..=7)
                .map(|d| OpeningWindow {
                    weekday: d,
                    opens: hm(8, 0),
                    closes: hm(20, 0),
                })
                .collect(),
            blackouts: vec![],
        }
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn opening_hours_follow_the_local_clock_across_dst() {
        let cal = paris_weekdays_8_to_20();
        // winter: UTC+1, 08:00 local = 07:00 UTC
        assert!(!cal.is_open(utc(2025, 1, 15, 6, 59)));
        assert!(cal.is_open(utc(2025, 1, 15, 7, 0)));
        // summer: UTC+2, 08:00 local = 06:00 UTC
        assert!(cal.is_open(utc(2025, 7, 15, 6, 0)));
        assert!(!cal.is_open(utc(2025, 7, 15, 18, 0)));
        // the DST day itself (30 March 2025, clocks jump 02:00 → 03:00): opens 06:00 UTC
        assert!(!cal.is_open(utc(2025, 3, 30, 5, 59)));
        assert!(cal.is_open(utc(2025, 3, 30, 6, 0)));
    }

    #[test]
    fn no_windows_is_always_open_but_blackouts_close() {
        let mut cal = ListingCalendar {
            time_zone: chrono_tz::America::New_York,
            opening_hours: vec![],
            blackouts: vec![],
        };
        assert!(cal.is_open(utc(2025, 12, 25, 3, 0)));
        cal.blackouts.push(Blackout {
            starts_on: NaiveDate::from_ymd_opt(2025, 12, 25).unwrap(),
            ends_on: NaiveDate::from_ymd_opt(2025, 12, 26).unwrap(),
            reason: String::new(),
        });
        // 03:00 UTC on the 25th is still the 24th in New York
        assert!(cal.is_open(utc(2025, 12, 25, 3, 0)));
        assert!(!cal.is_open(utc(2025, 12, 25, 12, 0)));
        assert!(!cal.is_open(utc(2025, 12, 27, 4, 59)));
        assert!(cal.is_open(utc(2025, 12, 27, 5, 0)));
    }

    #[test]
    fn closes_at_midnight_is_24_00() {
        let cal = ListingCalendar {
            time_zone: chrono_tz::UTC,
            opening_hours: vec![OpeningWindow {
                weekday: 1,
                opens: hm(22, 0),
                closes: ClockTime::END_OF_DAY,
            }],
            blackouts: vec![],
        };
        // 2025-01-13 is a Monday
        assert!(cal.is_open(utc(2025, 1, 13, 23, 59)));
        assert!(!cal.is_open(utc(2025, 1, 14, 0, 0)));
    }

    #[test]
    fn a_slot_is_open_if_any_part_of_it_is() {
        let cal = paris_weekdays_8_to_20();
        // summer: 08:00 local = 06:00 UTC, 20:00 local = 18:00 UTC
        assert!(is_open_during(
            &cal,
            utc(2025, 7, 15, 5, 30),
            utc(2025, 7, 15, 6, 30)
        ));
        assert!(is_open_during(
            &cal,
            utc(2025, 7, 15, 17, 59),
            utc(2025, 7, 15, 19, 0)
        ));
        // touching the window is not overlapping it
        assert!(!is_open_during(
            &cal,
            utc(2025, 7, 15, 5, 0),
            utc(2025, 7, 15, 6, 0)
        ));
        assert!(!is_open_during(
            &cal,
            utc(2025, 7, 15, 18, 0),
            utc(2025, 7, 15, 19, 0)
        ));
    }

    #[test]
    fn live_status_mapping() {
        assert_eq!(live_status("Available", true), SlotStatus::Free);
        assert_eq!(live_status("Occupied", true), SlotStatus::Occupied);
        assert_eq!(live_status("Reserved", true), SlotStatus::Reserved);
        assert_eq!(live_status("Faulted", true), SlotStatus::OutOfOrder);
        assert_eq!(live_status("Unavailable", false), SlotStatus::OutOfOrder);
        assert_eq!(live_status("Unknown", true), SlotStatus::OutOfOrder);
        assert_eq!(live_status("Unknown", false), SlotStatus::Free);
    }

    fn port(live: &str) -> PortState {
        PortState {
            id: Uuid::now_v7(),
            label: "A".into(),
            connector_type: "Type2".into(),
            power_kw: 22.0,
            current_type: "AC".into(),
            live_status: live.into(),
        }
    }

    #[test]
    fn hourly_slots_on_a_dst_day() {
        let cal = paris_weekdays_8_to_20();
        // 29 March 2025 23:30 local (22:30 UTC); the night the clocks spring forward
        let now = utc(2025, 3, 29, 22, 30);
        let out = port_availability(&cal, &[port("Occupied")], true, &[], now);
        let slots = &out[0].slots;
        assert_eq!(slots.len(), 24);
        assert_eq!(slots[0].starts_at, "2025-03-29T23:00:00+01:00");
        // 01:00+01:00 is followed by 03:00+02:00: the local 02:00 hour does not exist
        assert_eq!(slots[2].starts_at, "2025-03-30T01:00:00+01:00");
        assert_eq!(slots[3].starts_at, "2025-03-30T03:00:00+02:00");
        // closed at night, first open slot is local 08:00 (06:00 UTC)
        assert_eq!(out[0].status_now, SlotStatus::Closed);
        let first_open = slots.iter().position(|s| s.status != SlotStatus::Closed);
        assert_eq!(
            slots[first_open.unwrap()].starts_at,
            "2025-03-30T08:00:00+02:00"
        );
        // live "occupied" speaks for now only; later open slots are free
        assert!(slots.iter().all(|s| s.status != SlotStatus::Occupied));
        assert_eq!(slots[8].status, SlotStatus::Free);
        assert_eq!(slots[20].status, SlotStatus::Closed);
    }

    #[test]
    fn live_status_now_and_bookings_later() {
        let cal = ListingCalendar {
            time_zone: chrono_tz::UTC,
            opening_hours: vec![],
            blackouts: vec![],
        };
        let now = utc(2025, 6, 2, 10, 15);
        let p = port("Occupied");
        let broken = port("Faulted");
        let booked = [BookedInterval {
            port_id: Some(p.id),
            starts_at: utc(2025, 6, 2, 13, 30),
            ends_at: utc(2025, 6, 2, 14, 0),
        }];
        let out = port_availability(&cal, &[p, broken], true, &booked, now);
        assert_eq!(out[0].status_now, SlotStatus::Occupied);
        assert_eq!(out[0].slots[0].status, SlotStatus::Occupied);
        assert_eq!(out[0].slots[1].status, SlotStatus::Free);
        assert_eq!(out[0].slots[3].status, SlotStatus::Reserved);
        assert_eq!(out[0].slots[4].status, SlotStatus::Free);
        assert!(out[1]
            .slots
            .iter()
            .all(|s| s.status == SlotStatus::OutOfOrder));
    }

    #[test]
    fn half_hour_zones_align_to_local_hours() {
        let origin = slot_origin(utc(2025, 6, 2, 10, 15), chrono_tz::Asia::Kolkata);
        // 10:15 UTC = 15:45 IST; the local hour began at 15:00 IST = 09:30 UTC
        assert_eq!(origin, utc(2025, 6, 2, 9, 30));
    }
}

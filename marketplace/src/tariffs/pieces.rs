//! Cutting a session's periods where a tariff element could switch, and spreading each
//! period's volumes evenly over its parts (the engine's step 1). Pure.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::model::Session;
use super::ocpi::Tariff;
use super::restrict::{self, Moment};

/// A stretch of one period between two cuts, with its share of the period's volumes.
pub(super) struct Piece {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub energy: Decimal,
    pub time: Decimal,
    pub parking: Decimal,
    pub reservation: Decimal,
    pub moment: Moment,
}

pub(super) fn moment_at(
    session: &Session,
    tz: Tz,
    at: DateTime<Utc>,
    energy_kwh: Decimal,
    current_a: Option<Decimal>,
    power_kw: Decimal,
) -> Moment {
    let elapsed_ms = (at - session.start).num_milliseconds();
    Moment {
        local: tz.from_utc_datetime(&at.naive_utc()).naive_local(),
        energy_kwh,
        elapsed_s: Decimal::from(elapsed_ms) / Decimal::from(1000),
        current_a,
        power_kw,
    }
}

/// Cuts every period where an element could switch, and spreads its volumes over the parts.
pub(super) fn pieces(tariff: &Tariff, session: &Session, tz: Tz) -> Vec<Piece> {
    let times = restrict::times_of_day(tariff);
    let energy_bounds = restrict::energy_bounds(tariff);
    let duration_bounds = restrict::duration_bounds(tariff);
    let mut out = Vec::new();
    let mut energy_before = Decimal::ZERO;
    for (i, p) in session.periods.iter().enumerate() {
        let (a, b) = (p.start, session.period_end(i));
        let span_ms = (b - a).num_milliseconds();
        let mut cuts = vec![Decimal::ZERO, Decimal::ONE];
        if span_ms > 0 {
            let fraction = |t: DateTime<Utc>| {
                Decimal::from((t - a).num_milliseconds()) / Decimal::from(span_ms)
            };
            let mut instants = restrict::local_boundaries(tz, &times, a, b);
            instants.extend(
                duration_bounds
                    .iter()
                    .filter_map(|s| {
                        let d = Duration::try_seconds(i64::try_from(*s).ok()?)?;
                        session.start.checked_add_signed(d)
                    })
                    .filter(|t| a < *t && *t < b),
            );
            cuts.extend(instants.into_iter().map(fraction));
        }
        if p.energy_kwh > Decimal::ZERO {
            cuts.extend(
                energy_bounds
                    .iter()
                    // checked: a tiny period's fraction can exceed Decimal (it is > 1 then)
                    .filter_map(|kwh| (kwh - energy_before).checked_div(p.energy_kwh))
                    .filter(|f| Decimal::ZERO < *f && *f < Decimal::ONE),
            );
        }
        cuts.sort();
        cuts.dedup();
        let parts = cuts.len() - 1;
        let mut given = [Decimal::ZERO; 4];
        let volumes = [
            p.energy_kwh,
            p.charging_hours,
            p.parking_hours,
            p.reservation_hours,
        ];
        // f is in [0, 1], so a + f × span stays inside [a, b]
        let at = |f: Decimal| {
            let ms: i64 = (f * Decimal::from(span_ms)).round().try_into().unwrap_or(0);
            a.checked_add_signed(Duration::milliseconds(ms))
                .unwrap_or(b)
        };
        for j in 0..parts {
            let (f0, f1) = (cuts[j], cuts[j + 1]);
            let mut share = [Decimal::ZERO; 4];
            for k in 0..4 {
                share[k] = if j + 1 == parts {
                    volumes[k] - given[k]
                } else {
                    volumes[k] * (f1 - f0)
                };
                given[k] += share[k];
            }
            let mid = (f0 + f1) / Decimal::TWO;
            let moment = moment_at(
                session,
                tz,
                at(mid),
                energy_before + p.energy_kwh * mid,
                p.current_a,
                p.power(),
            );
            out.push(Piece {
                from: at(f0),
                to: at(f1),
                energy: share[0],
                time: share[1],
                parking: share[2],
                reservation: share[3],
                moment,
            });
        }
        energy_before += p.energy_kwh;
    }
    out
}

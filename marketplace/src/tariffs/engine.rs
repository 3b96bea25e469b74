//! The price engine: a session's periods against an OCPI 2.2.1 tariff, in the charger's time
//! zone, to OCPI totals and a chronological list of charges. Pure.
//!
//! How a session is priced:
//! 1. Each period is cut wherever an element could switch: local times of day named by any
//!    restriction (and midnight), the zone's DST jumps, the instants where the session reaches
//!    a `min/max_duration`, and the points where cumulative energy reaches a `min/max_kwh`.
//!    A period's volumes are spread evenly over its wall-clock span, so cutting a period into
//!    evenly-filled parts never changes the price (property-tested).
//! 2. Each piece is evaluated at its midpoint: per dimension (ENERGY, TIME, PARKING_TIME,
//!    reservation TIME), the first element with a component of that type whose restrictions
//!    all hold is active (OCPI: "the first Tariff Element with that Dimension ... will be
//!    used"); no such element: that volume is free.
//! 3. `step_size` is applied once per dimension over the whole session: the priced volume is
//!    rounded up to the step of the component that was active last, and the extra is billed
//!    at that component's price (OCPI: "only taken into account for the last TariffElement";
//!    when the dimension becomes free, the last priced component is the one that rounds).
//!    When the charging time thus rounded up covers all of the session's parking time, that
//!    parking is not billed again (OCPI step_size example #1: "the 2 minutes parking time is
//!    within the extra 5 minutes of charging billed"); otherwise each is rounded on its own
//!    (the complex example bills 150 min charging and 45 min parking).
//! 4. FLAT is billed once: the first piece (in time) where a FLAT element is active. A session
//!    that is only an expired reservation has no start fee.
//! 5. Totals are exact sums, clamped by `min_price`/`max_price` (excl. and incl. VAT each),
//!    then each OCPI figure is rounded once, half-up, to the currency's minor unit — so
//!    `total_cost` may differ by a cent from the sum of the rounded parts, as in the
//!    specification's complex example (10.00 incl. VAT, not 2.88 + 3.00 + 4.13).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

use super::bounds;
pub use super::charge::{cost_of, Charge, ChargeKind};
use super::model::{hours_between, round_money, Session, SessionError};
use super::ocpi::{
    self, Price, PriceComponent, ReservationRestrictionType, Tariff, TariffDimensionType,
};
use super::pieces::{moment_at, pieces, Piece};
use super::restrict::{self, Moment};

/// The OCPI CDR totals, each figure rounded once to the minor unit.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OcpiTotals {
    #[schema(example = "EUR")]
    pub currency: String,
    pub total_cost: Price,
    pub total_fixed_cost: Price,
    pub total_energy_cost: Price,
    pub total_time_cost: Price,
    pub total_parking_cost: Price,
    pub total_reservation_cost: Price,
    /// kWh delivered (not billed volume).
    #[serde(with = "ocpi::num")]
    #[schema(value_type = f64, example = 20)]
    pub total_energy: Decimal,
    /// Hours from start to end of the session, charging or not.
    #[serde(with = "ocpi::num")]
    #[schema(value_type = f64, example = 1.5)]
    pub total_time: Decimal,
    /// Hours connected but not charging.
    #[serde(with = "ocpi::num")]
    #[schema(value_type = f64, example = 0)]
    pub total_parking_time: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceReport {
    pub totals: OcpiTotals,
    /// In time order (a flat at the moment it became due).
    pub charges: Vec<Charge>,
    /// Exact sum of the charges, before min/max price (excl. VAT).
    pub subtotal_excl: Decimal,
    /// Exact total after min/max price (excl. VAT): what the session costs.
    pub total_excl: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("the tariff has no elements")]
    NoElements,
    /// A tariff or session figure outside `tariffs::bounds`: priced, it could overflow.
    #[error("{field} {message}")]
    OutOfBounds { field: String, message: String },
}

/// Refuses what `bounds` does not vouch for, before any arithmetic.
fn check_bounds(tariff: &Tariff, session: &Session) -> Result<(), PriceError> {
    let tariff_breach = bounds::tariff_breaches(tariff, bounds::MAX_ENGINE_UNIT_PRICE)
        .into_iter()
        .next()
        .map(|b| (format!("tariff.{}", b.field), b.message));
    let session_breach =
        bounds::session_breach(session).map(|b| (format!("cdr.{}", b.field), b.message));
    match tariff_breach.or(session_breach) {
        Some((field, message)) => Err(PriceError::OutOfBounds { field, message }),
        None => Ok(()),
    }
}

/// Prices `session` with `tariff`, local rules read in `tz`.
pub fn price(tariff: &Tariff, session: &Session, tz: Tz) -> Result<PriceReport, PriceError> {
    session.validate()?;
    if tariff.elements.is_empty() {
        return Err(PriceError::NoElements);
    }
    check_bounds(tariff, session)?;
    let pieces = pieces(tariff, session, tz);
    let expired = pieces.iter().any(|p| p.reservation > Decimal::ZERO)
        && pieces
            .iter()
            .all(|p| p.energy.is_zero() && p.time.is_zero() && p.parking.is_zero());
    let reservation_filter = if expired {
        Filter::Expired
    } else {
        Filter::Reservation
    };

    let mut charges = Vec::new();
    let dims = [
        (
            ChargeKind::Energy,
            TariffDimensionType::Energy,
            Filter::Session,
        ),
        (ChargeKind::Time, TariffDimensionType::Time, Filter::Session),
        (
            ChargeKind::ParkingTime,
            TariffDimensionType::ParkingTime,
            Filter::Session,
        ),
        (
            ChargeKind::ReservationTime,
            TariffDimensionType::Time,
            reservation_filter,
        ),
    ];
    let mut dimension_charges = Vec::new();
    for (kind, dimension, filter) in dims {
        let entries: Vec<Entry> = pieces
            .iter()
            .filter_map(|p| {
                let volume = match kind {
                    ChargeKind::Energy => p.energy,
                    ChargeKind::Time => p.time,
                    ChargeKind::ParkingTime => p.parking,
                    _ => p.reservation,
                };
                if volume <= Decimal::ZERO {
                    return None;
                }
                let (element, component) = active(tariff, dimension, &p.moment, filter)?;
                Some(Entry {
                    element,
                    component: component.clone(),
                    units: volume * kind.step_units(),
                    from: p.from,
                    to: p.to,
                })
            })
            .collect();
        dimension_charges.push((kind, entries));
    }
    apply_step_sizes(&mut dimension_charges);
    for (kind, entries) in dimension_charges {
        charges.extend(merge(kind, entries));
    }

    // FLAT, once: the session's start fee where charging happened, a reservation's fee.
    let session_pieces: Vec<&Piece> = pieces.iter().filter(|p| p.reservation.is_zero()).collect();
    let start_moment = moment_at(
        session,
        tz,
        session.start,
        Decimal::ZERO,
        None,
        Decimal::ZERO,
    );
    if !expired {
        let flat = if session_pieces.is_empty() {
            flat_at(
                tariff,
                &start_moment,
                session.start,
                Filter::Session,
                ChargeKind::Flat,
            )
        } else {
            session_pieces
                .iter()
                .find_map(|p| flat_at(tariff, &p.moment, p.from, Filter::Session, ChargeKind::Flat))
        };
        charges.extend(flat);
    }
    let reservation_flat = pieces
        .iter()
        .filter(|p| p.reservation > Decimal::ZERO)
        .find_map(|p| {
            flat_at(
                tariff,
                &p.moment,
                p.from,
                reservation_filter,
                ChargeKind::ReservationFlat,
            )
        });
    charges.extend(reservation_flat);
    charges.sort_by_key(|c| (c.from, c.kind));

    Ok(report(tariff, session, charges))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// Elements without a reservation restriction.
    Session,
    /// Elements for a reservation that was used.
    Reservation,
    /// An expired reservation: RESERVATION_EXPIRES elements first, then RESERVATION ones.
    Expired,
}

fn active<'t>(
    tariff: &'t Tariff,
    dimension: TariffDimensionType,
    m: &Moment,
    filter: Filter,
) -> Option<(usize, &'t PriceComponent)> {
    let passes: &[Option<ReservationRestrictionType>] = match filter {
        Filter::Session => &[None],
        Filter::Reservation => &[Some(ReservationRestrictionType::Reservation)],
        Filter::Expired => &[
            Some(ReservationRestrictionType::ReservationExpires),
            Some(ReservationRestrictionType::Reservation),
        ],
    };
    passes.iter().find_map(|wanted| {
        tariff.elements.iter().enumerate().find_map(|(i, e)| {
            let reservation = e.restrictions.as_ref().and_then(|r| r.reservation);
            if reservation != *wanted {
                return None;
            }
            let component = e.price_components.iter().find(|c| c.kind == dimension)?;
            let ok = e
                .restrictions
                .as_ref()
                .is_none_or(|r| restrict::matches(r, m));
            ok.then_some((i, component))
        })
    })
}

fn flat_at(
    tariff: &Tariff,
    m: &Moment,
    at: DateTime<Utc>,
    filter: Filter,
    kind: ChargeKind,
) -> Option<Charge> {
    let (element, c) = active(tariff, TariffDimensionType::Flat, m, filter)?;
    Some(Charge {
        kind,
        element,
        price: c.price,
        vat: c.vat,
        step_size: c.step_size,
        volume: Decimal::ONE,
        units: Decimal::ONE,
        from: at,
        to: at,
    })
}

struct Entry {
    element: usize,
    component: PriceComponent,
    /// Volume in step units (Wh or seconds).
    units: Decimal,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

/// Rounds each dimension's priced total up to the last active component's step.
fn apply_step_sizes(dims: &mut [(ChargeKind, Vec<Entry>)]) {
    let mut time_extra = Decimal::ZERO;
    for (kind, entries) in dims.iter_mut() {
        let total = entries.iter().map(|e| e.units).sum::<Decimal>().round_dp(6);
        let Some(last) = entries.last_mut() else {
            continue;
        };
        let step = Decimal::from(last.component.step_size.max(1));
        let billed = (total / step).ceil() * step;
        let extra = billed - total;
        if *kind == ChargeKind::Time {
            time_extra = extra;
        }
        if *kind == ChargeKind::ParkingTime && time_extra >= total {
            entries.clear();
            continue;
        }
        last.units += extra;
    }
}

/// Consecutive entries with the same component become one charge.
fn merge(kind: ChargeKind, entries: Vec<Entry>) -> Vec<Charge> {
    let mut out: Vec<(Charge, Decimal)> = Vec::new();
    for e in entries {
        if let Some((c, units)) = out.last_mut() {
            if c.element == e.element && c.price == e.component.price && c.to == e.from {
                *units += e.units;
                c.to = e.to;
                continue;
            }
        }
        let charge = Charge {
            kind,
            element: e.element,
            price: e.component.price,
            vat: e.component.vat,
            step_size: e.component.step_size,
            volume: Decimal::ZERO,
            units: Decimal::ZERO,
            from: e.from,
            to: e.to,
        };
        out.push((charge, e.units));
    }
    out.into_iter()
        .map(|(mut c, units)| {
            // µWh / µs: below any step, above the noise of spreading volumes over pieces.
            c.units = units.round_dp(6);
            c.volume = c.units / kind.step_units();
            c
        })
        .collect()
}

fn report(tariff: &Tariff, session: &Session, charges: Vec<Charge>) -> PriceReport {
    let currency = tariff.currency.clone();
    let sum = |kinds: &[ChargeKind]| {
        kinds
            .iter()
            .fold((Decimal::ZERO, Decimal::ZERO), |(excl, incl), kind| {
                let (e, i) = cost_of(charges.iter().filter(|c| c.kind == *kind));
                (excl + e, incl + i)
            })
    };
    let money = |(excl, incl): (Decimal, Decimal)| Price {
        excl_vat: round_money(excl, &currency),
        incl_vat: Some(round_money(incl, &currency)),
    };
    let all = [
        ChargeKind::Energy,
        ChargeKind::Time,
        ChargeKind::ParkingTime,
        ChargeKind::ReservationTime,
        ChargeKind::Flat,
        ChargeKind::ReservationFlat,
    ];
    let (subtotal_excl, subtotal_incl) = sum(&all);
    let (mut excl, mut incl) = (subtotal_excl, subtotal_incl);
    if let Some(min) = tariff.min_price {
        excl = excl.max(min.excl_vat);
        incl = incl.max(min.incl_vat.unwrap_or(min.excl_vat));
    }
    if let Some(max) = tariff.max_price {
        excl = excl.min(max.excl_vat);
        incl = incl.min(max.incl_vat.unwrap_or(max.excl_vat));
    }
    let energy: Decimal = session.periods.iter().map(|p| p.energy_kwh).sum();
    let parking: Decimal = session.periods.iter().map(|p| p.parking_hours).sum();
    let totals = OcpiTotals {
        currency: currency.clone(),
        total_cost: money((excl, incl)),
        total_fixed_cost: money(sum(&[ChargeKind::Flat])),
        total_energy_cost: money(sum(&[ChargeKind::Energy])),
        total_time_cost: money(sum(&[ChargeKind::Time])),
        total_parking_cost: money(sum(&[ChargeKind::ParkingTime])),
        total_reservation_cost: money(sum(&[
            ChargeKind::ReservationTime,
            ChargeKind::ReservationFlat,
        ])),
        total_energy: energy.round_dp(6).normalize(),
        total_time: hours_between(session.start, session.end)
            .round_dp(6)
            .normalize(),
        total_parking_time: parking.round_dp(6).normalize(),
    };
    PriceReport {
        totals,
        charges,
        subtotal_excl,
        total_excl: excl,
    }
}

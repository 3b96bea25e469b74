//! What the engine bills: one price component over a stretch of a session. Pure.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::ocpi;

/// What a charge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    Energy,
    Time,
    ParkingTime,
    ReservationTime,
    /// The session's FLAT (start or transaction fee).
    Flat,
    /// A FLAT of a reservation element (reservation or expiry fee).
    ReservationFlat,
}

impl ChargeKind {
    /// Volume units per natural unit: Wh per kWh, seconds per hour.
    pub(super) fn step_units(self) -> Decimal {
        match self {
            Self::Energy => Decimal::from(1000),
            Self::Time | Self::ParkingTime | Self::ReservationTime => Decimal::from(3600),
            Self::Flat | Self::ReservationFlat => Decimal::ONE,
        }
    }
}

/// One component billed over a stretch of the session (consecutive pieces with the same
/// component merged). `volume` is billed volume (after step_size): kWh, hours, or 1 for a flat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Charge {
    pub kind: ChargeKind,
    /// Index of the tariff element whose component applies.
    pub element: usize,
    #[serde(with = "ocpi::num")]
    pub price: Decimal,
    #[serde(with = "ocpi::opt_num", skip_serializing_if = "Option::is_none")]
    pub vat: Option<Decimal>,
    pub step_size: u32,
    #[serde(with = "ocpi::num")]
    pub volume: Decimal,
    /// The billed volume in step units (Wh, seconds, or 1), exact: costs are computed from
    /// these, so an hour billed as 12 × 5 minutes costs what one hour does.
    #[serde(skip)]
    pub units: Decimal,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Charge {
    /// Step units per volume unit: 1000 (Wh per kWh), 3600 (seconds per hour) or 1.
    pub fn per(&self) -> Decimal {
        self.kind.step_units()
    }

    /// Exact cost excluding VAT.
    pub fn cost_excl(&self) -> Decimal {
        self.price * self.units / self.per()
    }

    /// Exact cost including the component's VAT (none given: none applies).
    pub fn cost_incl(&self) -> Decimal {
        with_vat(self.cost_excl(), self.vat)
    }
}

/// The exact cost (excl., incl. VAT) of charges of one kind: numerators summed first and
/// divided once, so the result does not depend on how the volume was cut into charges.
pub fn cost_of<'a>(charges: impl IntoIterator<Item = &'a Charge>) -> (Decimal, Decimal) {
    let mut per = Decimal::ONE;
    let (mut excl, mut incl) = (Decimal::ZERO, Decimal::ZERO);
    for c in charges {
        per = c.per();
        excl += c.price * c.units;
        incl += with_vat(c.price * c.units, c.vat);
    }
    (excl / per, incl / per)
}

fn with_vat(amount: Decimal, vat: Option<Decimal>) -> Decimal {
    match vat {
        Some(v) => amount + amount * v / Decimal::ONE_HUNDRED,
        None => amount,
    }
}

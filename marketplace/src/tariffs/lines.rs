//! The bill's tariff lines: energy, charging time, idle time, fees; for a simple-settings
//! tariff the base price and each multiplier apart. Pure.

use rust_decimal::Decimal;

use super::engine::{Charge, ChargeKind};
use super::peak_night::{Labels, Window};

/// What a bill line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PricingLineKind)]
pub enum LineKind {
    Energy,
    Time,
    Multiplier,
    Parking,
    Flat,
    Reservation,
    MinimumCharge,
    MaximumPrice,
    Subscription,
    Package,
    Discount,
    Fee,
    Tax,
}

/// Adds one line: kind, description, quantity and unit, unit price, exact amount before tax.
pub(super) type Push<'a> =
    dyn FnMut(LineKind, String, Option<(Decimal, &'static str)>, Option<Decimal>, Decimal) + 'a;

fn unit_of(kind: ChargeKind) -> &'static str {
    match kind {
        ChargeKind::Energy => "kWh",
        ChargeKind::Time | ChargeKind::ParkingTime | ChargeKind::ReservationTime => "h",
        ChargeKind::Flat | ChargeKind::ReservationFlat => "session",
    }
}

pub(super) fn tariff_lines(charges: &[Charge], labels: Option<&Labels>, push: &mut Push<'_>) {
    // Energy and time of a simple tariff: base, then one line per multiplier. Quantities are
    // summed in step units (Wh, s) and divided once, so batching never moves a cent.
    let labelled = |c: &Charge| {
        labels.filter(|l| {
            matches!(c.kind, ChargeKind::Energy | ChargeKind::Time) && c.element < l.elements.len()
        })
    };
    for (kind, base_text) in [
        (ChargeKind::Energy, "Energy"),
        (ChargeKind::Time, "Charging time"),
    ] {
        let Some(l) = charges.iter().find(|c| c.kind == kind).and_then(labelled) else {
            continue;
        };
        let base = if kind == ChargeKind::Energy {
            l.price_per_kwh
        } else {
            l.price_per_hour
        };
        let of: Vec<&Charge> = charges.iter().filter(|c| c.kind == kind).collect();
        let per = of[0].per();
        let units: Decimal = of.iter().map(|c| c.units).sum();
        let line_kind = if kind == ChargeKind::Energy {
            LineKind::Energy
        } else {
            LineKind::Time
        };
        push(
            line_kind,
            base_text.into(),
            Some((units / per, unit_of(kind))),
            Some(base),
            units * base / per,
        );
        for window in [Window::Peak, Window::Night] {
            let in_window: Vec<&&Charge> = of
                .iter()
                .filter(|c| l.elements[c.element].0 == window)
                .collect();
            let Some(m) = in_window.first().map(|c| l.elements[c.element].1) else {
                continue;
            };
            let units: Decimal = in_window.iter().map(|c| c.units).sum();
            let text = format!("{base_text}: {} ×{}", window.describe(), m.normalize());
            let unit_price = base * (m - Decimal::ONE);
            push(
                LineKind::Multiplier,
                text,
                Some((units / per, unit_of(kind))),
                Some(unit_price),
                units * unit_price / per,
            );
        }
        if let Some(e) = l.emergency {
            let window_value: Decimal = of
                .iter()
                .map(|c| c.units * base * l.elements[c.element].1)
                .sum();
            let text = format!("{base_text}: emergency booking ×{}", e.normalize());
            push(
                LineKind::Multiplier,
                text,
                None,
                None,
                window_value * (e - Decimal::ONE) / per,
            );
        }
    }
    // Everything else: one line per component price.
    let mut groups: Vec<(ChargeKind, Decimal, Decimal)> = Vec::new();
    for c in charges.iter().filter(|c| labelled(c).is_none()) {
        match groups.iter_mut().find(|g| g.0 == c.kind && g.1 == c.price) {
            Some(g) => g.2 += c.units,
            None => groups.push((c.kind, c.price, c.units)),
        }
    }
    groups.sort_by_key(|g| g.0);
    for (kind, price, units) in groups {
        let per = match kind {
            ChargeKind::Energy => Decimal::from(1000),
            ChargeKind::Time | ChargeKind::ParkingTime | ChargeKind::ReservationTime => {
                Decimal::from(3600)
            }
            ChargeKind::Flat | ChargeKind::ReservationFlat => Decimal::ONE,
        };
        let (line_kind, text) = match kind {
            ChargeKind::Energy => (LineKind::Energy, "Energy"),
            ChargeKind::Time => (LineKind::Time, "Charging time"),
            ChargeKind::ParkingTime => (LineKind::Parking, "Idle time (connected, not charging)"),
            ChargeKind::ReservationTime => (LineKind::Reservation, "Reservation time"),
            ChargeKind::Flat => (LineKind::Flat, "Session fee"),
            ChargeKind::ReservationFlat => (LineKind::Reservation, "Reservation fee"),
        };
        push(
            line_kind,
            text.into(),
            Some((units / per, unit_of(kind))),
            Some(price),
            units * price / per,
        );
    }
}

//! Worked examples of the bill: VAT-inclusive and sales-tax countries, plan discounts, a
//! prepaid package running out mid-session, a charger subscription's fair-use cap, the
//! minimum charge, and the commission split.

use marketplace::tariffs::bill::{
    self, package_price, Bill, ChargerSubscription, Extras, LineKind, Plan, PrepaidPackage,
};
use marketplace::tariffs::engine;
use marketplace::tariffs::peak_night::{self, SimpleSettings};
use marketplace::tariffs::zones::TaxRule;
use rust_decimal::Decimal;

use super::common::{d, tz};
use super::engine::{charging, header, settings};

fn billed(
    s: &SimpleSettings,
    from: &str,
    to: &str,
    kwh: &str,
    zone: &str,
    extras: &Extras,
) -> Bill {
    let (tariff, labels) = peak_night::to_ocpi(s, &header("EUR", None));
    let report = engine::price(&tariff, &charging(from, to, kwh), tz(zone)).unwrap();
    bill::bill(&report, Some(&labels), extras)
}

fn amounts(b: &Bill) -> Vec<(LineKind, String)> {
    b.lines
        .iter()
        .map(|l| (l.kind, l.amount.to_string()))
        .collect()
}

fn check_sums(b: &Bill) {
    assert_eq!(b.total, b.lines.iter().map(|l| l.amount).sum::<Decimal>());
    let s = &b.split;
    assert_eq!(s.platform_commission + s.host_share, s.commission_base);
    assert_eq!(s.commission_base + s.insurance_reserve + s.tax, b.total);
}

#[test]
fn vat_inclusive_lines_and_the_vat_they_contain() {
    let extras = Extras {
        tax: TaxRule::VatInclusive { percent: d("21") },
        ..Extras::default()
    };
    // 20 kWh at 0.35 before VAT, 10:00-12:00 CEST.
    let b = billed(
        &settings("0.35", "0"),
        "2025-06-10T08:00:00Z",
        "2025-06-10T10:00:00Z",
        "20",
        "Europe/Amsterdam",
        &extras,
    );
    assert_eq!(
        amounts(&b),
        [
            (LineKind::Energy, "8.47".into()),
            (LineKind::Fee, "0.50".into())
        ]
    );
    assert_eq!(b.total, d("8.97"));
    assert_eq!(b.tax.kind, "vat_included");
    assert_eq!(b.tax.tax_amount, d("1.47"));
    assert_eq!(b.split.commission_base, d("7.00"));
    assert_eq!(b.split.platform_commission, d("1.40"));
    assert_eq!(b.split.host_share, d("5.60"));
    check_sums(&b);
}

#[test]
fn sales_tax_on_top_after_a_premium_discount() {
    let extras = Extras {
        plan: Plan::Premium,
        tax: TaxRule::SalesTaxExclusive {
            percent: d("8.875"),
        },
        ..Extras::default()
    };
    // 12:00-13:30 CDT: 15 kWh × 0.40 + 1.5 h × 3.00 = 10.50, −10 % = 9.45, tax 0.84.
    let b = billed(
        &settings("0.40", "3.00"),
        "2025-06-10T17:00:00Z",
        "2025-06-10T18:30:00Z",
        "15",
        "America/Chicago",
        &extras,
    );
    assert_eq!(
        amounts(&b),
        [
            (LineKind::Energy, "6.00".into()),
            (LineKind::Time, "4.50".into()),
            (LineKind::Discount, "-1.05".into()),
            (LineKind::Fee, "0.50".into()),
            (LineKind::Tax, "0.84".into()),
        ]
    );
    assert_eq!(b.total, d("10.79"));
    assert_eq!(b.split.commission_base, d("9.45"));
    assert_eq!(b.split.platform_commission, d("1.89"));
    check_sums(&b);
}

#[test]
fn multipliers_are_lines_of_their_own() {
    // 17:00-19:00 CEST, 10 kWh an hour at 0.30: 20 kWh base, 10 of them at peak (+0.15).
    let b = billed(
        &settings("0.30", "0"),
        "2025-06-10T15:00:00Z",
        "2025-06-10T17:00:00Z",
        "20",
        "Europe/Amsterdam",
        &Extras::default(),
    );
    assert_eq!(b.lines[0].amount, d("6.00"));
    assert_eq!(b.lines[1].kind, LineKind::Multiplier);
    assert!(
        b.lines[1].description.contains("peak"),
        "{}",
        b.lines[1].description
    );
    assert_eq!(b.lines[1].amount, d("1.50"));
    check_sums(&b);
}

#[test]
fn a_package_running_out_mid_session() {
    // 17:00-19:00 CEST, 10 kWh an hour; 15 kWh left on the package: all 10 standard kWh
    // (3.00) and the first 5 peak kWh (5 × 0.45 = 2.25) are prepaid.
    let extras = Extras {
        package: Some(PrepaidPackage {
            remaining_kwh: d("15"),
        }),
        ..Extras::default()
    };
    let b = billed(
        &settings("0.30", "0"),
        "2025-06-10T15:00:00Z",
        "2025-06-10T17:00:00Z",
        "20",
        "Europe/Amsterdam",
        &extras,
    );
    let package = b
        .lines
        .iter()
        .find(|l| l.kind == LineKind::Package)
        .unwrap();
    assert_eq!(package.amount, d("-5.25"));
    assert_eq!(b.package_kwh_used, d("15"));
    assert_eq!(b.package_kwh_left, Some(d("0")));
    assert_eq!(b.total, d("2.75")); // 7.50 − 5.25 + 0.50
    check_sums(&b);
    // Buying it: 100 kWh at 0.30 with 10 % off.
    assert_eq!(package_price(d("100"), d("0.30"), "EUR"), d("27.00"));
}

#[test]
fn a_subscription_covers_up_to_its_fair_use_cap() {
    // 95 of 100 kWh used: the first 5 kWh and the first half hour of charging are covered.
    let extras = Extras {
        subscription: Some(ChargerSubscription {
            fair_use_kwh: d("100"),
            used_kwh: d("95"),
        }),
        ..Extras::default()
    };
    let b = billed(
        &settings("0.30", "2.00"),
        "2025-06-10T08:00:00Z",
        "2025-06-10T10:00:00Z",
        "20",
        "Europe/Amsterdam",
        &extras,
    );
    let sub = b
        .lines
        .iter()
        .find(|l| l.kind == LineKind::Subscription)
        .unwrap();
    assert_eq!(sub.amount, d("-2.50")); // 5 × 0.30 + 0.5 h × 2.00
    assert_eq!(b.subscription_kwh_used, d("5"));
    check_sums(&b);
}

#[test]
fn the_minimum_charge_tops_up_a_small_session() {
    let s = SimpleSettings {
        minimum_charge: d("1.00"),
        ..settings("0.30", "0")
    };
    let b = billed(
        &s,
        "2025-06-10T08:00:00Z",
        "2025-06-10T08:10:00Z",
        "0.5",
        "Europe/Amsterdam",
        &Extras::default(),
    );
    assert_eq!(
        amounts(&b),
        [
            (LineKind::Energy, "0.15".into()),
            (LineKind::MinimumCharge, "0.85".into()),
            (LineKind::Fee, "0.50".into()),
        ]
    );
    check_sums(&b);
}

#[test]
fn the_rounding_remainder_of_the_commission_goes_to_the_host() {
    // 3.3 kWh × 0.30 = 0.99: 20 % is 0.198, the platform takes 0.19, the host 0.80.
    let b = billed(
        &settings("0.30", "0"),
        "2025-06-10T08:00:00Z",
        "2025-06-10T09:00:00Z",
        "3.3",
        "Europe/Amsterdam",
        &Extras::default(),
    );
    assert_eq!(b.split.commission_base, d("0.99"));
    assert_eq!(b.split.platform_commission, d("0.19"));
    assert_eq!(b.split.host_share, d("0.80"));
    check_sums(&b);
}

#[test]
fn pro_plan_discount_and_ocpi_tariffs_without_labels() {
    let tariff = super::common::tariff("025kwh_parking_start");
    let report = engine::price(
        &tariff,
        &marketplace::tariffs::model::Session::from_cdr(&super::common::cdr(
            "025kwh_parking_start",
        )),
        tz("Europe/Berlin"),
    )
    .unwrap();
    let extras = Extras {
        plan: Plan::Pro,
        ..Extras::default()
    };
    let b = bill::bill(&report, None, &extras);
    // 5.00 energy + 1.50 parking + 0.50 start fee = 7.00, −20 % = 5.60, + 0.50.
    assert_eq!(b.total, d("6.10"));
    check_sums(&b);
}

//! The VAT a subscription charge holds (migration `0014_subscription_tax.sql`): prices are
//! what subscribers pay, VAT included, at the rate the platform has for the currency; the
//! insurance group is exempt; a credit gives VAT back at the rate of the charge it credits,
//! so a rate changed in between never turns a credit into a tax gain or loss.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use sqlx::PgConnection;

use crate::error::Error;
use crate::ledger::model::Minor;
use crate::subscriptions::model::{ChargeKind, Group, TaxRate};
use crate::subscriptions::store::{charges, Subscription};

/// What a charge pays in tax, and at which rate (`None`: untaxed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChargeTax {
    pub minor: Minor,
    pub rate: Option<TaxRate>,
}

/// The VAT `amount` holds at `percent`, in minor units, half away from zero. Pure.
pub fn included(amount: Minor, percent: Decimal) -> Minor {
    let hundred = Decimal::ONE_HUNDRED;
    (Decimal::from(amount) * percent / (hundred + percent))
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(0)
}

/// The tax of a charge of `amount` of this kind on this subscription.
pub async fn of_charge(
    conn: &mut PgConnection,
    s: &Subscription,
    kind: ChargeKind,
    amount: Minor,
) -> Result<ChargeTax, Error> {
    if s.group()? == Group::Insurance {
        return Ok(ChargeTax::default());
    }
    let rate = if kind == ChargeKind::ProrationCredit {
        credited_rate(conn, s).await?
    } else {
        platform_rate(conn, s.currency.trim()).await?
    };
    Ok(ChargeTax {
        minor: rate.as_ref().map_or(0, |r| included(amount, r.percent)),
        rate,
    })
}

/// The rate the platform sells in `currency` at.
pub async fn platform_rate(
    conn: &mut PgConnection,
    currency: &str,
) -> Result<Option<TaxRate>, Error> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT name, percent::text FROM platform_tax_rates WHERE currency = $1")
            .bind(currency)
            .fetch_optional(conn)
            .await?;
    row.map(|(name, percent)| rate(name, &percent)).transpose()
}

/// The rate of the subscription's latest paid charge: what a credit on it gives back.
async fn credited_rate(
    conn: &mut PgConnection,
    s: &Subscription,
) -> Result<Option<TaxRate>, Error> {
    let paid = charges::of_subscriptions(conn, &[s.id]).await?;
    let latest = paid
        .into_iter()
        .rev()
        .find(|c| c.status == "paid" && c.kind != ChargeKind::ProrationCredit.as_str());
    match latest {
        Some(charges::InvoiceCharge {
            tax_name: Some(name),
            tax_percent: Some(percent),
            ..
        }) => rate(name, &percent).map(Some),
        _ => Ok(None),
    }
}

fn rate(name: String, percent: &str) -> Result<TaxRate, Error> {
    let percent = percent
        .parse::<Decimal>()
        .map_err(|e| Error::Internal(format!("tax rate {percent}: {e}")))?;
    Ok(TaxRate {
        name,
        percent: percent.normalize(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_inside_the_catalogue_prices() {
        let vat = Decimal::from(21);
        assert_eq!(included(999, vat), 173);
        assert_eq!(included(2499, vat), 434);
        assert_eq!(included(9900, vat), 1718);
        assert_eq!(included(0, vat), 0);
        // 121 × k holds exactly 21 × k; the half rounds away from zero
        assert_eq!(included(12100, vat), 2100);
        assert_eq!(included(50, Decimal::from(100)), 25);
        assert_eq!(included(1, Decimal::from(100)), 1);
    }

    proptest::proptest! {
        #[test]
        fn the_vat_is_part_of_the_price_and_grows_with_it(
            amount in 0i64..10_000_000,
            basis_points in 1i64..9_999,
        ) {
            let percent = Decimal::new(basis_points, 2);
            let tax = included(amount, percent);
            proptest::prop_assert!((0..=amount).contains(&tax));
            proptest::prop_assert!(included(amount + 1, percent) >= tax);
        }
    }
}

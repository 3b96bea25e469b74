//! What a booking costs: its price, computed once when it is made or changed. Pure. (What a
//! cancellation gives back of it is [`super::refund`].)

use chrono::Duration;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// The booking's price in minor units: the listing's hourly price times the booked time,
/// rounded half up to the cent once. Energy is billed by the charging session, not here.
///
/// The seam for tariffs (issue 6): this is the only place a booking's amount is computed.
/// Every currency is taken to have 2 minor digits (the listings only offer such currencies
/// today); a zero-decimal currency would need ISO 4217's exponent here.
pub fn estimate_cents(price_per_hour: Option<Decimal>, duration: Duration) -> i64 {
    let Some(rate) = price_per_hour else {
        return 0;
    };
    let seconds = Decimal::from(duration.num_seconds().max(0));
    // checked: the rate is a listing's numeric(10,2), but this is pure and takes any figure
    rate.checked_mul(seconds)
        .map(|x| x / Decimal::from(3600))
        .and_then(|amount| {
            amount
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
                .checked_mul(Decimal::ONE_HUNDRED)
        })
        .and_then(|cents| cents.to_i64())
        .unwrap_or(if rate.is_sign_negative() { 0 } else { i64::MAX })
        .max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_of_absurd_rates_saturate_instead_of_panicking() {
        let year = Duration::days(365);
        assert_eq!(estimate_cents(Some(Decimal::MAX), year), i64::MAX);
        assert_eq!(estimate_cents(Some(Decimal::MIN), year), 0);
        assert_eq!(
            estimate_cents(Some(Decimal::new(250, 2)), Duration::hours(2)),
            500
        );
    }

    #[test]
    fn estimates_from_the_hourly_price() {
        let d = |m| Duration::minutes(m);
        assert_eq!(estimate_cents(Some(Decimal::new(250, 2)), d(90)), 375);
        assert_eq!(estimate_cents(Some(Decimal::new(100, 2)), d(20)), 33);
        // 1.00/h for 30 s is 0.0083, which rounds to 0.01; 10 s (0.0028) rounds to 0
        assert_eq!(estimate_cents(Some(Decimal::ONE), Duration::seconds(30)), 1);
        assert_eq!(estimate_cents(Some(Decimal::ONE), Duration::seconds(10)), 0);
        assert_eq!(estimate_cents(None, d(60)), 0);
    }
}

//! What a session would cost, before booking: the tariff's itemized estimate of a planned
//! session, billed with what the signed-in driver's subscriptions give at its start. It sits
//! here, above both, because tariffs price and subscriptions say what a driver's plan gives:
//! neither imports the other's use cases.

use sqlx::PgPool;

use crate::accounts::AuthUser;
use crate::error::Error;
use crate::tariffs::quote::EstimateInput;
use crate::tariffs::service::{self as tariffs, EstimateView};
use crate::tariffs::Extras;

pub async fn estimate(
    pool: &PgPool,
    caller: Option<&AuthUser>,
    input: EstimateInput,
) -> Result<EstimateView, Error> {
    let errors = input.validate();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    // the signed-in driver's own subscriptions at the planned start
    let benefits = match caller {
        Some(c) => {
            let mut conn = pool.acquire().await?;
            crate::subscriptions::extras_at(&mut conn, c.id, input.start_time).await?
        }
        None => Extras::default(),
    };
    tariffs::estimate(pool, caller, input, benefits).await
}

//! Changing product within a group (Premium ↔ Pro): the unused rest of the period is
//! prorated (`period::prorate`) and the net moves at once — charged when the new product
//! costs more, credited back to the wallet when it costs less. The period end stays.
//! Changing to Basic is cancelling at the period end.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::idem::{self, Answer};
use super::pay::{self, Due};
use super::{ended, finish, lock_own, micros, view};
use crate::accounts::AuthUser;
use crate::error::Error;
use crate::subscriptions::model::{ChargeKind, Net, Status, BASIC};
use crate::subscriptions::period::prorate;
use crate::subscriptions::store::{self, spans};
use crate::subscriptions::view::SubscriptionView;

/// `POST /api/subscriptions/{id}/change`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeSubscriptionBody)]
pub struct ChangeInput {
    /// Another product of the same group (`basic` for a driver plan: cancel at period end).
    #[schema(
        pattern = "^(basic|premium|pro|insurance|featured_listing|availability_api|analytics)$",
        example = "pro"
    )]
    pub product: String,
}

pub async fn change(
    pool: &PgPool,
    caller: &AuthUser,
    id: Uuid,
    input: ChangeInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Answer, Error> {
    let key = crate::plumbing::idempotency::checked(key)?;
    let now = micros(now);
    let scope = format!("POST /api/subscriptions/{id}/change");
    let mut tx = pool.begin().await?;
    if let Some(answer) = idem::claim(&mut tx, caller, &scope, key, &input, now).await? {
        tx.rollback().await?;
        return Ok(answer);
    }
    let result = async {
        let view = apply(&mut tx, caller, id, &input.product, now).await?;
        idem::save(&mut tx, caller, &scope, key, 200, &view).await?;
        Ok(Answer::New(Box::new(view)))
    }
    .await;
    finish(tx, result).await
}

async fn apply(
    conn: &mut PgConnection,
    caller: &AuthUser,
    id: Uuid,
    code: &str,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, Error> {
    let mut s = lock_own(conn, caller, id).await?;
    match s.status()? {
        Status::Ended => return Err(ended()),
        Status::PastDue => {
            return Err(Error::Conflict {
                code: "past_due",
                detail: "the last renewal is unpaid: pay it first \
                         (POST /api/subscriptions/{id}/retry)"
                    .into(),
            })
        }
        Status::Active => {}
    }
    let product = store::product(conn, code)
        .await?
        .filter(|p| p.group.as_str() == s.product_group)
        .ok_or_else(|| {
            Error::invalid(
                "product",
                format!("must be a product of the `{}` group", s.product_group),
            )
        })?;
    if product.code == s.product_code {
        return Err(Error::invalid(
            "product",
            "is already this subscription's product",
        ));
    }
    if product.code == BASIC {
        if !s.cancel_at_period_end {
            s.cancel_at_period_end = true;
            s.cancel_requested_at = Some(now);
            store::save(conn, &s, now).await?;
        }
        return view(conn, s).await;
    }
    let currency = s.currency.trim().to_owned();
    let price = store::price(conn, &product.code, &currency)
        .await?
        .ok_or_else(|| {
            Error::invalid(
                "product",
                format!("{} has no price in {currency}", product.code),
            )
        })?;
    let net = prorate(s.price_minor, price, s.period(), now).net();
    s.product_code = product.code;
    s.price_minor = price;
    // choosing a paid product again is not leaving
    s.cancel_at_period_end = false;
    s.cancel_requested_at = None;
    let (kind, amount) = match Net::of(net) {
        Net::Charge(a) => (Some(ChargeKind::Proration), a),
        Net::Credit(a) => (Some(ChargeKind::ProrationCredit), a),
        Net::Nothing => (None, 0),
    };
    if let Some(kind) = kind {
        let due = Due {
            kind,
            period: (now.min(s.current_period_end), s.current_period_end),
            amount,
            attempt: 1,
            actor: Some(caller.id),
        };
        pay::pay(conn, &s, due, now).await?;
    }
    spans::close(conn, s.id, now).await?;
    spans::open(conn, &s, now).await?;
    store::save(conn, &s, now).await?;
    view(conn, s).await
}

//! Subscribing: the first month is paid from the wallet at once (409 `insufficient_funds`
//! and nothing happens when it cannot be).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::idem::{self, Answer};
use super::pay::{self, Due};
use super::{finish, micros, view};
use crate::accounts::{AuthUser, Role};
use crate::error::{Error, FieldError};
use crate::ledger::service::valid_currency;
use crate::subscriptions::model::{Audience, ChargeKind, Group, Product, Status, BASIC};
use crate::subscriptions::period::period;
use crate::subscriptions::store::{self, spans, Subscription};
use crate::subscriptions::view::SubscriptionView;

pub const SCOPE: &str = "POST /api/subscriptions";

/// `POST /api/subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SubscribeBody)]
pub struct SubscribeInput {
    /// A product code of `GET /api/subscriptions/products`, other than `basic` (the free plan
    /// every driver has without subscribing).
    #[schema(
        pattern = "^(premium|pro|insurance|featured_listing|availability_api|analytics)$",
        example = "premium"
    )]
    pub product: String,
    /// ISO 4217, one the product has a price in; default: the featured listing's currency,
    /// else the subscriber's only wallet currency (422 when there are none or several).
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: Option<String>,
    /// `featured_listing` only (and required there): one of the caller's chargers.
    pub listing_id: Option<Uuid>,
}

pub async fn subscribe(
    pool: &PgPool,
    caller: &AuthUser,
    input: SubscribeInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Answer, Error> {
    let key = crate::plumbing::idempotency::checked(key)?;
    if let Some(c) = &input.currency {
        if !valid_currency(c) {
            return Err(Error::invalid(
                "currency",
                "must be an ISO 4217 code in capitals, such as EUR",
            ));
        }
    }
    let now = micros(now);
    let mut tx = pool.begin().await?;
    if let Some(answer) = idem::claim(&mut tx, caller, SCOPE, key, &input, now).await? {
        tx.rollback().await?;
        return Ok(answer);
    }
    let result = async {
        let view = create(&mut tx, caller, &input, now).await?;
        idem::save(&mut tx, caller, SCOPE, key, 201, &view).await?;
        Ok(Answer::New(Box::new(view)))
    }
    .await;
    finish(tx, result).await
}

async fn create(
    conn: &mut PgConnection,
    caller: &AuthUser,
    input: &SubscribeInput,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, Error> {
    let product = store::product(conn, &input.product).await?.ok_or_else(|| {
        Error::invalid(
            "product",
            "is not a product; see GET /api/subscriptions/products",
        )
    })?;
    if product.code == BASIC {
        return Err(Error::invalid(
            "product",
            "basic is the free plan every driver has without subscribing; cancel a paid \
             plan to go back to it",
        ));
    }
    if product.audience == Audience::Host {
        caller.require(&[Role::Host])?;
    }
    let listing_currency = listing(conn, caller, &product, input.listing_id).await?;
    let currency = match (&input.currency, listing_currency) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c,
        (None, None) => only_wallet_currency(conn, caller.id).await?,
    };
    let price = store::price(conn, &product.code, &currency)
        .await?
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            Error::invalid(
                "currency",
                format!("{} has no price in {currency}", product.code),
            )
        })?;
    let (start, end) =
        period(now, 1).ok_or_else(|| Error::Internal("a period past the calendar's end".into()))?;
    let s = Subscription {
        id: Uuid::now_v7(),
        user_id: caller.id,
        product_code: product.code.clone(),
        product_group: product.group.as_str().into(),
        listing_id: input.listing_id,
        currency,
        price_minor: price,
        status: Status::Active.as_str().into(),
        end_reason: None,
        anchor_at: now,
        period_number: 1,
        current_period_start: start,
        current_period_end: end,
        cancel_at_period_end: false,
        cancel_requested_at: None,
        past_due_since: None,
        next_attempt_at: None,
        ended_at: None,
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &s).await?;
    let due = Due {
        kind: ChargeKind::Initial,
        period: (start, end),
        amount: price,
        attempt: 1,
        actor: Some(caller.id),
    };
    pay::pay(conn, &s, due, now).await?;
    spans::open(conn, &s, now).await?;
    view(conn, s).await
}

/// A featured listing names the caller's own charger (its currency is the default); other
/// products name none.
async fn listing(
    conn: &mut PgConnection,
    caller: &AuthUser,
    product: &Product,
    listing_id: Option<Uuid>,
) -> Result<Option<String>, Error> {
    match (product.group, listing_id) {
        (Group::FeaturedListing, None) => Err(Error::invalid(
            "listing_id",
            "is required: the charger to feature",
        )),
        (Group::FeaturedListing, Some(id)) => match store::listing_owner(conn, id).await? {
            Some((host, currency)) if host == caller.id => Ok(Some(currency)),
            _ => Err(Error::invalid("listing_id", "is not one of your chargers")),
        },
        (_, Some(_)) => Err(Error::invalid(
            "listing_id",
            "only a featured listing names a charger",
        )),
        (_, None) => Ok(None),
    }
}

async fn only_wallet_currency(conn: &mut PgConnection, user: Uuid) -> Result<String, Error> {
    let mut currencies = store::wallet_currencies(conn, user).await?;
    if currencies.len() == 1 {
        return Ok(currencies.remove(0));
    }
    Err(Error::Validation(vec![FieldError::new(
        "currency",
        if currencies.is_empty() {
            "is required: you have no wallet yet (top one up first)".to_owned()
        } else {
            format!("is required: you have wallets in {}", currencies.join(", "))
        },
    )]))
}

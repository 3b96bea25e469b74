//! Subscriptions: drivers' plans and insurance coverage, hosts' products, paid monthly from
//! the wallet; the caller's entitlements. Mirrors `marketplace::subscriptions::http`
//! (answers: `subscriptions::view`, `subscriptions::Benefits`); snake_case, money in integer
//! minor units (`*_cents`).

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::route::{uuid, Access, Route};

const TAG: &str = "subscriptions";

const KEY: &str = " Send an `Idempotency-Key` header (1 to 255 visible ASCII characters) to retry \
    safely: a retry with the same key and body answers the first result again (with \
    `Idempotent-Replayed: true`) and moves no money; the same key with another body is a 422.";

#[derive(ToSchema)]
pub struct SubscriptionPrice {
    #[schema(example = "EUR")]
    pub currency: String,
    /// A month, in minor units.
    #[schema(example = 999)]
    pub amount_cents: i64,
}

/// A product of the catalogue.
#[derive(ToSchema)]
pub struct SubscriptionProduct {
    /// `basic` (free, what a driver without a plan has), `premium`, `pro`, `insurance`,
    /// `featured_listing`, `availability_api`, `analytics`.
    #[schema(example = "premium")]
    pub code: String,
    #[schema(example = "Premium")]
    pub name: String,
    /// `driver` (anyone) or `host` (hosts only).
    #[schema(example = "driver")]
    pub audience: String,
    /// One live subscription per group (per charger for `featured_listing`): `driver_plan`,
    /// `insurance`, `featured_listing`, `availability_api`, `analytics`.
    #[schema(example = "driver_plan")]
    pub group: String,
    /// Off the charging lines of session bills.
    #[schema(example = 10)]
    pub discount_percent: i32,
    /// Pro: may book 7 days beyond a charger's advance window; pending bookings hold their
    /// slot 30 minutes instead of 10.
    pub priority_booking: bool,
    pub prices: Vec<SubscriptionPrice>,
}

/// `POST /api/subscriptions`.
#[derive(ToSchema)]
pub struct SubscribeBody {
    #[schema(example = "premium")]
    pub product: String,
    /// ISO 4217. Default: a featured listing's currency, else the caller's only wallet
    /// currency (422 when there are none or several).
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: Option<String>,
    /// `featured_listing` only (and required there): one of the caller's chargers.
    pub listing_id: Option<Uuid>,
}

/// `POST /api/subscriptions/{id}/change`.
#[derive(ToSchema)]
pub struct ChangeSubscriptionBody {
    /// Another product of the same group; `basic` cancels a driver plan at its period end.
    #[schema(example = "pro")]
    pub product: String,
}

/// A charge of a subscription (or a credit back to the wallet).
#[derive(ToSchema)]
pub struct SubscriptionCharge {
    pub id: Uuid,
    /// `initial`, `renewal`, `proration` (a change that costs more), `proration_credit`
    /// (a change that costs less: credited back to the wallet).
    #[schema(example = "initial")]
    pub kind: String,
    /// `paid`, or `failed` (a renewal the wallet could not cover; nothing moved).
    #[schema(example = "paid")]
    pub status: String,
    /// The product paid for.
    #[schema(example = "premium")]
    pub product: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    #[schema(example = 999)]
    pub amount_cents: i64,
    /// The VAT `amount_cents` includes (0 untaxed: insurance coverage, a currency the
    /// platform charges no VAT in).
    #[schema(example = 173)]
    pub tax_cents: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    /// 1 for a first try; a past-due renewal's retries count up.
    pub attempt: i32,
    /// The wallet transaction; `null` for a failed attempt.
    #[schema(required)]
    pub transaction_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct Subscription {
    pub id: Uuid,
    pub user_id: Uuid,
    #[schema(example = "premium")]
    pub product: String,
    #[schema(example = "Premium")]
    pub product_name: String,
    #[schema(example = "driver_plan")]
    pub group: String,
    #[schema(required)]
    pub listing_id: Option<Uuid>,
    /// `active`, `past_due` (a renewal is unpaid: retried after 1, 3 and 7 days, benefits
    /// continue) or `ended`.
    #[schema(example = "active")]
    pub status: String,
    /// `cancelled`, `unpaid` or `replaced` (its charger was deleted).
    #[schema(required)]
    pub end_reason: Option<String>,
    #[schema(example = "EUR")]
    pub currency: String,
    /// The current product's monthly price.
    #[schema(example = 999)]
    pub price_cents: i64,
    pub current_period_start: DateTime<Utc>,
    /// The next renewal (or the end, when cancelled).
    pub current_period_end: DateTime<Utc>,
    pub cancel_at_period_end: bool,
    #[schema(required)]
    pub past_due_since: Option<DateTime<Utc>>,
    #[schema(required)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[schema(required)]
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Oldest first.
    pub charges: Vec<SubscriptionCharge>,
}

#[derive(ToSchema)]
pub struct SubscriptionList {
    /// Live ones first, newest first.
    pub items: Vec<Subscription>,
}

/// What the caller's subscriptions give now.
#[derive(ToSchema)]
pub struct Entitlements {
    pub as_of: DateTime<Utc>,
    /// `basic`, `premium` or `pro`.
    #[schema(example = "premium")]
    pub plan: String,
    #[schema(example = 10)]
    pub discount_percent: i32,
    pub priority_booking: bool,
    /// Premium insurance coverage: session bills carry no per-transaction insurance fee.
    pub insurance_coverage: bool,
    /// `GET /api/host/analytics` is open to the caller.
    pub analytics: bool,
    /// The real-time availability API for the caller's chargers.
    pub availability_api: bool,
    /// The caller's chargers shown as featured in search.
    pub featured_listings: Vec<Uuid>,
}

fn one(route: Route) -> Route {
    route
        .access(Access::AnyUser)
        .uuid_param("id", "Subscription id")
        .not_found("subscription (or not the caller's)")
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/subscriptions/products", TAG, "The catalogue")
            .describe("Every product with its monthly prices per currency.")
            .ok_array::<SubscriptionProduct>(200, "Driver plans first, then host products"),
        Route::get("/api/subscriptions", TAG, "My subscriptions")
            .access(Access::AnyUser)
            .query(
                "user_id",
                "Admins: this user's subscriptions instead of their own",
                uuid(),
            )
            .problem(422, "A query parameter is unknown or malformed")
            .ok::<SubscriptionList>(200, "With their charges"),
        Route::post("/api/subscriptions", TAG, "Subscribe")
            .access(Access::AnyUser)
            .describe(&format!(
                "Pays the first month from the caller's wallet at once (a `subscription` \
                 wallet transaction) and renews monthly on the same day of the month \
                 (clamped at month ends). Host products need the host role; \
                 `featured_listing` names one of the caller's chargers.{KEY}"
            ))
            .body::<SubscribeBody>()
            .ok::<Subscription>(201, "Subscribed (or the replayed first answer)")
            .conflict(
                "`insufficient_funds`: the wallet does not cover the first month (nothing \
                 happened); `already_subscribed`: a live subscription of the group (and \
                 charger) exists — change or cancel it",
            ),
        one(Route::post(
            "/api/subscriptions/{id}/change",
            TAG,
            "Change product",
        ))
        .describe(&format!(
            "Within the group (Premium ↔ Pro). The rest of the period is prorated: credit at \
             the old price (rounded down), charge at the new one (rounded up); the net is \
             taken from or given back to the wallet at once; the period end stays. `basic` \
             cancels the plan at its period end.{KEY}"
        ))
        .body::<ChangeSubscriptionBody>()
        .ok::<Subscription>(200, "Changed")
        .conflict("`insufficient_funds`; `past_due` (pay the renewal first); `subscription_ended`"),
        one(Route::post(
            "/api/subscriptions/{id}/cancel",
            TAG,
            "Cancel at period end",
        ))
        .describe(
            "Benefits last until the period end; nothing more is charged. A past-due \
             subscription ends at once.",
        )
        .ok::<Subscription>(200, "Cancelled (at period end)")
        .conflict("`subscription_ended`"),
        one(Route::post(
            "/api/subscriptions/{id}/resume",
            TAG,
            "Undo a pending cancel",
        ))
        .ok::<Subscription>(200, "Renews again")
        .conflict("`subscription_ended`"),
        one(Route::post(
            "/api/subscriptions/{id}/retry",
            TAG,
            "Pay a past-due renewal now",
        ))
        .describe(&format!(
            "Instead of waiting for the next retry (after a top-up, say).{KEY}"
        ))
        .ok::<Subscription>(200, "Paid: active again")
        .conflict("`insufficient_funds` (nothing recorded); `not_past_due`"),
        Route::get("/api/me/entitlements", TAG, "My entitlements")
            .access(Access::AnyUser)
            .ok::<Entitlements>(200, "What the caller's subscriptions give now"),
    ]
}

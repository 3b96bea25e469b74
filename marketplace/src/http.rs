//! Shared HTTP plumbing: the state every handler reads, the JSON body extractor, and the one
//! place where every module's routes are merged.

pub mod doc;
mod json;
pub mod paging;
pub mod storable;

use std::sync::Arc;

use axum::extract::FromRef;
use utoipa_axum::router::OpenApiRouter;

use crate::accounts;
use crate::payments;
use crate::plumbing::{Clock, SystemClock};
use crate::search;
use crate::sessions;

pub use json::{ApiJson, RawBody};

/// What marketplace handlers need. Cheap to clone: the pool and the keys are shared pointers.
///
/// A composition root with a bigger state implements `FromRef<ItsState> for ApiContext`; every
/// extractor here is generic over such states.
#[derive(Clone)]
pub struct ApiContext {
    pub pool: sqlx::PgPool,
    pub auth: Arc<accounts::AuthKeys>,
    /// Plans drives to chargers: the great-circle estimate unless a deployment configures a
    /// road router (OSRM) through [`ApiContext::with_route_planner`].
    pub route_planner: Arc<dyn search::RoutePlanner>,
    /// Where booking rules read "now": the system clock unless a test sets another through
    /// [`ApiContext::with_clock`].
    pub clock: Arc<dyn Clock>,
    /// Calls to charging stations (start, stop, pause): none unless the CSMS plugs its
    /// gateway in through [`ApiContext::with_station_control`].
    pub station_control: Arc<dyn sessions::StationControl>,
    /// The card processor: none ([`payments::Unconfigured`]) unless the CSMS plugs Stripe in
    /// through [`ApiContext::with_payment_provider`], or development mode the local test-mode
    /// provider ([`ApiContext::development`]).
    pub payments: Arc<dyn payments::PaymentProvider>,
    /// Development mode: `local_test` top-ups (money from nowhere) are allowed. Never in
    /// production.
    pub dev: bool,
    /// The Stripe webhook endpoint's signing secret; without one the endpoint answers 404.
    pub stripe_webhook_secret: Option<Arc<str>>,
    /// Seals TOTP secrets at rest; set through [`ApiContext::with_totp_key`]. Without it,
    /// setting up a second factor answers 503 and only secrets stored before sealing existed
    /// can be checked.
    pub totp_secrets: Option<Arc<accounts::SecretBox>>,
    /// What a session without a booking holds on the wallet ([`sessions::funds`]).
    pub session_funds: sessions::SessionFunds,
}

impl ApiContext {
    pub fn new(pool: sqlx::PgPool, auth: accounts::AuthKeys) -> Self {
        Self {
            pool,
            auth: Arc::new(auth),
            route_planner: Arc::new(search::GreatCircleEstimate),
            clock: Arc::new(SystemClock),
            station_control: Arc::new(sessions::NoStationControl),
            payments: Arc::new(payments::Unconfigured),
            stripe_webhook_secret: None,
            dev: false,
            totp_secrets: None,
            session_funds: sessions::SessionFunds::default(),
        }
    }

    /// Development mode: the local test-mode payment provider (unless one is plugged in
    /// later) and `local_test` top-ups. The demo and tests use it; production never does.
    pub fn development(mut self) -> Self {
        self.dev = true;
        self.payments = Arc::new(payments::LocalProvider::new());
        self
    }

    /// The 32-byte key that seals TOTP secrets in the database (from configuration, never
    /// stored there). Changing it makes every enabled second factor unusable.
    pub fn with_totp_key(mut self, key: [u8; accounts::secret_box::KEY_BYTES]) -> Self {
        self.totp_secrets = Some(Arc::new(accounts::SecretBox::new(key)));
        self
    }

    /// Replaces the clock, e.g. with a [`crate::plumbing::FixedClock`] in tests.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets what sessions without a booking hold.
    pub fn with_session_funds(mut self, funds: sessions::SessionFunds) -> Self {
        self.session_funds = funds;
        self
    }

    /// Plugs in the stations (the CSMS's gateway, or a fake in tests).
    pub fn with_station_control(mut self, control: Arc<dyn sessions::StationControl>) -> Self {
        self.station_control = control;
        self
    }

    /// Replaces the payment provider (the Stripe adapter, or a double in tests).
    pub fn with_payment_provider(mut self, provider: Arc<dyn payments::PaymentProvider>) -> Self {
        self.payments = provider;
        self
    }

    /// Turns the Stripe webhook endpoint on with its signing secret (`whsec_...`).
    pub fn with_stripe_webhook_secret(mut self, secret: impl Into<Arc<str>>) -> Self {
        self.stripe_webhook_secret = Some(secret.into());
        self
    }

    /// Replaces the route planner, e.g. with `search::OsrmPlanner::new(url)?`.
    pub fn with_route_planner(mut self, planner: Arc<dyn search::RoutePlanner>) -> Self {
        self.route_planner = planner;
        self
    }
}

/// Every marketplace route (all absolute, under `/api/`) with its OpenAPI description:
/// `router().split_for_parts()` gives the axum router and the paths and schemas to serve.
///
/// Generic over the state so that it merges straight into a router whose state converts into
/// [`ApiContext`]; `Router::from(router()).with_state(ctx)` infers `S = ApiContext`.
pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .merge(accounts::http::router())
        .merge(search::http::router())
        .merge(crate::listings::http::router())
        .merge(crate::bookings::http::router())
        .merge(crate::tariffs::http::router())
        .merge(sessions::http::router())
        .merge(sessions::http::estimate::router())
        .merge(crate::ledger::http::router())
        .merge(payments::http::router())
        .merge(crate::subscriptions::http::router())
        .merge(crate::invoices::http::router())
}

/// The marketplace alone, served with its context (tests, or a server without the CSMS).
pub fn app(ctx: ApiContext) -> axum::Router {
    axum::Router::from(router()).with_state(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{AuthKeys, DEFAULT_ACCESS_TTL};
    use axum::Router;

    #[tokio::test]
    async fn router_takes_a_plain_context_too() {
        // `connect_lazy` opens nothing; this only proves the state type is inferred.
        let pool = sqlx::PgPool::connect_lazy("postgres://localhost/unused").unwrap();
        let ctx = ApiContext::new(pool, AuthKeys::new(&[1; 32], DEFAULT_ACCESS_TTL));
        let _app: Router = Router::from(router()).with_state(ctx);
    }
}

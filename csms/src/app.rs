//! Composition root: builds the state every route shares and runs the listeners until a
//! shutdown signal, then closes station sockets properly and flushes pending writes.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use marketplace::accounts::{AuthKeys, SECRET_BYTES};
use marketplace::http::ApiContext;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::ServeArgs;
use crate::db::Database;
use crate::jobs::{self, JobConfig, ReservationConfig};
use crate::ocpp::auth::PasswordCache;
use crate::ocpp::gateway::StationGateway;
use crate::ocpp::registry::Registry;
use crate::ocpp::{upgrade, OcppConfig, OcppContext};
use crate::sessions_port::GatewayStationControl;
use crate::store::writer;
use crate::{openapi, secrets, server};

#[derive(Clone)]
pub struct AppState {
    pub api: ApiContext,
    pub ocpp: Arc<OcppContext>,
    pub gateway: StationGateway,
    pub metrics: PrometheusHandle,
}

/// Production unless `--dev`: what a server allows depends on it (see [`crate::config::ServeArgs::dev`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ServerMode, description = "`production` unless the server was started with `--dev`")]
pub enum Mode {
    Production,
    Development,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Development => "development",
        }
    }
}

impl FromRef<AppState> for ApiContext {
    fn from_ref(s: &AppState) -> Self {
        s.api.clone()
    }
}

impl FromRef<AppState> for Arc<OcppContext> {
    fn from_ref(s: &AppState) -> Self {
        s.ocpp.clone()
    }
}

pub fn router(state: AppState) -> Router {
    let (api, document) = openapi::api().split_for_parts();
    Router::new()
        .route("/ocpp/{station_id}", get(upgrade::ocpp_socket))
        .merge(api)
        .merge(openapi::router(openapi::finish(document)))
        .with_state(state)
        .layer(axum::middleware::from_fn(
            marketplace::http::storable::refuse_nul_in_uri,
        ))
        .layer(DefaultBodyLimit::max(server::BODY_LIMIT))
        .layer(CatchPanicLayer::custom(server::panic_answer))
}

impl AppState {
    pub fn mode(&self) -> Mode {
        if self.api.dev {
            Mode::Development
        } else {
            Mode::Production
        }
    }
}

/// The metrics in Prometheus' text format. On the public listener they are for operators
/// only (`GET /metrics`, in `crate::api`); the `--metrics-listen` address serves them to
/// Prometheus without a token.
pub(crate) fn render_metrics(handle: &PrometheusHandle) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle.render(),
    )
}

fn metrics_router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move { render_metrics(&handle) }
        }),
    )
}

/// The key sealing TOTP secrets: from configuration, else the 0600 file under the data folder.
fn totp_key(args: &ServeArgs) -> anyhow::Result<[u8; 32]> {
    let bytes = match &args.totp_key {
        Some(hex) => secrets::unhex(hex.trim())
            .map_err(|e| anyhow::anyhow!("--totp-key (CSMS_TOTP_KEY) must be hexadecimal: {e}"))?,
        None => secrets::load_or_create(&args.db.data_dir, "totp.key")?,
    };
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| anyhow::anyhow!("the TOTP key must be 32 bytes (64 hexadecimal digits)"))
}

/// The access-token key: from configuration, else the 0600 file under the data folder.
fn jwt_secret(args: &ServeArgs) -> anyhow::Result<Vec<u8>> {
    match &args.jwt_secret {
        Some(s) if s.len() < SECRET_BYTES => anyhow::bail!(
            "--jwt-secret (CSMS_JWT_SECRET) must be at least {SECRET_BYTES} bytes; \
             leave it unset to use a generated one in {}/secrets/jwt.key",
            args.db.data_dir.display()
        ),
        Some(s) => Ok(s.as_bytes().to_vec()),
        None => secrets::load_or_create(&args.db.data_dir, "jwt.key"),
    }
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if let Ok(limit) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::info!(limit, "open files limit");
    }
    let mode = if args.dev {
        Mode::Development
    } else {
        Mode::Production
    };
    tracing::info!(mode = mode.as_str(), "starting");
    ocpp_schemas::warm_up();
    let secret = jwt_secret(&args)?;
    let totp_key = totp_key(&args)?;
    let metrics = PrometheusBuilder::new().install_recorder()?;
    let db = Database::open(&args.db).await?;
    let pool = db.pool.clone();

    let auth = AuthKeys::new(&secret, Duration::from_secs(args.access_token_ttl));
    let shutdown = CancellationToken::new();
    let (writers, writer_tasks) = writer::start(&pool);
    let (group_commit, _group_commit_tasks) = crate::store::group_commit::GroupCommit::start(
        &pool,
        usize::from(args.group_commit_workers),
    );
    let registry = Arc::new(Registry::default());
    let call_timeout = Duration::from_secs(args.call_timeout);
    let session_funds = marketplace::sessions::SessionFunds {
        battery_kwh: args.session_battery_kwh.into(),
        max_hold_minor: args.session_hold_max_minor,
        min_hold_minor: args.session_hold_min_minor.min(args.session_hold_max_minor),
    };
    let ocpp = Arc::new(OcppContext {
        pool: pool.clone(),
        registry: registry.clone(),
        writers,
        group_commit,
        config: OcppConfig {
            unknown_stations: args.unknown_stations,
            heartbeat_interval: args.heartbeat_interval,
            call_timeout,
            ping_interval: Duration::from_secs(args.ws_ping_interval.max(1)),
            allow_plain_basic: args.allow_plain_basic,
            dev: args.dev,
            session_funds,
        },
        shutdown: shutdown.clone(),
        passwords: PasswordCache::default(),
        auth_failures: Default::default(),
        tasks: TaskTracker::new(),
    });
    let mut api = ApiContext::new(pool.clone(), auth)
        .with_totp_key(totp_key)
        .with_session_funds(session_funds);
    if args.dev {
        api = api.development();
    }
    if let Some(url) = &args.osrm_url {
        let planner = marketplace::search::OsrmPlanner::new(url)
            .map_err(|e| anyhow::anyhow!("--osrm-url {url}: {e}"))?;
        api = api.with_route_planner(Arc::new(planner));
    }
    api = with_payments(api, &args)?;
    let gateway = StationGateway::new(registry, call_timeout);
    let api = api.with_station_control(Arc::new(GatewayStationControl::new(
        gateway.clone(),
        pool.clone(),
    )));
    let jobs = jobs::start(
        &pool,
        &gateway,
        api.payments.clone(),
        JobConfig {
            tick: Duration::from_millis(args.job_tick_ms.max(10)),
            reservations: ReservationConfig {
                lead: chrono::Duration::minutes(i64::from(args.reservation_lead_minutes)),
                batch: 200,
                concurrency: 32,
            },
            session_funds: (
                session_funds,
                Duration::from_millis(args.session_funds_check_ms),
            ),
            session_costs: (args.session_cost_updates_secs > 0)
                .then(|| Duration::from_secs(args.session_cost_updates_secs)),
            host_transfers: (args.host_transfers_secs > 0).then(|| jobs::HostTransfers {
                every: Duration::from_secs(args.host_transfers_secs),
                minimum: args.host_transfer_min_cents,
            }),
        },
        &shutdown,
    );
    let state = AppState {
        api,
        ocpp: ocpp.clone(),
        gateway,
        metrics: metrics.clone(),
    };
    let app = router(state);

    let http_tasks = TaskTracker::new();
    let listener = server::bind(args.listen)?;
    let http_addr = listener.local_addr()?;
    let mut listeners = vec![tokio::spawn(server::serve(
        listener,
        app.clone(),
        None,
        shutdown.clone(),
        http_tasks.clone(),
    ))];
    let metrics_listener = server::bind(args.metrics_listen)
        .map_err(|e| anyhow::anyhow!("--metrics-listen {}: {e}", args.metrics_listen))?;
    let metrics_addr = metrics_listener.local_addr()?;
    listeners.push(tokio::spawn(server::serve(
        metrics_listener,
        metrics_router(metrics),
        None,
        shutdown.clone(),
        http_tasks.clone(),
    )));
    let mut tls_addr = None;
    if let (Some(addr), Some(cert), Some(key)) = (args.tls_listen, &args.tls_cert, &args.tls_key) {
        let config = server::server_config(cert, key, args.tls_client_ca.as_deref())?;
        let listener = server::bind(addr)?;
        tls_addr = Some(listener.local_addr()?);
        listeners.push(tokio::spawn(server::serve(
            listener,
            app,
            Some(config),
            shutdown.clone(),
            http_tasks.clone(),
        )));
    }
    // One machine-readable line for scripts and tests that start the server on port 0.
    println!(
        "csms ready mode={} http=http://{http_addr} ocpp=ws://{http_addr}/ocpp/{{stationId}} \
         metrics=http://{metrics_addr}/metrics{}",
        mode.as_str(),
        tls_addr
            .map(|a| format!(" https=https://{a} wss=wss://{a}/ocpp/{{stationId}}"))
            .unwrap_or_default()
    );
    tracing::info!(mode = mode.as_str(), %http_addr, %metrics_addr, ?tls_addr, "listening");

    wait_for_signal().await;
    tracing::info!("shutting down: closing station connections");
    shutdown.cancel();
    for l in listeners.into_iter().chain(jobs) {
        let _ = l.await;
    }
    ocpp.tasks.close();
    if tokio::time::timeout(Duration::from_secs(10), ocpp.tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("some station connections did not close in time");
    }
    http_tasks.close();
    let _ = tokio::time::timeout(Duration::from_secs(5), http_tasks.wait()).await;
    writer_tasks.flush_and_stop().await;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Stripe when a secret key is configured, else the local test-mode provider in development
/// mode and none in production; the webhook endpoint when its signing secret is.
fn with_payments(api: ApiContext, args: &ServeArgs) -> anyhow::Result<ApiContext> {
    let mut api = match &args.stripe_secret_key {
        Some(key) => {
            let stripe = stripe_adapter::StripeProvider::new(key, args.stripe_api_base.as_deref())
                .map_err(|e| anyhow::anyhow!("--stripe-secret-key: {e}"))?;
            let mode = if stripe.test_mode() { "test" } else { "live" };
            tracing::info!(mode, api_base = ?args.stripe_api_base, "payments: Stripe");
            api.with_payment_provider(Arc::new(stripe))
        }
        None if api.dev => {
            tracing::info!("payments: local test-mode provider (development mode, no Stripe key)");
            api
        }
        None => {
            tracing::warn!(
                "payments: none configured (no Stripe key): card payments and top-ups answer \
                 503 payments_not_configured"
            );
            api
        }
    };
    if let Some(secret) = &args.stripe_webhook_secret {
        api = api.with_stripe_webhook_secret(secret.as_str());
    }
    Ok(api)
}

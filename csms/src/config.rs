//! The command line: one typed struct per command, every option also settable by env.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ocpp::UnknownStations;

#[derive(Parser, Debug)]
#[command(
    name = "csms",
    version,
    about = "OCPP 2.0.1 central system and charger marketplace"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
// parsed once at start: the size of `serve`'s options costs nothing worth a Box
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Serve OCPP, the REST API, /healthz and /metrics.
    Serve(ServeArgs),
    /// Run the database migrations and exit.
    Migrate(DbArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Provision stations.
    #[command(subcommand)]
    Station(StationCommand),
    /// Development certificates.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Seed demo data (users, stations, id tokens, an Amsterdam marketplace); safe to run again.
    Demo(DemoArgs),
    /// The private PostgreSQL cluster used when DATABASE_URL is unset.
    #[command(subcommand)]
    Pg(PgCommand),
    /// OCPI 2.2.1 tariffs: price a CDR (no database needed).
    #[command(subcommand)]
    Tariff(TariffCommand),
    /// The money ledger: reconciliation, and posting what is due.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Subscriptions: renewals, dunning and period-end cancellations.
    #[command(subcommand)]
    Subscriptions(SubscriptionsCommand),
}

#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// PostgreSQL URL. Unset: a private cluster is started under <data-dir>/pg.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where local state lives (the private cluster, certificates).
    #[arg(long, env = "CSMS_DATA_DIR", default_value = "var")]
    pub data_dir: PathBuf,
    #[arg(long, env = "CSMS_DB_MAX_CONNECTIONS", default_value_t = 24)]
    pub db_max_connections: u32,
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Instead of the demo city: N listed synthetic listings (1-4 ports each) spread over
    /// European and North American cities and countryside, for benchmarks. Skipped when N
    /// synthetic listings already exist; tops up when fewer do.
    #[arg(long, value_name = "N")]
    pub synthetic: Option<u32>,
    /// Seed of the synthetic data's random numbers (same seed, same places).
    #[arg(long, default_value_t = 42, requires = "synthetic")]
    pub seed: u64,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Group-commit workers: commits of answered OCPP writes in flight at once, each on a
    /// database connection of its own. Fewer make larger batches (less CPU per write), more
    /// overlap the commits' WAL flushes; 2 stored the most on a 2-core box (BENCHMARKS.md).
    #[arg(long, env = "CSMS_GROUP_COMMIT_WORKERS", default_value_t = crate::store::group_commit::WORKERS,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub group_commit_workers: u16,
    /// Development mode: the local test payment provider and `local_test` top-ups, stations
    /// without authentication (security profile 0), unknown stations admitted at profile 0.
    /// Without it the server runs in production mode, which allows none of these.
    #[arg(long, env = "CSMS_DEV")]
    pub dev: bool,
    /// Plain HTTP and ws:// address. Port 0 picks a free port (printed at start).
    #[arg(long, env = "CSMS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// HTTPS and wss:// address; needs --tls-cert and --tls-key.
    #[arg(long, env = "CSMS_TLS_LISTEN", requires_all = ["tls_cert", "tls_key"])]
    pub tls_listen: Option<SocketAddr>,
    #[arg(long, env = "CSMS_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, env = "CSMS_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// CA that station client certificates must chain to (security profile 3).
    #[arg(long, env = "CSMS_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,
    /// What a BootNotification from a station the registry does not know gets.
    #[arg(
        long,
        env = "CSMS_UNKNOWN_STATIONS",
        value_enum,
        default_value = "pending"
    )]
    pub unknown_stations: UnknownStations,
    /// Heartbeat interval given to accepted stations, in seconds.
    #[arg(long, env = "CSMS_HEARTBEAT_INTERVAL", default_value_t = 300)]
    pub heartbeat_interval: u32,
    /// How long a station has to answer a call, in seconds.
    #[arg(long, env = "CSMS_CALL_TIMEOUT", default_value_t = 30)]
    pub call_timeout: u64,
    /// WebSocket ping interval, in seconds; a silent station is dropped after three.
    #[arg(long, env = "CSMS_WS_PING_INTERVAL", default_value_t = 60)]
    pub ws_ping_interval: u64,
    /// Allow security profile 1 (Basic auth) over plain ws://. Off by default: passwords
    /// would cross the network in clear.
    #[arg(long, env = "CSMS_ALLOW_PLAIN_BASIC")]
    pub allow_plain_basic: bool,
    /// Secret for access tokens (at least 32 bytes). Unset: read from
    /// `<data-dir>/secrets/jwt.key`, which is created (random, mode 0600) on first start and
    /// refused when others may read it. Every node of a deployment needs the same secret.
    #[arg(long, env = "CSMS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Key that seals TOTP secrets in the database: 64 hexadecimal digits (32 bytes). Unset:
    /// read from `<data-dir>/secrets/totp.key`, created (random, mode 0600) on first start.
    /// Changing it makes every enabled second factor unusable.
    #[arg(long, env = "CSMS_TOTP_KEY", hide_env_values = true)]
    pub totp_key: Option<String>,
    /// Where `/metrics` is served without authentication (Prometheus scrapes it). On the
    /// main listener `/metrics` needs an operator's bearer token. Port 0 picks a free port.
    #[arg(long, env = "CSMS_METRICS_LISTEN", default_value = "127.0.0.1:9464")]
    pub metrics_listen: SocketAddr,
    /// OSRM server for `POST /api/search/route` (e.g. http://127.0.0.1:5000). Unset: the
    /// great-circle estimate (distance × 1.3 at 40 km/h).
    #[arg(long, env = "CSMS_OSRM_URL")]
    pub osrm_url: Option<String>,
    /// Access token lifetime in seconds.
    #[arg(long, env = "CSMS_ACCESS_TOKEN_TTL", default_value_t = 900)]
    pub access_token_ttl: u64,
    /// How often background jobs (booking expiry and no-shows, station reservations) look
    /// for due work, in milliseconds.
    #[arg(long, env = "CSMS_JOB_TICK_MS", default_value_t = 1000)]
    pub job_tick_ms: u64,
    /// How many minutes before a booking starts its EVSE is reserved on the station
    /// (ReserveNow).
    #[arg(long, env = "CSMS_RESERVATION_LEAD_MINUTES", default_value_t = 15)]
    pub reservation_lead_minutes: u32,
    /// How often the running cost of charging sessions is pushed to their stations
    /// (OCPP CostUpdated, only when it changed), in seconds; 0 turns it off.
    #[arg(long, env = "CSMS_SESSION_COST_UPDATES_SECS", default_value_t = 60)]
    pub session_cost_updates_secs: u64,
    /// The most a charging session that no booking pays for (a walk-up start, a driver's own
    /// card at the station) holds on the driver's wallet, in minor units of the charger's
    /// currency. The hold is the estimate of a full battery at the tariff, capped at this;
    /// it is topped up from the wallet while the session charges past it.
    #[arg(long, env = "CSMS_SESSION_HOLD_MAX_MINOR", default_value_t = 5_000,
          value_parser = clap::value_parser!(i64).range(1..=100_000_000))]
    pub session_hold_max_minor: i64,
    /// The least such a session holds: a wallet with less starts nothing (409
    /// `payment_required`; `NoCredit` to the station).
    #[arg(long, env = "CSMS_SESSION_HOLD_MIN_MINOR", default_value_t = 500,
          value_parser = clap::value_parser!(i64).range(1..=100_000_000))]
    pub session_hold_min_minor: i64,
    /// The battery (kWh) a session's hold is estimated for.
    #[arg(long, env = "CSMS_SESSION_BATTERY_KWH", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub session_battery_kwh: u32,
    /// How often charging sessions' costs are checked against the money securing them
    /// (holds topped up from the wallet, or the session stopped), in milliseconds.
    #[arg(long, env = "CSMS_SESSION_FUNDS_CHECK_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub session_funds_check_ms: u64,
    /// How often hosts with a payout account are paid what wallets paid for their sessions
    /// (a transfer to their connected account), in seconds; 0 turns it off.
    #[arg(long, env = "CSMS_HOST_TRANSFERS_SECS", default_value_t = 3600)]
    pub host_transfers_secs: u64,
    /// The least a host is transferred at once, in minor units (cents); less waits.
    #[arg(long, env = "CSMS_HOST_TRANSFER_MIN_CENTS", default_value_t = 100)]
    pub host_transfer_min_cents: i64,
    /// Stripe secret key (`sk_test_...` or `sk_live_...`): payments go through Stripe. Unset:
    /// the local test-mode provider (Stripe's test card numbers, no network).
    #[arg(long, env = "CSMS_STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    /// Signing secret of the Stripe webhook endpoint (`whsec_...`) for
    /// `POST /api/webhooks/stripe`. Unset: the endpoint answers 404.
    #[arg(long, env = "CSMS_STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,
    /// Stripe API base URL instead of https://api.stripe.com/ (a test double, stripe-mock).
    #[arg(long, env = "CSMS_STRIPE_API_BASE", requires = "stripe_secret_key")]
    pub stripe_api_base: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user with any role.
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "driver")]
        role: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum StationCommand {
    /// Create or update a station's security profile and password.
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        id: String,
        /// 0 none (development mode only), 1 Basic auth, 2 TLS + Basic auth, 3 TLS client
        /// certificate.
        #[arg(long, default_value_t = 2)]
        profile: i16,
        /// Basic auth password (16 to 40 characters) for profiles 1 and 2.
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value = "Accepted")]
        status: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum CertsCommand {
    /// Write a development CA, a server certificate and station client certificates.
    Dev {
        #[arg(long, default_value = "var/certs")]
        out: PathBuf,
        /// Extra DNS names for the server certificate (localhost and loopback are always in).
        #[arg(long = "server-name")]
        server_names: Vec<String>,
        /// Station ids to issue client certificates for.
        #[arg(long = "station")]
        stations: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum PgCommand {
    /// Start (or reuse) the private cluster and print DATABASE_URL=... for scripts.
    Up {
        #[arg(long, default_value = "var/pg")]
        dir: PathBuf,
        #[arg(long, default_value = "csms")]
        database: String,
        /// `synchronous_commit = off`: commits may be lost in a crash. For the test suite's
        /// cluster only; never for data anyone needs.
        #[arg(long)]
        throwaway: bool,
    },
    /// Stop the private cluster.
    Down {
        #[arg(long, default_value = "var/pg")]
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum TariffCommand {
    /// Price an OCPI CDR's charging periods with an OCPI tariff; prints the OCPI totals as JSON.
    Price {
        /// OCPI 2.2.1 Tariff object (JSON file).
        #[arg(long)]
        tariff: PathBuf,
        /// OCPI 2.2.1 CDR object (JSON file).
        #[arg(long)]
        cdr: PathBuf,
        /// IANA zone the tariff's local times are read in. Default: the zone of the CDR
        /// location's country, when it has only one (NLD -> Europe/Amsterdam).
        #[arg(long)]
        timezone: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SubscriptionsCommand {
    /// Do what is due once (what the server's job does every tick): renew periods that
    /// ended, end cancelled subscriptions at their period end, retry past-due renewals.
    /// Prints the report as JSON.
    RenewDue {
        #[command(flatten)]
        db: DbArgs,
        /// Act as if it were this instant (RFC 3339) instead of now: catch-up runs, tests.
        #[arg(long, value_name = "RFC3339")]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Prove the ledger whole: every posting sums to zero, all accounts of each currency sum
    /// to zero, every cached wallet balance equals its entries, holds add up, every top-up
    /// names its provider payment. Prints the discrepancies; exits non-zero when any.
    Reconcile {
        #[command(flatten)]
        db: DbArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Post what is due now: refund decisions and session bills not posted yet, holds of
    /// no-shows and of completed bookings nobody charged on.
    PostDue {
        #[command(flatten)]
        db: DbArgs,
    },
}

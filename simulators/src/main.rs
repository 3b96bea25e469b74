//! `evsim`: the OCPP 2.0.1 station simulator's command line. See the README for examples.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use simulators::connect::{self, ConnectOptions};
use simulators::duration::parse_duration;
use simulators::load::{self, LoadConfig, Mix};
use simulators::messages::StationInfo;
use simulators::scenario;
use simulators::station::{Station, StationConfig};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

#[derive(Parser)]
#[command(
    name = "evsim",
    version,
    about = "OCPP 2.0.1 charging station simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log filter (RUST_LOG syntax; RUST_LOG itself is used when this is unset);
    /// `debug` prints every frame in and out [default: info]
    #[arg(long, env = "EVSIM_LOG", global = true)]
    log: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one station: boot, heartbeat, answer the CSMS, optionally charge or play a scenario.
    Station(StationArgs),
    /// Run a fleet of stations in this process and report throughput and latency.
    Load(LoadArgs),
}

#[derive(Args)]
struct StationArgs {
    /// Station URL ending in the station id: ws://HOST:PORT/ocpp/{stationId} or wss://...
    #[arg(long, env = "EVSIM_URL")]
    url: String,
    /// HTTP Basic password (user = station id), security profiles 1 and 2.
    #[arg(long, env = "EVSIM_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// PEM root certificate(s) to trust for wss://.
    #[arg(long, value_name = "CA.pem")]
    ca: Option<PathBuf>,
    /// PEM client certificate (CN = station id), security profile 3.
    #[arg(long, value_name = "CERT.pem", requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key of --cert.
    #[arg(long, value_name = "KEY.pem", requires = "cert")]
    key: Option<PathBuf>,
    /// Number of EVSEs (one connector each).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    evses: u32,
    #[arg(long, default_value = "EVSim")]
    vendor: String,
    #[arg(long, default_value = "SIM-2x11")]
    model: String,
    /// Serial number in BootNotification [default: the station id]
    #[arg(long)]
    serial: Option<String>,
    #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
    firmware: String,
    /// JSON scenario file to play once booted (format in the README).
    #[arg(long, value_name = "FILE", conflicts_with = "charge")]
    scenario: Option<PathBuf>,
    /// Play a local session with this id token once booted: plug, Authorize, charge, stop, unplug.
    #[arg(long, value_name = "ID_TOKEN")]
    charge: Option<String>,
    /// How long --charge draws power.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    charge_duration: Duration,
    /// EVSE used by --charge.
    #[arg(long, default_value_t = 1)]
    charge_evse: u32,
    /// Charging power of remote starts and --charge, in kW.
    #[arg(long, default_value_t = 11.0)]
    power_kw: f64,
    /// Period of meter values during a transaction.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    meter_interval: Duration,
    /// How long to wait for the CSMS to answer a CALL.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
    /// Exit once the scenario or --charge session is done (default: keep running).
    #[arg(long)]
    exit: bool,
    /// Exit instead of reconnecting when the connection drops.
    #[arg(long)]
    no_reconnect: bool,
}

#[derive(Args)]
struct LoadArgs {
    /// CSMS base URL; station i connects to {url}/{prefix}{i}. Loopback only in our use.
    #[arg(long, env = "EVSIM_URL")]
    url: String,
    /// Number of stations (one socket each; ~19,900 per process at most here).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    stations: u32,
    /// Length of the whole run; with --connect-only, the longest wait for all to boot.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    duration: Duration,
    /// Spread the connects evenly over this period (0 = all at once: the reconnect storm).
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    ramp: Duration,
    #[arg(long, default_value = "LOAD-")]
    prefix: String,
    /// Number of the first station (to split a fleet over several processes).
    #[arg(long, default_value_t = 1)]
    first: u32,
    /// Total steady-state messages per second across the fleet, spread evenly (each station's
    /// BootNotification and first StatusNotification come on top) [default: one per station every 10 s]
    #[arg(long, value_name = "MSGS_PER_S")]
    rate: Option<f64>,
    /// Relative weights of the message kinds.
    #[arg(long, default_value = "heartbeat=60,status=10,meter=20,tx=10")]
    mix: Mix,
    /// HTTP Basic password shared by all stations (user = station id).
    #[arg(long, env = "EVSIM_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// PEM root certificate(s) to trust for wss://.
    #[arg(long, value_name = "CA.pem")]
    ca: Option<PathBuf>,
    /// Only connect and boot, then stay idle for --hold (to measure memory per idle station).
    #[arg(long)]
    connect_only: bool,
    /// With --connect-only: how long to stay connected once all are booted.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    hold: Duration,
    /// How long to wait for the CSMS to answer a CALL.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Worker threads (1 = single-threaded runtime, leaving the other core to the CSMS).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // rustls needs exactly one process-wide crypto provider; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    // Logs on stderr, so `--json` output on stdout stays machine-readable.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let threads = match &cli.command {
        Command::Load(args) => args.threads,
        Command::Station(_) => 1,
    };
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(threads))
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("evsim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Station(args) => run_station(args).await,
            Command::Load(args) => run_load(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_station(args: StationArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = StationConfig::new(&args.url)?;
    cfg.connect.password = args.password;
    cfg.connect.tls = connect::tls_config(
        args.ca.as_deref(),
        args.cert.as_deref(),
        args.key.as_deref(),
    )?;
    cfg.info = StationInfo {
        vendor: args.vendor,
        model: args.model,
        serial_number: args
            .serial
            .unwrap_or_else(|| cfg.station_id.chars().take(25).collect()),
        firmware_version: args.firmware,
    };
    cfg.evses = args.evses;
    cfg.meter_interval = args.meter_interval.max(Duration::from_secs(1));
    cfg.power_kw = args.power_kw;
    cfg.call_timeout = args.timeout;
    cfg.reconnect = !args.no_reconnect;

    let steps = match (&args.scenario, &args.charge) {
        (Some(path), _) => Some(scenario::load(path)?),
        (None, Some(token)) => Some(scenario::local_charge(
            args.charge_evse,
            token,
            args.charge_duration,
            Some(args.power_kw),
        )),
        (None, None) => None,
    };

    let station = Station::spawn(cfg);
    let play = {
        let station = station.clone();
        async move {
            let Some(steps) = steps else {
                return std::future::pending().await;
            };
            station
                .wait_accepted(Duration::from_secs(365 * 24 * 3600))
                .await?;
            station.run_scenario(&steps).await
        }
    };
    let play_then_maybe_exit = async {
        let outcome: anyhow::Result<()> = play.await;
        if let Err(e) = &outcome {
            warn!("scenario: {e:#}");
        }
        if !args.exit {
            std::future::pending::<()>().await;
        }
        outcome
    };
    let code = tokio::select! {
        _ = shutdown_signal() => {
            info!("signal received: closing");
            ExitCode::SUCCESS
        }
        outcome = play_then_maybe_exit => {
            if outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        _ = station.finished() => {
            error!("connection ended and reconnecting is off");
            ExitCode::FAILURE
        }
    };
    station.shutdown().await;
    Ok(code)
}

async fn run_load(args: LoadArgs) -> anyhow::Result<ExitCode> {
    // One socket per station: without this the default soft limit (often 1024) caps the fleet.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < u64::from(args.stations) + 64 => warn!(
            limit,
            stations = args.stations,
            "open-file limit below the fleet size: split the fleet over processes (--first)"
        ),
        Ok(limit) => info!(limit, "open-file limit"),
        Err(e) => warn!("cannot raise the open-file limit: {e}"),
    }
    let tls = connect::tls_config(args.ca.as_deref(), None, None)?;
    let mut cfg = LoadConfig::new(&args.url, args.stations, args.duration);
    cfg.prefix = args.prefix;
    cfg.first_index = args.first;
    cfg.ramp = args.ramp;
    cfg.rate = args.rate;
    cfg.mix = args.mix;
    cfg.connect = ConnectOptions {
        password: args.password,
        tls,
        timeout: Some(Duration::from_secs(30)),
    };
    cfg.call_timeout = args.timeout;
    cfg.connect_only = args.connect_only;
    cfg.hold = args.hold;

    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("signal received: stopping the fleet");
        on_signal.cancel();
    });
    let report = load::run(cfg, shutdown).await;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("serializing the report")?
        );
    } else {
        print!("{report}");
    }
    Ok(if report.booted == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

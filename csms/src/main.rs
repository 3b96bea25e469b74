use clap::Parser;
use csms::config::{Cli, Command};
use tracing_subscriber::EnvFilter;

// Thousands of small per-connection allocations: mimalloc returns memory to the OS and
// fragments less than glibc's malloc here (see BENCHMARKS.md, memory per idle station).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // rustls 0.23 needs exactly one process-wide crypto provider before any TLS use.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => csms::app::serve(args).await,
        other => csms::cli::run(other).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

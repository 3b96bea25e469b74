use clap::Parser;
use csms::config::{Cli, Command};
use tracing_subscriber::EnvFilter;

// Thousands of small per-connection allocations: mimalloc returns memory to the OS and
// fragments less than glibc's malloc here (see BENCHMARKS.md, memory per idle station).
// `--features system-allocator` leaves glibc's malloc in place, for heap profilers.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(feature = "system-allocator"))]
extern "C" {
    // mimalloc's own API (linked in by the mimalloc crate); options are plain integers
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Purge freed memory at once instead of after a delay: mimalloc purges only when a thread
/// allocates or frees again, so after a reconnect storm the idle workers kept the storm's
/// peak (about 15 KB per station at 10,000 stations). `mi_option_purge_delay` is 15 in
/// mimalloc v2 and v3.
fn purge_freed_memory_at_once() {
    #[cfg(not(feature = "system-allocator"))]
    // SAFETY: sets a process-wide integer option; mimalloc allows it at any time
    unsafe {
        mi_option_set(15, 0)
    };
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    purge_freed_memory_at_once();
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

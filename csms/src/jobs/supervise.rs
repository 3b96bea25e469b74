//! Supervision: a background task that panics is logged, counted in
//! `csms_job_panics_total{job}` and started again after a backoff that doubles up to a minute,
//! instead of dying silently and leaving its work undone until the next restart.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Spawns `make()`'s future and restarts it whenever it panics, until it returns (which jobs
/// do at `shutdown`) or `shutdown` comes during a backoff.
pub fn spawn<F, Fut>(name: &'static str, shutdown: CancellationToken, make: F) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(run(name, shutdown, FIRST_BACKOFF, make))
}

async fn run<F, Fut>(name: &'static str, shutdown: CancellationToken, first: Duration, make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut backoff = first;
    loop {
        match AssertUnwindSafe(make()).catch_unwind().await {
            Ok(()) => return,
            Err(panic) => {
                tracing::error!(
                    job = name,
                    panic = %panic_text(panic.as_ref()),
                    restart_in_ms = backoff.as_millis() as u64,
                    "background job panicked; restarting"
                );
                metrics::counter!("csms_job_panics_total", "job" => name).increment(1);
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// What a panic said, when it said it with a string.
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_panicking_job_is_restarted_until_it_finishes() {
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        run(
            "test",
            CancellationToken::new(),
            Duration::from_millis(1),
            move || {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 2 {
                        panic!("boom {n}");
                    }
                }
            },
        )
        .await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            3,
            "two panics, then a clean finish"
        );
    }

    #[tokio::test]
    async fn shutdown_ends_the_backoff() {
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        run("test", shutdown, Duration::from_secs(3600), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { panic!("always") }
        })
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn panic_messages_are_read() {
        assert_eq!(panic_text(&"static"), "static");
        assert_eq!(panic_text(&String::from("owned")), "owned");
        assert_eq!(panic_text(&42u8), "(no message)");
    }
}

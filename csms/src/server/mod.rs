//! Sockets: listeners with a deep accept backlog, TLS (with optional client certificates),
//! and one accept loop that serves HTTP, the REST API and OCPP WebSocket upgrades.

mod listen;
mod tls;

pub use listen::{bind, serve, HEADER_READ_TIMEOUT};
pub use tls::server_config;

/// The largest request body any route reads (its extractors answer 413 beyond): the biggest
/// legitimate bodies are OCPI tariffs and raw OCPP payloads, a few kilobytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What a handler that panicked answers (the connection and the server live on): the same
/// problem+json as any internal error, with nothing of the panic in it.
pub fn panic_answer(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let what = crate::jobs::supervise::panic_text(panic.as_ref());
    tracing::error!(panic = %what, "a request handler panicked");
    metrics::counter!("csms_http_panics_total").increment(1);
    axum::response::IntoResponse::into_response(marketplace::Error::Internal(
        "a request handler panicked".into(),
    ))
}

/// What the transport tells us about the peer, for the security profile check.
#[derive(Debug, Clone, Default)]
pub struct PeerIdentity {
    pub tls: bool,
    /// CN of a client certificate that chains to the configured CA.
    pub client_cert_cn: Option<String>,
}

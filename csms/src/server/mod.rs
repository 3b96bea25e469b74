//! Sockets: listeners with a deep accept backlog, TLS (with optional client certificates),
//! and one accept loop that serves HTTP, the REST API and OCPP WebSocket upgrades.

mod listen;
mod tls;

pub use listen::{bind, serve};
pub use tls::server_config;

/// What the transport tells us about the peer, for the security profile check.
#[derive(Debug, Clone, Default)]
pub struct PeerIdentity {
    pub tls: bool,
    /// CN of a client certificate that chains to the configured CA.
    pub client_cert_cn: Option<String>,
}

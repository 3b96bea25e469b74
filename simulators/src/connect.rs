//! Opening the station's WebSocket: `ws://` or `wss://`, the `ocpp2.0.1` sub-protocol,
//! HTTP Basic auth (security profiles 1 and 2) and TLS client certificates (profile 3).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Error as WsError};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// The sub-protocol every OCPP 2.0.1 connection must negotiate.
pub const SUBPROTOCOL: &str = "ocpp2.0.1";

/// The stream type every station in this crate talks over.
pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How to reach and authenticate to the CSMS; shared by every station of a fleet.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    /// HTTP Basic password (username = station id), security profiles 1 and 2.
    pub password: Option<String>,
    /// TLS settings for `wss://`; `None` falls back to the public web PKI roots.
    pub tls: Option<Arc<ClientConfig>>,
    /// Gives up on a connect (TCP + TLS + upgrade) after this long.
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("ConnectOptions")
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Small buffers: tungstenite's defaults (128 KiB read + 128 KiB write) would cost ~135 KB per
/// idle station, which a 10,000-station fleet in one process cannot afford. Writes go straight
/// to the socket (no write buffer), and OCPP messages are small, so 4 KiB reads lose nothing.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

/// The URL of one station: the CSMS base URL (`ws://host:port/ocpp`) plus `/{stationId}`.
pub fn station_url(base: &str, station_id: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), station_id)
}

/// The station id is the last path segment of the station URL.
pub fn station_id_from_url(url: &str) -> Option<String> {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let (_, rest) = without_query.split_once("://")?;
    let (_, path) = rest.split_once('/')?;
    let id = path.trim_end_matches('/').rsplit('/').next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

/// Builds the rustls client config for `wss://`: trust `ca` and, for security profile 3,
/// present `cert`/`key`. Returns `None` when nothing is given (then the web PKI roots apply).
pub fn tls_config(
    ca: Option<&Path>,
    cert: Option<&Path>,
    key: Option<&Path>,
) -> anyhow::Result<Option<Arc<ClientConfig>>> {
    if ca.is_none() && cert.is_none() && key.is_none() {
        return Ok(None);
    }
    let Some(ca) = ca else {
        bail!("--cert/--key need --ca: the root that signed the CSMS certificate");
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)
        .with_context(|| format!("reading CA file {}", ca.display()))?
    {
        let cert = cert.with_context(|| format!("parsing CA file {}", ca.display()))?;
        roots
            .add(cert)
            .with_context(|| format!("adding CA from {}", ca.display()))?;
    }
    if roots.is_empty() {
        bail!("no certificate found in CA file {}", ca.display());
    }
    // Name the provider explicitly instead of relying on the process default, so library
    // users (tests) do not need to install one first.
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_root_certificates(roots);
    let config = match (cert, key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .with_context(|| format!("reading certificate {}", cert.display()))?
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("parsing certificate {}", cert.display()))?;
            if chain.is_empty() {
                bail!("no certificate found in {}", cert.display());
            }
            let key = PrivateKeyDer::from_pem_file(key)
                .with_context(|| format!("reading private key {}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .context("client certificate and key do not match")?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => bail!("--cert and --key go together"),
    };
    Ok(Some(Arc::new(config)))
}

/// Why a connect failed, as a short stable label for reports.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("bad URL: {0}")]
    Url(String),
    #[error("connect timed out")]
    Timeout,
    #[error("CSMS answered HTTP {0}")]
    Http(u16),
    #[error("CSMS did not accept the {SUBPROTOCOL} sub-protocol")]
    SubProtocol,
    #[error("{0}")]
    Io(std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("WebSocket handshake: {0}")]
    Handshake(tungstenite::Error),
}

impl ConnectError {
    /// A label that groups errors of one kind in reports.
    pub fn label(&self) -> String {
        match self {
            ConnectError::Url(_) => "bad URL".into(),
            ConnectError::Timeout => "timeout".into(),
            ConnectError::Http(code) => format!("HTTP {code}"),
            ConnectError::SubProtocol => "sub-protocol refused".into(),
            ConnectError::Io(e) => format!("io: {:?}", e.kind()),
            ConnectError::Tls(_) => "TLS".into(),
            ConnectError::Handshake(_) => "handshake".into(),
        }
    }
}

impl From<WsError> for ConnectError {
    fn from(e: WsError) -> Self {
        match e {
            WsError::Http(resp) => ConnectError::Http(resp.status().as_u16()),
            WsError::Protocol(tungstenite::error::ProtocolError::SecWebSocketSubProtocolError(
                _,
            )) => ConnectError::SubProtocol,
            // rustls failures surface as io errors wrapping a rustls::Error.
            WsError::Io(io)
                if io
                    .get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
            {
                ConnectError::Tls(io.to_string())
            }
            WsError::Io(io) => ConnectError::Io(io),
            WsError::Tls(tls) => ConnectError::Tls(tls.to_string()),
            WsError::Url(u) => ConnectError::Url(u.to_string()),
            other => ConnectError::Handshake(other),
        }
    }
}

/// Opens the WebSocket of station `station_id` at `url`.
pub async fn connect(
    url: &str,
    station_id: &str,
    opts: &ConnectOptions,
) -> Result<WsStream, ConnectError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ConnectError::Url(e.to_string()))?;
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    if let Some(password) = &opts.password {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{station_id}:{password}"));
        let value = HeaderValue::from_str(&format!("Basic {token}"))
            .map_err(|e| ConnectError::Url(format!("station id not usable in a header: {e}")))?;
        headers.insert("Authorization", value);
    }
    let connector = opts
        .tls
        .as_ref()
        .map(|config| Connector::Rustls(Arc::clone(config)));
    // Nagle off: each OCPP frame is one small write and we measure its round trip; with
    // Nagle on, delayed ACKs would add up to 40 ms to the latency figures.
    let handshake = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(ws_config()),
        true,
        connector,
    );
    let result = match opts.timeout {
        Some(limit) => tokio::time::timeout(limit, handshake)
            .await
            .map_err(|_| ConnectError::Timeout)?,
        None => handshake.await,
    };
    let (ws, _response) = result?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_id_is_the_last_path_segment() {
        assert_eq!(
            station_id_from_url("ws://127.0.0.1:8080/ocpp/SIM-1").as_deref(),
            Some("SIM-1")
        );
        assert_eq!(
            station_id_from_url("wss://h/ocpp/CS42/?x=1").as_deref(),
            Some("CS42")
        );
        assert_eq!(station_id_from_url("ws://h:1"), None);
        assert_eq!(station_id_from_url("ws://h:1/"), None);
    }

    #[test]
    fn station_url_joins_with_one_slash() {
        assert_eq!(station_url("ws://h/ocpp/", "LOAD-1"), "ws://h/ocpp/LOAD-1");
        assert_eq!(station_url("ws://h/ocpp", "LOAD-1"), "ws://h/ocpp/LOAD-1");
    }

    #[test]
    fn no_tls_files_means_default_roots() {
        assert!(tls_config(None, None, None).unwrap().is_none());
        assert!(tls_config(None, Some(Path::new("c.pem")), Some(Path::new("k.pem"))).is_err());
    }
}

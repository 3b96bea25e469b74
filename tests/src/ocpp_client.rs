use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(10);

/// A hand-driven station: sends exactly the frames a test writes, bad ones included.
pub struct OcppClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    Frame(Value),
    Closed(Option<u16>),
}

#[derive(Default, Clone)]
pub struct ConnectOptions<'a> {
    pub subprotocols: Option<&'a str>,
    pub basic: Option<(&'a str, &'a str)>,
    pub ca: Option<&'a Path>,
    pub client_cert: Option<(&'a Path, &'a Path)>,
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl OcppClient {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    pub async fn connect_with(url: &str, opts: ConnectOptions<'_>) -> anyhow::Result<Self> {
        install_crypto();
        let mut request = url.into_client_request()?;
        let protocols = opts.subprotocols.unwrap_or("ocpp2.0.1");
        if !protocols.is_empty() {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_str(protocols)?);
        }
        if let Some((user, password)) = opts.basic {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request.headers_mut().insert(
                "Authorization",
                HeaderValue::from_str(&format!("Basic {token}"))?,
            );
        }
        let connector = match opts.ca {
            None => None,
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_file_iter(ca)? {
                    roots.add(c?)?;
                }
                let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
                let config = match opts.client_cert {
                    Some((cert, key)) => {
                        let chain =
                            CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
                        builder.with_client_auth_cert(chain, PrivateKeyDer::from_pem_file(key)?)?
                    }
                    None => builder.with_no_client_auth(),
                };
                Some(Connector::Rustls(Arc::new(config)))
            }
        };
        let (ws, response) =
            tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector)
                .await?;
        let chosen = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        if chosen != Some("ocpp2.0.1") {
            bail!("server chose sub-protocol {chosen:?}");
        }
        Ok(Self { ws, next_id: 0 })
    }

    /// The HTTP status the server refused the handshake with, if it did.
    pub async fn refusal(url: &str, opts: ConnectOptions<'_>) -> Option<StatusCode> {
        match Self::connect_with(url, opts).await {
            Ok(_) => None,
            Err(e) => match e.downcast_ref::<WsError>() {
                Some(WsError::Http(response)) => Some(response.status()),
                _ => Some(StatusCode::from_u16(599).expect("valid code")),
            },
        }
    }

    pub async fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    pub async fn send_json(&mut self, value: &Value) -> anyhow::Result<()> {
        self.send_text(&value.to_string()).await
    }

    /// Next data frame or the close, skipping pings, and answering on the way (as a station
    /// does, Accepted) the CSMS's request for connector statuses that follows every accepted
    /// boot; [`OcppClient::recv_raw`] shows it.
    pub async fn recv(&mut self) -> anyhow::Result<Received> {
        loop {
            match self.recv_raw().await? {
                Received::Frame(v) if is_status_trigger(&v) => {
                    let id = v[1].as_str().unwrap_or_default().to_owned();
                    self.answer(&id, json!({"status": "Accepted"})).await?;
                }
                other => return Ok(other),
            }
        }
    }

    /// Next data frame or the close, skipping pings only.
    pub async fn recv_raw(&mut self) -> anyhow::Result<Received> {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .context("nothing received in time")?;
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Ok(Received::Frame(serde_json::from_str(t.as_str())?))
                }
                Some(Ok(Message::Close(frame))) => {
                    return Ok(Received::Closed(frame.map(|f: CloseFrame| f.code.into())))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Ok(Received::Closed(None)),
            }
        }
    }

    pub async fn recv_frame(&mut self) -> anyhow::Result<Value> {
        match self.recv().await? {
            Received::Frame(v) => Ok(v),
            Received::Closed(code) => bail!("connection closed ({code:?})"),
        }
    }

    /// Sends a CALL and returns the whole answer frame (CALLRESULT or CALLERROR).
    pub async fn call_raw(&mut self, action: &str, payload: Value) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = format!("t-{}", self.next_id);
        self.send_json(&json!([2, id, action, payload])).await?;
        let answer = self.recv_frame().await?;
        if answer[1] != json!(id) {
            bail!("answer for another message id: {answer}");
        }
        Ok(answer)
    }

    /// Sends a CALL and returns the CALLRESULT payload; a CALLERROR is an error.
    pub async fn call(&mut self, action: &str, payload: Value) -> anyhow::Result<Value> {
        let answer = self.call_raw(action, payload).await?;
        if answer[0] != json!(3) {
            bail!("expected CALLRESULT, got {answer}");
        }
        Ok(answer[2].clone())
    }

    pub async fn boot(&mut self) -> anyhow::Result<Value> {
        self.call("BootNotification", json!({
            "reason": "PowerUp",
            "chargingStation": { "model": "E2E", "vendorName": "Tests", "serialNumber": "S-1", "firmwareVersion": "1.0" }
        }))
        .await
    }

    /// Waits for a CALL from the CSMS; returns (message id, action, payload).
    pub async fn expect_call(&mut self) -> anyhow::Result<(String, String, Value)> {
        let frame = self.recv_frame().await?;
        if frame[0] != json!(2) {
            bail!("expected a CALL from the CSMS, got {frame}");
        }
        Ok((
            frame[1].as_str().unwrap_or_default().to_owned(),
            frame[2].as_str().unwrap_or_default().to_owned(),
            frame[3].clone(),
        ))
    }

    pub async fn answer(&mut self, id: &str, payload: Value) -> anyhow::Result<()> {
        self.send_json(&json!([3, id, payload])).await
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

fn is_status_trigger(frame: &Value) -> bool {
    frame[0] == json!(2)
        && frame[2] == json!("TriggerMessage")
        && frame[3]["requestedMessage"] == json!("StatusNotification")
}

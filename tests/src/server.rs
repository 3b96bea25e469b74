use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::Url;
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Where cargo put the workspace binaries (next to this test executable's `deps/`).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` first",
        path.display()
    );
    path
}

pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server (scripts/test.sh sets it)")
}

/// Creates an empty database for one test and returns its URL.
pub async fn fresh_database() -> anyhow::Result<String> {
    let admin = database_url();
    let name = format!("e2e_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .context("connecting to DATABASE_URL")?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let mut url = Url::parse(&admin)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub unknown_stations: &'static str,
    pub extra_args: Vec<String>,
    pub tls: Option<TlsFiles>,
    pub call_timeout_secs: u64,
    /// `--dev`: unauthenticated stations and the local test payment provider. Most tests
    /// want it; the tests of production mode turn it off.
    pub dev: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            unknown_stations: "accept",
            extra_args: vec![],
            tls: None,
            call_timeout_secs: 5,
            dev: true,
        }
    }
}

impl ServerOptions {
    /// Production mode (no `--dev`), otherwise the defaults.
    pub fn production() -> Self {
        Self {
            dev: false,
            ..Self::default()
        }
    }
}

/// The data folder of every test server (its generated secrets): one for the whole run, so
/// a restarted server keeps accepting the tokens it issued.
pub fn data_dir() -> PathBuf {
    std::env::temp_dir().join("csms-e2e-data")
}

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub dir: PathBuf,
}

impl TlsFiles {
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    pub fn station_cert(&self, id: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join("stations").join(format!("{id}.pem")),
            self.dir.join("stations").join(format!("{id}.key")),
        )
    }

    /// A development PKI made by `csms certs dev`, in a temporary folder.
    pub async fn generate(stations: &[&str]) -> anyhow::Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("csms-e2e-certs-{}", uuid::Uuid::new_v4().simple()));
        let mut cmd = Command::new(bin("csms"));
        cmd.arg("certs").arg("dev").arg("--out").arg(&dir);
        for s in stations {
            cmd.arg("--station").arg(s);
        }
        let status = cmd.stdout(Stdio::null()).status().await?;
        if !status.success() {
            bail!("csms certs dev failed");
        }
        Ok(Self { dir })
    }
}

pub struct Server {
    child: Child,
    pub database_url: String,
    pub http: String,
    pub ws: String,
    pub https: Option<String>,
    pub wss: Option<String>,
    /// The unauthenticated metrics listener (`--metrics-listen`).
    pub metrics: String,
    /// `production` or `development`, as the server said when ready.
    pub mode: String,
    options: ServerOptions,
}

impl Server {
    pub async fn start(options: ServerOptions) -> anyhow::Result<Self> {
        let db = fresh_database().await?;
        Self::start_on(db, options, "127.0.0.1:0").await
    }

    /// Starts on a given database and address (used to restart on the same port).
    pub async fn start_on(
        database_url: String,
        options: ServerOptions,
        listen: &str,
    ) -> anyhow::Result<Self> {
        crate::ocpp_client::install_crypto();
        let mut cmd = Command::new(bin("csms"));
        cmd.arg("serve")
            .arg("--database-url")
            .arg(&database_url)
            .arg("--listen")
            .arg(listen)
            .arg("--unknown-stations")
            .arg(options.unknown_stations)
            .arg("--call-timeout")
            .arg(options.call_timeout_secs.to_string())
            .arg("--db-max-connections")
            .arg("8")
            .arg("--metrics-listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir())
            .args(options.dev.then_some("--dev"))
            .args(&options.extra_args)
            .env(
                "RUST_LOG",
                std::env::var("CSMS_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(tls) = &options.tls {
            cmd.arg("--tls-listen")
                .arg("127.0.0.1:0")
                .arg("--tls-cert")
                .arg(tls.dir.join("server.pem"))
                .arg("--tls-key")
                .arg(tls.dir.join("server.key"))
                .arg("--tls-client-ca")
                .arg(tls.ca());
        }
        let mut child = cmd.spawn().context("spawning csms")?;
        let stdout = child.stdout.take().context("csms stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if line.starts_with("csms ready") {
                    return Ok::<_, anyhow::Error>(line);
                }
            }
            bail!("csms exited before it was ready")
        })
        .await
        .context("csms did not start within 60 s")??;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let field = |key: &str| {
            ready
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_owned))
        };
        let http = field("http").context("http address")?;
        let ws = http.replacen("http://", "ws://", 1);
        let https = field("https");
        let wss = https.as_ref().map(|h| h.replacen("https://", "wss://", 1));
        let metrics = field("metrics").context("metrics address")?;
        let mode = field("mode").context("mode")?;
        Ok(Self {
            child,
            database_url,
            http,
            ws,
            https,
            wss,
            metrics,
            mode,
            options,
        })
    }

    pub fn ocpp_url(&self, station: &str) -> String {
        format!("{}/ocpp/{station}", self.ws)
    }

    pub fn wss_url(&self, station: &str) -> String {
        format!(
            "{}/ocpp/{station}",
            self.wss.as_deref().expect("server started without TLS")
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.http)
    }

    pub fn listen_addr(&self) -> String {
        self.http.trim_start_matches("http://").to_owned()
    }

    pub fn options(&self) -> ServerOptions {
        self.options.clone()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let pid = self.child.id().context("csms already exited")?;
        Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await?;
        Ok(
            tokio::time::timeout(Duration::from_secs(30), self.child.wait())
                .await
                .context("csms did not exit after SIGTERM")??,
        )
    }

    /// Kills the server with SIGKILL (no shutdown, no flushing) and waits for it to be gone.
    pub async fn kill_hard(mut self) -> anyhow::Result<()> {
        self.child.start_kill()?;
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .context("csms did not die after SIGKILL")??;
        Ok(())
    }

    /// Runs a `csms` CLI command against this server's database.
    pub async fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new(bin("csms"))
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .output()
            .await?;
        if !out.status.success() {
            bail!(
                "csms {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// GET a JSON body with a bearer token (any status).
    pub async fn get_json(&self, token: &str, path: &str) -> anyhow::Result<Value> {
        Ok(reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?)
    }

    /// POST a JSON body with a bearer token; returns the JSON answer (any status).
    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        Ok(reqwest::Client::new()
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await?
            .json()
            .await?)
    }

    /// Polls a GET until `done` holds (up to 15 s); returns the last body seen, so the
    /// caller's assertion shows what the server had when it gave up.
    pub async fn eventually(
        &self,
        token: &str,
        path: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        for _ in 0..150 {
            if let Ok(v) = self.get_json(token, path).await {
                if done(&v) {
                    return v;
                }
                last = v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last
    }

    /// Creates a user with the CLI and logs in over REST; returns the access token.
    pub async fn token_for(&self, role: &str) -> anyhow::Result<String> {
        let email = format!("{role}-{}@test.local", uuid::Uuid::new_v4().simple());
        let password = "correct horse battery";
        self.cli(&[
            "user",
            "add",
            "--email",
            &email,
            "--password",
            password,
            "--role",
            role,
        ])
        .await?;
        let answer: Value = reqwest::Client::new()
            .post(self.url("/api/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(answer["access_token"]
            .as_str()
            .context("access_token")?
            .to_owned())
    }
}

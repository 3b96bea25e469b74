//! A private PostgreSQL cluster run from the system's own binaries.
//!
//! Why not a crate that bundles PostgreSQL? They download it at run time, which is not possible
//! on the machines this runs on. Debian ships `initdb`/`pg_ctl` under
//! `/usr/lib/postgresql/<ver>/bin`, so we drive those.
//!
//! Layout of the folder given to [`EmbeddedPg::start`]:
//!
//! ```text
//! <dir>/data/            the cluster (PGDATA), created by initdb on first start
//! <dir>/data/embedded.conf   our settings, rewritten at every start (included by postgresql.conf)
//! <dir>/postgres.log     server log (pg_ctl -l)
//! <dir>/.s.PGSQL.5432    the Unix socket (no TCP at all: listen_addresses = '')
//! ```
//!
//! If `<dir>/.s.PGSQL.5432` would exceed the 107-byte Unix socket path limit, the socket goes
//! to `/tmp/csms-pg-<hash of dir>` instead (logged).
//!
//! PostgreSQL refuses to run as root. When we are root (CI is), every PostgreSQL binary runs as
//! the unprivileged `postgres` system user (or `$PG_RUN_AS`) through `runuser` (or `su`), and
//! the folder is handed to that user.
//!
//! Trust authentication on the socket (reachable only through the folder's permissions).
//! [`Durability::Durable`] (what `csms serve` and `csms pg up` use) keeps PostgreSQL's
//! `synchronous_commit = on`: a commit the server answered for (a CALLRESULT to a
//! TransactionEvent, a 2xx to a payment) is on disk. Only the test suite's throwaway cluster
//! (`csms pg up --throwaway`) turns it off for speed.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection};

/// The port only names the socket file (`.s.PGSQL.<port>`): nothing listens on TCP.
pub const DEFAULT_PORT: u16 = 5432;
/// The superuser created by initdb (`-U`), the user in [`EmbeddedPg::database_url`].
pub const SUPERUSER: &str = "postgres";
/// The unprivileged user PostgreSQL runs as when we are root (override with `PG_RUN_AS`).
pub const DEFAULT_RUN_AS: &str = "postgres";

const DATA_SUBDIR: &str = "data";
const LOG_FILE: &str = "postgres.log";
const CONF_FILE: &str = "embedded.conf";
/// `sizeof(sockaddr_un.sun_path) - 1` on Linux.
const MAX_SOCKET_PATH: usize = 107;
const START_TIMEOUT_SECS: u32 = 120;

/// Whether a commit waits for its WAL to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous_commit = on`: what the server promises stations and clients is kept
    /// through a crash.
    Durable,
    /// `synchronous_commit = off` and no fsync at initdb: for the test suite's cluster only,
    /// whose data nobody needs after a crash.
    Throwaway,
}

impl Durability {
    fn synchronous_commit(self) -> &'static str {
        match self {
            Self::Durable => "on",
            Self::Throwaway => "off",
        }
    }
}

/// A running PostgreSQL cluster in a folder of its own, reachable only through a Unix socket.
///
/// Dropping it leaves the server running (so a later start reuses it); call [`EmbeddedPg::stop`]
/// to shut it down.
#[derive(Debug)]
pub struct EmbeddedPg {
    dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    bin_dir: PathBuf,
    /// `Some(user)` when we are root and run the PostgreSQL binaries as `user`.
    run_as: Option<String>,
    db_name: String,
    reused: bool,
    durability: Durability,
}

impl EmbeddedPg {
    /// Finds the newest `/usr/lib/postgresql/<ver>/bin` (or `$PG_BIN`), initdb's the cluster
    /// under `dir` if absent (UTF8, trust auth on the local socket only, no TCP, socket in
    /// `dir`), starts it with `pg_ctl` (waiting until it accepts connections) and creates the
    /// database `db_name` if missing.
    ///
    /// If a postmaster from an earlier run is still running in `dir` it is reused
    /// ([`EmbeddedPg::reused`] is then true) with the settings it was started with.
    pub async fn start(dir: &Path, db_name: &str, durability: Durability) -> Result<EmbeddedPg> {
        let mut pg = Self::open(dir, db_name, durability).await?;

        if is_running(&pg.dir) {
            tracing::info!(dir = %pg.dir.display(), "reusing the PostgreSQL server already running there");
            pg.reused = true;
            pg.wait_until_accepting(Duration::from_secs(START_TIMEOUT_SECS.into()))
                .await?;
        } else {
            remove_stale_pid_file(&pg.data_dir);
            if !pg.data_dir.join("PG_VERSION").exists() {
                pg.initdb().await?;
            }
            pg.write_conf()?;
            pg.pg_ctl_start().await?;
        }

        if db_name != "postgres" {
            create_database(&pg.url_for("postgres"), db_name)
                .await
                .with_context(|| format!("creating database {db_name:?}"))?;
        }
        tracing::info!(
            dir = %pg.dir.display(),
            socket_dir = %pg.socket_dir.display(),
            database = db_name,
            "embedded PostgreSQL ready"
        );
        Ok(pg)
    }

    /// Resolves binaries, user, socket directory and permissions for `dir` without starting
    /// anything (creates `dir` if needed).
    async fn open(dir: &Path, db_name: &str, durability: Durability) -> Result<EmbeddedPg> {
        if db_name.is_empty() || db_name.contains('\0') {
            bail!("invalid database name {db_name:?}");
        }
        let created = create_dir_all_tracked(dir)
            .with_context(|| format!("creating the PostgreSQL folder {}", dir.display()))?;
        let dir =
            std::fs::canonicalize(dir).with_context(|| format!("resolving {}", dir.display()))?;
        let data_dir = dir.join(DATA_SUBDIR);
        let log_file = dir.join(LOG_FILE);
        let bin_dir = find_bin_dir(&data_dir)?;

        let run_as = if effective_uid_is_root() {
            Some(std::env::var("PG_RUN_AS").unwrap_or_else(|_| DEFAULT_RUN_AS.to_owned()))
        } else {
            None
        };
        let owner = match &run_as {
            Some(user) => Some(lookup_user(user).await?),
            None => None,
        };
        if let (Some(user), Some(ids)) = (&run_as, owner) {
            prepare_dir_for_user(&dir, &created, user, ids).await?;
        }

        let port = DEFAULT_PORT;
        let socket_dir = choose_socket_dir(&dir, port, owner)?;

        Ok(EmbeddedPg {
            dir,
            data_dir,
            socket_dir,
            log_file,
            port,
            bin_dir,
            run_as,
            db_name: db_name.to_owned(),
            reused: false,
            durability,
        })
    }

    /// A URL sqlx (and libpq) accept for the database given to [`EmbeddedPg::start`], e.g.
    /// `postgres://postgres@localhost:5432/csms?host=/abs/dir&sslmode=disable`.
    pub fn database_url(&self) -> String {
        self.url_for(&self.db_name)
    }

    /// The URL of another database in the same cluster (e.g. `postgres` for admin work).
    pub fn url_for(&self, db_name: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost:{}/{}?host={}&sslmode=disable",
            self.port,
            percent_encode(db_name, false),
            percent_encode(&self.socket_dir.to_string_lossy(), true),
        )
    }

    /// Connect options for the database given to [`EmbeddedPg::start`] (same as the URL).
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(self.port)
            .username(SUPERUSER)
            .database(&self.db_name)
            .ssl_mode(PgSslMode::Disable)
    }

    /// The folder given to [`EmbeddedPg::start`] (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// PGDATA.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    /// The directory holding the `.s.PGSQL.<port>` socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }
    pub fn database_name(&self) -> &str {
        &self.db_name
    }
    /// True if [`EmbeddedPg::start`] found a server from an earlier run and reused it.
    pub fn reused(&self) -> bool {
        self.reused
    }

    /// Stops the server (`pg_ctl stop -m fast`), also when it was reused from an earlier run.
    pub async fn stop(self) -> Result<()> {
        if !is_running(&self.dir) {
            tracing::debug!(dir = %self.dir.display(), "embedded PostgreSQL not running");
            return Ok(());
        }
        let args: Vec<OsString> = vec![
            "stop".into(),
            "-D".into(),
            self.data_dir.clone().into(),
            "-m".into(),
            "fast".into(),
            "-w".into(),
            "-t".into(),
            "60".into(),
            "-s".into(),
        ];
        let out = self.run(&self.bin("pg_ctl"), &args).await?;
        if !out.status.success() && is_running(&self.dir) {
            bail!(
                "pg_ctl stop failed ({}):\n{}{}",
                out.status,
                output_text(&out),
                self.log_tail()
            );
        }
        tracing::info!(dir = %self.dir.display(), "embedded PostgreSQL stopped");
        Ok(())
    }

    // ---- steps -------------------------------------------------------------------------------

    async fn initdb(&self) -> Result<()> {
        if self.data_dir.exists() && std::fs::read_dir(&self.data_dir)?.next().is_some() {
            bail!(
                "{} exists but holds no PostgreSQL cluster (no PG_VERSION); \
                 remove it to let a new cluster be created there",
                self.data_dir.display()
            );
        }
        tracing::info!(
            data_dir = %self.data_dir.display(),
            bin_dir = %self.bin_dir.display(),
            run_as = self.run_as.as_deref().unwrap_or("(current user)"),
            "creating PostgreSQL cluster"
        );
        let mut args: Vec<OsString> = vec![
            "-D".into(),
            self.data_dir.clone().into(),
            "-U".into(),
            SUPERUSER.into(),
            "-E".into(),
            "UTF8".into(),
            // C collation: byte order, identical on every machine.
            "--locale=C".into(),
            "--auth-local=trust".into(),
            "--auth-host=reject".into(),
        ];
        if self.durability == Durability::Throwaway {
            // Nobody needs a test cluster after a crash: skip the fsync of every file.
            args.push("--no-sync".into());
        }
        let out = self.run(&self.bin("initdb"), &args).await?;
        if !out.status.success() {
            bail!("initdb failed ({}):\n{}", out.status, output_text(&out));
        }
        // Our settings live in a file of their own, rewritten at every start.
        let conf = self.data_dir.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf)
            .with_context(|| format!("reading {}", conf.display()))?;
        text.push_str(&format!(
            "\n# Added by csms (embedded_pg): settings rewritten at every start.\ninclude_if_exists = '{CONF_FILE}'\n"
        ));
        std::fs::write(&conf, text).with_context(|| format!("writing {}", conf.display()))?;
        Ok(())
    }

    fn write_conf(&self) -> Result<()> {
        let path = self.data_dir.join(CONF_FILE);
        let text = format!(
            "# Written by csms (embedded_pg) at every start; edits are overwritten.\n\
             listen_addresses = ''\n\
             port = {port}\n\
             unix_socket_directories = '{socket}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 200\n\
             synchronous_commit = {synchronous_commit}\n\
             shared_buffers = {buffers}MB\n\
             effective_cache_size = {cache}MB\n",
            synchronous_commit = self.durability.synchronous_commit(),
            buffers = shared_buffers_mb(),
            cache = memory_mb().unwrap_or(1024) / 2,
            port = self.port,
            socket = conf_quote(&self.socket_dir.to_string_lossy()),
        );
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        if self.run_as.is_some() {
            // Root wrote it; give it to the server's user like the rest of PGDATA.
            let meta = std::fs::metadata(&self.data_dir)?;
            std::os::unix::fs::chown(&path, Some(meta.uid()), Some(meta.gid()))?;
        }
        Ok(())
    }

    async fn pg_ctl_start(&self) -> Result<()> {
        let args: Vec<OsString> = vec![
            "start".into(),
            "-D".into(),
            self.data_dir.clone().into(),
            "-l".into(),
            self.log_file.clone().into(),
            "-w".into(),
            "-t".into(),
            START_TIMEOUT_SECS.to_string().into(),
            "-s".into(),
        ];
        let out = self.run(&self.bin("pg_ctl"), &args).await?;
        if !out.status.success() {
            bail!(
                "pg_ctl start failed ({}):\n{}{}",
                out.status,
                output_text(&out),
                self.log_tail()
            );
        }
        // pg_ctl -w returns once the postmaster reports "ready"; connect once to be sure the
        // socket is where we expect it.
        self.wait_until_accepting(Duration::from_secs(30)).await
    }

    async fn wait_until_accepting(&self, limit: Duration) -> Result<()> {
        let opts = self.connect_options().database("postgres");
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match opts.connect().await {
                Ok(conn) => {
                    let _ = conn.close().await;
                    return Ok(());
                }
                Err(err) if tokio::time::Instant::now() >= deadline => {
                    return Err(anyhow!(
                        "PostgreSQL in {} does not accept connections on {}: {err}{}",
                        self.dir.display(),
                        self.socket_dir
                            .join(format!(".s.PGSQL.{}", self.port))
                            .display(),
                        self.log_tail()
                    ));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Runs `program args...` as `run_as` (when set) in `dir`: the server's user may not be
    /// able to enter our current directory.
    async fn run(&self, program: &Path, args: &[OsString]) -> Result<Output> {
        run_as_user(self.run_as.as_deref(), &self.dir, program, args).await
    }

    fn log_tail(&self) -> String {
        log_tail(&self.log_file, 30)
    }
}

/// `program args...` as `user` (through `runuser`, else `su`) or as ourselves, in `cwd`, with
/// output captured.
async fn run_as_user(
    user: Option<&str>,
    cwd: &Path,
    program: &Path,
    args: &[OsString],
) -> Result<Output> {
    let mut cmd = match user {
        None => {
            let mut c = std::process::Command::new(program);
            c.args(args);
            c
        }
        Some(user) => match find_in_path("runuser", &["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
            Some(runuser) => {
                let mut c = std::process::Command::new(runuser);
                c.arg("-u").arg(user).arg("--").arg(program).args(args);
                c
            }
            None => {
                let mut line = shell_quote(program.as_os_str());
                for a in args {
                    line.push(' ');
                    line.push_str(&shell_quote(a));
                }
                let mut c = std::process::Command::new("su");
                c.arg(user).arg("-s").arg("/bin/sh").arg("-c").arg(line);
                c
            }
        },
    };
    cmd.current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Don't let the caller's libpq environment redirect the tools.
        .env_remove("PGDATA")
        .env_remove("PGHOST")
        .env_remove("PGPORT")
        .env_remove("PGUSER")
        .env_remove("PGDATABASE");
    let shown = format!("{cmd:?}");
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    tokio::time::timeout(
        Duration::from_secs(u64::from(START_TIMEOUT_SECS) + 60),
        cmd.output(),
    )
    .await
    .map_err(|_| anyhow!("timed out: {shown}"))?
    .with_context(|| format!("running {shown}"))
}

/// Stops the embedded cluster in `dir` if one is running there (e.g. for `csms pg down`).
/// Returns whether a server was running.
pub async fn stop_dir(dir: &Path) -> Result<bool> {
    if !dir.exists() || !is_running(dir) {
        return Ok(false);
    }
    // Stopping reads no setting; either durability would do.
    let pg = EmbeddedPg::open(dir, "postgres", Durability::Durable).await?;
    pg.stop().await?;
    Ok(true)
}

/// True if a postmaster from an earlier run is running in `dir` (the folder given to
/// [`EmbeddedPg::start`]): `dir/data/postmaster.pid` names a live PostgreSQL process.
pub fn is_running(dir: &Path) -> bool {
    match postmaster_pid(&dir.join(DATA_SUBDIR)) {
        Some(pid) => process_is_postgres(pid).unwrap_or(false),
        None => false,
    }
}

/// Creates database `name` through `admin_url` (a URL of an existing database of the same
/// cluster, with rights to create databases) unless it exists. Returns true if it was created.
pub async fn create_database(admin_url: &str, name: &str) -> Result<bool> {
    let opts = PgConnectOptions::from_str(admin_url).context("parsing the admin database URL")?;
    let mut conn = opts.connect().await.context("connecting to PostgreSQL")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    let mut created = false;
    if !exists {
        let sql = format!("CREATE DATABASE {}", quote_ident(name));
        match sqlx::query(&sql).execute(&mut conn).await {
            Ok(_) => created = true,
            // Somebody else created it in between: fine.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let _ = conn.close().await;
    Ok(created)
}

// ---- free helpers ----------------------------------------------------------------------------

fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let pid: u32 = text.lines().next()?.trim().parse().ok()?;
    (pid > 0).then_some(pid)
}

/// `Some(true)` if `pid` is a live postgres process, `Some(false)` if it is dead or another
/// program, `None` if we cannot tell (no /proc).
fn process_is_postgres(pid: u32) -> Option<bool> {
    let proc_dir = Path::new("/proc");
    if proc_dir.join("self").exists() {
        let p = proc_dir.join(pid.to_string());
        return Some(match std::fs::read_to_string(p.join("comm")) {
            Ok(comm) => {
                let comm = comm.trim();
                comm == "postgres" || comm == "postmaster"
            }
            Err(_) => false,
        });
    }
    // No /proc: ask kill(1) whether the process exists (can't check what it is).
    let alive = std::process::Command::new("kill")
        .arg("-0")
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    Some(alive)
}

/// After a crash or reboot, postmaster.pid may name a PID now used by another program; the
/// postmaster would then refuse to start ("Is another postmaster running?"). Only remove it
/// when we know that process is not PostgreSQL.
fn remove_stale_pid_file(data_dir: &Path) {
    if let Some(pid) = postmaster_pid(data_dir) {
        let alive_other = process_is_postgres(pid) == Some(false)
            && Path::new("/proc").join(pid.to_string()).exists();
        if alive_other {
            tracing::warn!(
                pid,
                "removing stale postmaster.pid (that PID is now another program)"
            );
            let _ = std::fs::remove_file(data_dir.join("postmaster.pid"));
        }
    }
}

fn effective_uid_is_root() -> bool {
    // The `Uid:` line of /proc/self/status is "real effective saved fs".
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
            if let Some(euid) = line.split_whitespace().nth(2) {
                return euid == "0";
            }
        }
    }
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

#[derive(Debug, Clone, Copy)]
struct UserIds {
    uid: u32,
    gid: u32,
}

async fn lookup_user(user: &str) -> Result<UserIds> {
    let id = |flag: &'static str| {
        let user = user.to_owned();
        async move {
            let out = tokio::process::Command::new("id")
                .arg(flag)
                .arg(&user)
                .stdin(Stdio::null())
                .output()
                .await
                .ok()?;
            if !out.status.success() {
                return None;
            }
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<u32>()
                .ok()
        }
    };
    match (id("-u").await, id("-g").await) {
        (Some(uid), Some(gid)) if uid != 0 => Ok(UserIds { uid, gid }),
        (Some(_), Some(_)) => bail!(
            "PG_RUN_AS={user:?} is root; PostgreSQL refuses to run as root, name an unprivileged user"
        ),
        _ => bail!(
            "we run as root, and PostgreSQL refuses to run as root, so the embedded cluster runs \
             as the system user {user:?} — but that user does not exist. Install the server \
             (`apt-get install postgresql-15`, or run scripts/setup.sh), which creates it, or \
             create it: `useradd --system --home-dir /var/lib/postgresql --shell /bin/bash {user}`, \
             or set PG_RUN_AS to another unprivileged user"
        ),
    }
}

/// Like `create_dir_all`, returning the directories it created (outermost first).
fn create_dir_all_tracked(dir: &Path) -> Result<Vec<PathBuf>> {
    let abs = std::path::absolute(dir)?;
    let mut missing = Vec::new();
    let mut cur: Option<&Path> = Some(&abs);
    while let Some(p) = cur {
        if p.exists() {
            break;
        }
        missing.push(p.to_path_buf());
        cur = p.parent();
    }
    missing.reverse();
    std::fs::create_dir_all(&abs)?;
    // Report canonical paths so they compare with the canonicalized ancestors later.
    Ok(missing
        .into_iter()
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
        .collect())
}

/// As root: hand `dir` to `user` and make sure `user` can reach it.
async fn prepare_dir_for_user(
    dir: &Path,
    created: &[PathBuf],
    user: &str,
    ids: UserIds,
) -> Result<()> {
    // Every ancestor must be traversable (x) by the server's user.
    let ancestors: Vec<&Path> = {
        let mut v: Vec<&Path> = dir.ancestors().skip(1).collect();
        v.reverse();
        v
    };
    for a in ancestors {
        let meta = std::fs::metadata(a).with_context(|| format!("inspecting {}", a.display()))?;
        let mode = meta.mode();
        let traversable = mode & 0o001 != 0
            || (meta.uid() == ids.uid && mode & 0o100 != 0)
            || (meta.gid() == ids.gid && mode & 0o010 != 0);
        if traversable {
            continue;
        }
        let new_mode = if created.iter().any(|c| c == a) {
            (mode & 0o7777) | 0o755
        } else {
            // Only "x" (pass through by name), never "r" (list).
            (mode & 0o7777) | 0o001
        };
        tracing::warn!(
            path = %a.display(),
            old_mode = format!("{:o}", mode & 0o7777),
            new_mode = format!("{:o}", new_mode),
            user,
            "PostgreSQL runs as {user} (it refuses root): granting it passage through this directory"
        );
        std::fs::set_permissions(a, std::fs::Permissions::from_mode(new_mode)).map_err(|e| {
            anyhow!(
                "PostgreSQL must run as the unprivileged user {user:?} (it refuses to run as root), \
                 but that user cannot traverse {} (mode {:o}) to reach {}, and making it \
                 traversable failed: {e}. Run `chmod o+x {}` or choose a folder elsewhere \
                 (e.g. under /var/tmp)",
                a.display(),
                mode & 0o7777,
                dir.display(),
                a.display()
            )
        })?;
    }

    // The folder, the cluster and the log belong to the server's user.
    let needs_chown = [dir.to_path_buf(), dir.join(DATA_SUBDIR), dir.join(LOG_FILE)]
        .iter()
        .filter_map(|p| std::fs::symlink_metadata(p).ok())
        .any(|m| m.uid() != ids.uid);
    if needs_chown {
        let out = tokio::process::Command::new("chown")
            .arg("-R")
            .arg(format!("{}:{}", ids.uid, ids.gid))
            .arg(dir)
            .stdin(Stdio::null())
            .output()
            .await
            .context("running chown")?;
        if !out.status.success() {
            bail!(
                "chown -R {user} {} failed: {}",
                dir.display(),
                output_text(&out)
            );
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;

    // Check for real (ACLs, odd mounts): can `user` write into the folder?
    let args: Vec<OsString> = vec![
        "-w".into(),
        dir.into(),
        "-a".into(),
        "-x".into(),
        dir.into(),
    ];
    let out = run_as_user(Some(user), Path::new("/"), Path::new("test"), &args).await?;
    if !out.status.success() {
        let mut blocked = String::new();
        for a in dir.ancestors().collect::<Vec<_>>().into_iter().rev() {
            let args: Vec<OsString> = vec!["-x".into(), a.into()];
            if let Ok(o) = run_as_user(Some(user), Path::new("/"), Path::new("test"), &args).await {
                if !o.status.success() {
                    blocked = format!(" The first directory it cannot enter is {}.", a.display());
                    break;
                }
            }
        }
        bail!(
            "PostgreSQL must run as the unprivileged user {user:?} (it refuses to run as root), \
             but {user:?} cannot write to {}.{blocked} Make the path traversable for that user \
             (chmod o+x on each parent) or choose a folder elsewhere (e.g. under /var/tmp).{}",
            dir.display(),
            if output_text(&out).trim().is_empty() {
                String::new()
            } else {
                format!("\n{}", output_text(&out))
            }
        );
    }
    Ok(())
}

/// The socket lives in `dir` unless `dir/.s.PGSQL.<port>` is too long for a Unix socket path
/// (or unusable in postgresql.conf): then in `/tmp/csms-pg-<hash of dir>`.
fn choose_socket_dir(dir: &Path, port: u16, owner: Option<UserIds>) -> Result<PathBuf> {
    let file = format!("/.s.PGSQL.{port}");
    let s = dir.to_str();
    let usable = s.is_some_and(|s| {
        s.len() + file.len() <= MAX_SOCKET_PATH && !s.contains(',') && !s.contains('\'')
    });
    if usable {
        return Ok(dir.to_path_buf());
    }
    let short = std::env::temp_dir().join(format!(
        "csms-pg-{:016x}",
        fnv1a(dir.as_os_str().as_encoded_bytes())
    ));
    tracing::info!(
        dir = %dir.display(),
        socket_dir = %short.display(),
        "the folder's path is too long for a Unix socket (107 bytes max); putting the socket in a short directory instead"
    );
    match std::fs::create_dir(&short) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", short.display())),
    }
    let meta = std::fs::symlink_metadata(&short)?;
    if !meta.is_dir() {
        bail!("{} exists and is not a directory", short.display());
    }
    match owner {
        Some(ids) => std::os::unix::fs::chown(&short, Some(ids.uid), Some(ids.gid))?,
        None => {
            // Not root: the directory must be ours, or someone else controls our socket.
            let probe = short.join(".csms-owner-probe");
            std::fs::write(&probe, b"").with_context(|| {
                format!(
                    "{} is not writable by us (owned by uid {})",
                    short.display(),
                    meta.uid()
                )
            })?;
            let mine = std::fs::metadata(&probe)?.uid();
            let _ = std::fs::remove_file(&probe);
            if mine != meta.uid() {
                bail!(
                    "{} belongs to uid {}, not to us: remove it",
                    short.display(),
                    meta.uid()
                );
            }
        }
    }
    std::fs::set_permissions(&short, std::fs::Permissions::from_mode(0o700))?;
    Ok(short)
}

fn find_bin_dir(data_dir: &Path) -> Result<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();

    if let Some(bin) = std::env::var_os("PG_BIN") {
        let bin = PathBuf::from(bin);
        if has_tools(&bin) {
            return Ok(bin);
        }
        bail!("PG_BIN={} holds no initdb and pg_ctl", bin.display());
    }

    // Debian/Ubuntu: /usr/lib/postgresql/<major>/bin. Prefer the version that created an
    // existing cluster (a cluster only opens with its own major version), else the newest.
    let wanted = std::fs::read_to_string(data_dir.join("PG_VERSION"))
        .ok()
        .map(|v| v.trim().to_owned());
    let mut found: Vec<(Vec<u32>, String, PathBuf)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(version) = name
                .split('.')
                .map(str::parse::<u32>)
                .collect::<Result<Vec<_>, _>>()
            else {
                continue;
            };
            let bin = e.path().join("bin");
            if has_tools(&bin) {
                found.push((version, name, bin));
            }
        }
    }
    found.sort();
    if let Some(wanted) = &wanted {
        if let Some((_, _, bin)) = found.iter().find(|(_, name, _)| name == wanted) {
            return Ok(bin.clone());
        }
        if !found.is_empty() {
            let have: Vec<&str> = found.iter().map(|(_, n, _)| n.as_str()).collect();
            bail!(
                "the cluster in {} was created by PostgreSQL {wanted}, but only {} is installed \
                 under /usr/lib/postgresql (install postgresql-{wanted}, or remove the folder to \
                 start afresh)",
                data_dir.display(),
                have.join(", ")
            );
        }
    }
    if let Some((_, _, bin)) = found.pop() {
        return Ok(bin);
    }

    // Elsewhere (Fedora, Homebrew, ...): initdb and pg_ctl on PATH.
    if let Some(initdb) = find_in_path("initdb", &[]) {
        if let Some(bin) = initdb.parent().filter(|d| has_tools(d)) {
            return Ok(bin.to_path_buf());
        }
    }
    bail!(
        "no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and PATH). \
         Install them: `apt-get install postgresql-15 postgresql-contrib postgresql-15-postgis-3` \
         (or run scripts/setup.sh), or set PG_BIN to the directory holding initdb and pg_ctl"
    )
}

fn find_in_path(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn shell_quote(s: &OsStr) -> String {
    format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"))
}

/// The machine's memory in MiB, from /proc/meminfo.
fn memory_mb() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// A quarter of the memory, between PostgreSQL's 128 MB default and 4 GB: the default makes
/// a search over a million listings read most pages through the kernel (measured: half of the
/// server's time in copying from the page cache), and shared memory is only used as touched.
fn shared_buffers_mb() -> u64 {
    memory_mb().map_or(128, |mb| (mb / 4).clamp(128, 4096))
}

/// A string literal for postgresql.conf.
fn conf_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "''")
}

/// A double-quoted SQL identifier.
fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Percent-encodes all but RFC 3986 unreserved characters (and `/` when `keep_slash`).
fn percent_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn output_text(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    s
}

/// The last `lines` lines of the server log, formatted for an error message.
fn log_tail(path: &Path, lines: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
    let mut buf = Vec::new();
    if f.read_to_end(&mut buf).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    let tail = &all[all.len().saturating_sub(lines)..];
    if tail.is_empty() {
        return String::new();
    }
    format!(
        "\n--- last lines of {} ---\n{}",
        path.display(),
        tail.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::PgConnection;

    fn temp_dir(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("csms-epg-{tag}-{}", uuid::Uuid::new_v4().simple()))
    }

    /// Stops the cluster in `cluster` and removes `base` (and a short socket dir) even when an
    /// assertion fails.
    struct Cleanup {
        cluster: PathBuf,
        base: PathBuf,
    }
    impl Cleanup {
        fn new(cluster: &Path, base: &Path) -> Self {
            Cleanup {
                cluster: cluster.to_path_buf(),
                base: base.to_path_buf(),
            }
        }
    }
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let dir = self.cluster.clone();
            if is_running(&dir) {
                // Drop can't await: stop from a runtime of its own on another thread.
                let d = dir.clone();
                let _ = std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map(|rt| rt.block_on(stop_dir(&d)))
                })
                .join();
            }
            if let Ok(canonical) = std::fs::canonicalize(&dir) {
                let short = std::env::temp_dir().join(format!(
                    "csms-pg-{:016x}",
                    fnv1a(canonical.as_os_str().as_encoded_bytes())
                ));
                let _ = std::fs::remove_dir_all(short);
            }
            let _ = std::fs::remove_dir_all(&self.base);
        }
    }

    async fn select_one(url: &str) -> i32 {
        let mut conn = PgConnection::connect(url).await.expect("connect");
        let v: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        v
    }

    #[test]
    fn sqlx_parses_the_socket_url() {
        let pg = EmbeddedPg {
            dir: "/x".into(),
            data_dir: "/x/data".into(),
            socket_dir: "/tmp/a dir+x/var/pg".into(),
            log_file: "/x/postgres.log".into(),
            port: 5432,
            bin_dir: "/usr/lib/postgresql/15/bin".into(),
            run_as: None,
            db_name: "csms test".into(),
            reused: false,
            durability: Durability::Durable,
        };
        let url = pg.database_url();
        let opts = PgConnectOptions::from_str(&url).unwrap();
        assert_eq!(
            opts.get_socket(),
            Some(&PathBuf::from("/tmp/a dir+x/var/pg")),
            "{url}"
        );
        assert_eq!(opts.get_database(), Some("csms test"));
        assert_eq!(opts.get_port(), 5432);
        assert_eq!(opts.get_username(), "postgres");
    }

    #[test]
    fn long_paths_get_a_short_socket_dir() {
        let long = Path::new("/tmp").join("x".repeat(100));
        let short = choose_socket_dir(&long, 5432, None).unwrap();
        assert!(short.as_os_str().len() + 14 <= MAX_SOCKET_PATH);
        assert_eq!(
            short,
            choose_socket_dir(&long, 5432, None).unwrap(),
            "stable"
        );
        let _ = std::fs::remove_dir(&short);
        assert_eq!(
            choose_socket_dir(Path::new("/tmp/pg"), 5432, None).unwrap(),
            Path::new("/tmp/pg")
        );
    }

    #[tokio::test]
    async fn starts_connects_stops_and_restarts_on_the_same_data() {
        let dir = temp_dir("life");
        let _cleanup = Cleanup::new(&dir, &dir);

        let pg = EmbeddedPg::start(&dir, "csms_test", Durability::Durable)
            .await
            .expect("first start");
        assert!(!pg.reused());
        assert!(is_running(&dir));
        let url = pg.database_url();
        assert_eq!(select_one(&url).await, 1);

        let mut conn = PgConnection::connect(&url).await.unwrap();
        let sync: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            sync, "on",
            "a durable cluster answers only for what is on disk"
        );
        sqlx::query("CREATE TABLE kept (v int)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO kept VALUES (42)")
            .execute(&mut conn)
            .await
            .unwrap();
        let listen: String = sqlx::query_scalar("SHOW listen_addresses")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(listen, "", "no TCP listener");
        conn.close().await.unwrap();

        // A second start while it runs reuses the server.
        let again = EmbeddedPg::start(&dir, "csms_test", Durability::Durable)
            .await
            .expect("start while running");
        assert!(again.reused());
        assert_eq!(again.database_url(), url);
        drop(again);

        pg.stop().await.expect("stop");
        assert!(!is_running(&dir));

        // Start again on the existing data directory.
        let pg = EmbeddedPg::start(&dir, "csms_test", Durability::Throwaway)
            .await
            .expect("restart");
        assert!(!pg.reused());
        let mut conn = PgConnection::connect(&pg.database_url()).await.unwrap();
        let sync: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(sync, "off", "the settings are rewritten at every start");
        let v: i32 = sqlx::query_scalar("SELECT v FROM kept")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(v, 42);
        conn.close().await.unwrap();

        // Another database in the same cluster.
        assert!(create_database(&pg.url_for("postgres"), "other db")
            .await
            .unwrap());
        assert!(!create_database(&pg.url_for("postgres"), "other db")
            .await
            .unwrap());
        assert_eq!(select_one(&pg.url_for("other db")).await, 1);

        assert!(stop_dir(&dir).await.unwrap());
        assert!(!is_running(&dir));
        assert!(!stop_dir(&dir).await.unwrap());
    }

    #[tokio::test]
    async fn a_folder_with_a_long_path_works() {
        let base = temp_dir("long");
        let dir = base
            .join("a-rather-long-directory-name-to-exceed-the-unix-socket-limit")
            .join("var/pg");
        let _cleanup = Cleanup::new(&dir, &base);
        let pg = EmbeddedPg::start(&dir, "csms", Durability::Throwaway)
            .await
            .expect("start");
        assert_ne!(pg.socket_dir(), pg.dir());
        assert_eq!(select_one(&pg.database_url()).await, 1);
        assert!(pg.socket_dir().starts_with(std::env::temp_dir()));
        pg.stop().await.unwrap();
    }
}

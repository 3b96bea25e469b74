//! The database connection: the configured server, or the private cluster under ./var.

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::DbArgs;
use crate::embedded_pg::{Durability, EmbeddedPg};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

pub struct Database {
    pub pool: PgPool,
    /// Present when we started the cluster ourselves; stop it on exit.
    pub embedded: Option<EmbeddedPg>,
}

impl Database {
    pub async fn open(args: &DbArgs) -> anyhow::Result<Self> {
        let (url, embedded) = match &args.database_url {
            Some(url) => (url.clone(), None),
            None => {
                let pg = EmbeddedPg::start(&args.data_dir.join("pg"), "csms", Durability::Durable)
                    .await?;
                tracing::info!(url = %pg.database_url(), "using the private PostgreSQL cluster");
                (pg.database_url(), Some(pg))
            }
        };
        let mut options: PgConnectOptions = url.parse().context("parsing DATABASE_URL")?;
        if embedded.is_some() {
            // The private cluster may be one started throwaway (`csms pg up --throwaway`):
            // what this process commits is durable whatever the cluster's default.
            options = options.options([("synchronous_commit", "on")]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(args.db_max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx already pings each connection when it is returned; a second ping before
            // each use doubled the round trips of every short query (a quarter of csms's CPU
            // under TransactionEvent load). A connection that died while idle fails one query.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .with_context(|| "connecting to PostgreSQL")?;
        MIGRATOR.run(&pool).await.context("running migrations")?;
        Ok(Self { pool, embedded })
    }

    pub async fn close(self) {
        self.pool.close().await;
        // A cluster someone else started (e.g. `csms pg up`) is theirs to stop.
        if let Some(pg) = self.embedded.filter(|pg| !pg.reused()) {
            if let Err(e) = pg.stop().await {
                tracing::warn!(error = %e, "stopping the private PostgreSQL cluster");
            }
        }
    }
}

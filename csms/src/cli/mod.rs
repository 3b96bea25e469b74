//! The commands other than `serve`.

mod demo;
pub mod ledger;
pub mod subscriptions;
pub mod tariff;

use anyhow::{bail, Context};

use crate::config::{
    CertsCommand, Command, DbArgs, LedgerCommand, PgCommand, StationCommand, SubscriptionsCommand,
    TariffCommand, UserCommand,
};
use crate::db::Database;
use crate::ocpp::auth::{hash_password, valid_station_password};
use crate::ocpp::upgrade::valid_station_id;
use crate::{certs_dev, embedded_pg, store};

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => unreachable_serve(),
        Command::Migrate(db) => with_db(&db, |_| async { Ok(()) }).await,
        Command::User(UserCommand::Add {
            db,
            email,
            password,
            role,
            name,
        }) => {
            with_db(&db, |pool| async move {
                let role = role.parse().map_err(|_| {
                    anyhow::anyhow!("unknown role {role}: driver, host, operator or admin")
                })?;
                let user = marketplace::accounts::create_user(
                    &pool,
                    &email,
                    &password,
                    role,
                    name.as_deref(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!(
                    "created user {} ({}) with role {}",
                    user.email,
                    user.id,
                    user.role.as_str()
                );
                Ok(())
            })
            .await
        }
        Command::Station(StationCommand::Add {
            db,
            id,
            profile,
            password,
            status,
        }) => {
            if !valid_station_id(&id) {
                bail!("station id must be 1 to 48 characters of A-Z a-z 0-9 * - _ = + | @ .");
            }
            if let Some(p) = &password {
                if !valid_station_password(p) {
                    bail!("the password must be 16 to 40 characters");
                }
            }
            if matches!(profile, 1 | 2) && password.is_none() {
                bail!("security profiles 1 and 2 need --password");
            }
            with_db(&db, |pool| async move {
                let hash = password.map(|p| hash_password(&p));
                store::stations::upsert_provisioning(&pool, &id, profile, hash.as_deref(), &status)
                    .await?;
                println!("station {id}: security profile {profile}, {status}");
                Ok(())
            })
            .await
        }
        Command::Certs(CertsCommand::Dev {
            out,
            server_names,
            stations,
        }) => {
            let pki = certs_dev::write_dev_pki(&out, &server_names, &stations)?;
            println!("development PKI written to {}", out.display());
            println!("  CA:     {}", pki.ca_cert.display());
            println!(
                "  server: {} / {}",
                pki.server_cert.display(),
                pki.server_key.display()
            );
            for s in &pki.stations {
                println!(
                    "  station {}: {} / {}",
                    s.station_id,
                    s.cert.display(),
                    s.key.display()
                );
            }
            Ok(())
        }
        Command::Demo(args) => {
            let db = args.db.clone();
            with_db(&db, |pool| async move { demo::run(&pool, &args).await }).await
        }
        Command::Pg(PgCommand::Up {
            dir,
            database,
            throwaway,
        }) => {
            let durability = if throwaway {
                embedded_pg::Durability::Throwaway
            } else {
                embedded_pg::Durability::Durable
            };
            let pg = embedded_pg::EmbeddedPg::start(&dir, &database, durability).await?;
            println!("DATABASE_URL={}", pg.database_url());
            // Leave the cluster running: `csms pg down` stops it.
            std::mem::forget(pg);
            Ok(())
        }
        Command::Tariff(TariffCommand::Price {
            tariff: path,
            cdr,
            timezone,
        }) => {
            println!("{}", tariff::price(&path, &cdr, timezone.as_deref())?);
            Ok(())
        }
        Command::Ledger(LedgerCommand::Reconcile { db, json }) => {
            with_db(
                &db,
                |pool| async move { ledger::reconcile(&pool, json).await },
            )
            .await
        }
        Command::Ledger(LedgerCommand::PostDue { db }) => {
            with_db(&db, |pool| async move { ledger::post_due(&pool).await }).await
        }
        Command::Subscriptions(SubscriptionsCommand::RenewDue { db, at }) => {
            with_db(&db, |pool| async move {
                subscriptions::renew_due(&pool, at).await
            })
            .await
        }
        Command::Pg(PgCommand::Down { dir }) => {
            let stopped = embedded_pg::stop_dir(&dir)
                .await
                .context("stopping the cluster")?;
            eprintln!("{}", if stopped { "stopped" } else { "not running" });
            Ok(())
        }
    }
}

fn unreachable_serve() -> anyhow::Result<()> {
    bail!("serve is handled by main")
}

async fn with_db<F, Fut>(args: &DbArgs, f: F) -> anyhow::Result<()>
where
    F: FnOnce(sqlx::PgPool) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let db = Database::open(args).await?;
    let result = f(db.pool.clone()).await;
    db.close().await;
    result
}

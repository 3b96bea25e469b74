//! Demo data: who can log in, which stations are expected, which badges work, and a
//! believable marketplace around them (`city`), or synthetic bulk data (`synthetic`).

mod city;
mod synthetic;

use marketplace::accounts::{create_user, Role};
use sqlx::PgPool;

use crate::config::DemoArgs;

use crate::store::id_tokens::{self, NewIdToken};
use crate::store::stations;

pub const DEMO_PASSWORD: &str = "demo-password";
pub const DEMO_STATIONS: usize = 5;

pub async fn run(pool: &PgPool, args: &DemoArgs) -> anyhow::Result<()> {
    refuse_real_data(pool).await?;
    if let Some(n) = args.synthetic {
        return synthetic::seed(pool, n, args.seed).await;
    }
    seed(pool).await?;
    city::seed(pool).await
}

/// The demo's users share one published password and its stations need no authentication:
/// seeding them into a database with real accounts would open it to anyone.
async fn refuse_real_data(pool: &PgPool) -> anyhow::Result<()> {
    let real: Option<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE email NOT LIKE '%@demo.local' LIMIT 1")
            .fetch_optional(pool)
            .await?;
    if let Some(email) = real {
        anyhow::bail!(
            "this database holds accounts that are not demo accounts (e.g. {email}); \
             `csms demo` seeds only an empty or demo database"
        );
    }
    Ok(())
}

/// Creates a user unless the e-mail is taken; either way answers its id.
pub(crate) async fn ensure_user(
    pool: &PgPool,
    email: &str,
    role: Role,
    name: &str,
) -> anyhow::Result<uuid::Uuid> {
    match create_user(pool, email, DEMO_PASSWORD, role, Some(name)).await {
        Ok(u) => Ok(u.id),
        Err(marketplace::error::Error::Conflict { .. }) => {
            Ok(sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                .bind(email)
                .fetch_one(pool)
                .await?)
        }
        Err(e) => Err(anyhow::anyhow!("creating {email}: {e}")),
    }
}

pub async fn seed(pool: &PgPool) -> anyhow::Result<()> {
    let users = [
        ("admin@demo.local", Role::Admin, "Ada Admin"),
        ("operator@demo.local", Role::Operator, "Otto Operator"),
        ("host@demo.local", Role::Host, "Hana Host"),
        ("driver@demo.local", Role::Driver, "Dario Driver"),
    ];
    for (email, role, name) in users {
        match create_user(pool, email, DEMO_PASSWORD, role, Some(name)).await {
            Ok(u) => println!("user {email} ({})", u.role.as_str()),
            Err(marketplace::error::Error::Conflict { .. }) => {
                println!("user {email} already there")
            }
            Err(e) => return Err(anyhow::anyhow!("creating {email}: {e}")),
        }
    }
    for i in 1..=DEMO_STATIONS {
        let id = format!("SIM-{i}");
        if stations::get(pool, &id).await?.is_none() {
            stations::upsert_provisioning(pool, &id, 0, None, "Accepted").await?;
        }
    }
    println!("stations SIM-1..SIM-{DEMO_STATIONS} (security profile 0, accepted)");
    let tokens = [
        ("DEMO-TOKEN-1", "Accepted"),
        ("DEMO-TOKEN-2", "Accepted"),
        ("DEMO-BLOCKED", "Blocked"),
    ];
    for (token, status) in tokens {
        let t = NewIdToken {
            id_token: token,
            token_type: "ISO14443",
            status,
            expires_at: None,
            group_id: None,
            user_id: None,
        };
        match id_tokens::insert(pool, &t).await {
            Ok(_) => println!("id token {token} ({status})"),
            Err(sqlx::Error::Database(d)) if d.constraint() == Some("id_tokens_token_type_key") => {
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

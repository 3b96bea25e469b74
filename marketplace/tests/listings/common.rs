//! Fixtures shared by the listing tests.

use marketplace::accounts::{self, Role};
use marketplace::listings::model::{ConnectorType, CurrentType, ListingInput, PortInput};
use marketplace::AuthUser;
use sqlx::PgPool;

/// A stored user of `role`, as the extractors would present them.
pub async fn user(pool: &PgPool, email: &str, role: Role) -> AuthUser {
    // Cheap password hashing does not matter here; the accounts tests cover it.
    let user = accounts::create_user(pool, email, "correct horse battery", role, None)
        .await
        .unwrap();
    AuthUser { id: user.id, role }
}

/// `station` exists and belongs to `owner` (as after an approved claim).
pub async fn own_station(pool: &PgPool, owner: &AuthUser, station: &str) {
    sqlx::query(
        "INSERT INTO stations (id, security_profile, owner_id) VALUES ($1, 0, $2) \
         ON CONFLICT (id) DO UPDATE SET owner_id = EXCLUDED.owner_id",
    )
    .bind(station)
    .bind(owner.id)
    .execute(pool)
    .await
    .unwrap();
}

pub fn listing_input() -> ListingInput {
    ListingInput {
        title: "Wallbox in the garage".into(),
        address: "Hauptstr. 1, 10115 Berlin".into(),
        latitude: 52.52,
        longitude: 13.405,
        time_zone: "Europe/Berlin".into(),
        ..ListingInput::default()
    }
}

pub fn port(connector_type: ConnectorType, power_kw: f64) -> PortInput {
    PortInput {
        label: String::new(),
        connector_type,
        power_kw,
        current_type: CurrentType::Ac,
        evse_id: None,
        connector_id: None,
    }
}

pub fn ocpp_port(connector_type: ConnectorType, evse_id: i32, connector_id: i32) -> PortInput {
    PortInput {
        evse_id: Some(evse_id),
        connector_id: Some(connector_id),
        current_type: CurrentType::Dc,
        ..port(connector_type, 50.0)
    }
}

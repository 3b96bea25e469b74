//! OCPP 2.0.1 security profiles, checked before the WebSocket upgrade:
//! 0 = none (development mode only), 1 = Basic auth (plain ws only where explicitly allowed),
//! 2 = TLS + Basic auth, 3 = TLS with a client certificate whose CN is the stationId.
//!
//! A station the registry does not know has no password to check. In development mode it is
//! admitted unauthenticated (and recorded at profile 0 by its BootNotification); in production
//! only a client certificate issued to it by our CA proves who it is (recorded at profile 3),
//! and anything else is refused before the upgrade.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use dashmap::DashMap;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use std::net::IpAddr;
use std::time::Instant;

use super::auth_throttle::{hash_in_slot, Throttle};
use crate::server::PeerIdentity;
use crate::store::stations::{self, StationAuth};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refusal {
    #[error("HTTP Basic credentials for this station are required")]
    CredentialsRequired,
    #[error("wrong credentials")]
    BadCredentials,
    #[error("this station must connect over TLS (security profile {0})")]
    TlsRequired(i16),
    #[error("security profile 1 over plain ws is not enabled on this server")]
    PlainBasicDisabled,
    #[error("a client certificate with CN equal to the station id is required")]
    ClientCertRequired,
    #[error("the client certificate was issued to another station")]
    WrongClientCert,
    #[error("too many failed attempts; try again in {0} s")]
    Throttled(u64),
    #[error("the server is busy checking credentials; try again shortly")]
    Busy,
    #[error("security profile 0 (no authentication) is disabled in production mode")]
    UnauthenticatedDisabled,
    #[error("unknown station: an operator must provision it first (or it presents a client certificate)")]
    UnknownStation,
}

/// What the server allows, from its configuration.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Development mode: profile 0 stations, and unknown stations without credentials.
    pub dev: bool,
    /// Profile 1 (Basic auth) over plain ws://.
    pub allow_plain_basic: bool,
}

/// Who is connecting, once admitted.
#[derive(Debug, Clone)]
pub enum Admission {
    /// A provisioned station that authenticated at its profile.
    Known(StationAuth),
    /// A station the registry does not know yet, with the profile it proved (0 only in
    /// development mode, else 3); its BootNotification records it at that profile.
    Unknown { profile: i16 },
}

/// Hashes of passwords that already passed argon2 for the current stored hash, so that a
/// reconnect storm does not pay argon2 (tens of ms of CPU) once per station.
#[derive(Default)]
pub struct PasswordCache {
    verified: DashMap<String, (String, [u8; 32])>,
}

impl PasswordCache {
    fn hit(&self, station: &str, stored_hash: &str, password: &str) -> bool {
        self.verified.get(station).is_some_and(|entry| {
            entry.0 == stored_hash && entry.1 == <[u8; 32]>::from(Sha256::digest(password))
        })
    }

    fn remember(&self, station: &str, stored_hash: &str, password: &str) {
        self.verified.insert(
            station.to_owned(),
            (stored_hash.to_owned(), Sha256::digest(password).into()),
        );
    }
}

/// Decides whether the station may connect, before the upgrade: a newer connection replaces an
/// older one only once it got past this.
pub async fn check(
    pool: &PgPool,
    guard: Guard<'_>,
    station_id: &str,
    peer: &PeerIdentity,
    authorization: Option<&str>,
    policy: Policy,
) -> Result<Result<Admission, Refusal>, sqlx::Error> {
    if peer
        .client_cert_cn
        .as_deref()
        .is_some_and(|cn| cn != station_id)
    {
        return Ok(Err(Refusal::WrongClientCert));
    }
    let Some(record) = stations::auth_record(pool, station_id).await? else {
        return Ok(unknown(peer, policy));
    };
    let verdict = match record.security_profile {
        0 if !policy.dev => Err(Refusal::UnauthenticatedDisabled),
        1 if !peer.tls && !policy.allow_plain_basic => Err(Refusal::PlainBasicDisabled),
        2 if !peer.tls => Err(Refusal::TlsRequired(2)),
        1 | 2 => basic(guard, station_id, &record, authorization).await,
        3 if !peer.tls => Err(Refusal::TlsRequired(3)),
        3 if peer.client_cert_cn.is_none() => Err(Refusal::ClientCertRequired),
        _ => Ok(()),
    };
    Ok(verdict.map(|()| Admission::Known(record)))
}

/// An unknown station: its certificate (already matched to its id) proves profile 3; without
/// one only development mode lets it in.
fn unknown(peer: &PeerIdentity, policy: Policy) -> Result<Admission, Refusal> {
    if peer.tls && peer.client_cert_cn.is_some() {
        Ok(Admission::Unknown { profile: 3 })
    } else if policy.dev {
        Ok(Admission::Unknown { profile: 0 })
    } else {
        Err(Refusal::UnknownStation)
    }
}

/// What guards the password check: the cache of verified passwords, the failure counts and
/// the client's address.
#[derive(Clone, Copy)]
pub struct Guard<'a> {
    pub cache: &'a PasswordCache,
    pub failures: &'a Throttle,
    pub address: Option<IpAddr>,
}

async fn basic(
    guard: Guard<'_>,
    station_id: &str,
    record: &StationAuth,
    authorization: Option<&str>,
) -> Result<(), Refusal> {
    let (user, password) = authorization
        .and_then(parse_basic)
        .ok_or(Refusal::CredentialsRequired)?;
    let stored = record
        .password_hash
        .as_deref()
        .ok_or(Refusal::BadCredentials)?;
    if user == station_id && guard.cache.hit(station_id, stored, &password) {
        return Ok(());
    }
    let now = Instant::now();
    if let Some(secs) = guard.failures.retry_after(guard.address, station_id, now) {
        return Err(Refusal::Throttled(secs));
    }
    if user != station_id {
        guard.failures.failed(guard.address, station_id, now);
        return Err(Refusal::BadCredentials);
    }
    let hash = stored.to_owned();
    let pw = password.clone();
    let ok = hash_in_slot(move || verify_password(&pw, &hash))
        .await
        .ok_or(Refusal::Busy)?;
    if !ok {
        guard.failures.failed(guard.address, station_id, now);
        return Err(Refusal::BadCredentials);
    }
    guard.cache.remember(station_id, stored, &password);
    Ok(())
}

fn parse_basic(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

pub(crate) fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// OCPP 2.0.1 BasicAuthPassword: 16 to 40 characters.
pub fn valid_station_password(password: &str) -> bool {
    (16..=40).contains(&password.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_parsing() {
        let h = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("CS-1:pa:ss")
        );
        assert_eq!(parse_basic(&h), Some(("CS-1".into(), "pa:ss".into())));
        assert_eq!(parse_basic("Bearer x"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }

    #[test]
    fn hashes_verify() {
        let h = hash_password("0123456789abcdef");
        assert!(verify_password("0123456789abcdef", &h));
        assert!(!verify_password("0123456789abcdeX", &h));
    }

    #[test]
    fn unknown_stations_need_a_certificate_in_production() {
        let prod = Policy {
            dev: false,
            allow_plain_basic: false,
        };
        let dev = Policy { dev: true, ..prod };
        let plain = PeerIdentity::default();
        let cert = PeerIdentity {
            tls: true,
            client_cert_cn: Some("CS-1".into()),
        };
        assert!(matches!(
            unknown(&plain, prod),
            Err(Refusal::UnknownStation)
        ));
        assert!(matches!(
            unknown(&cert, prod),
            Ok(Admission::Unknown { profile: 3 })
        ));
        assert!(matches!(
            unknown(&plain, dev),
            Ok(Admission::Unknown { profile: 0 })
        ));
    }

    #[test]
    fn password_length_rule() {
        assert!(!valid_station_password("short"));
        assert!(valid_station_password(&"x".repeat(16)));
        assert!(!valid_station_password(&"x".repeat(41)));
    }
}

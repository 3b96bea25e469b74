//! Argon2id password hashing off the async runtime.
//!
//! One hash takes tens of milliseconds of CPU and 19 MiB of memory (argon2 crate defaults), so
//! it runs on the blocking pool, and a semaphore caps how many run at once. A request waits at
//! most [`SLOT_WAIT`] for a slot and is then refused with 503 `busy` and `Retry-After`: a
//! queue would only grow under a flood of logins (each waiter holding a connection and memory)
//! and answer everyone late, where failing fast keeps the node responsive for the rest.

use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

use crate::error::Error;

/// How long a request may wait for a hashing slot before it is answered 503 `busy`: longer
/// than a few hashes take, so ordinary bursts still pass.
pub const SLOT_WAIT: Duration = Duration::from_millis(1500);
/// What a refused request is told to wait (`Retry-After`, seconds).
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// One slot per core: argon2 is CPU-bound, so more parallel hashes only share the same cores.
static HASHING_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Semaphore::new(cores)
});

/// Hashes a password into a PHC string (`$argon2id$v=19$...`), salt included.
pub async fn hash(password: String) -> Result<String, Error> {
    run_blocking(move || hash_now(&password)).await?
}

/// Whether `password` matches the stored PHC `hash`.
pub async fn verify(password: String, hash: String) -> Result<bool, Error> {
    run_blocking(move || verify_now(&password, &hash)).await?
}

/// Burns the same time as a real verification. Login calls it for unknown emails so that the
/// response time does not reveal which emails have accounts.
pub async fn verify_dummy(password: String) -> Result<(), Error> {
    static DUMMY_HASH: OnceLock<String> = OnceLock::new();
    run_blocking(move || {
        let hash = match DUMMY_HASH.get() {
            Some(hash) => hash,
            None => {
                let hash = hash_now("not a password anyone uses")?;
                DUMMY_HASH.get_or_init(|| hash)
            }
        };
        verify_now(&password, hash).map(drop)
    })
    .await?
}

fn hash_now(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| Error::Internal(format!("hashing a password: {err}")))
}

fn verify_now(password: &str, hash: &str) -> Result<bool, Error> {
    let parsed = PasswordHash::new(hash)
        .map_err(|err| Error::Internal(format!("stored password hash is corrupt: {err}")))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(err) => Err(Error::Internal(format!("verifying a password: {err}"))),
    }
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    run_in_slot(&HASHING_SLOTS, SLOT_WAIT, work).await
}

/// Runs `work` on the blocking pool once one of `slots` is free, or fails with
/// [`Error::Busy`] if none frees within `wait`.
async fn run_in_slot<T: Send + 'static>(
    slots: &Semaphore,
    wait: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    let _slot = match tokio::time::timeout(wait, slots.acquire()).await {
        Ok(Ok(slot)) => slot,
        Ok(Err(_closed)) => {
            return Err(Error::Internal("password hashing semaphore closed".into()))
        }
        Err(_elapsed) => {
            tracing::warn!("no password hashing slot within {wait:?}; answering busy");
            return Err(Error::Busy {
                retry_after_secs: BUSY_RETRY_AFTER_SECS,
            });
        }
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| Error::Internal(format!("password hashing task failed: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_salted() {
        let first = hash("correct horse".into()).await.unwrap();
        let second = hash("correct horse".into()).await.unwrap();
        assert!(first.starts_with("$argon2id$"));
        assert_ne!(first, second, "every hash has its own salt");
        assert!(verify("correct horse".into(), first.clone()).await.unwrap());
        assert!(!verify("wrong horse".into(), first).await.unwrap());
        verify_dummy("anything".into()).await.unwrap();
    }

    #[tokio::test]
    async fn no_free_slot_fails_fast_with_busy() {
        // every slot taken: the request is refused instead of queueing, and nothing runs
        let slots = Semaphore::new(1);
        let _held = slots.acquire().await.unwrap();
        let err = run_in_slot(&slots, Duration::ZERO, || -> u8 { panic!("must not run") })
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Busy { retry_after_secs } if retry_after_secs == BUSY_RETRY_AFTER_SECS)
        );
        assert_eq!(err.status().as_u16(), 503);
    }

    #[tokio::test]
    async fn a_free_slot_runs_the_work_and_is_given_back() {
        let slots = Semaphore::new(1);
        assert_eq!(run_in_slot(&slots, Duration::ZERO, || 7).await.unwrap(), 7);
        assert_eq!(slots.available_permits(), 1);
        slots.close();
        let err = run_in_slot(&slots, Duration::ZERO, || 7).await.unwrap_err();
        assert!(matches!(err, Error::Internal(_)));
    }

    #[tokio::test]
    async fn corrupt_hash_is_an_internal_error() {
        let err = verify("x".into(), "not-a-phc-string".into())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Internal(_)));
    }
}

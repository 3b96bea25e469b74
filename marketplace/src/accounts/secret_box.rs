//! `SecretBox`: seals small secrets (TOTP seeds) for storage with XChaCha20-Poly1305.
//!
//! The key comes from configuration and never reaches the database, so a leaked dump or
//! backup does not leak second factors. XChaCha's 24-byte nonces are random per sealing (no
//! counter to keep across nodes and restarts); the associated data binds a sealed value to
//! its row, so it cannot be copied to another user's row and opened there.

use std::fmt;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::Error;

pub const KEY_BYTES: usize = 32;
/// The first byte of every sealed value: which format (and, later, which key) sealed it.
const FORMAT_V1: u8 = 1;
const NONCE_BYTES: usize = 24;

pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl SecretBox {
    pub fn new(key: [u8; KEY_BYTES]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// `FORMAT_V1 || nonce || ciphertext+tag`.
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Result<Vec<u8>, Error> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad: associated,
        };
        let sealed = self
            .cipher
            .encrypt(&nonce, payload)
            .map_err(|_| Error::Internal("sealing a secret failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`SecretBox::seal`] made with the same key and associated data. Anything
    /// else (another key, another row, a flipped bit) is an internal error: the database holds
    /// only what we sealed, so a failure means tampering or a wrong key configured.
    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> Result<Vec<u8>, Error> {
        let Some((&FORMAT_V1, rest)) = sealed.split_first() else {
            return Err(Error::Internal(
                "sealed secret has an unknown format".into(),
            ));
        };
        let Some((nonce, ciphertext)) = rest.split_first_chunk::<NONCE_BYTES>() else {
            return Err(Error::Internal("sealed secret is truncated".into()));
        };
        let payload = Payload {
            msg: ciphertext,
            aad: associated,
        };
        self.cipher
            .decrypt(&XNonce::from(*nonce), payload)
            .map_err(|_| {
                Error::Internal("a sealed secret does not open: wrong key or tampered row".into())
            })
    }
}

/// Never print the key.
impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretBox").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seals_and_opens_with_a_fresh_nonce_each_time() {
        let secrets = SecretBox::new([3; KEY_BYTES]);
        let first = secrets.seal(b"a totp seed 20 bytes", b"user-1").unwrap();
        let second = secrets.seal(b"a totp seed 20 bytes", b"user-1").unwrap();
        assert_ne!(first, second);
        assert_eq!(first.len(), 1 + NONCE_BYTES + 20 + 16);
        assert_eq!(
            secrets.open(&first, b"user-1").unwrap(),
            b"a totp seed 20 bytes"
        );
    }

    #[test]
    fn refuses_another_row_another_key_and_garbage() {
        let secrets = SecretBox::new([3; KEY_BYTES]);
        let sealed = secrets.seal(b"seed", b"user-1").unwrap();
        assert!(secrets.open(&sealed, b"user-2").is_err());
        assert!(SecretBox::new([4; KEY_BYTES])
            .open(&sealed, b"user-1")
            .is_err());
        for bad in [&[][..], &[1], &[2; 60], &sealed[..20]] {
            assert!(secrets.open(bad, b"user-1").is_err());
        }
        assert!(!format!("{secrets:?}").contains('3'));
    }

    proptest! {
        #[test]
        fn any_flipped_bit_is_refused(bit in 0usize..(1 + NONCE_BYTES + 4 + 16) * 8) {
            let secrets = SecretBox::new([9; KEY_BYTES]);
            let mut sealed = secrets.seal(b"seed", b"aad").unwrap();
            sealed[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(secrets.open(&sealed, b"aad").is_err());
        }
    }
}

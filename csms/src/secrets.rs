//! Server secrets kept as files under `<data-dir>/secrets/`, readable by the server's user
//! alone (mode 0600), when configuration does not give them. Never in the database: a copy of
//! the database (a backup, a replica, a support dump) must not be enough to forge tokens or
//! read second factors.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rand::RngCore;

/// Bytes of a generated secret.
pub const SECRET_BYTES: usize = 32;

/// The secret in `<data_dir>/secrets/<name>`, created with [`SECRET_BYTES`] random bytes the
/// first time. Several processes starting at once agree on one file: it is written under a
/// temporary name and linked into place, which fails when another process won.
pub fn load_or_create(data_dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    let dir = data_dir.join("secrets");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", dir.display()))?;
    let path = dir.join(name);
    if !path.exists() {
        create(&dir, &path)?;
    }
    read(&path)
}

fn create(dir: &Path, path: &Path) -> anyhow::Result<()> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let tmp: PathBuf = dir.join(format!(".{}.{}", std::process::id(), uuid::Uuid::new_v4()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(hex(&secret).as_bytes())?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new secret");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// Reads a secret file, refusing one that others than its owner may read.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mode = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} may be read by others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let secret = unhex(text.trim())
        .with_context(|| format!("{} must hold hexadecimal digits", path.display()))?;
    if secret.len() < SECRET_BYTES {
        bail!(
            "{} holds {} bytes; a secret needs at least {SECRET_BYTES}",
            path.display(),
            secret.len()
        );
    }
    Ok(secret)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hexadecimal digits as bytes (for keys given in configuration).
pub fn unhex(text: &str) -> anyhow::Result<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        bail!("odd length or non-ASCII");
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(Into::into))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("csms-secrets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn created_once_private_and_stable() {
        let dir = temp_dir();
        let first = load_or_create(&dir, "jwt.key").unwrap();
        assert_eq!(first.len(), SECRET_BYTES);
        assert_eq!(load_or_create(&dir, "jwt.key").unwrap(), first);
        let mode = std::fs::metadata(dir.join("secrets/jwt.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_ne!(load_or_create(&dir, "other.key").unwrap(), first);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_a_file_others_can_read_or_a_short_one() {
        let dir = temp_dir();
        load_or_create(&dir, "jwt.key").unwrap();
        let path = dir.join("secrets/jwt.key");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(&dir, "jwt.key").unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::write(&path, "abcd").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read(&path).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(
            unhex(&hex(&[0, 1, 254, 255])).unwrap(),
            vec![0, 1, 254, 255]
        );
        assert!(unhex("zz").is_err());
        assert!(unhex("abc").is_err());
    }
}

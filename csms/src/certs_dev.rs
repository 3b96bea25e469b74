//! Development PKI: a CA, a server certificate and station client certificates, so `wss://`
//! with OCPP security profiles 2 (TLS + basic auth) and 3 (TLS + client certificate) can be
//! tried locally. Not for production: see certs/README.md.
//!
//! Files written under `out_dir` (normally `./var/certs`, which is gitignored):
//!
//! ```text
//! ca.pem, ca.key                      self-signed CA "EV Platform Dev CA" (reused when present)
//! server.pem, server.key              serverAuth, SANs localhost, 127.0.0.1, ::1 + server_names
//! stations/<id>.pem, stations/<id>.key  clientAuth, CN = station id
//! ```
//!
//! All keys are ECDSA P-256 in PKCS#8 PEM, mode 0600. The CA is reused if it exists, so
//! certificates issued later chain to the same root; the server and station certificates
//! asked for are issued afresh at every call.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PublicKeyData as _, SerialNumber, PKCS_ECDSA_P256_SHA256,
};

/// The CA's common name.
pub const CA_COMMON_NAME: &str = "EV Platform Dev CA";
const ORGANIZATION: &str = "EV Platform (development)";
const CA_VALID_DAYS: i64 = 10 * 365;
const LEAF_VALID_DAYS: i64 = 2 * 365;

/// Where [`write_dev_pki`] put things.
#[derive(Debug, Clone)]
pub struct DevPki {
    pub dir: PathBuf,
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    /// False when an existing CA was reused.
    pub ca_created: bool,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub stations: Vec<StationCert>,
}

/// A station's client certificate and key.
#[derive(Debug, Clone)]
pub struct StationCert {
    pub station_id: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Writes the development PKI into `out_dir` (see the module docs): reuses `ca.pem`/`ca.key`
/// when present, (re)issues `server.pem`/`server.key` for localhost, 127.0.0.1, ::1 and
/// `server_names`, and `stations/<id>.pem`/`.key` for each station id.
pub fn write_dev_pki(
    out_dir: &Path,
    server_names: &[String],
    stations: &[String],
) -> Result<DevPki> {
    for id in stations {
        validate_station_id(id)?;
    }
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let ca = load_or_create_ca(out_dir)?;

    // Server certificate.
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    for n in server_names {
        let n = n.trim();
        if !n.is_empty() && !names.iter().any(|x| x.eq_ignore_ascii_case(n)) {
            names.push(n.to_owned());
        }
    }
    let cn = server_names
        .iter()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or("localhost")
        .to_owned();
    let mut params = CertificateParams::new(names.clone())
        .with_context(|| format!("invalid server name in {names:?}"))?;
    params.distinguished_name = dn(&cn);
    leaf_params(&mut params, ExtendedKeyUsagePurpose::ServerAuth);
    let server_cert = out_dir.join("server.pem");
    let server_key = out_dir.join("server.key");
    issue(&params, &ca, &server_cert, &server_key)?;
    tracing::info!(cert = %server_cert.display(), ?names, "issued dev server certificate");

    // Station client certificates.
    let issued = write_station_certs_with(out_dir, stations, &ca)?;

    Ok(DevPki {
        dir: out_dir.to_path_buf(),
        ca_cert: ca.cert_path.clone(),
        ca_key: ca.key_path.clone(),
        ca_created: ca.created,
        server_cert,
        server_key,
        stations: issued,
    })
}

/// Issues only station certificates (`stations/<id>.pem`/`.key`) from the CA in `out_dir`
/// (created if absent), leaving the server certificate alone.
pub fn write_station_certs(out_dir: &Path, stations: &[String]) -> Result<Vec<StationCert>> {
    for id in stations {
        validate_station_id(id)?;
    }
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let ca = load_or_create_ca(out_dir)?;
    write_station_certs_with(out_dir, stations, &ca)
}

fn write_station_certs_with(
    out_dir: &Path,
    stations: &[String],
    ca: &Ca,
) -> Result<Vec<StationCert>> {
    if stations.is_empty() {
        return Ok(Vec::new());
    }
    let dir = out_dir.join("stations");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut issued = Vec::with_capacity(stations.len());
    for id in stations {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(id);
        leaf_params(&mut params, ExtendedKeyUsagePurpose::ClientAuth);
        let cert = dir.join(format!("{id}.pem"));
        let key = dir.join(format!("{id}.key"));
        issue(&params, ca, &cert, &key)?;
        tracing::info!(station = %id, cert = %cert.display(), "issued dev station certificate");
        issued.push(StationCert {
            station_id: id.clone(),
            cert,
            key,
        });
    }
    Ok(issued)
}

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate's subject, DER, exactly as in the file: what every issued
    /// certificate's issuer field must equal.
    subject_der: Vec<u8>,
    cert_path: PathBuf,
    key_path: PathBuf,
    created: bool,
}

fn load_or_create_ca(out_dir: &Path) -> Result<Ca> {
    let cert_path = out_dir.join("ca.pem");
    let key_path = out_dir.join("ca.key");
    match (cert_path.exists(), key_path.exists()) {
        (true, true) => load_ca(cert_path, key_path),
        (false, false) => create_ca(cert_path, key_path),
        (cert, _) => bail!(
            "{} exists but {} does not: restore it, or remove both to create a new dev CA \
             (certificates issued by the old one will stop being trusted)",
            if cert {
                cert_path.display()
            } else {
                key_path.display()
            },
            if cert {
                key_path.display()
            } else {
                cert_path.display()
            },
        ),
    }
}

fn create_ca(cert_path: PathBuf, key_path: PathBuf) -> Result<Ca> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(CA_COMMON_NAME);
    // Path length 0: it signs end-entity certificates only.
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(random_serial());
    set_validity(&mut params, -1, CA_VALID_DAYS);
    let cert = params.self_signed(&key)?;

    write_secret(&key_path, key.serialize_pem().as_bytes())?;
    write_public(&cert_path, cert.pem().as_bytes())?;
    tracing::info!(cert = %cert_path.display(), "created dev CA {CA_COMMON_NAME:?}");

    let subject_der = subject_der(cert.der())?;
    Ok(Ca {
        issuer: Issuer::new(params, key),
        subject_der,
        cert_path,
        key_path,
        created: true,
    })
}

fn load_ca(cert_path: PathBuf, key_path: PathBuf) -> Result<Ca> {
    let key_pem = std::fs::read_to_string(&key_path)
        .with_context(|| format!("reading {}", key_path.display()))?;
    let key = KeyPair::from_pem(&key_pem)
        .with_context(|| format!("{} is not a PKCS#8 PEM private key", key_path.display()))?;
    let cert_pem =
        std::fs::read(&cert_path).with_context(|| format!("reading {}", cert_path.display()))?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&cert_pem)
        .map_err(|e| anyhow::anyhow!("{} is not a PEM certificate: {e}", cert_path.display()))?;
    let x509 = pem
        .parse_x509()
        .map_err(|e| anyhow::anyhow!("{} does not parse: {e}", cert_path.display()))?;

    if x509.public_key().raw != key.subject_public_key_info().as_slice() {
        bail!(
            "{} does not belong to {}",
            key_path.display(),
            cert_path.display()
        );
    }
    let is_ca = x509
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        bail!("{} is not a CA certificate", cert_path.display());
    }

    // Rebuild what signing needs: the subject (for issued certificates' issuer field) and the
    // key identifier (for their authority key identifier).
    let mut params = CertificateParams::default();
    params.distinguished_name = dn_from_x509(x509.subject())?;
    params.key_identifier_method = x509
        .iter_extensions()
        .find_map(|ext| match ext.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(kid) => {
                Some(KeyIdMethod::PreSpecified(kid.0.to_vec()))
            }
            _ => None,
        })
        .unwrap_or(KeyIdMethod::Sha256);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    tracing::info!(cert = %cert_path.display(), subject = %x509.subject(), "reusing dev CA");
    let subject_der = x509.subject().as_raw().to_vec();
    Ok(Ca {
        issuer: Issuer::new(params, key),
        subject_der,
        cert_path,
        key_path,
        created: false,
    })
}

fn leaf_params(params: &mut CertificateParams, eku: ExtendedKeyUsagePurpose) {
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![eku];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial());
    set_validity(params, -1, LEAF_VALID_DAYS);
}

/// Signs `params` with a new P-256 key and writes certificate and key.
fn issue(params: &CertificateParams, ca: &Ca, cert_path: &Path, key_path: &Path) -> Result<()> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let cert = params.signed_by(&key, &ca.issuer)?;
    // A CA made elsewhere may have a subject we cannot re-encode byte for byte; then the
    // certificate would not chain. Refuse rather than write it.
    let issuer_der = {
        let (_, x509) = x509_parser::parse_x509_certificate(cert.der())
            .map_err(|e| anyhow::anyhow!("issued certificate does not parse: {e}"))?;
        x509.issuer().as_raw().to_vec()
    };
    if issuer_der != ca.subject_der {
        bail!(
            "cannot issue certificates that chain to {} (its subject cannot be reproduced); \
             remove ca.pem and ca.key to create a new dev CA",
            ca.cert_path.display()
        );
    }
    write_secret(key_path, key.serialize_pem().as_bytes())?;
    write_public(cert_path, cert.pem().as_bytes())?;
    Ok(())
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, ORGANIZATION);
    dn.push(DnType::CommonName, common_name);
    dn
}

fn dn_from_x509(name: &x509_parser::x509::X509Name<'_>) -> Result<DistinguishedName> {
    use x509_parser::asn1_rs::Tag;
    let mut dn = DistinguishedName::new();
    for attr in name.iter_attributes() {
        let oid: Vec<u64> = attr
            .attr_type()
            .iter()
            .context("CA subject has an attribute type OID that does not fit u64")?
            .collect();
        let s = attr
            .as_str()
            .map_err(|e| anyhow::anyhow!("CA subject attribute is not a string: {e}"))?
            .to_owned();
        let value = match attr.attr_value().tag() {
            Tag::PrintableString => DnValue::PrintableString(s.try_into()?),
            Tag::Ia5String => DnValue::Ia5String(s.try_into()?),
            _ => DnValue::Utf8String(s),
        };
        dn.push(DnType::from_oid(&oid), value);
    }
    Ok(dn)
}

fn subject_der(cert_der: &[u8]) -> Result<Vec<u8>> {
    let (_, x509) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| anyhow::anyhow!("generated CA does not parse: {e}"))?;
    Ok(x509.subject().as_raw().to_vec())
}

/// Station ids become file names: refuse anything that could leave `stations/`.
fn validate_station_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id != "."
        && id != ".."
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '/' && c != '\\');
    if !ok {
        bail!("invalid station id {id:?}: use 1-64 printable ASCII characters, no '/', '\\' or leading '.'");
    }
    Ok(())
}

/// A random positive 16-byte serial number (RFC 5280: unique per CA, at most 20 bytes).
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01; // no leading zero byte to strip
    SerialNumber::from_slice(&bytes)
}

/// Sets `not_before`/`not_after` to midnight UTC `before` and `after` days from today.
/// (rcgen's dates are `time::OffsetDateTime`; `date_time_ymd` spares us that dependency.)
fn set_validity(params: &mut CertificateParams, before: i64, after: i64) {
    let today = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d.as_secs() / 86_400) as i64)
        .unwrap_or(0);
    let (y, m, d) = civil_from_days(today + before);
    params.not_before = date_time_ymd(y, m, d);
    let (y, m, d) = civil_from_days(today + after);
    params.not_after = date_time_ymd(y, m, d);
}

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m as u8, d as u8)
}

fn write_secret(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomically(path, contents, 0o600)
}

fn write_public(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomically(path, contents, 0o644)
}

/// Writes to a temporary file created with `mode` (a key is never readable by others, not
/// even for a moment) and renames it over `path`.
fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        // The umask may have narrowed `mode`; set it exactly.
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::sync::Arc;

    use rustls::client::danger::ServerCertVerifier as _;
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
    use x509_parser::extensions::GeneralName;

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("csms-certs-{}", uuid::Uuid::new_v4().simple()))
    }

    struct RemoveOnDrop(PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn der(path: &Path) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn cn(name: &x509_parser::x509::X509Name<'_>) -> String {
        name.iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn roots(ca: &Path) -> Arc<rustls::RootCertStore> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der(ca)).unwrap();
        Arc::new(roots)
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
    }

    #[test]
    fn rejects_station_ids_that_are_paths() {
        let dir = temp_dir();
        let _rm = RemoveOnDrop(dir.clone());
        for bad in ["", "..", "../x", "a/b", ".hidden", "with space"] {
            assert!(
                write_dev_pki(&dir, &[], &[bad.to_owned()]).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn writes_a_pki_whose_certificates_chain_to_the_reused_ca() {
        let dir = temp_dir();
        let _rm = RemoveOnDrop(dir.clone());

        let pki = write_dev_pki(&dir, &["csms.example.test".into()], &["CS-001".into()]).unwrap();
        assert!(pki.ca_created);
        assert_eq!(pki.ca_cert, dir.join("ca.pem"));
        assert_eq!(pki.stations[0].cert, dir.join("stations/CS-001.pem"));
        for key in [&pki.ca_key, &pki.server_key, &pki.stations[0].key] {
            assert_eq!(
                std::fs::metadata(key).unwrap().mode() & 0o777,
                0o600,
                "{}",
                key.display()
            );
        }

        // Parse everything back with x509-parser.
        let ca_der = der(&pki.ca_cert);
        let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
        assert_eq!(cn(ca.subject()), CA_COMMON_NAME);
        assert_eq!(ca.subject().as_raw(), ca.issuer().as_raw(), "self-signed");
        assert!(ca.basic_constraints().unwrap().unwrap().value.ca);

        let server_der = der(&pki.server_cert);
        let (_, server) = x509_parser::parse_x509_certificate(&server_der).unwrap();
        assert_eq!(server.issuer().as_raw(), ca.subject().as_raw());
        assert!(
            server
                .extended_key_usage()
                .unwrap()
                .unwrap()
                .value
                .server_auth
        );
        let sans: Vec<String> = server
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|n| match n {
                GeneralName::DNSName(d) => d.to_string(),
                GeneralName::IPAddress(ip) => match ip.len() {
                    4 => std::net::IpAddr::from(<[u8; 4]>::try_from(*ip).unwrap()).to_string(),
                    _ => std::net::IpAddr::from(<[u8; 16]>::try_from(*ip).unwrap()).to_string(),
                },
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(sans, ["localhost", "127.0.0.1", "::1", "csms.example.test"]);

        let station_der = der(&pki.stations[0].cert);
        let (_, station) = x509_parser::parse_x509_certificate(&station_der).unwrap();
        assert_eq!(cn(station.subject()), "CS-001");
        assert_eq!(cn(station.issuer()), CA_COMMON_NAME);
        assert_eq!(station.issuer().as_raw(), ca.subject().as_raw());
        let eku = station.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth);

        // Second run: same CA, new station still chains to it.
        let ca_pem_before = std::fs::read(&pki.ca_cert).unwrap();
        let again = write_dev_pki(&dir, &[], &["CS-002".into()]).unwrap();
        assert!(!again.ca_created);
        assert_eq!(std::fs::read(&again.ca_cert).unwrap(), ca_pem_before);
        let later = write_station_certs(&dir, &["CS-003".into()]).unwrap();
        assert_eq!(later[0].cert, dir.join("stations/CS-003.pem"));

        // Real chain validation, as the TLS server and a station would do it.
        let client_verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            roots(&pki.ca_cert),
            provider(),
        )
        .build()
        .unwrap();
        let server_verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            roots(&pki.ca_cert),
            provider(),
        )
        .build()
        .unwrap();
        for id in ["CS-001", "CS-002", "CS-003"] {
            let cert = der(&dir.join(format!("stations/{id}.pem")));
            client_verifier
                .verify_client_cert(&cert, &[], UnixTime::now())
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            // A station certificate is not a server certificate.
            assert!(server_verifier
                .verify_server_cert(
                    &cert,
                    &[],
                    &ServerName::try_from("localhost").unwrap(),
                    &[],
                    UnixTime::now()
                )
                .is_err());
        }
        for name in ["localhost", "127.0.0.1", "::1"] {
            server_verifier
                .verify_server_cert(
                    &der(&again.server_cert),
                    &[],
                    &ServerName::try_from(name).unwrap(),
                    &[],
                    UnixTime::now(),
                )
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }

        // The key files are usable PKCS#8 keys (as rustls loads them).
        for key in [&again.server_key, &again.stations[0].key] {
            rustls_pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
        }
    }

    #[test]
    fn refuses_a_half_present_ca() {
        let dir = temp_dir();
        let _rm = RemoveOnDrop(dir.clone());
        write_dev_pki(&dir, &[], &[]).unwrap();
        std::fs::remove_file(dir.join("ca.key")).unwrap();
        let err = write_dev_pki(&dir, &[], &[]).unwrap_err().to_string();
        assert!(err.contains("ca.key"), "{err}");
    }
}

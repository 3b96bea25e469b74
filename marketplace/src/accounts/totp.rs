//! The TOTP second factor (RFC 6238) and its recovery codes, with no I/O.
//!
//! SHA-1, 6 digits, 30-second steps, one step of skew either way: what every authenticator
//! app supports. Verification reports *which* step matched so the caller can store it and
//! refuse that step (and older ones) next time: a code seen over a shoulder is then useless.

use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};

use super::otp::constant_time_eq;

pub const ISSUER: &str = "EV Platform";
/// 160 bits, the size RFC 4226 recommends for HMAC-SHA-1.
pub const SECRET_BYTES: usize = 20;
pub const STEP_SECS: u64 = 30;
pub const DIGITS: usize = 6;
pub const SKEW_STEPS: u64 = 1;
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Lowercase letters and digits without the look-alikes 0/o, 1/l/i.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const RECOVERY_CHARS: usize = 10;

pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8]) -> TOTP {
    // `new_unchecked`: our secrets are always 160 bits; the checked constructor only adds a
    // length assertion that cannot fail here.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        SKEW_STEPS as u8,
        STEP_SECS,
        secret.to_vec(),
    )
}

/// The secret as authenticator apps want it typed: RFC 4648 base32, no padding.
pub fn secret_base32(secret: &[u8]) -> String {
    totp(secret).get_secret_base32()
}

/// The `otpauth://` URI (Google Authenticator key-URI format) that QR codes carry.
pub fn otpauth_uri(secret: &[u8], account: &str) -> String {
    let issuer = percent_encode(ISSUER);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        account = percent_encode(account),
        secret = secret_base32(secret),
    )
}

/// The code for the step that contains `unix_secs` (what the user's app shows then).
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    totp(secret).generate(unix_secs)
}

/// The time step a valid `code` belongs to, if any: the current step or one either side,
/// and only steps after `last_step`, so no code is accepted twice.
pub fn matching_step(
    secret: &[u8],
    code: &str,
    unix_secs: u64,
    last_step: Option<u64>,
) -> Option<u64> {
    let totp = totp(secret);
    let current = unix_secs / STEP_SECS;
    (current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS)
        .filter(|step| last_step.is_none_or(|last| *step > last))
        .find(|step| constant_time_eq(totp.generate(step * STEP_SECS).as_bytes(), code.as_bytes()))
}

/// Whether the input looks like a TOTP code (6 digits) rather than a recovery code.
pub fn is_totp_code(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// Ten fresh recovery codes, shown to the user once, as `xxxxx-xxxxx` (~49 bits each).
pub fn generate_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let chars: String = (0..RECOVERY_CHARS)
                .map(|_| RECOVERY_ALPHABET[OsRng.gen_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// Recovery codes are typed by hand: case, spaces and the dash do not matter.
pub fn normalize_recovery_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Only this digest is stored. A plain SHA-256 is enough: the codes are random, not chosen.
pub fn hash_recovery_code(raw: &str) -> [u8; 32] {
    Sha256::digest(normalize_recovery_code(raw).as_bytes()).into()
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The RFC 6238 appendix B key for SHA-1 ("12345678901234567890").
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn matches_rfc_6238_vectors() {
        // Appendix B gives 8 digits; our 6-digit codes are their last six.
        for (time, eight) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, time), &eight[2..], "t={time}");
        }
    }

    #[test]
    fn accepts_one_step_of_skew_and_no_more() {
        let now = 1_700_000_015; // inside step 56_666_667
        let step = now / STEP_SECS;
        let code_then = |offset: i64| code_at(RFC_SECRET, (now as i64 + offset) as u64);
        assert_eq!(
            matching_step(RFC_SECRET, &code_then(0), now, None),
            Some(step)
        );
        assert_eq!(
            matching_step(RFC_SECRET, &code_then(-30), now, None),
            Some(step - 1)
        );
        assert_eq!(
            matching_step(RFC_SECRET, &code_then(30), now, None),
            Some(step + 1)
        );
        assert_eq!(matching_step(RFC_SECRET, &code_then(-60), now, None), None);
        assert_eq!(matching_step(RFC_SECRET, &code_then(60), now, None), None);
        assert_eq!(matching_step(RFC_SECRET, "000000x", now, None), None);
    }

    #[test]
    fn refuses_replayed_and_older_steps() {
        let now = 1_700_000_015;
        let step = now / STEP_SECS;
        let code = code_at(RFC_SECRET, now);
        assert_eq!(matching_step(RFC_SECRET, &code, now, Some(step)), None);
        assert_eq!(matching_step(RFC_SECRET, &code, now, Some(step + 1)), None);
        assert_eq!(
            matching_step(RFC_SECRET, &code, now, Some(step - 1)),
            Some(step)
        );
    }

    #[test]
    fn otpauth_uri_names_issuer_and_account() {
        let uri = otpauth_uri(RFC_SECRET, "ada+ev@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/EV%20Platform:ada%2Bev%40example.com\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=EV%20Platform\
             &algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(generate_secret().len(), SECRET_BYTES);
    }

    #[test]
    fn recovery_codes_are_distinct_and_forgiving() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODE_COUNT);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
            assert!(!is_totp_code(code));
            let sloppy = format!(" {} ", code.to_uppercase().replace('-', " "));
            assert_eq!(hash_recovery_code(&sloppy), hash_recovery_code(code));
        }
        assert!(is_totp_code("123456"));
    }

    proptest! {
        #[test]
        fn the_current_code_always_matches(secret in any::<[u8; 20]>(), t in 60u64..4_000_000_000) {
            let code = code_at(&secret, t);
            prop_assert_eq!(code.len(), 6);
            // an earlier neighbouring step may share the code (one in a million): any of the
            // three accepted steps is right
            let step = matching_step(&secret, &code, t, None);
            prop_assert!(step.is_some_and(|s| s + 1 >= t / STEP_SECS && s <= t / STEP_SECS));
        }
    }
}

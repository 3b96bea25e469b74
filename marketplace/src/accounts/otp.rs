//! One-time codes sent by e-mail or SMS, with no I/O: channels, purposes, phone numbers, code
//! generation and the salted hash that is all the database ever holds.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const OTP_DIGITS: usize = 6;
pub const OTP_TTL_SECS: i64 = 5 * 60;
/// Wrong codes a challenge takes before it is locked: 5 guesses in a million.
pub const OTP_MAX_ATTEMPTS: i32 = 5;
pub const OTP_SALT_BYTES: usize = 16;

/// How a code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = OtpChannel)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

impl FromStr for Channel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "email" => Ok(Channel::Email),
            "sms" => Ok(Channel::Sms),
            other => Err(format!("unknown channel `{other}`")),
        }
    }
}

/// What a verified code is good for: `login` signs in without a password; `verify` (needs a
/// bearer token) proves the caller's own e-mail address or phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = OtpPurpose)]
pub enum Purpose {
    /// Sign in without a password.
    Login,
    /// Prove the signed-in user controls this e-mail address or phone.
    Verify,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Login => "login",
            Purpose::Verify => "verify",
        }
    }
}

impl FromStr for Purpose {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "login" => Ok(Purpose::Login),
            "verify" => Ok(Purpose::Verify),
            other => Err(format!("unknown purpose `{other}`")),
        }
    }
}

/// Removes the separators people type (`+49 170 123-4567`, `(555) 010.0199`); the rest must
/// then be E.164.
pub fn normalize_phone(raw: &str) -> String {
    raw.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect()
}

/// E.164: `+`, a country code not starting with 0, at most 15 digits in all. Seven digits is
/// a floor that rejects obvious junk; the shortest real numbers are about that long.
pub fn validate_e164(phone: &str) -> Result<(), &'static str> {
    if phone.is_empty() {
        return Err("is required");
    }
    let Some(digits) = phone.strip_prefix('+') else {
        return Err("must be in E.164 format, e.g. +4917012345678");
    };
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        Err("must be in E.164 format, e.g. +4917012345678")
    }
}

/// Normalises a destination for its channel and checks it; the error is for field
/// `destination`.
pub fn normalize_destination(channel: Channel, raw: &str) -> Result<String, &'static str> {
    match channel {
        Channel::Email => {
            let email = super::model::normalize_email(raw);
            super::model::validate_email(&email).map(|()| email)
        }
        Channel::Sms => {
            let phone = normalize_phone(raw);
            validate_e164(&phone).map(|()| phone)
        }
    }
}

/// A uniformly random 6-digit code from the OS generator (leading zeros kept).
pub fn generate_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

pub fn generate_salt() -> [u8; OTP_SALT_BYTES] {
    let mut salt = [0u8; OTP_SALT_BYTES];
    OsRng.fill_bytes(&mut salt);
    salt
}

/// SHA-256 over salt and code. A million codes are cheap to try against one hash, but the
/// salt makes every challenge its own search and a challenge lives 5 minutes: what matters
/// is that a copy of the table gives no list of live codes to read off.
pub fn hash_code(salt: &[u8], code: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(code.as_bytes());
    hasher.finalize().into()
}

/// Whether `code` hashes to `expected`, comparing every byte so timing tells nothing.
pub fn code_matches(salt: &[u8], code: &str, expected: &[u8]) -> bool {
    constant_time_eq(&hash_code(salt, code), expected)
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The shape a submitted code must have; the error is for field `code`.
pub fn validate_code_format(code: &str) -> Result<(), &'static str> {
    if code.len() == OTP_DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("must be 6 digits")
    }
}

pub fn expires_at(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::seconds(OTP_TTL_SECS)
}

/// The message for the outbox: the code goes into the body and nowhere else (never a log).
pub fn message(purpose: Purpose, code: &str) -> (Option<String>, String) {
    let what = match purpose {
        Purpose::Login => "sign-in",
        Purpose::Verify => "verification",
    };
    let subject = format!("Your EV Platform {what} code");
    let body = format!(
        "Your EV Platform {what} code is {code}. It expires in 5 minutes. \
         If you did not ask for it, ignore this message."
    );
    (Some(subject), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: Vec<String> = (0..200).map(|_| generate_code()).collect();
        for code in &codes {
            assert_eq!(validate_code_format(code), Ok(()), "{code}");
        }
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 190, "codes repeat too often");
    }

    #[test]
    fn code_format() {
        assert!(validate_code_format("012345").is_ok());
        for bad in ["", "12345", "1234567", "12345a", " 12345", "１２３４５６"] {
            assert!(validate_code_format(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hashes_depend_on_salt_and_code() {
        let salt = [1u8; 16];
        let hash = hash_code(&salt, "123456");
        assert!(code_matches(&salt, "123456", &hash));
        assert!(!code_matches(&salt, "123457", &hash));
        assert!(!code_matches(&[2u8; 16], "123456", &hash));
        assert!(!code_matches(&salt, "123456", &hash[..31]));
        assert_ne!(generate_salt(), generate_salt());
    }

    #[test]
    fn e164() {
        for ok in [
            "+4917012345678",
            "+14155550123",
            "+1234567",
            "+123456789012345",
        ] {
            assert_eq!(validate_e164(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "4917012345678",
            "+04917012345",
            "+1234",
            "+1234567890123456",
            "+49 170",
            "+49a7012345",
            "++4917012345",
        ] {
            assert!(validate_e164(bad).is_err(), "{bad:?}");
        }
        assert_eq!(normalize_phone(" +1 (415) 555-0123 "), "+14155550123");
    }

    #[test]
    fn destinations_follow_their_channel() {
        assert_eq!(
            normalize_destination(Channel::Email, " A@B.io "),
            Ok("a@b.io".into())
        );
        assert!(normalize_destination(Channel::Email, "+14155550123").is_err());
        assert_eq!(
            normalize_destination(Channel::Sms, "+1 415 555 0123"),
            Ok("+14155550123".into())
        );
        assert!(normalize_destination(Channel::Sms, "a@b.io").is_err());
    }

    #[test]
    fn message_holds_the_code() {
        let (subject, body) = message(Purpose::Login, "004211");
        assert!(subject.unwrap().contains("sign-in"));
        assert!(body.contains("004211"));
    }

    #[test]
    fn names_round_trip() {
        for c in [Channel::Email, Channel::Sms] {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
        for p in [Purpose::Login, Purpose::Verify] {
            assert_eq!(p.as_str().parse::<Purpose>(), Ok(p));
        }
        assert!("push".parse::<Channel>().is_err());
    }

    proptest! {
        #[test]
        fn valid_e164_numbers_pass(cc in "[1-9]", rest in "[0-9]{6,14}") {
            let phone = format!("+{cc}{rest}");
            prop_assert_eq!(validate_e164(&phone), Ok(()));
        }

        #[test]
        fn phone_validation_never_panics(raw in any::<String>()) {
            let _ = validate_e164(&normalize_phone(&raw));
        }

        #[test]
        fn only_the_right_code_matches(salt in any::<[u8; 16]>(), a in 0u32..1_000_000, b in 0u32..1_000_000) {
            let (a, b) = (format!("{a:06}"), format!("{b:06}"));
            prop_assert_eq!(code_matches(&salt, &b, &hash_code(&salt, &a)), a == b);
        }
    }
}

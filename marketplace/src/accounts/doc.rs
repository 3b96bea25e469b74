//! The account rules as the API document states them: regular expressions a string matches
//! exactly when the server accepts it (for e-mail addresses, a plain subset of what it
//! accepts), and the schemas of the body fields that carry them, so that a client or a
//! fuzzer can tell good input from bad by the document alone.
//!
//! Whitespace and control characters are spelled out instead of `\s`, since JSON Schema's
//! (ECMAScript) and Python's `\s` differ from Rust's `char::is_whitespace`, which `trim` uses.
//! Every string in a body must be free of NUL (PostgreSQL cannot store it), so no pattern
//! admits it.

use utoipa::openapi::schema::{Object, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};

use super::model::{EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};

/// Any string without NUL: passwords and tokens, which have no other rule.
pub const NO_NUL: &str = r"^[^\x00]*$";

/// A required name of at most 60 characters (a vehicle's make or model): trimmed, not blank,
/// no control characters.
pub const NAME_60: &str = concat!(
    r"^[\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[^\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"([^\x00-\x1f\x7f-\x9f]{0,58}",
    r"[^\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?",
    r"[\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
);

/// An optional name of at most 60 characters (a vehicle's nickname): blank means none.
pub const OPTIONAL_NAME_60: &str = concat!(
    r"^[\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"([^\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"([^\x00-\x1f\x7f-\x9f]{0,58}",
    r"[^\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?",
    r"[\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*)?$",
);

/// A display name: at most 100 characters once trimmed, no control characters; blank means
/// none.
pub const DISPLAY_NAME: &str = concat!(
    r"^[\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"([^\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"([^\x00-\x1f\x7f-\x9f]{0,98}",
    r"[^\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?",
    r"[\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*)?$",
);

/// An e-mail address the sign-up and one-time-code rules accept, with [`EMAIL_MAX_CHARS`]:
/// a dotted ASCII local part of at most 64 characters and a dotted ASCII domain. The server
/// also takes surrounding whitespace, any letter case and international domains.
pub const EMAIL: &str = concat!(
    r"^[A-Za-z0-9!#$%&'*+/=?^_\x60{|}~-]{1,32}(\.[A-Za-z0-9!#$%&'*+/=?^_\x60{|}~-]{1,15}){0,2}",
    r"@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
);

/// A phone number in E.164 (`+`, a country code not starting with 0, 7 to 15 digits), with
/// the separators people type (spaces, `-`, `.`, parentheses) anywhere.
pub const PHONE: &str = r"^[ ().-]*\+[ ().-]*[1-9]([ ().-]*[0-9]){6,14}[ ().-]*$";

/// [`PHONE`], or only separators (nothing): clears the profile's phone.
pub const OPTIONAL_PHONE: &str = r"^[ ().-]*(\+[ ().-]*[1-9]([ ().-]*[0-9]){6,14}[ ().-]*)?$";

/// A one-time code as sent: exactly six digits.
pub const OTP_CODE: &str = r"^[0-9]{6}$";

/// A TOTP code or a recovery code: 1 to 32 characters once trimmed.
pub const TOTP_CODE: &str = concat!(
    r"^[\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[^\x00\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"([^\x00]{0,30}",
    r"[^\x00\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?",
    r"[\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
);

/// A string field with a pattern and a description (`schema_with` drops the doc comment).
fn text(pattern: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
}

/// The same, `null` allowed too.
fn nullable_text(pattern: &str, description: &str) -> ObjectBuilder {
    text(pattern, description).schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

/// Sign-up e-mail address.
pub fn sign_up_email() -> Object {
    text(EMAIL, "Trimmed and lower-cased before use; must be free.")
        .max_length(Some(EMAIL_MAX_CHARS))
        .examples(["driver@example.com"])
        .build()
}

/// A new password: the length is the only rule.
pub fn new_password() -> Object {
    text(NO_NUL, "8 to 128 characters.")
        .min_length(Some(PASSWORD_MIN_CHARS))
        .max_length(Some(PASSWORD_MAX_CHARS))
        .examples(["correct horse battery"])
        .build()
}

/// The e-mail address a login names: anything, a wrong one is `invalid_credentials`.
pub fn login_email() -> Object {
    text(NO_NUL, "Compared trimmed and lower-cased.")
        .examples(["driver@example.com"])
        .build()
}

/// The password a login presents: anything, a wrong one is `invalid_credentials`.
pub fn login_password() -> Object {
    text(NO_NUL, "The account's password.")
        .examples(["correct horse battery"])
        .build()
}

/// An opaque token the server handed out (refresh token, `mfa_token`).
pub fn token() -> Object {
    text(NO_NUL, "As the server handed it out.").build()
}

/// The current password, where a change always needs it (2FA on and off).
pub fn current_password() -> Object {
    text(NO_NUL, "The account's password (re-authentication).")
        .min_length(Some(1))
        .build()
}

/// The current password, where only some changes need it (a new phone).
pub fn current_password_if_needed() -> Object {
    nullable_text(
        NO_NUL,
        "The account's password; required when the phone changes (set, replaced or cleared).",
    )
    .build()
}

/// A display name; blank or `null` is none.
pub fn display_name() -> Object {
    nullable_text(
        DISPLAY_NAME,
        "Trimmed; at most 100 characters, no control characters; blank means none.",
    )
    .examples(["Ada"])
    .build()
}

/// A new phone for the profile; blank or `null` clears it.
pub fn profile_phone() -> Object {
    nullable_text(
        OPTIONAL_PHONE,
        "E.164 (separators are dropped); a new phone starts unverified. Blank or `null` \
         clears it. Changing it needs `current_password`.",
    )
    .examples(["+31612345678"])
    .build()
}

/// The role picked at sign-up.
pub fn sign_up_role() -> Schema {
    let role = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["driver", "host"])),
        )
        .description(Some(
            "`driver` (the default) or `host`; other roles are given by an admin \
             (`csms user add`).",
        ))
        .build();
    Schema::OneOf(role)
}

/// A TOTP code, or where the route takes them a recovery code.
pub fn totp_code() -> Object {
    text(
        TOTP_CODE,
        "A TOTP code (6 digits) or a recovery code; trimmed.",
    )
    .examples(["123456"])
    .build()
}

/// A one-time code from an e-mail or SMS.
pub fn otp_code() -> Object {
    text(OTP_CODE, "The six digits that were sent.")
        .examples(["123456"])
        .build()
}

/// Where a one-time code goes by e-mail.
pub fn otp_email() -> Object {
    text(EMAIL, "An e-mail address; trimmed and lower-cased.")
        .max_length(Some(EMAIL_MAX_CHARS))
        .examples(["driver@example.com"])
        .build()
}

/// Where a one-time code goes by SMS.
pub fn otp_phone() -> Object {
    text(PHONE, "An E.164 phone number; separators are dropped.")
        .examples(["+31612345678"])
        .build()
}

/// A vehicle's make.
pub fn vehicle_make() -> Object {
    text(
        NAME_60,
        "Trimmed; not blank, at most 60 characters, no control characters.",
    )
    .examples(["Volkswagen"])
    .build()
}

/// A vehicle's model.
pub fn vehicle_model() -> Object {
    text(
        NAME_60,
        "Trimmed; not blank, at most 60 characters, no control characters.",
    )
    .examples(["ID.3"])
    .build()
}

/// A vehicle's nickname.
pub fn vehicle_nickname() -> Object {
    nullable_text(
        OPTIONAL_NAME_60,
        "Trimmed; at most 60 characters, no control characters; blank means none.",
    )
    .examples(["Daily"])
    .build()
}

/// Strings generated from a pattern, for tests: proptest's generator has no anchors, and
/// every pattern here is anchored at both ends.
#[cfg(test)]
pub(crate) fn matching(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    let inner = pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .expect("anchored pattern");
    proptest::string::string_regex(inner).expect("a pattern proptest understands")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::model::{normalize_display_name, normalize_email, validate_email};
    use crate::accounts::otp::{
        normalize_destination, normalize_phone, validate_code_format, validate_e164, Channel,
    };
    use crate::accounts::vehicles::model::{validate_vehicle, VehicleInput};
    use proptest::prelude::*;

    fn vehicle(make: &str, nickname: Option<&str>) -> VehicleInput {
        VehicleInput {
            make: make.to_owned(),
            model: "Model".to_owned(),
            year: None,
            battery_kwh: 50.0,
            connector_types: vec!["CCS2".to_owned()],
            nickname: nickname.map(str::to_owned),
            is_default: false,
        }
    }

    proptest! {
        #[test]
        fn names_matching_the_pattern_are_accepted(name in matching(NAME_60)) {
            prop_assert!(validate_vehicle(&vehicle(&name, None)).is_ok(), "{:?}", name);
        }

        #[test]
        fn nicknames_matching_the_pattern_are_accepted(name in matching(OPTIONAL_NAME_60)) {
            prop_assert!(validate_vehicle(&vehicle("Make", Some(&name))).is_ok(), "{:?}", name);
        }

        #[test]
        fn display_names_matching_the_pattern_are_accepted(name in matching(DISPLAY_NAME)) {
            prop_assert!(normalize_display_name(Some(&name)).is_ok(), "{:?}", name);
        }

        #[test]
        fn emails_matching_the_pattern_are_accepted(email in matching(EMAIL)) {
            prop_assume!(email.chars().count() <= EMAIL_MAX_CHARS);
            prop_assert_eq!(validate_email(&normalize_email(&email)), Ok(()), "{:?}", email);
            prop_assert!(normalize_destination(Channel::Email, &email).is_ok());
        }

        #[test]
        fn phones_matching_the_pattern_are_accepted(phone in matching(PHONE)) {
            prop_assert!(normalize_destination(Channel::Sms, &phone).is_ok(), "{:?}", phone);
        }

        #[test]
        fn profile_phones_matching_the_pattern_are_accepted(phone in matching(OPTIONAL_PHONE)) {
            let phone = normalize_phone(&phone);
            prop_assert!(phone.is_empty() || validate_e164(&phone).is_ok(), "{:?}", phone);
        }

        #[test]
        fn otp_codes_matching_the_pattern_are_accepted(code in matching(OTP_CODE)) {
            prop_assert_eq!(validate_code_format(&code), Ok(()));
        }
    }
}

//! Account rules with no I/O: roles, email and password policy, token claims, token hashing.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::FieldError;

pub const PASSWORD_MIN_CHARS: usize = 8;
/// An upper bound keeps a login request from making the server hash megabytes.
pub const PASSWORD_MAX_CHARS: usize = 128;
/// RFC 5321 path limit.
pub const EMAIL_MAX_CHARS: usize = 254;
pub const DISPLAY_NAME_MAX_CHARS: usize = 100;
pub const REFRESH_TOKEN_BYTES: usize = 32;
pub const REFRESH_TOKEN_TTL_DAYS: i32 = 30;
/// A login (a refresh-token family) ends this long after it started, however often its token
/// is rotated: a stolen refresh token kept fresh by rotation still dies, and the user proves
/// the password again at least monthly.
pub const REFRESH_FAMILY_MAX_DAYS: i32 = 30;

/// What a user may do. Stored as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Books and uses chargers.
    Driver,
    /// Lists own chargers for rent.
    Host,
    /// Runs the network: stations, support.
    Operator,
    /// Everything, including user management.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Driver, Role::Host, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Driver => "driver",
            Role::Host => "host",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Staff roles are granted by an admin or the CLI, never picked at sign-up.
    pub fn can_self_register(self) -> bool {
        matches!(self, Role::Driver | Role::Host)
    }

    /// Whether this role passes a check for any of `allowed`. Admin implicitly has every role.
    pub fn is_allowed(self, allowed: &[Role]) -> bool {
        self == Role::Admin || allowed.contains(&self)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A stored account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    /// E.164, unique across accounts.
    pub phone: Option<String>,
    /// When a one-time code sent to the address was last entered correctly.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// The same for the phone; cleared when the phone changes.
    pub phone_verified_at: Option<DateTime<Utc>>,
    /// Access tokens carry the version they were issued at; bumping it revokes them all.
    pub token_version: i32,
}

/// Sign-up input that passed every rule; `email` is normalised, `display_name` trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub role: Role,
    pub display_name: Option<String>,
}

/// Checks every field and reports all problems at once, so a form can show them together.
pub fn validate_new_account(
    email: &str,
    password: &str,
    role: Role,
    display_name: Option<&str>,
) -> Result<NewAccount, Vec<FieldError>> {
    let email = normalize_email(email);
    let mut errors = Vec::new();
    if let Err(message) = validate_email(&email) {
        errors.push(FieldError::new("email", message));
    }
    if let Err(message) = validate_password(password) {
        errors.push(FieldError::new("password", message));
    }
    let display_name = normalize_display_name(display_name).unwrap_or_else(|message| {
        errors.push(FieldError::new("display_name", message));
        None
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewAccount {
        email,
        password: password.to_owned(),
        role,
        display_name,
    })
}

/// Self-service sign-up: the account rules plus the role limit (`None` means driver).
pub fn validate_sign_up(
    email: &str,
    password: &str,
    role: Option<Role>,
    display_name: Option<&str>,
) -> Result<NewAccount, Vec<FieldError>> {
    let role = role.unwrap_or(Role::Driver);
    let checked = validate_new_account(email, password, role, display_name);
    if role.can_self_register() {
        return checked;
    }
    let mut errors = checked.err().unwrap_or_default();
    errors.push(FieldError::new(
        "role",
        "only `driver` or `host` can be chosen at sign-up",
    ));
    Err(errors)
}

/// Emails compare case-insensitively: trim and lowercase once, at the edge.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A pragmatic check of a normalised address: one `@`, a plausible local part and a dotted
/// domain. Deliverability is the mail server's business, not ours.
pub fn validate_email(email: &str) -> Result<(), &'static str> {
    const INVALID: &str = "is not a valid email address";
    if email.is_empty() {
        return Err("is required");
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err("is too long (at most 254 characters)");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(INVALID);
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(INVALID)
    }
}

/// Length is the only rule (NIST SP 800-63B): composition rules make passwords weaker.
pub fn validate_password(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        Err("must be at least 8 characters")
    } else if chars > PASSWORD_MAX_CHARS {
        Err("must be at most 128 characters")
    } else {
        Ok(())
    }
}

/// Trims; a blank name means "no name".
pub fn normalize_display_name(raw: Option<&str>) -> Result<Option<String>, &'static str> {
    let Some(name) = raw.map(str::trim).filter(|name| !name.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
        return Err("must be at most 100 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(Some(name.to_owned()))
}

/// The claims of an access token (a JWT signed with HS256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: Uuid,
    pub role: Role,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: u64,
    /// Unique per token, so a token can be traced (and, later, denied) on its own.
    pub jti: Uuid,
    /// The user's `token_version` when the token was issued; a token whose version is behind
    /// the user's is refused. Tokens from before versions existed read as 0, the first one.
    #[serde(default)]
    pub ver: i32,
}

impl AccessClaims {
    pub fn new(user_id: Uuid, role: Role, now_secs: u64, ttl: Duration, jti: Uuid) -> Self {
        Self {
            sub: user_id,
            role,
            iat: now_secs,
            exp: now_secs.saturating_add(ttl.as_secs()),
            jti,
            ver: 0,
        }
    }

    /// The same claims for a user at `token_version`.
    pub fn at_version(self, token_version: i32) -> Self {
        Self {
            ver: token_version,
            ..self
        }
    }
}

/// What login, register and refresh hand to the client (OAuth 2.0 token response shape):
/// an access token (JWT, short-lived) plus a rotating refresh token (single use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// Sent as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Trades for a new pair at `POST /api/auth/refresh`, once.
    pub refresh_token: String,
    #[schema(value_type = String, pattern = "^Bearer$", example = "Bearer")]
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds.
    #[schema(example = 900)]
    pub expires_in: u64,
}

impl TokenPair {
    pub fn bearer(access_token: String, refresh_token: String, ttl: Duration) -> Self {
        Self {
            access_token,
            refresh_token,
            token_type: "Bearer",
            expires_in: ttl.as_secs(),
        }
    }
}

/// What a login answers once the first factor passed: tokens, or a request for the second
/// factor when TOTP is on.
// Serialises as either body, untagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum LoginOutcome {
    Tokens(TokenPair),
    MfaRequired(MfaRequired),
}

impl LoginOutcome {
    /// The tokens, when no second factor was due.
    pub fn tokens(self) -> Option<TokenPair> {
        match self {
            LoginOutcome::Tokens(tokens) => Some(tokens),
            LoginOutcome::MfaRequired(_) => None,
        }
    }
}

/// `{"mfa_required": true, "mfa_token": "...", "expires_in": 300}`: present `mfa_token` with
/// a TOTP or recovery code at `/api/auth/login/2fa` to get the tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MfaRequired {
    /// Always `true`.
    #[schema(example = true)]
    pub mfa_required: bool,
    /// Single-use token naming the half-finished login.
    pub mfa_token: String,
    /// Lifetime of `mfa_token` in seconds.
    #[schema(example = 300)]
    pub expires_in: u64,
}

impl MfaRequired {
    pub fn new(mfa_token: String) -> Self {
        Self {
            mfa_required: true,
            mfa_token,
            expires_in: MFA_TOKEN_TTL_SECS as u64,
        }
    }
}

/// Long enough to open an authenticator app, short enough that a stolen one soon expires.
pub const MFA_TOKEN_TTL_SECS: i64 = 5 * 60;
/// Wrong second factors one `mfa_token` takes before it is locked.
pub const MFA_MAX_ATTEMPTS: i32 = 5;

/// The opaque refresh token the client holds: its random bytes, base64url without padding.
pub fn encode_refresh_token(bytes: &[u8; REFRESH_TOKEN_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Only this digest is stored, so a copy of the table cannot be replayed. A fast hash is
/// enough: the token has 256 random bits, there is nothing to brute-force.
pub fn hash_refresh_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn role_round_trips_and_rejects_unknown() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                serde_json::json!(role.as_str())
            );
        }
        assert_eq!("Admin".parse::<Role>(), Err(UnknownRole("Admin".into())));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn admin_has_every_role() {
        assert!(Role::Admin.is_allowed(&[Role::Operator]));
        assert!(Role::Admin.is_allowed(&[]));
        assert!(Role::Operator.is_allowed(&[Role::Operator, Role::Admin]));
        assert!(!Role::Driver.is_allowed(&[Role::Operator, Role::Admin]));
        assert!(!Role::Host.is_allowed(&[Role::Driver]));
    }

    #[test]
    fn only_driver_and_host_self_register() {
        let open: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.can_self_register())
            .collect();
        assert_eq!(open, [Role::Driver, Role::Host]);
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalize_email("  Ada.Lovelace@Example.COM "),
            "ada.lovelace@example.com"
        );
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "jürgen@müller.de",
        ] {
            assert_eq!(validate_email(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@b.com",
            "a@b@c.com",
            "a b@c.com",
            ".a@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b..com",
            "a@b.com.",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(validate_email(&long).is_err());
    }

    #[test]
    fn password_length_bounds() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
        // counted in characters, not bytes
        assert!(validate_password("ééééééé").is_err());
        assert!(validate_password(&"é".repeat(128)).is_ok());
        assert!(validate_password(&"x".repeat(129)).is_err());
    }

    #[test]
    fn display_names() {
        assert_eq!(normalize_display_name(None), Ok(None));
        assert_eq!(normalize_display_name(Some("   ")), Ok(None));
        assert_eq!(
            normalize_display_name(Some(" Ada ")),
            Ok(Some("Ada".into()))
        );
        assert!(normalize_display_name(Some(&"x".repeat(101))).is_err());
        assert!(normalize_display_name(Some("a\u{0}b")).is_err());
    }

    #[test]
    fn new_account_reports_every_field() {
        let errors = validate_new_account("nope", "short", Role::Driver, Some(&"x".repeat(200)))
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "display_name"]);

        let ok = validate_new_account(" A@B.io ", "correct horse", Role::Host, None).unwrap();
        assert_eq!(ok.email, "a@b.io");
        assert_eq!(ok.role, Role::Host);
    }

    #[test]
    fn sign_up_defaults_to_driver_and_refuses_staff_roles() {
        let ok = validate_sign_up("a@b.io", "long enough", None, None).unwrap();
        assert_eq!(ok.role, Role::Driver);
        let errors =
            validate_sign_up("a@b.io", "long enough", Some(Role::Admin), None).unwrap_err();
        assert_eq!(
            errors,
            [FieldError::new(
                "role",
                "only `driver` or `host` can be chosen at sign-up"
            )]
        );
        let errors =
            validate_sign_up("bad", "long enough", Some(Role::Operator), None).unwrap_err();
        assert_eq!(errors.len(), 2, "every field is reported");
    }

    #[test]
    fn claims_expire_after_ttl() {
        let id = Uuid::now_v7();
        let claims = AccessClaims::new(id, Role::Driver, 1_000, Duration::from_secs(900), id);
        assert_eq!((claims.iat, claims.exp), (1_000, 1_900));
        assert_eq!(claims.clone().at_version(4).ver, 4);
        // a token signed before versions existed has no `ver`: it is version 0
        let mut json = serde_json::to_value(&claims).unwrap();
        json.as_object_mut().unwrap().remove("ver");
        let old: AccessClaims = serde_json::from_value(json).unwrap();
        assert_eq!(old.ver, 0);
    }

    #[test]
    fn refresh_tokens_encode_and_hash() {
        let token = encode_refresh_token(&[0xff; REFRESH_TOKEN_BYTES]);
        assert_eq!(token.len(), 43);
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(hash_refresh_token(&token), hash_refresh_token(&token));
        assert_ne!(hash_refresh_token(&token), hash_refresh_token("other"));
    }

    proptest! {
        #[test]
        fn normalize_email_is_idempotent(raw in any::<String>()) {
            let once = normalize_email(&raw);
            prop_assert_eq!(normalize_email(&once), once);
        }

        #[test]
        fn validate_email_never_panics(raw in any::<String>()) {
            let _ = validate_email(&normalize_email(&raw));
        }

        #[test]
        fn plausible_emails_validate_in_any_case(
            local in "[a-zA-Z0-9][a-zA-Z0-9._+-]{0,20}[a-zA-Z0-9]",
            domain in "[a-zA-Z0-9]{1,20}\\.[a-zA-Z]{2,6}",
        ) {
            prop_assume!(!local.contains(".."));
            let email = format!("{local}@{domain}");
            let normalized = normalize_email(&email);
            prop_assert_eq!(validate_email(&normalized), Ok(()));
            prop_assert_eq!(normalize_email(&email.to_uppercase()), normalized);
        }

        #[test]
        fn password_policy_is_exactly_the_length_range(password in "\\PC{0,140}") {
            let chars = password.chars().count();
            prop_assert_eq!(
                validate_password(&password).is_ok(),
                (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars)
            );
        }

        #[test]
        fn refresh_token_encoding_is_injective(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            prop_assert_eq!(a == b, encode_refresh_token(&a) == encode_refresh_token(&b));
        }
    }
}

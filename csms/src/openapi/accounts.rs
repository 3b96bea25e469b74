//! Accounts: registration, login (with optional second factor), one-time codes, tokens, the
//! caller's profile and vehicles. Mirrors `marketplace::accounts::http` (and `http/otp.rs`,
//! `http/two_factor.rs`, `vehicles/http.rs`); bodies use snake_case.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::route::{one_of_schema, Access, Route};

const TAG: &str = "accounts";

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Role {
    Driver,
    Host,
    Operator,
    Admin,
}

/// `role` may only be `driver` or `host` at registration (others are a 422); other roles
/// are given by an admin (`csms user add`).
#[derive(ToSchema)]
pub struct RegisterBody {
    /// Trimmed and lower-cased before use.
    #[schema(example = "driver@example.com", max_length = 254)]
    pub email: String,
    #[schema(min_length = 8, max_length = 128, example = "correct horse battery")]
    pub password: String,
    /// Trimmed; blank means none.
    #[schema(max_length = 100)]
    pub display_name: Option<String>,
    /// Defaults to `driver`.
    pub role: Option<Role>,
}

#[derive(ToSchema)]
pub struct LoginBody {
    #[schema(example = "driver@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery")]
    pub password: String,
}

#[derive(ToSchema)]
pub struct RefreshBody {
    pub refresh_token: String,
}

/// Access token (JWT, short-lived) plus a rotating refresh token (single use).
#[derive(ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    #[schema(example = 900)]
    pub expires_in: u64,
}

/// The password (or one-time code) was right but the account has TOTP on: finish with
/// `POST /api/auth/login/2fa`.
#[derive(ToSchema)]
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

one_of_schema!(
    /// Tokens, or (when the account has 2FA on) the second-factor challenge.
    LoginAnswer = TokenPair | MfaRequired
);

/// The account as its owner sees it.
#[derive(ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    #[schema(required)]
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// E.164, e.g. `+31612345678`.
    #[schema(required)]
    pub phone: Option<String>,
    /// When a one-time code sent to the address was last entered correctly.
    #[schema(required)]
    pub email_verified_at: Option<DateTime<Utc>>,
    /// The same for the phone; cleared when the phone changes.
    #[schema(required)]
    pub phone_verified_at: Option<DateTime<Utc>>,
    pub two_factor_enabled: bool,
}

/// The new account (`two_factor_enabled` false) plus its first tokens, side by side.
#[derive(ToSchema)]
pub struct Registered {
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    pub expires_in: u64,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum OtpChannel {
    Email,
    Sms,
}

/// `login` signs in without a password; `verify` (needs a bearer token) proves the caller's
/// own e-mail address or phone.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum OtpPurpose {
    Login,
    Verify,
}

#[derive(ToSchema)]
pub struct OtpRequestBody {
    pub channel: OtpChannel,
    /// An e-mail address (`email`) or an E.164 phone number (`sms`).
    #[schema(example = "driver@example.com")]
    pub destination: String,
    pub purpose: OtpPurpose,
}

/// Answered whether or not the destination belongs to an account (nothing is sent when it
/// does not).
#[derive(ToSchema)]
pub struct OtpChallenge {
    pub challenge_id: Uuid,
    /// Lifetime of the code in seconds.
    #[schema(example = 300)]
    pub expires_in: u64,
}

/// Either `challenge_id`, or `channel` and `destination` (the newest code sent there); the
/// purpose is the one the code was requested for.
#[derive(ToSchema)]
pub struct OtpVerifyBody {
    pub challenge_id: Option<Uuid>,
    pub channel: Option<OtpChannel>,
    pub destination: Option<String>,
    #[schema(pattern = "^[0-9]{6}$", example = "123456")]
    pub code: String,
}

one_of_schema!(
    /// `login` codes answer like `POST /api/auth/login`; `verify` codes answer the caller's
    /// account with the contact verified.
    OtpVerified = TokenPair | MfaRequired | User
);

#[derive(ToSchema)]
pub struct Login2faBody {
    pub mfa_token: String,
    /// A TOTP code (6 digits) or a recovery code.
    #[schema(min_length = 1, max_length = 32, example = "123456")]
    pub code: String,
}

/// Absent fields stay as they are; `null` or `""` clears one.
#[derive(ToSchema)]
pub struct UpdateMeBody {
    #[schema(max_length = 100)]
    pub display_name: Option<String>,
    /// E.164; a new phone starts unverified. Changing it needs `current_password`.
    #[schema(example = "+31612345678")]
    pub phone: Option<String>,
    /// The account's password; required when the phone changes.
    pub current_password: Option<String>,
}

/// Shown once: the secret is never answered again.
#[derive(ToSchema)]
pub struct TotpSetup {
    /// Base32 TOTP secret, to type into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/...` for a QR code.
    pub otpauth_uri: String,
}

#[derive(ToSchema)]
pub struct TotpEnableBody {
    /// The account's password (re-authentication).
    pub current_password: String,
    /// A TOTP code from the app (recovery codes do not exist yet).
    #[schema(min_length = 1, max_length = 32, example = "123456")]
    pub code: String,
}

#[derive(ToSchema)]
pub struct TotpDisableBody {
    /// The account's password (re-authentication).
    pub current_password: String,
    /// A TOTP code or a recovery code.
    #[schema(min_length = 1, max_length = 32, example = "123456")]
    pub code: String,
}

#[derive(ToSchema)]
pub struct RecoveryCodes {
    /// Ten codes, shown once; each works once instead of a TOTP code.
    pub recovery_codes: Vec<String>,
}

#[derive(ToSchema)]
pub enum ConnectorType {
    #[schema(rename = "CCS1")]
    Ccs1,
    #[schema(rename = "CCS2")]
    Ccs2,
    #[schema(rename = "CHAdeMO")]
    Chademo,
    Type1,
    Type2,
    #[schema(rename = "NACS")]
    Nacs,
    Schuko,
}

/// Create or fully replace a vehicle. Names are trimmed.
#[derive(ToSchema)]
pub struct VehicleBody {
    #[schema(min_length = 1, max_length = 60, example = "Volkswagen")]
    pub make: String,
    #[schema(min_length = 1, max_length = 60, example = "ID.3")]
    pub model: String,
    #[schema(minimum = 1990, maximum = 2100, example = 2022)]
    pub year: Option<i32>,
    /// Usable capacity, more than 0 and at most 250.
    #[schema(exclusive_minimum = 0, maximum = 250, example = 58.0)]
    pub battery_kwh: f64,
    /// Duplicates are dropped.
    #[schema(min_items = 1)]
    pub connector_types: Vec<ConnectorType>,
    /// Blank means none.
    #[schema(max_length = 60)]
    pub nickname: Option<String>,
    /// Defaults to `false`. At most one default vehicle per user; setting it clears the
    /// others.
    pub is_default: Option<bool>,
}

#[derive(ToSchema)]
pub struct Vehicle {
    pub id: Uuid,
    pub make: String,
    pub model: String,
    #[schema(required)]
    pub year: Option<i32>,
    pub battery_kwh: f64,
    pub connector_types: Vec<ConnectorType>,
    #[schema(required)]
    pub nickname: Option<String>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct VehicleList {
    pub items: Vec<Vehicle>,
}

pub fn routes() -> Vec<Route> {
    let me = Access::AnyUser;
    let otp = Access::Optional("required for `purpose: verify`");
    let disabled = "`account_disabled`";
    let throttled = "`rate_limited`: too many failed logins for this account or client; see \
                     `Retry-After`";
    let busy = "`busy`: no password-hashing slot free; see `Retry-After`";
    let reauth = "`validation_failed` on `current_password`: missing or wrong";
    let default_race = "`default_vehicle_conflict`: another vehicle became the default at \
                        the same time; retry";
    vec![
        Route::post("/api/auth/register", TAG, "Create an account")
            .body::<RegisterBody>()
            .ok::<Registered>(201, "Created; signed in (`Cache-Control: no-store`)")
            .conflict("`email_taken`: the e-mail address is in use"),
        Route::post("/api/auth/login", TAG, "Log in with e-mail and password")
            .body::<LoginBody>()
            .ok::<LoginAnswer>(200, "Tokens, or a second-factor challenge")
            .problem(401, "`invalid_credentials`")
            .problem(403, disabled)
            .rate_limited(throttled)
            .problem(503, busy),
        Route::post(
            "/api/auth/refresh",
            TAG,
            "Trade a refresh token for a new pair",
        )
        .describe(
            "The refresh token rotates: the old one stops working. A login ends 30 days after \
             it started, however often it was refreshed.",
        )
        .body::<RefreshBody>()
        .ok::<TokenPair>(200, "New tokens")
        .problem(401, "`invalid_refresh_token`")
        .problem(403, disabled),
        Route::post("/api/auth/logout", TAG, "Revoke a refresh token")
            .body::<RefreshBody>()
            .empty(204, "Revoked (also when it already was)"),
        Route::post("/api/auth/otp/request", TAG, "Send a one-time code")
            .access(otp)
            .describe(
                "Answers 202 whether or not the destination has an account; nothing is sent \
                 when it has none. A new code replaces the older open ones for the destination.",
            )
            .body::<OtpRequestBody>()
            .ok::<OtpChallenge>(202, "Accepted (sent if the destination is known)")
            .rate_limited(
                "`rate_limited`: too many codes for this destination, client or account \
                 (20 a day); see `Retry-After`",
            ),
        Route::post("/api/auth/otp/verify", TAG, "Check a one-time code")
            .access(otp)
            .body::<OtpVerifyBody>()
            .ok::<OtpVerified>(
                200,
                "`login`: tokens or the second-factor step; `verify`: the account",
            )
            .problem(
                400,
                "`invalid_code` (wrong code), `otp_expired` (expired, used or replaced), \
                 `malformed_json` or `invalid_body`",
            )
            .conflict("`otp_locked`: too many wrong codes; request a new one")
            .rate_limited("`rate_limited`: 20 wrong codes for this account today"),
        Route::post(
            "/api/auth/login/2fa",
            TAG,
            "Finish a login with a TOTP or recovery code",
        )
        .body::<Login2faBody>()
        .ok::<TokenPair>(200, "Tokens")
        .problem(
            400,
            "`invalid_code`, `invalid_mfa_token` (unknown, expired or used), `malformed_json` \
             or `invalid_body`",
        )
        .problem(401, "`invalid_credentials`: the account is gone")
        .problem(403, disabled)
        .conflict("`mfa_locked`: too many wrong codes for this login; log in again")
        .rate_limited(throttled),
        Route::get("/api/me", TAG, "The caller's account")
            .access(me)
            .ok::<User>(200, "The account")
            .problem(403, disabled),
        Route::put("/api/me", TAG, "Update the caller's profile")
            .access(me)
            .body::<UpdateMeBody>()
            .ok::<User>(200, "Updated; a new phone is unverified")
            .problem(403, disabled)
            .problem(422, reauth)
            .rate_limited(throttled)
            .problem(503, busy)
            .conflict("`phone_taken`: another account has this phone"),
        Route::post("/api/me/2fa/setup", TAG, "Start TOTP enrolment")
            .access(me)
            .describe("A new secret replaces an unfinished set-up; 2FA is not on until enabled.")
            .ok::<TotpSetup>(200, "The secret, shown once")
            .conflict("`two_factor_already_enabled`")
            .problem(503, "`service_unavailable`: no TOTP key is configured"),
        Route::post(
            "/api/me/2fa/enable",
            TAG,
            "Turn TOTP on by proving the app works",
        )
        .access(me)
        .body::<TotpEnableBody>()
        .ok::<RecoveryCodes>(200, "2FA on; recovery codes shown once")
        .problem(400, "`invalid_code`, `malformed_json` or `invalid_body`")
        .problem(422, reauth)
        .rate_limited(throttled)
        .problem(503, busy)
        .conflict("`two_factor_not_set_up` or `two_factor_already_enabled`"),
        Route::post("/api/me/2fa/disable", TAG, "Turn TOTP off")
            .access(me)
            .body::<TotpDisableBody>()
            .empty(204, "2FA off")
            .problem(400, "`invalid_code`, `malformed_json` or `invalid_body`")
            .problem(422, reauth)
            .rate_limited(throttled)
            .problem(503, busy)
            .conflict("`two_factor_not_enabled`"),
        Route::get("/api/me/vehicles", TAG, "The caller's vehicles")
            .access(me)
            .ok::<VehicleList>(200, "Vehicles, default first"),
        Route::post("/api/me/vehicles", TAG, "Add a vehicle")
            .access(me)
            .body::<VehicleBody>()
            .ok::<Vehicle>(201, "Created")
            .conflict(default_race),
        Route::get("/api/me/vehicles/{id}", TAG, "One vehicle")
            .access(me)
            .uuid_param("id", "Vehicle id")
            .ok::<Vehicle>(200, "The vehicle")
            .not_found("vehicle"),
        Route::put("/api/me/vehicles/{id}", TAG, "Replace a vehicle")
            .access(me)
            .uuid_param("id", "Vehicle id")
            .body::<VehicleBody>()
            .ok::<Vehicle>(200, "Updated")
            .not_found("vehicle")
            .conflict(default_race),
        Route::delete("/api/me/vehicles/{id}", TAG, "Delete a vehicle")
            .access(me)
            .uuid_param("id", "Vehicle id")
            .empty(204, "Deleted")
            .not_found("vehicle"),
    ]
}

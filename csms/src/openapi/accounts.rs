//! Accounts: registration, login (with optional second factor), tokens, the caller's profile
//! and vehicles. Bodies use snake_case, as `marketplace::accounts::http` does.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::route::{Access, Route};

const TAG: &str = "accounts";

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Role {
    Driver,
    Host,
    Operator,
    Admin,
}

/// Only `driver` and `host` may be chosen at registration; other roles are given by an admin.
#[derive(ToSchema)]
pub struct RegisterBody {
    #[schema(example = "driver@example.com", max_length = 254)]
    pub email: String,
    #[schema(min_length = 8, max_length = 128, example = "correct horse battery")]
    pub password: String,
    #[schema(max_length = 100)]
    pub display_name: Option<String>,
    /// Defaults to `driver`.
    pub role: Option<Role>,
}

#[derive(ToSchema)]
pub struct LoginBody {
    pub email: String,
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

/// Login answers tokens, or — when the account has 2FA on — a challenge to finish with
/// `POST /api/auth/login/2fa`.
#[derive(ToSchema)]
pub struct LoginAnswer {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub token_type: Option<String>,
    pub expires_in: Option<u64>,
    /// Set when a second factor is required.
    pub mfa_required: Option<bool>,
    /// Short-lived token naming the half-finished login.
    pub mfa_token: Option<String>,
}

#[derive(ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub display_name: Option<String>,
    /// E.164, e.g. `+31612345678`.
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct Registered {
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: u64,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum OtpChannel {
    Email,
    Sms,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OtpPurpose {
    Login,
    VerifyEmail,
    VerifyPhone,
}

/// Always answers 202, whether or not the destination belongs to an account.
#[derive(ToSchema)]
pub struct OtpRequestBody {
    pub channel: OtpChannel,
    /// An e-mail address or an E.164 phone number.
    pub destination: String,
    pub purpose: OtpPurpose,
}

#[derive(ToSchema)]
pub struct OtpVerifyBody {
    pub channel: OtpChannel,
    pub destination: String,
    pub purpose: OtpPurpose,
    #[schema(pattern = "^[0-9]{6}$", example = "123456")]
    pub code: String,
}

#[derive(ToSchema)]
pub struct Login2faBody {
    pub mfa_token: String,
    /// A TOTP code (6 digits) or a recovery code.
    #[schema(example = "123456")]
    pub code: String,
}

#[derive(ToSchema)]
pub struct UpdateMeBody {
    #[schema(max_length = 100)]
    pub display_name: Option<String>,
    #[schema(pattern = r"^\+[1-9][0-9]{6,14}$", example = "+31612345678")]
    pub phone: Option<String>,
}

#[derive(ToSchema)]
pub struct TwoFactorSetup {
    /// Base32 TOTP secret, to type into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/...` for a QR code.
    pub otpauth_url: String,
}

#[derive(ToSchema)]
pub struct TwoFactorCodeBody {
    #[schema(pattern = "^[0-9]{6}$", example = "123456")]
    pub code: String,
}

#[derive(ToSchema)]
pub struct RecoveryCodes {
    /// Shown once; each works once instead of a TOTP code.
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

#[derive(ToSchema)]
pub struct VehicleBody {
    #[schema(min_length = 1, max_length = 60, example = "Volkswagen")]
    pub make: String,
    #[schema(min_length = 1, max_length = 60, example = "ID.3")]
    pub model: String,
    #[schema(minimum = 1990, maximum = 2100)]
    pub year: Option<i32>,
    /// Usable capacity, more than 0 and at most 250.
    #[schema(exclusive_minimum = 0, maximum = 250, example = 58.0)]
    pub battery_kwh: f64,
    #[schema(min_items = 1)]
    pub connector_types: Vec<ConnectorType>,
    #[schema(max_length = 40)]
    pub nickname: Option<String>,
    /// At most one default vehicle per driver; setting it clears the others.
    pub is_default: Option<bool>,
}

#[derive(ToSchema)]
pub struct Vehicle {
    pub id: Uuid,
    pub make: String,
    pub model: String,
    pub year: Option<i32>,
    pub battery_kwh: f64,
    pub connector_types: Vec<ConnectorType>,
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
    vec![
        Route::post("/api/auth/register", TAG, "Create an account")
            .body::<RegisterBody>()
            .ok::<Registered>(201, "Created; signed in")
            .conflict("`email_taken`: the e-mail address is in use"),
        Route::post("/api/auth/login", TAG, "Log in with e-mail and password")
            .body::<LoginBody>()
            .ok::<LoginAnswer>(200, "Tokens, or a second-factor challenge")
            .problem(401, "`invalid_credentials`")
            .problem(403, "`account_disabled`"),
        Route::post(
            "/api/auth/refresh",
            TAG,
            "Trade a refresh token for a new pair",
        )
        .describe("The refresh token rotates: the old one stops working.")
        .body::<RefreshBody>()
        .ok::<TokenPair>(200, "New tokens")
        .problem(401, "`invalid_refresh_token`"),
        Route::post("/api/auth/logout", TAG, "Revoke a refresh token")
            .body::<RefreshBody>()
            .empty(204, "Revoked (also when it already was)"),
        Route::post("/api/auth/otp/request", TAG, "Send a one-time code")
            .body::<OtpRequestBody>()
            .empty(202, "Accepted (sent if the destination is known)")
            .problem(
                429,
                "`too_many_requests`: rate limit for this destination or client",
            ),
        Route::post("/api/auth/otp/verify", TAG, "Check a one-time code")
            .describe(
                "For `login` answers tokens; for verification marks the e-mail/phone verified.",
            )
            .body::<OtpVerifyBody>()
            .ok::<TokenPair>(200, "Verified")
            .problem(401, "`invalid_code`: wrong, expired or used up")
            .problem(429, "`too_many_requests`"),
        Route::post(
            "/api/auth/login/2fa",
            TAG,
            "Finish a login with a TOTP or recovery code",
        )
        .body::<Login2faBody>()
        .ok::<TokenPair>(200, "Tokens")
        .problem(401, "`invalid_code` or expired `mfa_token`"),
        Route::get("/api/me", TAG, "The caller's account")
            .access(me)
            .ok::<User>(200, "The account")
            .problem(403, "`account_disabled`"),
        Route::put("/api/me", TAG, "Update the caller's profile")
            .access(me)
            .body::<UpdateMeBody>()
            .ok::<User>(200, "Updated; a new phone is unverified")
            .conflict("`phone_taken`"),
        Route::post("/api/me/2fa/setup", TAG, "Start TOTP enrolment")
            .access(me)
            .ok::<TwoFactorSetup>(200, "A new secret; 2FA is not on until enabled")
            .conflict("`2fa_already_enabled`"),
        Route::post(
            "/api/me/2fa/enable",
            TAG,
            "Turn TOTP on by proving the app works",
        )
        .access(me)
        .body::<TwoFactorCodeBody>()
        .ok::<RecoveryCodes>(200, "2FA on; recovery codes shown once")
        .problem(401, "`invalid_code`"),
        Route::post("/api/me/2fa/disable", TAG, "Turn TOTP off")
            .access(me)
            .body::<TwoFactorCodeBody>()
            .empty(204, "2FA off")
            .problem(401, "`invalid_code`"),
        Route::get("/api/me/vehicles", TAG, "The caller's vehicles")
            .access(me)
            .ok::<VehicleList>(200, "Vehicles, default first"),
        Route::post("/api/me/vehicles", TAG, "Add a vehicle")
            .access(me)
            .body::<VehicleBody>()
            .ok::<Vehicle>(201, "Created"),
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
            .not_found("vehicle"),
        Route::delete("/api/me/vehicles/{id}", TAG, "Delete a vehicle")
            .access(me)
            .uuid_param("id", "Vehicle id")
            .empty(204, "Deleted")
            .not_found("vehicle"),
    ]
}

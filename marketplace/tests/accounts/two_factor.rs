//! The TOTP second factor through the service, with the clock in the test's hands.

use chrono::{DateTime, Duration, Utc};
use marketplace::accounts::service::{self, Reauth, Registration};
use marketplace::accounts::totp::code_at;
use marketplace::accounts::{LoginOutcome, UNKNOWN_CLIENT};
use sqlx::PgPool;
use uuid::Uuid;

use super::support::{keys, secret_bytes, secrets, PASSWORD};

/// The owner, re-authenticated with the password.
fn owner() -> Reauth<'static> {
    Reauth {
        current_password: Some(PASSWORD),
        client_key: UNKNOWN_CLIENT,
    }
}

/// Inside a 30-second step (…00 + 10 s), so ±30 s lands in the neighbouring steps.
fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_000_010, 0).unwrap()
}

fn at(secret: &[u8], when: DateTime<Utc>) -> String {
    code_at(secret, when.timestamp() as u64)
}

async fn user(pool: &PgPool) -> Uuid {
    let input = Registration {
        email: "ada@example.com".into(),
        password: PASSWORD.into(),
        display_name: None,
        role: None,
    };
    service::register(pool, &keys(), input)
        .await
        .unwrap()
        .user
        .id
}

/// Sets up and enables TOTP at t0; answers the secret and the recovery codes.
async fn enabled(pool: &PgPool, id: Uuid) -> (Vec<u8>, Vec<String>) {
    let setup = service::setup_totp(pool, Some(&secrets()), id, t0())
        .await
        .unwrap();
    assert!(setup
        .otpauth_uri
        .starts_with("otpauth://totp/EV%20Platform:ada%40example.com?secret="));
    let secret = secret_bytes(&setup.secret);
    let codes = service::enable_totp(
        pool,
        Some(&secrets()),
        id,
        owner(),
        &at(&secret, t0()),
        t0(),
    )
    .await
    .unwrap();
    (secret, codes)
}

async fn mfa_token(pool: &PgPool) -> String {
    match service::login(pool, &keys(), "ada@example.com", PASSWORD, UNKNOWN_CLIENT)
        .await
        .unwrap()
    {
        LoginOutcome::MfaRequired(mfa) => {
            assert!(mfa.mfa_required);
            assert_eq!(mfa.expires_in, 300);
            mfa.mfa_token
        }
        LoginOutcome::Tokens(_) => panic!("expected the second-factor step"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn enable_needs_a_valid_code_and_answers_ten_recovery_codes(pool: PgPool) {
    let id = user(&pool).await;
    let err = service::enable_totp(&pool, Some(&secrets()), id, owner(), "123456", t0())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "two_factor_not_set_up");

    let setup = service::setup_totp(&pool, Some(&secrets()), id, t0())
        .await
        .unwrap();
    let secret = secret_bytes(&setup.secret);
    let stale = at(&secret, t0() - Duration::seconds(60));
    let err = service::enable_totp(&pool, Some(&secrets()), id, owner(), &stale, t0())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_code");
    assert!(
        !service::get_profile(&pool, id)
            .await
            .unwrap()
            .two_factor_enabled
    );

    let codes = service::enable_totp(
        &pool,
        Some(&secrets()),
        id,
        owner(),
        &at(&secret, t0()),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(codes.len(), 10);
    assert!(
        service::get_profile(&pool, id)
            .await
            .unwrap()
            .two_factor_enabled
    );
    let err = service::setup_totp(&pool, Some(&secrets()), id, t0())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "two_factor_already_enabled");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_totp_code_is_not_accepted_twice(pool: PgPool) {
    let id = user(&pool).await;
    let (secret, _) = enabled(&pool, id).await;
    // the code that enabled the factor cannot also finish a login
    let token = mfa_token(&pool).await;
    let err = service::complete_mfa_login(
        &pool,
        &keys(),
        Some(&secrets()),
        &token,
        &at(&secret, t0()),
        UNKNOWN_CLIENT,
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "invalid_code");
    // the next step's code works (one step of skew), once
    let next = at(&secret, t0() + Duration::seconds(30));
    let tokens = service::complete_mfa_login(
        &pool,
        &keys(),
        Some(&secrets()),
        &token,
        &next,
        UNKNOWN_CLIENT,
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(keys().verify_access(&tokens.access_token).unwrap().sub, id);
    let err = service::complete_mfa_login(
        &pool,
        &keys(),
        Some(&secrets()),
        &token,
        &next,
        UNKNOWN_CLIENT,
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.code(),
        "invalid_mfa_token",
        "the mfa_token is single use"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn recovery_codes_work_once(pool: PgPool) {
    let id = user(&pool).await;
    let (_, codes) = enabled(&pool, id).await;
    let token = mfa_token(&pool).await;
    let sloppy = codes[3].to_uppercase().replace('-', " ");
    service::complete_mfa_login(
        &pool,
        &keys(),
        Some(&secrets()),
        &token,
        &sloppy,
        UNKNOWN_CLIENT,
        t0(),
    )
    .await
    .unwrap();
    let token = mfa_token(&pool).await;
    let err = service::complete_mfa_login(
        &pool,
        &keys(),
        Some(&secrets()),
        &token,
        &codes[3],
        UNKNOWN_CLIENT,
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "invalid_code");
    service::complete_mfa_login(
        &pool,
        &keys(),
        Some(&secrets()),
        &token,
        &codes[4],
        UNKNOWN_CLIENT,
        t0(),
    )
    .await
    .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn mfa_tokens_expire_and_lock(pool: PgPool) {
    let id = user(&pool).await;
    let (secret, _) = enabled(&pool, id).await;
    let token = mfa_token(&pool).await;
    let late = Utc::now() + Duration::seconds(301);
    let err = service::complete_mfa_login(
        &pool,
        &keys(),
        Some(&secrets()),
        &token,
        &at(&secret, late),
        UNKNOWN_CLIENT,
        late,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "invalid_mfa_token");

    let token = mfa_token(&pool).await;
    for attempt in 1..=5 {
        let err = service::complete_mfa_login(
            &pool,
            &keys(),
            Some(&secrets()),
            &token,
            "zzzzz-zzzzz",
            UNKNOWN_CLIENT,
            t0(),
        )
        .await
        .unwrap_err();
        let expected = if attempt < 5 {
            "invalid_code"
        } else {
            "mfa_locked"
        };
        assert_eq!(err.code(), expected, "attempt {attempt}");
    }
    let good = at(&secret, t0() + Duration::seconds(30));
    let err = service::complete_mfa_login(
        &pool,
        &keys(),
        Some(&secrets()),
        &token,
        &good,
        UNKNOWN_CLIENT,
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "mfa_locked");
}

#[sqlx::test(migrations = "../migrations")]
async fn disable_needs_a_second_factor(pool: PgPool) {
    let id = user(&pool).await;
    let (secret, _) = enabled(&pool, id).await;
    let err = service::disable_totp(&pool, Some(&secrets()), id, owner(), "000000x", t0())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_code");
    let later = t0() + Duration::minutes(10);
    service::disable_totp(
        &pool,
        Some(&secrets()),
        id,
        owner(),
        &at(&secret, later),
        later,
    )
    .await
    .unwrap();
    assert!(
        !service::get_profile(&pool, id)
            .await
            .unwrap()
            .two_factor_enabled
    );
    let err = service::disable_totp(&pool, Some(&secrets()), id, owner(), "123456", later)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "two_factor_not_enabled");
    // password login gives tokens again
    let outcome = service::login(&pool, &keys(), "ada@example.com", PASSWORD, UNKNOWN_CLIENT)
        .await
        .unwrap();
    assert!(outcome.tokens().is_some());
}

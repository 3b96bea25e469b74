//! One-time codes through the service, with the clock in the test's hands.

use chrono::{DateTime, Duration, Utc};
use marketplace::accounts::service::{
    self, ChallengeRef, OtpChallenge, OtpRequest, OtpRequested, OtpVerified, Registration,
};
use marketplace::accounts::{Channel, LoginOutcome, Purpose};
use marketplace::Error;
use sqlx::PgPool;
use uuid::Uuid;

use super::support::{keys, last_code, other_code, outbox_count, PASSWORD};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn login_request(destination: &str, client: &str) -> OtpRequest {
    OtpRequest {
        channel: Channel::Email,
        destination: destination.into(),
        purpose: Purpose::Login,
        client_key: client.into(),
    }
}

async fn user(pool: &PgPool, email: &str) -> Uuid {
    service::register(
        pool,
        &keys(),
        Registration {
            email: email.into(),
            password: PASSWORD.into(),
            display_name: None,
            role: None,
        },
    )
    .await
    .unwrap()
    .user
    .id
}

async fn request(pool: &PgPool, input: OtpRequest, now: DateTime<Utc>) -> OtpChallenge {
    match service::request_otp(pool, None, input, now).await.unwrap() {
        OtpRequested::Accepted(challenge) => challenge,
        OtpRequested::RateLimited(limited) => panic!("rate limited: {limited:?}"),
    }
}

async fn verify(
    pool: &PgPool,
    id: Uuid,
    code: &str,
    now: DateTime<Utc>,
) -> Result<OtpVerified, Error> {
    service::verify_otp(pool, &keys(), None, ChallengeRef::Id(id), code, now).await
}

#[sqlx::test(migrations = "../migrations")]
async fn code_signs_in_once_and_verifies_the_email(pool: PgPool) {
    let id = user(&pool, "ada@example.com").await;
    let challenge = request(&pool, login_request(" ADA@example.com ", "1.2.3.4"), t0()).await;
    assert_eq!(challenge.expires_in, 300);
    let code = last_code(&pool, "ada@example.com").await.unwrap();
    assert_eq!(code.len(), 6);

    let outcome = verify(
        &pool,
        challenge.challenge_id,
        &code,
        t0() + Duration::minutes(4),
    )
    .await
    .unwrap();
    let OtpVerified::Login(LoginOutcome::Tokens(tokens)) = outcome else {
        panic!("expected tokens, got {outcome:?}");
    };
    assert_eq!(keys().verify_access(&tokens.access_token).unwrap().sub, id);
    let user = service::get_user(&pool, id).await.unwrap();
    assert!(user.email_verified_at.is_some());

    // single use
    let again = verify(
        &pool,
        challenge.challenge_id,
        &code,
        t0() + Duration::minutes(4),
    );
    assert_eq!(again.await.unwrap_err().code(), "otp_expired");
}

#[sqlx::test(migrations = "../migrations")]
async fn codes_expire_after_five_minutes(pool: PgPool) {
    user(&pool, "ada@example.com").await;
    let challenge = request(&pool, login_request("ada@example.com", "k"), t0()).await;
    let code = last_code(&pool, "ada@example.com").await.unwrap();
    let late = verify(
        &pool,
        challenge.challenge_id,
        &code,
        t0() + Duration::seconds(300),
    );
    assert_eq!(late.await.unwrap_err().code(), "otp_expired");
    let in_time = verify(
        &pool,
        challenge.challenge_id,
        &code,
        t0() + Duration::seconds(299),
    );
    assert!(in_time.await.is_ok());
}

#[sqlx::test(migrations = "../migrations")]
async fn five_wrong_codes_lock_the_challenge(pool: PgPool) {
    user(&pool, "ada@example.com").await;
    let challenge = request(&pool, login_request("ada@example.com", "k"), t0()).await;
    let code = last_code(&pool, "ada@example.com").await.unwrap();
    let wrong = other_code(&code);
    for attempt in 1..=5 {
        let err = verify(&pool, challenge.challenge_id, &wrong, t0())
            .await
            .unwrap_err();
        let expected = if attempt < 5 {
            "invalid_code"
        } else {
            "otp_locked"
        };
        assert_eq!(err.code(), expected, "attempt {attempt}");
    }
    let err = verify(&pool, challenge.challenge_id, &code, t0())
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "otp_locked",
        "even the right code is refused now"
    );
    assert_eq!(err.status().as_u16(), 409);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_request_supersedes_the_old_code(pool: PgPool) {
    user(&pool, "ada@example.com").await;
    let first = request(&pool, login_request("ada@example.com", "k"), t0()).await;
    let first_code = last_code(&pool, "ada@example.com").await.unwrap();
    let second = request(&pool, login_request("ada@example.com", "k"), t0()).await;
    let second_code = last_code(&pool, "ada@example.com").await.unwrap();

    let err = verify(&pool, first.challenge_id, &first_code, t0())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "otp_expired");
    // by destination: the newest challenge
    let by_destination = ChallengeRef::Destination {
        channel: Channel::Email,
        destination: "Ada@Example.com".into(),
    };
    service::verify_otp(&pool, &keys(), None, by_destination, &second_code, t0())
        .await
        .unwrap();
    assert_ne!(first.challenge_id, second.challenge_id);
}

#[sqlx::test(migrations = "../migrations")]
async fn per_identity_limit_then_window_slides(pool: PgPool) {
    user(&pool, "ada@example.com").await;
    for i in 0..3 {
        let now = t0() + Duration::minutes(i);
        request(
            &pool,
            login_request("ada@example.com", &format!("client-{i}")),
            now,
        )
        .await;
    }
    let now = t0() + Duration::minutes(3);
    let limited = service::request_otp(&pool, None, login_request("ada@example.com", "x"), now)
        .await
        .unwrap();
    // the oldest of the three (t0) leaves the 15-minute window at t0 + 15 min
    let OtpRequested::RateLimited(limited) = limited else {
        panic!("expected the limit");
    };
    assert_eq!(limited.retry_after_secs, 12 * 60);
    // another destination is not affected
    request(&pool, login_request("bob@example.com", "x"), now).await;
    // once the oldest left the window, one more is allowed
    request(
        &pool,
        login_request("ada@example.com", "x"),
        t0() + Duration::minutes(15),
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn per_client_limit(pool: PgPool) {
    for i in 0..20 {
        let destination = format!("user{i}@example.com");
        request(&pool, login_request(&destination, "203.0.113.9"), t0()).await;
    }
    let limited = service::request_otp(
        &pool,
        None,
        login_request("new@example.com", "203.0.113.9"),
        t0() + Duration::seconds(10),
    )
    .await
    .unwrap();
    assert_eq!(
        limited,
        OtpRequested::RateLimited(marketplace::accounts::RateLimited {
            retry_after_secs: 890
        })
    );
    request(
        &pool,
        login_request("new@example.com", "198.51.100.1"),
        t0(),
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_destination_gets_a_challenge_but_no_message(pool: PgPool) {
    user(&pool, "ada@example.com").await;
    let challenge = request(&pool, login_request("nobody@example.com", "k"), t0()).await;
    assert_eq!(challenge.expires_in, 300);
    assert_eq!(outbox_count(&pool).await, 0, "nothing is sent");
    // every guess fails exactly like a wrong code for a real account, and it locks the same
    for attempt in 1..=5 {
        let err = verify(&pool, challenge.challenge_id, "123456", t0())
            .await
            .unwrap_err();
        let expected = if attempt < 5 {
            "invalid_code"
        } else {
            "otp_locked"
        };
        assert_eq!(err.code(), expected);
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn verify_purpose_needs_the_owner(pool: PgPool) {
    let id = user(&pool, "ada@example.com").await;
    let mut input = login_request("ada@example.com", "k");
    input.purpose = Purpose::Verify;
    let err = service::request_otp(&pool, None, input.clone(), t0())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized));

    let mut not_mine = input.clone();
    not_mine.destination = "eve@example.com".into();
    let err = service::request_otp(&pool, Some(id), not_mine, t0())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "validation_failed");

    let OtpRequested::Accepted(challenge) = service::request_otp(&pool, Some(id), input, t0())
        .await
        .unwrap()
    else {
        panic!("limited")
    };
    let code = last_code(&pool, "ada@example.com").await.unwrap();
    let other = user(&pool, "eve@example.com").await;
    let by_id = ChallengeRef::Id(challenge.challenge_id);
    let err = service::verify_otp(&pool, &keys(), Some(other), by_id.clone(), &code, t0())
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "otp_expired",
        "someone else's challenge is not theirs"
    );
    let verified = service::verify_otp(&pool, &keys(), Some(id), by_id, &code, t0())
        .await
        .unwrap();
    let OtpVerified::Verified(user) = verified else {
        panic!("expected a verified user");
    };
    assert_eq!(user.email_verified_at, Some(t0()));
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_names_the_field(pool: PgPool) {
    let mut input = login_request("not-an-email", "k");
    let err = service::request_otp(&pool, None, input.clone(), t0())
        .await
        .unwrap_err();
    assert_eq!(field(err), "destination");
    input.channel = Channel::Sms;
    input.destination = "0170 1234567".into();
    let err = service::request_otp(&pool, None, input, t0())
        .await
        .unwrap_err();
    assert_eq!(field(err), "destination");
    let err = verify(&pool, Uuid::now_v7(), "12345", t0())
        .await
        .unwrap_err();
    assert_eq!(field(err), "code");
    let err = verify(&pool, Uuid::now_v7(), "123456", t0())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "otp_expired", "unknown ids look like used ones");
}

fn field(err: Error) -> String {
    match err {
        Error::Validation(errors) => errors[0].field.clone(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

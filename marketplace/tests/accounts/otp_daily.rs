//! The daily cap per account on one-time codes: however the attacker spreads requests over
//! destinations, windows and challenges, an account takes at most 20 codes and 20 wrong
//! guesses per 24 hours.

use chrono::{DateTime, Duration, Utc};
use marketplace::accounts::limits::OTP_PER_ACCOUNT_DAILY_LIMIT;
use marketplace::accounts::service::{
    self, ChallengeRef, OtpChallenge, OtpRequest, OtpRequested, Registration,
};
use marketplace::accounts::{Channel, Purpose};
use marketplace::Error;
use sqlx::PgPool;

use super::support::{keys, last_code, other_code, PASSWORD};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Past the per-destination window (3 codes per 15 minutes), so only the daily cap is left.
fn slot(n: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(16 * n)
}

async fn ada(pool: &PgPool) {
    let input = Registration {
        email: "ada@example.com".into(),
        password: PASSWORD.into(),
        display_name: None,
        role: None,
    };
    service::register(pool, &keys(), input).await.unwrap();
}

async fn ask(pool: &PgPool, now: DateTime<Utc>) -> OtpRequested {
    let input = OtpRequest {
        channel: Channel::Email,
        destination: "ada@example.com".into(),
        purpose: Purpose::Login,
        client_key: "198.51.100.1".into(),
    };
    service::request_otp(pool, None, input, now).await.unwrap()
}

fn accepted(requested: OtpRequested) -> OtpChallenge {
    match requested {
        OtpRequested::Accepted(challenge) => challenge,
        OtpRequested::RateLimited(limited) => panic!("rate limited: {limited:?}"),
    }
}

async fn guess(pool: &PgPool, challenge: &OtpChallenge, code: &str, now: DateTime<Utc>) -> Error {
    let id = ChallengeRef::Id(challenge.challenge_id);
    service::verify_otp(pool, &keys(), None, id, code, now)
        .await
        .unwrap_err()
}

#[sqlx::test(migrations = "../migrations")]
async fn codes_requested_are_capped_per_day(pool: PgPool) {
    ada(&pool).await;
    for n in 0..OTP_PER_ACCOUNT_DAILY_LIMIT {
        accepted(ask(&pool, slot(n)).await);
    }
    let now = slot(OTP_PER_ACCOUNT_DAILY_LIMIT);
    match ask(&pool, now).await {
        OtpRequested::RateLimited(limited) => {
            // until the first code of the day leaves the 24-hour window
            let expected = (t0() + Duration::hours(24) - now).num_seconds() as u64;
            assert_eq!(limited.retry_after_secs, expected);
        }
        OtpRequested::Accepted(_) => panic!("the 21st code of the day was sent"),
    }
    // a day after the first, one more
    accepted(ask(&pool, t0() + Duration::hours(24) + Duration::seconds(1)).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn wrong_codes_are_capped_per_day(pool: PgPool) {
    ada(&pool).await;
    // four challenges, each locked by five wrong codes: 20 wrong guesses
    for n in 0..4 {
        let challenge = accepted(ask(&pool, slot(n)).await);
        let code = last_code(&pool, "ada@example.com").await.unwrap();
        for _ in 0..5 {
            guess(&pool, &challenge, &other_code(&code), slot(n)).await;
        }
    }
    // a fifth challenge may be requested, but no code is checked any more today
    let challenge = accepted(ask(&pool, slot(4)).await);
    let code = last_code(&pool, "ada@example.com").await.unwrap();
    let err = guess(&pool, &challenge, &code, slot(4)).await;
    assert_eq!(err.code(), "rate_limited");
    assert_eq!(err.status().as_u16(), 429);
    match err {
        Error::RateLimited { retry_after_secs } => {
            let expected = (t0() + Duration::hours(24) - slot(4)).num_seconds() as u64;
            assert_eq!(retry_after_secs, expected);
        }
        other => panic!("{other:?}"),
    }
}

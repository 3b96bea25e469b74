//! One-time codes by e-mail or SMS: sign in without a password, or prove a contact is yours.
//!
//! An unknown destination is answered exactly like a known one (a challenge id, the same
//! rate limits, the same "wrong code" on every guess) but nothing is sent, so the endpoint
//! cannot be used to find out who has an account. A phone that is not verified is unknown for
//! sign-in: only `purpose: verify`, asked by the signed-in owner, sends a code to it.
//!
//! Besides the per-destination, per-client and per-challenge limits, each account may request
//! [`Limit::OTP_PER_ACCOUNT_DAILY`] codes and enter as many wrong codes per 24 hours.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::finish_login;
use crate::accounts::limits::{Limit, RateLimited};
use crate::accounts::model::{LoginOutcome, User};
use crate::accounts::otp::{
    code_matches, expires_at, generate_code, generate_salt, hash_code, message,
    normalize_destination, validate_code_format, Channel, Purpose, OTP_MAX_ATTEMPTS, OTP_TTL_SECS,
};
use crate::accounts::store::{self, ChallengeRow, NewChallenge};
use crate::accounts::tokens::AuthKeys;
use crate::error::Error;
use crate::plumbing::{Notifier, Outbox};

/// A request for a code, as it came over the wire.
#[derive(Debug, Clone)]
pub struct OtpRequest {
    pub channel: Channel,
    pub destination: String,
    pub purpose: Purpose,
    /// Who asks: the client IP (or a fixed key when unknown), for the per-client limit.
    pub client_key: String,
}

/// `{"challenge_id": "...", "expires_in": 300}`: answered whether or not the destination
/// belongs to an account (nothing is sent when it does not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OtpChallenge {
    pub challenge_id: Uuid,
    /// Lifetime of the code in seconds.
    #[schema(example = 300)]
    pub expires_in: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpRequested {
    Accepted(OtpChallenge),
    /// A limit was hit; nothing was stored or sent.
    RateLimited(RateLimited),
}

/// Which challenge a code answers: by id, or the newest one for a destination.
#[derive(Debug, Clone)]
pub enum ChallengeRef {
    Id(Uuid),
    Destination {
        channel: Channel,
        destination: String,
    },
}

#[derive(Debug, Clone)]
pub enum OtpVerified {
    /// `purpose: login`: tokens, or the second-factor step.
    Login(LoginOutcome),
    /// `purpose: verify`: the account with the contact now verified.
    Verified(User),
}

/// Creates a challenge and queues the code in the outbox, in one transaction. `caller` is
/// the signed-in user, required for `purpose: verify`.
pub async fn request_otp(
    pool: &PgPool,
    caller: Option<Uuid>,
    input: OtpRequest,
    now: DateTime<Utc>,
) -> Result<OtpRequested, Error> {
    let destination = normalize_destination(input.channel, &input.destination)
        .map_err(|message| Error::invalid("destination", message))?;

    let mut tx = pool.begin().await?;
    let user = match input.purpose {
        Purpose::Login => {
            store::user_by_login_contact(&mut tx, input.channel, &destination).await?
        }
        Purpose::Verify => {
            let caller = caller.ok_or(Error::Unauthorized)?;
            let user = store::user_by_id(&mut tx, caller)
                .await?
                .ok_or(Error::Unauthorized)?;
            check_own_contact(&user, input.channel, &destination)?;
            Some(user)
        }
    };

    // Destination first, then client: every request takes the locks in that order, so two
    // requests never wait on each other crosswise.
    let destination_key = format!("otp:{}:{destination}", input.channel.as_str());
    store::lock_key(&mut tx, &destination_key).await?;
    store::lock_key(&mut tx, &format!("otp-client:{}", input.client_key)).await?;
    let (sent, oldest) = store::count_for_destination(
        &mut tx,
        input.channel,
        &destination,
        Limit::PER_IDENTITY.since(now),
    )
    .await?;
    let by_destination = Limit::PER_IDENTITY.retry_after(sent, oldest, now);
    let (asked, oldest) =
        store::count_for_client(&mut tx, &input.client_key, Limit::PER_CLIENT.since(now)).await?;
    let by_client = Limit::PER_CLIENT.retry_after(asked, oldest, now);
    let by_account = match &user {
        Some(user) => {
            store::lock_key(&mut tx, &format!("otp-account:{}", user.id)).await?;
            let daily = Limit::OTP_PER_ACCOUNT_DAILY;
            let used = store::otp_use_of_user(&mut tx, user.id, daily.since(now)).await?;
            daily.retry_after(used.requested, used.requested_oldest, now)
        }
        None => None,
    };
    if let Some(retry_after_secs) = by_destination.max(by_client).max(by_account) {
        return Ok(OtpRequested::RateLimited(RateLimited { retry_after_secs }));
    }

    store::supersede_open_challenges(&mut tx, input.channel, &destination, now).await?;
    let code = generate_code();
    let salt = generate_salt();
    let id = Uuid::now_v7();
    store::insert_challenge(
        &mut tx,
        &NewChallenge {
            id,
            user_id: user.as_ref().map(|u| u.id),
            purpose: input.purpose,
            channel: input.channel,
            destination: &destination,
            client_key: &input.client_key,
            code_salt: &salt,
            code_hash: &hash_code(&salt, &code),
            created_at: now,
            expires_at: expires_at(now),
        },
    )
    .await?;
    if user.is_some() {
        let (subject, body) = message(input.purpose, &code);
        Outbox
            .send_to(
                &mut tx,
                input.channel.as_str(),
                &destination,
                subject.as_deref(),
                &body,
            )
            .await?;
    }
    tx.commit().await?;
    // The code itself is never logged; the challenge id is enough to trace a complaint.
    tracing::info!(challenge_id = %id, channel = input.channel.as_str(), "one-time code requested");
    Ok(OtpRequested::Accepted(OtpChallenge {
        challenge_id: id,
        expires_in: OTP_TTL_SECS as u64,
    }))
}

/// Checks a code. Wrong codes are counted even though the request fails; the fifth locks the
/// challenge. A right code is spent at once.
pub async fn verify_otp(
    pool: &PgPool,
    keys: &AuthKeys,
    caller: Option<Uuid>,
    challenge: ChallengeRef,
    code: &str,
    now: DateTime<Utc>,
) -> Result<OtpVerified, Error> {
    validate_code_format(code).map_err(|message| Error::invalid("code", message))?;
    let mut tx = pool.begin().await?;
    let found = match challenge {
        ChallengeRef::Id(id) => store::challenge_for_update(&mut tx, id).await?,
        ChallengeRef::Destination {
            channel,
            destination,
        } => {
            let destination = normalize_destination(channel, &destination)
                .map_err(|message| Error::invalid("destination", message))?;
            store::latest_challenge_for_update(&mut tx, channel, &destination).await?
        }
    };
    let challenge = found.ok_or_else(expired)?;
    let purpose: Purpose = challenge.purpose.parse().map_err(Error::Internal)?;
    let channel: Channel = challenge.channel.parse().map_err(Error::Internal)?;
    if purpose == Purpose::Verify {
        let caller = caller.ok_or(Error::Unauthorized)?;
        // someone else's verification is none of the caller's business: same as unknown
        if challenge.user_id != Some(caller) {
            return Err(expired());
        }
    }
    if is_closed(&challenge, now) {
        return Err(expired());
    }
    if challenge.attempts >= OTP_MAX_ATTEMPTS {
        return Err(locked());
    }
    if let Some(user_id) = challenge.user_id {
        let daily = Limit::OTP_PER_ACCOUNT_DAILY;
        let used = store::otp_use_of_user(&mut tx, user_id, daily.since(now)).await?;
        if let Some(retry_after_secs) = daily.retry_after(used.wrong, used.wrong_oldest, now) {
            return Err(RateLimited { retry_after_secs }.into());
        }
    }
    let right = code_matches(&challenge.code_salt, code, &challenge.code_hash);
    // A challenge for an unknown destination has no user: no code can pass it.
    let Some(user_id) = challenge.user_id.filter(|_| right) else {
        let attempts = store::record_wrong_attempt(&mut tx, challenge.id).await?;
        // committed although the request fails: the count is the point
        tx.commit().await?;
        return Err(if attempts >= OTP_MAX_ATTEMPTS {
            locked()
        } else {
            wrong_code()
        });
    };
    store::consume_challenge(&mut tx, challenge.id, now).await?;
    // Entering the code proves control of the contact, whatever the purpose.
    let still_own =
        store::mark_contact_verified(&mut tx, user_id, channel, &challenge.destination, now)
            .await?;
    let user = store::user_by_id(&mut tx, user_id)
        .await?
        .ok_or_else(expired)?;
    let verified = match purpose {
        Purpose::Login => OtpVerified::Login(finish_login(&mut tx, keys, &user, now).await?),
        // the contact changed after the code was sent: it proves nothing about the new one
        Purpose::Verify if !still_own => return Err(expired()),
        Purpose::Verify => OtpVerified::Verified(user),
    };
    tx.commit().await?;
    Ok(verified)
}

fn check_own_contact(user: &User, channel: Channel, destination: &str) -> Result<(), Error> {
    match channel {
        Channel::Email if user.email.eq_ignore_ascii_case(destination) => Ok(()),
        Channel::Sms if user.phone.as_deref() == Some(destination) => Ok(()),
        Channel::Email => Err(Error::invalid(
            "destination",
            "is not the e-mail address of your account",
        )),
        Channel::Sms => Err(Error::invalid(
            "destination",
            "is not the phone number of your account (set it with PUT /api/me first)",
        )),
    }
}

fn is_closed(challenge: &ChallengeRow, now: DateTime<Utc>) -> bool {
    challenge.consumed_at.is_some()
        || challenge.superseded_at.is_some()
        || challenge.expires_at <= now
}

fn expired() -> Error {
    Error::BadRequest {
        code: "otp_expired",
        detail: "this code has expired, was already used or was replaced by a newer one; \
                 request a new code"
            .into(),
    }
}

fn locked() -> Error {
    Error::Conflict {
        code: "otp_locked",
        detail: "too many wrong codes; request a new code".into(),
    }
}

fn wrong_code() -> Error {
    Error::BadRequest {
        code: "invalid_code",
        detail: "the code is not correct".into(),
    }
}

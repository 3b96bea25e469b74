//! Stripe webhooks, pure: the `Stripe-Signature` check and the parts of an event we act on.
//!
//! The header is `t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`; each `v1` is
//! HMAC-SHA256 over `"{t}.{raw body}"` keyed with the endpoint's secret (`whsec_...`, used
//! as it is). Several `v1` appear while a secret is being rolled: one match is enough. The
//! comparison is constant-time (`hmac`'s `verify_slice`), and a timestamp more than
//! [`TOLERANCE_SECS`] away from now is refused, so a captured delivery cannot be replayed
//! later (within the window, the event id deduplication makes a replay harmless).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::provider::{Decline, IntentStatus, PayoutStatus, RefundStatus};
use crate::ledger::model::Minor;

pub const TOLERANCE_SECS: i64 = 300;
pub const SIGNATURE_HEADER: &str = "stripe-signature";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    Missing,
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    #[error("no v1 signature matches the payload")]
    NoMatch,
    #[error("the signature's timestamp is {0} s away from now (at most {TOLERANCE_SECS} s)")]
    Stale(i64),
}

/// Checks a delivery; answers the signed timestamp.
pub fn verify(
    header: Option<&str>,
    payload: &[u8],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" if timestamp.is_none() => timestamp = value.parse::<i64>().ok(),
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::NoMatch)?;
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    let matched = signatures
        .iter()
        .any(|hex| decode_hex(hex).is_some_and(|bytes| mac.clone().verify_slice(&bytes).is_ok()));
    if !matched {
        return Err(SignatureError::NoMatch);
    }
    let age = now.timestamp() - t;
    if age.abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale(age));
    }
    Ok(t)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The envelope of an event.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    /// The connected account the event happened on (Connect), if any.
    #[serde(default)]
    pub account: Option<String>,
    pub data: EventData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    pub object: Value,
}

impl Envelope {
    pub fn created_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.created, 0)
            .single()
            .unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// What the event's object is, in the parts we act on; `Other` for the rest.
    pub fn object(&self) -> Result<Object, serde_json::Error> {
        let kind = self.data.object.get("object").and_then(Value::as_str);
        let value = self.data.object.clone();
        Ok(match kind {
            Some("payment_intent") => Object::Intent(serde_json::from_value(value)?),
            Some("charge") => Object::Charge(serde_json::from_value(value)?),
            Some("refund") => Object::Refund(serde_json::from_value(value)?),
            Some("payout") => Object::Payout(serde_json::from_value(value)?),
            Some("account") => Object::Account(serde_json::from_value(value)?),
            Some("dispute") => Object::Dispute(serde_json::from_value(value)?),
            Some("transfer") => Object::Transfer(serde_json::from_value(value)?),
            _ => Object::Other,
        })
    }
}

#[derive(Debug, Clone)]
pub enum Object {
    Intent(IntentObject),
    Charge(ChargeObject),
    Refund(RefundObject),
    Payout(PayoutObject),
    Account(AccountObject),
    Dispute(DisputeObject),
    Transfer(TransferObject),
    Other,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl ApiError {
    pub fn decline(&self) -> Decline {
        Decline {
            code: self.code.clone().unwrap_or_else(|| "card_declined".into()),
            decline_code: self.decline_code.clone(),
            message: self
                .message
                .clone()
                .unwrap_or_else(|| "The payment was declined.".into()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct IntentObject {
    pub id: String,
    pub status: String,
    pub amount: Minor,
    #[serde(default)]
    pub amount_capturable: Minor,
    #[serde(default)]
    pub amount_received: Minor,
    pub currency: String,
    #[serde(default)]
    pub last_payment_error: Option<ApiError>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// Stripe's PaymentIntent status in our terms (`requires_payment_method` after an attempt
/// and `requires_confirmation` read as failed and processing).
pub fn intent_status(stripe: &str) -> IntentStatus {
    match stripe {
        "succeeded" => IntentStatus::Succeeded,
        "requires_capture" => IntentStatus::RequiresCapture,
        "requires_action" => IntentStatus::RequiresAction,
        "canceled" => IntentStatus::Canceled,
        "requires_payment_method" => IntentStatus::Failed,
        _ => IntentStatus::Processing,
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChargeObject {
    pub id: String,
    #[serde(default)]
    pub payment_intent: Option<String>,
    pub amount: Minor,
    #[serde(default)]
    pub amount_captured: Minor,
    #[serde(default)]
    pub amount_refunded: Minor,
    #[serde(default)]
    pub captured: bool,
    pub currency: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The charge's refunds, when the API version still embeds them (before 2022-11-15).
    #[serde(default)]
    pub refunds: Option<List<RefundObject>>,
}

/// A Stripe list (`{"object":"list","data":[...]}`).
#[derive(Debug, Clone, Deserialize)]
pub struct List<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RefundObject {
    pub id: String,
    pub amount: Minor,
    pub currency: String,
    #[serde(default)]
    pub payment_intent: Option<String>,
    pub status: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// Ours carry `refund_id` (and `payment_id`); a dashboard refund carries none.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

pub fn refund_status(stripe: Option<&str>) -> RefundStatus {
    match stripe {
        Some("succeeded") => RefundStatus::Succeeded,
        Some("failed") => RefundStatus::Failed,
        Some("canceled") => RefundStatus::Canceled,
        Some("requires_action") => RefundStatus::RequiresAction,
        _ => RefundStatus::Pending,
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PayoutObject {
    pub id: String,
    pub amount: Minor,
    pub currency: String,
    pub status: String,
    #[serde(default)]
    pub arrival_date: Option<i64>,
    #[serde(default)]
    pub failure_code: Option<String>,
}

pub fn payout_status(stripe: &str) -> PayoutStatus {
    match stripe {
        "paid" => PayoutStatus::Paid,
        "failed" => PayoutStatus::Failed,
        "canceled" => PayoutStatus::Canceled,
        "in_transit" => PayoutStatus::InTransit,
        _ => PayoutStatus::Pending,
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AccountObject {
    pub id: String,
    #[serde(default)]
    pub charges_enabled: bool,
    #[serde(default)]
    pub payouts_enabled: bool,
    #[serde(default)]
    pub details_submitted: bool,
}

/// A dispute (chargeback) of a charge. Its balance transactions say what the provider took
/// from the platform's balance (a negative `amount`, with the dispute's `fee`) and what it
/// gave back (a positive one, a returned fee as a negative `fee`).
#[derive(Debug, Clone, Deserialize)]
pub struct DisputeObject {
    pub id: String,
    pub amount: Minor,
    pub currency: String,
    #[serde(default)]
    pub charge: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<String>,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub balance_transactions: Vec<BalanceTransaction>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BalanceTransaction {
    pub amount: Minor,
    #[serde(default)]
    pub fee: Minor,
}

/// What a dispute event says moved, whatever order the events come in: funds withdrawn
/// once a withdrawal is reported (by the event's type or a negative balance transaction),
/// reinstated once a reinstatement is (which implies the withdrawal before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DisputeMoves {
    pub withdrawn: bool,
    /// The provider's fee for the dispute, when the event shows it.
    pub fee: Minor,
    pub reinstated: bool,
    pub fee_returned: Minor,
}

impl DisputeObject {
    pub fn moves(&self, event_kind: &str) -> DisputeMoves {
        let out = self.balance_transactions.iter().find(|b| b.amount < 0);
        let back = self.balance_transactions.iter().find(|b| b.amount > 0);
        let reinstated = back.is_some() || event_kind == "charge.dispute.funds_reinstated";
        DisputeMoves {
            withdrawn: reinstated
                || out.is_some()
                || event_kind == "charge.dispute.funds_withdrawn",
            fee: out.map_or(0, |b| b.fee.max(0)),
            reinstated,
            fee_returned: back.map_or(0, |b| (-b.fee).max(0)),
        }
    }
}

/// A transfer to a connected account; `amount_reversed` is cumulative.
#[derive(Debug, Clone, Deserialize)]
pub struct TransferObject {
    pub id: String,
    pub amount: Minor,
    #[serde(default)]
    pub amount_reversed: Minor,
    pub currency: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    fn sign(t: i64, payload: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{t}.{payload}").as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn a_good_signature_passes_among_others() {
        let body = r#"{"id":"evt_1"}"#;
        let t = now().timestamp() - 10;
        let header = format!("t={t},v1={},v1={},v0=abc", "00".repeat(32), sign(t, body));
        assert_eq!(verify(Some(&header), body.as_bytes(), SECRET, now()), Ok(t));
    }

    #[test]
    fn bad_signatures_are_refused() {
        let body = r#"{"id":"evt_1"}"#;
        let t = now().timestamp();
        assert_eq!(
            verify(None, body.as_bytes(), SECRET, now()),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(Some("v1=abc"), body.as_bytes(), SECRET, now()),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&format!("t={t}")), body.as_bytes(), SECRET, now()),
            Err(SignatureError::Malformed)
        );
        let header = format!("t={t},v1={}", sign(t, body));
        assert_eq!(
            verify(Some(&header), b"{\"id\":\"evt_2\"}", SECRET, now()),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(Some(&header), body.as_bytes(), "whsec_other", now()),
            Err(SignatureError::NoMatch)
        );
        // a signature for another timestamp does not match this one
        let moved = format!("t={},v1={}", t + 1, sign(t, body));
        assert_eq!(
            verify(Some(&moved), body.as_bytes(), SECRET, now()),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn the_tolerance_is_300_seconds_either_way() {
        let body = "{}";
        for (offset, ok) in [(-300, true), (-301, false), (300, true), (301, false)] {
            let t = now().timestamp() + offset;
            let header = format!("t={t},v1={}", sign(t, body));
            let result = verify(Some(&header), body.as_bytes(), SECRET, now());
            assert_eq!(result.is_ok(), ok, "{offset}: {result:?}");
        }
    }

    #[test]
    fn events_are_read() {
        let event: Envelope = serde_json::from_str(
            r#"{"id":"evt_1","object":"event","type":"payment_intent.payment_failed","created":1800000000,
                "data":{"object":{"id":"pi_1","object":"payment_intent","status":"requires_payment_method",
                "amount":500,"amount_capturable":0,"amount_received":0,"currency":"eur",
                "last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",
                "message":"Your card has insufficient funds."},"metadata":{"payment_id":"x"}}}}"#,
        )
        .unwrap();
        let Object::Intent(pi) = event.object().unwrap() else {
            panic!("not an intent")
        };
        assert_eq!(intent_status(&pi.status), IntentStatus::Failed);
        let decline = pi.last_payment_error.unwrap().decline();
        assert_eq!(decline.decline_code.as_deref(), Some("insufficient_funds"));
        assert_eq!(pi.metadata["payment_id"], "x");
        assert_eq!(event.created_at().timestamp(), 1_800_000_000);
    }

    #[test]
    fn dispute_moves_do_not_depend_on_the_order() {
        let dispute = |bts: &str, status: &str| -> DisputeObject {
            serde_json::from_str(&format!(
                r#"{{"id":"dp_1","object":"dispute","amount":1000,"currency":"eur",
                    "status":"{status}","balance_transactions":[{bts}]}}"#
            ))
            .unwrap()
        };
        let opened = dispute("", "needs_response");
        assert_eq!(
            opened.moves("charge.dispute.created"),
            DisputeMoves::default()
        );
        let taken = opened.moves("charge.dispute.funds_withdrawn");
        assert!(taken.withdrawn && !taken.reinstated);
        let out = r#"{"amount":-1000,"fee":1500}"#;
        let both = format!(r#"{out},{{"amount":1000,"fee":-1500}}"#);
        let m = dispute(out, "under_review").moves("charge.dispute.updated");
        assert_eq!((m.withdrawn, m.fee, m.reinstated), (true, 1500, false));
        let m = dispute(&both, "won").moves("charge.dispute.closed");
        assert_eq!(
            m,
            DisputeMoves {
                withdrawn: true,
                fee: 1500,
                reinstated: true,
                fee_returned: 1500
            }
        );
        // a reinstatement reported alone implies the withdrawal
        let m = dispute("", "won").moves("charge.dispute.funds_reinstated");
        assert!(m.withdrawn && m.reinstated);
    }
}

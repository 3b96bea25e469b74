//! OCPP-J framing, shared by the CSMS and the simulators: the three message types and how an
//! unreadable frame is answered.
//!
//! CALL `[2, id, action, payload]`, CALLRESULT `[3, id, payload]`,
//! CALLERROR `[4, id, code, description, details]`.

use serde_json::Value;

use crate::ErrorCode;

pub const CALL: u64 = 2;
pub const CALL_RESULT: u64 = 3;
pub const CALL_ERROR: u64 = 4;

/// OCPP-J limits message ids to 36 characters.
const MAX_MESSAGE_ID_LEN: usize = 36;
/// OCPP-J limits a CALLERROR description to 255 characters.
const MAX_DESCRIPTION_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Call {
        id: String,
        action: String,
        payload: Value,
    },
    CallResult {
        id: String,
        payload: Value,
    },
    CallError {
        id: String,
        code: String,
        description: String,
        details: Value,
    },
}

/// A frame we could not accept, with the code to answer it with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct FrameError {
    /// The message id, when it could be read.
    pub id: Option<String>,
    pub code: ErrorCode,
    pub description: String,
    /// A broken CALLRESULT/CALLERROR is never answered, or two peers could bounce errors at
    /// each other forever.
    pub is_response: bool,
}

impl FrameError {
    fn new(id: Option<String>, code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            id,
            code,
            description: description.into(),
            is_response: false,
        }
    }

    /// The CALLERROR to send back, if any. The id is "-1" when the message id itself could
    /// not be read, as OCPP-J 2.0.1 prescribes.
    pub fn answer(&self) -> Option<Frame> {
        (!self.is_response).then(|| {
            Frame::call_error(
                self.id.as_deref().unwrap_or("-1"),
                self.code,
                &self.description,
            )
        })
    }
}

impl Frame {
    /// Parses one text message.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            FrameError::new(
                None,
                ErrorCode::FormatViolation,
                format!("not valid JSON: {e}"),
            )
        })?;
        let Value::Array(mut items) = value else {
            return Err(FrameError::new(
                None,
                ErrorCode::RpcFrameworkError,
                "an OCPP-J message is a JSON array",
            ));
        };
        let kind = items.first().and_then(Value::as_u64);
        let id = match items.get(1) {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_MESSAGE_ID_LEN => s.clone(),
            _ => {
                return Err(FrameError::new(
                    None,
                    ErrorCode::RpcFrameworkError,
                    "the message id (a string of 1 to 36 characters) could not be read",
                ))
            }
        };
        let err = |code, description: &str| FrameError {
            id: Some(id.clone()),
            code,
            description: description.to_owned(),
            is_response: kind == Some(CALL_RESULT) || kind == Some(CALL_ERROR),
        };
        match kind {
            Some(CALL) => {
                if items.len() != 4 {
                    return Err(err(
                        ErrorCode::ProtocolError,
                        "a CALL has exactly 4 elements: [2, id, action, payload]",
                    ));
                }
                let payload = items.pop().unwrap_or(Value::Null);
                let action = match items.pop() {
                    Some(Value::String(a)) if !a.is_empty() => a,
                    _ => {
                        return Err(err(
                            ErrorCode::ProtocolError,
                            "the action of a CALL must be a non-empty string",
                        ))
                    }
                };
                if !payload.is_object() {
                    return Err(err(
                        ErrorCode::FormatViolation,
                        "the payload of a CALL must be a JSON object",
                    ));
                }
                Ok(Frame::Call {
                    id,
                    action,
                    payload,
                })
            }
            Some(CALL_RESULT) => {
                if items.len() != 3 {
                    return Err(err(
                        ErrorCode::ProtocolError,
                        "a CALLRESULT has exactly 3 elements",
                    ));
                }
                let payload = items.pop().unwrap_or(Value::Null);
                Ok(Frame::CallResult { id, payload })
            }
            Some(CALL_ERROR) => {
                // Details are optional in practice even though the specification lists them.
                if !(4..=5).contains(&items.len()) {
                    return Err(err(
                        ErrorCode::ProtocolError,
                        "a CALLERROR has 5 elements: [4, id, code, description, details]",
                    ));
                }
                let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
                Ok(Frame::CallError {
                    code: text(items.get(2))
                        .unwrap_or_else(|| ErrorCode::GenericError.as_str().to_owned()),
                    description: text(items.get(3)).unwrap_or_default(),
                    details: items
                        .get(4)
                        .filter(|d| d.is_object())
                        .cloned()
                        .unwrap_or_else(empty_object),
                    id,
                })
            }
            _ => Err(err(
                ErrorCode::MessageTypeNotSupported,
                "message type must be 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)",
            )),
        }
    }

    /// A CALLERROR with the description capped as OCPP-J requires.
    pub fn call_error(id: &str, code: ErrorCode, description: &str) -> Frame {
        let mut cut = description.len().min(MAX_DESCRIPTION_LEN);
        while !description.is_char_boundary(cut) {
            cut -= 1;
        }
        Frame::CallError {
            id: id.to_owned(),
            code: code.as_str().to_owned(),
            description: description[..cut].to_owned(),
            details: empty_object(),
        }
    }

    /// Serializes the frame as OCPP-J text.
    pub fn to_text(&self) -> String {
        // Tuples serialize as JSON arrays, so no intermediate `Value` is built.
        let text = match self {
            Frame::Call {
                id,
                action,
                payload,
            } => serde_json::to_string(&(CALL, id, action, payload)),
            Frame::CallResult { id, payload } => serde_json::to_string(&(CALL_RESULT, id, payload)),
            Frame::CallError {
                id,
                code,
                description,
                details,
            } => serde_json::to_string(&(CALL_ERROR, id, code, description, details)),
        };
        text.unwrap_or_else(|_| unreachable_text())
    }
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// serde_json cannot fail on a tuple of strings and `Value`s; keep a valid frame anyway.
fn unreachable_text() -> String {
    format!("[{CALL_ERROR},\"-1\",\"InternalError\",\"\",{{}}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_three_types() {
        assert_eq!(
            Frame::parse(r#"[2,"a","Heartbeat",{}]"#).unwrap(),
            Frame::Call {
                id: "a".into(),
                action: "Heartbeat".into(),
                payload: json!({})
            }
        );
        assert_eq!(
            Frame::parse(r#"[3,"b",{"x":1}]"#).unwrap(),
            Frame::CallResult {
                id: "b".into(),
                payload: json!({"x":1})
            }
        );
        assert_eq!(
            Frame::parse(r#"[4,"c","NotImplemented","no",{}]"#).unwrap(),
            Frame::CallError {
                id: "c".into(),
                code: "NotImplemented".into(),
                description: "no".into(),
                details: json!({})
            }
        );
    }

    #[test]
    fn round_trips_through_text() {
        let frames = [
            Frame::Call {
                id: "1".into(),
                action: "BootNotification".into(),
                payload: json!({"reason":"PowerUp"}),
            },
            Frame::CallResult {
                id: "2".into(),
                payload: json!({"status":"Accepted"}),
            },
            Frame::CallError {
                id: "3".into(),
                code: "FormatViolation".into(),
                description: "bad".into(),
                details: json!({"field":"x"}),
            },
        ];
        for f in frames {
            assert_eq!(Frame::parse(&f.to_text()).unwrap(), f);
        }
    }

    #[test]
    fn bad_frames_get_the_right_code() {
        let cases = [
            ("{not json", None, ErrorCode::FormatViolation),
            (r#"{"a":1}"#, None, ErrorCode::RpcFrameworkError),
            (r#"[2]"#, None, ErrorCode::RpcFrameworkError),
            (
                r#"[2, 17, "Heartbeat", {}]"#,
                None,
                ErrorCode::RpcFrameworkError,
            ),
            (
                r#"[9,"x",{}]"#,
                Some("x"),
                ErrorCode::MessageTypeNotSupported,
            ),
            (
                r#"[2,"x","Heartbeat"]"#,
                Some("x"),
                ErrorCode::ProtocolError,
            ),
            (r#"[2,"x",5,{}]"#, Some("x"), ErrorCode::ProtocolError),
            (
                r#"[2,"x","Heartbeat",[]]"#,
                Some("x"),
                ErrorCode::FormatViolation,
            ),
        ];
        for (text, id, code) in cases {
            let err = Frame::parse(text).unwrap_err();
            assert_eq!((err.id.as_deref(), err.code), (id, code), "{text}");
            assert!(err.answer().is_some(), "{text}");
        }
        let long = format!(r#"[2,"{}","Heartbeat",{{}}]"#, "x".repeat(37));
        assert_eq!(
            Frame::parse(&long).unwrap_err().code,
            ErrorCode::RpcFrameworkError
        );
    }

    #[test]
    fn unreadable_ids_are_answered_with_minus_one() {
        let answer = Frame::parse("{not json").unwrap_err().answer().unwrap();
        assert!(matches!(answer, Frame::CallError { ref id, .. } if id == "-1"));
    }

    #[test]
    fn broken_responses_are_never_answered() {
        let err = Frame::parse(r#"[3,"5"]"#).unwrap_err();
        assert!(err.is_response);
        assert_eq!(err.answer(), None);
        assert!(Frame::parse(r#"[4,"5"]"#).unwrap_err().answer().is_none());
    }

    #[test]
    fn call_error_details_are_optional_and_descriptions_capped() {
        let f = Frame::parse(r#"[4,"9","InternalError","boom"]"#).unwrap();
        assert!(matches!(f, Frame::CallError { ref details, .. } if details == &json!({})));
        let Frame::CallError { description, .. } =
            Frame::call_error("1", ErrorCode::GenericError, &"é".repeat(300))
        else {
            panic!("a CALLERROR")
        };
        assert!(description.len() <= 255);
    }
}

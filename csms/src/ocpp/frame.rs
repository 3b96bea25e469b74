//! OCPP-J framing: the three message types and how a bad frame is answered.

use ocpp_schemas::ErrorCode;
use serde_json::{json, Value};

pub const CALL: u64 = 2;
pub const CALL_RESULT: u64 = 3;
pub const CALL_ERROR: u64 = 4;

/// OCPP-J limits message ids to 36 characters.
const MAX_MESSAGE_ID_LEN: usize = 36;

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

/// A frame we could not accept, with what to answer. `id` is "-1" when the message id
/// itself could not be read, as OCPP-J 2.0.1 prescribes.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError {
    pub id: String,
    pub code: ErrorCode,
    pub description: String,
}

impl FrameError {
    fn new(id: impl Into<String>, code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            code,
            description: description.into(),
        }
    }
}

pub fn parse(text: &str) -> Result<Frame, FrameError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        FrameError::new(
            "-1",
            ErrorCode::FormatViolation,
            format!("not valid JSON: {e}"),
        )
    })?;
    let Value::Array(mut items) = value else {
        return Err(FrameError::new(
            "-1",
            ErrorCode::RpcFrameworkError,
            "an OCPP-J message is a JSON array",
        ));
    };
    let type_id = items.first().and_then(Value::as_u64);
    let id = match items.get(1) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_MESSAGE_ID_LEN => s.clone(),
        _ => {
            return Err(FrameError::new(
                "-1",
                ErrorCode::RpcFrameworkError,
                "the message id (a string of 1 to 36 characters) could not be read",
            ))
        }
    };
    match type_id {
        Some(CALL) => {
            if items.len() != 4 {
                return Err(FrameError::new(
                    id,
                    ErrorCode::ProtocolError,
                    "a CALL has exactly 4 elements: [2, id, action, payload]",
                ));
            }
            let payload = items.pop().unwrap_or(Value::Null);
            let action = match items.pop() {
                Some(Value::String(a)) if !a.is_empty() => a,
                _ => {
                    return Err(FrameError::new(
                        id,
                        ErrorCode::ProtocolError,
                        "the action of a CALL must be a non-empty string",
                    ))
                }
            };
            if !payload.is_object() {
                return Err(FrameError::new(
                    id,
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
                return Err(FrameError::new(
                    id,
                    ErrorCode::ProtocolError,
                    "a CALLRESULT has exactly 3 elements",
                ));
            }
            let payload = items.pop().unwrap_or(Value::Null);
            Ok(Frame::CallResult { id, payload })
        }
        Some(CALL_ERROR) => {
            if items.len() != 5 {
                return Err(FrameError::new(
                    id,
                    ErrorCode::ProtocolError,
                    "a CALLERROR has exactly 5 elements",
                ));
            }
            let details = items.pop().unwrap_or(Value::Null);
            let description = items
                .pop()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let code = items
                .pop()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| ErrorCode::GenericError.as_str().to_owned());
            Ok(Frame::CallError {
                id,
                code,
                description,
                details,
            })
        }
        _ => Err(FrameError::new(
            id,
            ErrorCode::MessageTypeNotSupported,
            "message type must be 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)",
        )),
    }
}

pub fn call(id: &str, action: &str, payload: &Value) -> String {
    json!([CALL, id, action, payload]).to_string()
}

pub fn call_result(id: &str, payload: &Value) -> String {
    json!([CALL_RESULT, id, payload]).to_string()
}

/// OCPP-J caps the description at 255 characters.
pub fn call_error(id: &str, code: ErrorCode, description: &str, details: Value) -> String {
    let mut description = description.to_owned();
    if description.len() > 255 {
        let mut cut = 255;
        while !description.is_char_boundary(cut) {
            cut -= 1;
        }
        description.truncate(cut);
    }
    let details = if details.is_object() {
        details
    } else {
        json!({})
    };
    json!([CALL_ERROR, id, code.as_str(), description, details]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_types() {
        assert_eq!(
            parse(r#"[2,"a","Heartbeat",{}]"#).unwrap(),
            Frame::Call {
                id: "a".into(),
                action: "Heartbeat".into(),
                payload: json!({})
            }
        );
        assert_eq!(
            parse(r#"[3,"b",{"x":1}]"#).unwrap(),
            Frame::CallResult {
                id: "b".into(),
                payload: json!({"x":1})
            }
        );
        assert!(matches!(
            parse(r#"[4,"c","NotImplemented","no",{}]"#).unwrap(),
            Frame::CallError { code, .. } if code == "NotImplemented"
        ));
    }

    #[test]
    fn bad_frames_get_the_right_code() {
        let cases = [
            ("{not json", "-1", ErrorCode::FormatViolation),
            (r#"{"a":1}"#, "-1", ErrorCode::RpcFrameworkError),
            (r#"[2]"#, "-1", ErrorCode::RpcFrameworkError),
            (
                r#"[2, 17, "Heartbeat", {}]"#,
                "-1",
                ErrorCode::RpcFrameworkError,
            ),
            (r#"[9,"x",{}]"#, "x", ErrorCode::MessageTypeNotSupported),
            (r#"[2,"x","Heartbeat"]"#, "x", ErrorCode::ProtocolError),
            (r#"[2,"x",5,{}]"#, "x", ErrorCode::ProtocolError),
            (r#"[2,"x","Heartbeat",[]]"#, "x", ErrorCode::FormatViolation),
        ];
        for (text, id, code) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!((err.id.as_str(), err.code), (id, code), "{text}");
        }
    }

    #[test]
    fn long_ids_are_unreadable() {
        let text = format!(r#"[2,"{}","Heartbeat",{{}}]"#, "x".repeat(37));
        assert_eq!(parse(&text).unwrap_err().code, ErrorCode::RpcFrameworkError);
    }

    #[test]
    fn call_error_description_is_capped() {
        let text = call_error("1", ErrorCode::GenericError, &"é".repeat(300), Value::Null);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(v[3].as_str().unwrap().len() <= 255);
        assert_eq!(v[4], json!({}));
    }
}

use std::fmt;
use std::str::FromStr;

/// OCPP-J 2.0.1 RPC framework error codes (Part 4, section 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    FormatViolation,
    GenericError,
    InternalError,
    MessageTypeNotSupported,
    NotImplemented,
    NotSupported,
    OccurrenceConstraintViolation,
    PropertyConstraintViolation,
    ProtocolError,
    RpcFrameworkError,
    SecurityError,
    TypeConstraintViolation,
}

impl ErrorCode {
    /// Every code, in the order Part 4 lists them.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::FormatViolation,
        ErrorCode::GenericError,
        ErrorCode::InternalError,
        ErrorCode::MessageTypeNotSupported,
        ErrorCode::NotImplemented,
        ErrorCode::NotSupported,
        ErrorCode::OccurrenceConstraintViolation,
        ErrorCode::PropertyConstraintViolation,
        ErrorCode::ProtocolError,
        ErrorCode::RpcFrameworkError,
        ErrorCode::SecurityError,
        ErrorCode::TypeConstraintViolation,
    ];

    /// The exact string sent in the `errorCode` field of a CALLERROR.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::FormatViolation => "FormatViolation",
            ErrorCode::GenericError => "GenericError",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::MessageTypeNotSupported => "MessageTypeNotSupported",
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::OccurrenceConstraintViolation => "OccurrenceConstraintViolation",
            ErrorCode::PropertyConstraintViolation => "PropertyConstraintViolation",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::RpcFrameworkError => "RpcFrameworkError",
            ErrorCode::SecurityError => "SecurityError",
            ErrorCode::TypeConstraintViolation => "TypeConstraintViolation",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the OCPP 2.0.1 error codes (they are case-sensitive on the wire).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown OCPP error code {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_round_trip() {
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
            assert_eq!(code.to_string(), format!("{code:?}"));
        }
        assert!("formatViolation".parse::<ErrorCode>().is_err());
        // OCPP 1.6 spelled this one differently; 2.0.1 peers must not send it.
        assert!("FormationViolation".parse::<ErrorCode>().is_err());
    }
}

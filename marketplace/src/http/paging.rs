//! Query-string paging and time windows shared by the list endpoints: the same rules and
//! the same messages everywhere.

use chrono::{DateTime, Utc};

/// `limit`: an integer from 1 to `max`.
pub fn limit(value: &str, max: i64) -> Result<i64, String> {
    match value.parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be an integer from 1 to {max}")),
    }
}

/// `offset`: a non-negative integer.
pub fn offset(value: &str) -> Result<i64, String> {
    match value.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err("must be a non-negative integer".to_owned()),
    }
}

/// `from`/`to`: an RFC 3339 date-time.
pub fn time(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 date-time such as 2026-05-04T10:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_messages() {
        assert_eq!(limit("1", 100), Ok(1));
        assert_eq!(limit("100", 100), Ok(100));
        assert_eq!(
            limit("0", 100),
            Err("must be an integer from 1 to 100".into())
        );
        assert_eq!(
            limit("101", 100),
            Err("must be an integer from 1 to 100".into())
        );
        assert_eq!(
            limit("x", 100),
            Err("must be an integer from 1 to 100".into())
        );
        assert_eq!(offset("0"), Ok(0));
        assert_eq!(offset("-1"), Err("must be a non-negative integer".into()));
        assert!(time("2026-05-04T10:00:00+02:00").is_ok());
        assert_eq!(
            time("yesterday"),
            Err("must be an RFC 3339 date-time such as 2026-05-04T10:00:00Z".into())
        );
    }
}

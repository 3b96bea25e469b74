//! Query strings of the session routes, parsed by hand so that every bad parameter is a 422
//! naming it, and unknown ones are refused (as in bookings).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::{Error, FieldError};
use crate::http::paging::{self, time};
use crate::sessions::model::SessionStatus;
use crate::sessions::store::pages::ListFilter;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

fn money(value: &str) -> Result<Decimal, String> {
    match value.parse::<Decimal>() {
        Ok(d) if !d.is_sign_negative() => Ok(d),
        _ => Err("must be a non-negative decimal amount such as 12.50".to_owned()),
    }
}

/// `status` (comma-separated), `from`, `to` (RFC 3339; sessions that started in the range),
/// `min_cost`, `max_cost` (billed total, inclusive), `limit`, `offset`.
pub(super) fn list_filter(
    params: &[(String, String)],
    driver_id: Uuid,
) -> Result<ListFilter, Error> {
    let mut f = ListFilter {
        driver_id,
        statuses: Vec::new(),
        from: None,
        to: None,
        min_cost: None,
        max_cost: None,
        limit: DEFAULT_LIMIT,
        offset: 0,
    };
    let mut errors = Vec::new();
    for (name, value) in params {
        let result = match name.as_str() {
            "status" => value
                .split(',')
                .map(|s| s.trim().parse::<SessionStatus>())
                .collect::<Result<Vec<_>, _>>()
                .map(|s| f.statuses.extend(s))
                .map_err(|_| {
                    let all: Vec<&str> = SessionStatus::ALL.iter().map(|s| s.as_str()).collect();
                    format!(
                        "must be one or more (comma-separated) of {}",
                        all.join(", ")
                    )
                }),
            "from" => time(value).map(|t| f.from = Some(t)),
            "to" => time(value).map(|t| f.to = Some(t)),
            "min_cost" => money(value).map(|d| f.min_cost = Some(d)),
            "max_cost" => money(value).map(|d| f.max_cost = Some(d)),
            "limit" => paging::limit(value, MAX_LIMIT).map(|n| f.limit = n),
            "offset" => paging::offset(value).map(|n| f.offset = n),
            _ => Err("is not a known parameter".to_owned()),
        };
        if let Err(message) = result {
            errors.push(FieldError::new(name.clone(), message));
        }
    }
    if let (Some(from), Some(to)) = (f.from, f.to) {
        if to <= from {
            errors.push(FieldError::new("to", "must be after from"));
        }
    }
    if let (Some(min), Some(max)) = (f.min_cost, f.max_cost) {
        if max < min {
            errors.push(FieldError::new("max_cost", "must not be below min_cost"));
        }
    }
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(Error::Validation(errors))
    }
}

/// `charger_id`, `from`, `to` of the host analytics.
pub(super) type AnalyticsParams = (Option<Uuid>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

pub(super) fn analytics(params: &[(String, String)]) -> Result<AnalyticsParams, Error> {
    let (mut charger, mut from, mut to) = (None, None, None);
    let mut errors = Vec::new();
    for (name, value) in params {
        let result = match name.as_str() {
            "charger_id" => value
                .parse::<Uuid>()
                .map(|id| charger = Some(id))
                .map_err(|_| "must be a UUID".to_owned()),
            "from" => time(value).map(|t| from = Some(t)),
            "to" => time(value).map(|t| to = Some(t)),
            _ => Err("is not a known parameter".to_owned()),
        };
        if let Err(message) = result {
            errors.push(FieldError::new(name.clone(), message));
        }
    }
    if errors.is_empty() {
        Ok((charger, from, to))
    } else {
        Err(Error::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn fields(err: Error) -> Vec<String> {
        match err {
            Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn parses_ranges_and_paging() {
        let f = list_filter(
            &params(&[
                ("status", "completed,active"),
                ("from", "2027-01-01T00:00:00Z"),
                ("to", "2027-02-01T00:00:00+01:00"),
                ("min_cost", "1.50"),
                ("max_cost", "20"),
                ("limit", "5"),
                ("offset", "10"),
            ]),
            Uuid::nil(),
        )
        .unwrap();
        assert_eq!(
            f.statuses,
            vec![SessionStatus::Completed, SessionStatus::Active]
        );
        assert_eq!(f.min_cost, Some(Decimal::new(150, 2)));
        assert_eq!(f.to.unwrap().to_rfc3339(), "2027-01-31T23:00:00+00:00");
        assert_eq!((f.limit, f.offset), (5, 10));
    }

    #[test]
    fn names_every_bad_parameter() {
        let err = list_filter(
            &params(&[
                ("status", "charging"),
                ("min_cost", "-1"),
                ("limit", "0"),
                ("colour", "red"),
            ]),
            Uuid::nil(),
        )
        .unwrap_err();
        assert_eq!(fields(err), vec!["status", "min_cost", "limit", "colour"]);
        let err = list_filter(
            &params(&[("min_cost", "5"), ("max_cost", "4")]),
            Uuid::nil(),
        )
        .unwrap_err();
        assert_eq!(fields(err), vec!["max_cost"]);
        let err = analytics(&params(&[("charger_id", "x"), ("from", "today")])).unwrap_err();
        assert_eq!(fields(err), vec!["charger_id", "from"]);
    }
}

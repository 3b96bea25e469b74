//! Query strings of the booking routes, parsed by hand so that every bad parameter is a 422
//! naming it (axum's `Query` rejects with plain text), and unknown ones are refused.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::bookings::model::BookingStatus;
use crate::bookings::store::{ListFilter, Scope};
use crate::error::{Error, FieldError};
use crate::http::paging;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// `status` (one or several, comma-separated), `from`, `to` (RFC 3339: bookings overlapping
/// the range), `limit`, `offset`; with `by_charger`, also `charger_id` (the host view).
pub(super) fn list_filter(
    params: &[(String, String)],
    by_charger: bool,
) -> Result<ListFilter, Error> {
    let mut f = ListFilter {
        // replaced by the service according to the caller
        scope: Scope::All,
        statuses: Vec::new(),
        from: None,
        to: None,
        charger_id: None,
        limit: DEFAULT_LIMIT,
        offset: 0,
    };
    let mut errors = Vec::new();
    for (name, value) in params {
        let result = match name.as_str() {
            "status" => value
                .split(',')
                .map(|s| s.trim().parse::<BookingStatus>())
                .collect::<Result<Vec<_>, _>>()
                .map(|s| f.statuses.extend(s))
                .map_err(|_| {
                    let all: Vec<&str> = BookingStatus::ALL.iter().map(|s| s.as_str()).collect();
                    format!(
                        "must be one or more (comma-separated) of {}",
                        all.join(", ")
                    )
                }),
            "from" => paging::time(value).map(|t| f.from = Some(t)),
            "to" => paging::time(value).map(|t| f.to = Some(t)),
            "charger_id" if by_charger => value
                .parse::<Uuid>()
                .map(|id| f.charger_id = Some(id))
                .map_err(|_| "must be a UUID".to_owned()),
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
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(Error::Validation(errors))
    }
}

/// `date` (required, `YYYY-MM-DD`, the listing's local day).
pub(super) fn slots_date(params: &[(String, String)]) -> Result<NaiveDate, Error> {
    let mut date = None;
    let mut errors = Vec::new();
    for (name, value) in params {
        match name.as_str() {
            "date" => match value.parse::<NaiveDate>() {
                Ok(d) => date = Some(d),
                Err(_) => errors.push(FieldError::new("date", "must be a date such as 2026-03-29")),
            },
            _ => errors.push(FieldError::new(name.clone(), "is not a known parameter")),
        }
    }
    if date.is_none() && errors.is_empty() {
        errors.push(FieldError::new("date", "is required"));
    }
    match date {
        Some(d) if errors.is_empty() => Ok(d),
        _ => Err(Error::Validation(errors)),
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
    fn parses_statuses_times_and_paging() {
        let f = list_filter(
            &params(&[
                ("status", "pending,confirmed"),
                ("status", "no_show"),
                ("from", "2026-05-04T10:00:00+02:00"),
                ("limit", "100"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(
            f.statuses,
            [
                BookingStatus::Pending,
                BookingStatus::Confirmed,
                BookingStatus::NoShow
            ]
        );
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-05-04T08:00:00+00:00");
        assert_eq!((f.limit, f.offset), (100, 0));
    }

    #[test]
    fn names_every_bad_parameter() {
        let err = list_filter(
            &params(&[
                ("status", "gone"),
                ("from", "yesterday"),
                ("limit", "0"),
                ("offset", "-1"),
                ("charger_id", "x"),
            ]),
            false,
        )
        .unwrap_err();
        assert_eq!(
            fields(err),
            ["status", "from", "limit", "offset", "charger_id"]
        );
        let err = list_filter(&params(&[("charger_id", "x")]), true).unwrap_err();
        assert_eq!(fields(err), ["charger_id"]);
        let err = list_filter(
            &params(&[
                ("from", "2026-05-04T10:00:00Z"),
                ("to", "2026-05-04T09:00:00Z"),
            ]),
            false,
        )
        .unwrap_err();
        assert_eq!(fields(err), ["to"]);
    }

    #[test]
    fn slots_need_a_date() {
        assert_eq!(
            slots_date(&params(&[("date", "2026-03-29")])).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
        );
        assert_eq!(fields(slots_date(&[]).unwrap_err()), ["date"]);
        assert_eq!(
            fields(slots_date(&params(&[("date", "29/3")])).unwrap_err()),
            ["date"]
        );
        assert_eq!(
            fields(slots_date(&params(&[("day", "x")])).unwrap_err()),
            ["day"]
        );
    }
}

//! `GET /api/chargers` query parameters, parsed by hand so that every bad one is a 422 naming
//! the parameter (axum's `Query` rejects with plain text).

use uuid::Uuid;

use crate::error::{Error, FieldError};
use crate::http::paging;
use crate::listings::model::ListingStatus;
use crate::listings::store::{ListFilter, Scope};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

pub(super) fn list_filter(params: &[(String, String)]) -> Result<ListFilter, Error> {
    let mut filter = ListFilter {
        // replaced by the service according to the caller
        scope: Scope::Listed,
        status: None,
        host_id: None,
        limit: DEFAULT_LIMIT,
        offset: 0,
    };
    let mut errors = Vec::new();
    for (name, value) in params {
        let result = match name.as_str() {
            "status" => value
                .parse()
                .map(|s: ListingStatus| filter.status = Some(s))
                .map_err(|_| {
                    "must be one of draft, submitted, rejected, listed, unlisted".to_owned()
                }),
            "host_id" => value
                .parse::<Uuid>()
                .map(|id| filter.host_id = Some(id))
                .map_err(|_| "must be a UUID".to_owned()),
            "limit" => paging::limit(value, MAX_LIMIT).map(|n| filter.limit = n),
            "offset" => paging::offset(value).map(|n| filter.offset = n),
            _ => Err("is not a known parameter".to_owned()),
        };
        if let Err(message) = result {
            errors.push(FieldError::new(name.clone(), message));
        }
    }
    if errors.is_empty() {
        Ok(filter)
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

    #[test]
    fn parses_and_defaults() {
        let f = list_filter(&params(&[("status", "listed"), ("limit", "100")])).unwrap();
        assert_eq!(f.status, Some(ListingStatus::Listed));
        assert_eq!((f.limit, f.offset), (100, 0));
        assert_eq!(list_filter(&[]).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn names_every_bad_parameter() {
        let err = list_filter(&params(&[
            ("status", "gone"),
            ("host_id", "x"),
            ("limit", "101"),
            ("offset", "-1"),
            ("sort", "name"),
        ]))
        .unwrap_err();
        let Error::Validation(errors) = err else {
            panic!("expected validation")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["status", "host_id", "limit", "offset", "sort"]);
        assert!(list_filter(&params(&[("limit", "0")])).is_err());
    }
}

//! Query strings of the wallet and ledger routes, parsed by hand so that every bad parameter
//! is a 422 naming it, and unknown ones are refused (as in bookings).

use uuid::Uuid;

use crate::error::{Error, FieldError};
use crate::http::paging::{self, offset, time};
use crate::ledger::model::{AccountKind, PostingKind};
use crate::ledger::service::valid_currency;
use crate::ledger::store::history::{AccountFilter, TransactionFilter};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// Collects the errors of one query string.
struct Parser {
    errors: Vec<FieldError>,
}

impl Parser {
    fn new() -> Self {
        Self { errors: Vec::new() }
    }

    fn check(&mut self, name: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.errors.push(FieldError::new(name, message));
        }
    }

    fn finish<T>(self, value: T) -> Result<T, Error> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}

fn currency(value: &str) -> Result<String, String> {
    if valid_currency(value) {
        Ok(value.to_owned())
    } else {
        Err("must be an ISO 4217 code in capitals, such as EUR".to_owned())
    }
}

/// `kind` (one or several, comma-separated or repeated), `currency`, `from` (inclusive),
/// `to` (exclusive), `limit`, `offset`.
pub(super) fn transactions(params: &[(String, String)]) -> Result<TransactionFilter, Error> {
    let mut f = TransactionFilter {
        limit: DEFAULT_LIMIT,
        ..TransactionFilter::default()
    };
    let mut p = Parser::new();
    for (name, value) in params {
        let result = match name.as_str() {
            "kind" => value
                .split(',')
                .map(|k| k.trim().parse::<PostingKind>())
                .collect::<Result<Vec<_>, _>>()
                .map(|kinds| f.kinds.extend(kinds.iter().map(|k| k.as_str().to_owned())))
                .map_err(|_| {
                    let all: Vec<&str> = PostingKind::ALL.iter().map(|k| k.as_str()).collect();
                    format!(
                        "must be one or more (comma-separated) of {}",
                        all.join(", ")
                    )
                }),
            "currency" => currency(value).map(|c| f.currency = Some(c)),
            "from" => time(value).map(|t| f.from = Some(t)),
            "to" => time(value).map(|t| f.to = Some(t)),
            "limit" => paging::limit(value, MAX_LIMIT).map(|n| f.limit = n),
            "offset" => offset(value).map(|n| f.offset = n),
            _ => Err("is not a known parameter".to_owned()),
        };
        p.check(name, result);
    }
    if let (Some(from), Some(to)) = (f.from, f.to) {
        if to <= from {
            p.check("to", Err("must be after from".to_owned()));
        }
    }
    p.finish(f)
}

/// `kind`, `owner_id`, `currency`, `limit`, `offset`.
pub(super) fn accounts(params: &[(String, String)]) -> Result<AccountFilter, Error> {
    let mut f = AccountFilter {
        limit: DEFAULT_LIMIT,
        ..AccountFilter::default()
    };
    let mut p = Parser::new();
    for (name, value) in params {
        let result = match name.as_str() {
            "kind" => value
                .parse::<AccountKind>()
                .map(|k| f.kind = Some(k.as_str().to_owned()))
                .map_err(|_| {
                    let all: Vec<&str> = AccountKind::ALL.iter().map(|k| k.as_str()).collect();
                    format!("must be one of {}", all.join(", "))
                }),
            "owner_id" => value
                .parse::<Uuid>()
                .map(|id| f.owner_id = Some(id))
                .map_err(|_| "must be a UUID".to_owned()),
            "currency" => currency(value).map(|c| f.currency = Some(c)),
            "limit" => paging::limit(value, MAX_LIMIT).map(|n| f.limit = n),
            "offset" => offset(value).map(|n| f.offset = n),
            _ => Err("is not a known parameter".to_owned()),
        };
        p.check(name, result);
    }
    p.finish(f)
}

/// `limit`, `offset` (an account's entries).
pub(super) fn page(params: &[(String, String)]) -> Result<(i64, i64), Error> {
    let (mut l, mut o) = (DEFAULT_LIMIT, 0);
    let mut p = Parser::new();
    for (name, value) in params {
        let result = match name.as_str() {
            "limit" => paging::limit(value, MAX_LIMIT).map(|n| l = n),
            "offset" => offset(value).map(|n| o = n),
            _ => Err("is not a known parameter".to_owned()),
        };
        p.check(name, result);
    }
    p.finish((l, o))
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
    fn parses_kinds_times_and_paging() {
        let f = transactions(&params(&[
            ("kind", "topup,hold"),
            ("kind", "refund"),
            ("currency", "EUR"),
            ("from", "2026-05-04T10:00:00+02:00"),
            ("limit", "100"),
            ("offset", "5"),
        ]))
        .unwrap();
        assert_eq!(f.kinds, ["topup", "hold", "refund"]);
        assert_eq!(f.currency.as_deref(), Some("EUR"));
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-05-04T08:00:00+00:00");
        assert_eq!((f.limit, f.offset), (100, 5));
    }

    #[test]
    fn names_every_bad_parameter() {
        let err = transactions(&params(&[
            ("kind", "gift"),
            ("currency", "eur"),
            ("from", "yesterday"),
            ("limit", "0"),
            ("offset", "-1"),
            ("page", "2"),
        ]))
        .unwrap_err();
        assert_eq!(
            fields(err),
            ["kind", "currency", "from", "limit", "offset", "page"]
        );
        let err = transactions(&params(&[
            ("from", "2026-05-04T10:00:00Z"),
            ("to", "2026-05-04T10:00:00Z"),
        ]))
        .unwrap_err();
        assert_eq!(fields(err), ["to"]);
        let err = accounts(&params(&[("kind", "x"), ("owner_id", "y")])).unwrap_err();
        assert_eq!(fields(err), ["kind", "owner_id"]);
        assert_eq!(
            fields(page(&params(&[("limit", "101")])).unwrap_err()),
            ["limit"]
        );
    }
}

//! `csms tariff price`: prices an OCPI 2.2.1 CDR's charging periods with an OCPI tariff and
//! prints the OCPI totals as JSON, so hosts and roaming partners can check a bill. No
//! database: it reads two files.

use std::path::Path;

use anyhow::{bail, Context};
use chrono_tz::Tz;
use marketplace::tariffs::model::Session;
use marketplace::tariffs::ocpi::{self, Cdr, Tariff};
use marketplace::tariffs::{engine, zones};

fn read<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the {what} {}", path.display()))?;
    ocpi::from_json(&text)
        .map_err(|e| anyhow::anyhow!("{} is not an OCPI 2.2.1 {what}: {e}", path.display()))
}

/// The zone the tariff is read in: `--timezone`, else the CDR location's country when it has
/// exactly one zone.
pub fn zone(timezone: Option<&str>, cdr: &Cdr) -> anyhow::Result<Tz> {
    match timezone {
        Some(name) => name.parse().map_err(|_| {
            anyhow::anyhow!("unknown time zone `{name}` (an IANA name, e.g. Europe/Amsterdam)")
        }),
        None => Ok(zones::single_zone(&cdr.cdr_location.country)?),
    }
}

/// The totals as pretty JSON; notes (tariff not valid then, a CDR total that differs) go to
/// stderr.
pub fn price(tariff: &Path, cdr: &Path, timezone: Option<&str>) -> anyhow::Result<String> {
    let tariff: Tariff = read(tariff, "tariff")?;
    let cdr: Cdr = read(cdr, "CDR")?;
    if !tariff.currency.eq_ignore_ascii_case(&cdr.currency) {
        bail!(
            "the tariff is in {} but the CDR in {}",
            tariff.currency,
            cdr.currency
        );
    }
    let tz = zone(timezone, &cdr)?;
    if !tariff.valid_at(cdr.start_date_time) {
        eprintln!(
            "note: tariff {} is not valid at the session's start ({}); priced anyway",
            tariff.id, cdr.start_date_time
        );
    }
    let report = engine::price(&tariff, &Session::from_cdr(&cdr), tz)?;
    if let Some(stated) = cdr.total_cost {
        if stated != report.totals.total_cost {
            eprintln!(
                "note: the CDR states total_cost {}/{}; the tariff gives {}/{}",
                stated.excl_vat,
                stated.incl_vat.map_or("-".into(), |v| v.to_string()),
                report.totals.total_cost.excl_vat,
                report
                    .totals
                    .total_cost
                    .incl_vat
                    .map_or("-".into(), |v| v.to_string()),
            );
        }
    }
    Ok(serde_json::to_string_pretty(&report.totals)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../marketplace/tests/fixtures/ocpi")
            .join(name)
    }

    #[test]
    fn prints_the_ocpi_totals_of_a_spec_example() {
        let out = price(
            &fixture("complex.tariff.json"),
            &fixture("complex_monday.cdr.json"),
            None,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["total_cost"]["excl_vat"], 8.75);
        assert_eq!(v["total_cost"]["incl_vat"], 10);
        assert_eq!(v["total_parking_cost"]["excl_vat"], 3.75);
        assert_eq!(v["currency"], "EUR");
    }

    #[test]
    fn an_ambiguous_country_needs_a_zone() {
        let text = std::fs::read_to_string(fixture("simple_025kwh.cdr.json"))
            .unwrap()
            .replace("\"DEU\"", "\"USA\"");
        let cdr: Cdr = ocpi::from_json(&text).unwrap();
        let err = zone(None, &cdr).unwrap_err().to_string();
        assert!(err.contains("--timezone"), "{err}");
        assert_eq!(
            zone(Some("America/Chicago"), &cdr).unwrap().name(),
            "America/Chicago"
        );
        assert!(zone(Some("Mars/Olympus"), &cdr).is_err());
    }
}

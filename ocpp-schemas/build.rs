//! Embeds `schemas/*.json` as a sorted `(action, request, response)` table so the library
//! never touches the file system at run time and lookups can binary-search.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let schema_dir = manifest_dir.join("schemas");
    println!("cargo:rerun-if-changed=schemas");

    // BTreeMap keeps actions in byte order, which is what `binary_search` and `actions()` rely on.
    let mut actions: BTreeMap<String, [Option<PathBuf>; 2]> = BTreeMap::new();
    for entry in fs::read_dir(&schema_dir).expect("schemas/ directory is readable") {
        let path = entry.expect("schemas/ entry is readable").path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = file_name.strip_suffix(".json") else {
            continue;
        };
        let (action, slot) = if let Some(action) = stem.strip_suffix("Request") {
            (action.to_owned(), 0)
        } else if let Some(action) = stem.strip_suffix("Response") {
            (action.to_owned(), 1)
        } else {
            panic!("schemas/{file_name}: name must end in Request.json or Response.json");
        };
        println!("cargo:rerun-if-changed={}", path.display());
        actions.entry(action).or_default()[slot] = Some(path);
    }

    let mut out = String::new();
    writeln!(
        out,
        "pub(crate) const ACTION_COUNT: usize = {};",
        actions.len()
    )
    .unwrap();
    writeln!(
        out,
        "pub(crate) static ACTIONS: [(&str, &str, &str); ACTION_COUNT] = ["
    )
    .unwrap();
    for (action, [request, response]) in &actions {
        // Every OCPP 2.0.1 action is a request/response pair; a lone half means a bad copy.
        let request = request
            .as_ref()
            .unwrap_or_else(|| panic!("{action}Request.json is missing"));
        let response = response
            .as_ref()
            .unwrap_or_else(|| panic!("{action}Response.json is missing"));
        writeln!(
            out,
            "    ({action:?}, include_str!({:?}), include_str!({:?})),",
            request.display().to_string(),
            response.display().to_string()
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();

    let out_file = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join("schemas.rs");
    fs::write(out_file, out).expect("OUT_DIR is writable");
}

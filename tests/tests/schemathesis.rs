//! The whole OpenAPI document fuzzed by schemathesis against the real server: its examples,
//! coverage, fuzzing and stateful phases, every check on. No answer may be a 5xx; every answer
//! must match its documented status code, content type, headers and schema; what the schema
//! forbids must be refused; no route may ignore its authentication, and one driver must not
//! reach another's objects.
//!
//! The server is seeded first, through the REST API as a client would: an admin, two drivers
//! (alice and bob, the peers of the object-level authorization check), a host whose charger is
//! listed on a station driven by `evsim`, and for alice a wallet top-up, a saved card, a card
//! payment, a confirmed booking, a charging session that was stopped and billed (so an invoice
//! exists), a subscription, a vehicle and a badge. Their ids are given to the fuzzer as
//! dictionaries bound to the `{id}` path parameters (and to the id fields of queries and
//! bodies), drawn with a probability, so that it reaches real objects behind the ids and still
//! tries unknown ones.
//!
//! schemathesis is Python: `scripts/setup.sh --test` installs it into `var/venv`. The run's
//! configuration, login file, log and reports are written to a temporary folder, which is kept
//! (and named in the output) when the run fails.
//! `SCHEMATHESIS_SEED` and `SCHEMATHESIS_MAX_TIME` (seconds) override the seed and the budget.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use e2e_tests::charging::{
    charging_session, evsim_station, listed_station_charger_of, post, top_up,
};
use e2e_tests::{Server, ServerOptions};
use serde_json::{json, Value};

/// The password of every seeded user (the login file sends it).
const PASSWORD: &str = "correct horse battery staple";
/// The station `evsim` plays, bound to the host's listed charger.
const STATION: &str = "SIM-FUZZ";
/// Seconds schemathesis may spend on all four phases together.
const MAX_TIME_SECS: u64 = 90;
/// The default seed: a fixed one makes a failing run repeatable.
const SEED: u64 = 14;
/// How often a bound parameter takes a seeded id rather than a generated value.
const SEEDED_ID_PROBABILITY: f64 = 0.6;

/// Routes that answer a wrong one-time code, TOTP code, `mfa_token` or Stripe signature with
/// 400 (`invalid_code`, `otp_expired`, `invalid_mfa_token`, `malformed_signature`, …), as they
/// document: the fuzzer cannot know the right one.
const CODE_ROUTES: &[&str] = &[
    "POST /api/webhooks/stripe",
    "POST /api/auth/login/2fa",
    "POST /api/auth/otp/verify",
    "POST /api/me/2fa/enable",
    "POST /api/me/2fa/disable",
];

/// The identities in the login file, in the order schemathesis tries them on an operation
/// (it moves to the next one when an operation answers 401 or 403, and tries no credentials
/// at all second): alice first, so that the drivers' routes are fuzzed as the owner of the
/// seeded objects, then bob, the host and the admin for the routes of those roles.
const USERS: &[(&str, &str)] = &[
    ("alice", "driver"),
    ("bob", "driver"),
    ("host", "host"),
    ("admin", "admin"),
];

/// Which dictionary each path parameter behind an id draws from: (path prefix, parameter,
/// dictionary). A documented path parameter that matches none of these (and is not an enum)
/// is listed before the run, so that a new route behind an id is not left to 404s unnoticed.
const PATH_IDS: &[(&str, &str, &str)] = &[
    ("/api/me/vehicles/{id}", "id", "vehicles"),
    ("/api/stations/claims/{id}", "id", "claims"),
    ("/api/stations/{id}", "id", "stations"),
    ("/api/id-tokens/{id}", "id", "id_tokens"),
    ("/api/chargers/{id}", "id", "chargers"),
    ("/api/chargers/{id}", "port_id", "ports"),
    ("/api/chargers/{id}", "starts_on", "blackout_days"),
    ("/api/admin/chargers/{id}", "id", "chargers"),
    ("/api/search/chargers/{id}", "id", "chargers"),
    ("/api/bookings/{id}", "id", "bookings"),
    ("/api/sessions/{id}", "id", "sessions"),
    ("/api/admin/ledger/accounts/{id}", "id", "ledger_accounts"),
    ("/api/payment-methods/{id}", "id", "payment_methods"),
    ("/api/payments/{id}", "id", "payments"),
    ("/api/subscriptions/{id}", "id", "subscriptions"),
    ("/api/invoices/{id}", "id", "invoices"),
];

/// Ids in queries and bodies, on every operation that has such a field.
const FIELD_IDS: &[(&str, &str)] = &[
    ("query.charger_id", "chargers"),
    ("query.host_id", "hosts"),
    ("query.user_id", "users"),
    ("query.owner_id", "users"),
    ("query.stationId", "stations"),
    ("query.idToken", "id_token_values"),
    ("body.charger_id", "chargers"),
    ("body.listing_id", "chargers"),
    ("body.port_id", "ports"),
    ("body.booking_id", "bookings"),
    ("body.session_id", "sessions"),
    ("body.payment_id", "payments"),
    ("body.payment_method_id", "payment_methods"),
    ("body.userId", "users"),
];

/// Operations left out of the run ("METHOD /path", the reason). Keep this short: every entry
/// is a route nobody fuzzes. None today: no route deletes the fuzzing users' accounts, and
/// the Stripe webhook answers its documented 404 when no webhook secret is set, as here.
const EXCLUDED: &[(&str, &str)] = &[];

/// What a schema-valid request may be answered (`positive_data_acceptance`): success, or one of
/// the business answers the API documents for requests it understood (`marketplace::http::doc`
/// and `csms::openapi`): no or a wrong token (401), a role or an owner that does not allow it
/// (403), an unknown object (404), a state that does not allow it (409), a rule beyond what a
/// schema can say (422: a date window, the current password), too many tries (429). A 5xx is
/// not_a_server_error's to report, so it is listed here to be reported once.
const POSITIVE_STATUSES: &[&str] = &["2xx", "401", "403", "404", "409", "422", "429", "5xx"];

/// What a request the schema forbids may be answered (`negative_data_rejection`): a refusal
/// the API documents: not JSON (400), not allowed (401, 403), no such object or route (404,
/// 405), a conflict found before the field (409), too large (413), not `application/json`
/// (415), invalid (422), too many tries (429). Never a 2xx; a 5xx is reported once, as above.
const NEGATIVE_STATUSES: &[&str] = &[
    "400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "5xx",
];

/// What the seeding made: the users' e-mails and ids, and the ids by dictionary name.
struct Seeded {
    tokens: BTreeMap<&'static str, String>,
    dictionaries: BTreeMap<&'static str, Vec<String>>,
}

#[tokio::test]
async fn schemathesis_fuzzes_the_whole_document() {
    let fuzzer = schemathesis_binary();
    let seed = env_number("SCHEMATHESIS_SEED", SEED);
    let max_time = env_number("SCHEMATHESIS_MAX_TIME", MAX_TIME_SECS);
    let started = Instant::now();

    let server = Server::start(ServerOptions {
        // the webhook is live (and fuzzed) only with a signing secret
        extra_args: vec![
            "--job-tick-ms".into(),
            "100".into(),
            "--stripe-webhook-secret".into(),
            "whsec_schemathesis".into(),
        ],
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let _station = evsim_station(&server, STATION);
    let seeded = seed_data(&server).await;
    println!(
        "seeded in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        seeded
            .dictionaries
            .iter()
            .map(|(name, ids)| format!("{name} {}", ids.len()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let document: Value = reqwest::get(server.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!(
        "csms-schemathesis-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let auth = dir.join("auth.json");
    std::fs::write(&auth, login_file(&seeded).to_string()).unwrap();
    let (config, unbound) = config_file(&document, &seeded, &auth);
    if !unbound.is_empty() {
        println!(
            "path parameters without seeded ids (the fuzzer only generates them):\n  {}",
            unbound.join("\n  ")
        );
    }
    let config_path = dir.join("schemathesis.toml");
    std::fs::write(&config_path, config).unwrap();

    let report = dir.join("report.json");
    let log = dir.join("schemathesis.log");
    let args: Vec<String> = vec![
        "--config-file".into(),
        config_path.display().to_string(),
        "run".into(),
        server.url("/api/openapi.json"),
        "--checks".into(),
        "all".into(),
        "--phases".into(),
        "examples,coverage,fuzzing,stateful".into(),
        "--max-time".into(),
        max_time.to_string(),
        "--seed".into(),
        seed.to_string(),
        "--report".into(),
        "junit,json".into(),
        "--report-junit-path".into(),
        dir.join("junit.xml").display().to_string(),
        "--report-json-path".into(),
        report.display().to_string(),
        "--no-color".into(),
    ];
    println!(
        "running (seed {seed}, at most {max_time} s; config, log and reports in {}):\n  {} {}",
        dir.display(),
        fuzzer.display(),
        args.join(" ")
    );
    let output = std::fs::File::create(&log).unwrap();
    let fuzzing = Instant::now();
    let mut child = tokio::process::Command::new(&fuzzer)
        .args(&args)
        // schemathesis and hypothesis keep state in the working folder; keep it in ours.
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", fuzzer.display()));
    // Shrinking a failure and the last scenario may run past the budget; a hung run may not.
    let status = match tokio::time::timeout(Duration::from_secs(max_time + 120), child.wait()).await
    {
        Ok(status) => status.unwrap(),
        Err(_) => {
            child.start_kill().ok();
            panic!(
                "schemathesis did not finish within {} s; its log ends with:\n{}",
                max_time + 120,
                tail(&std::fs::read_to_string(&log).unwrap_or_default(), 60)
            );
        }
    };
    let took = fuzzing.elapsed();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let summary = std::fs::read_to_string(&report)
        .ok()
        .and_then(|r| serde_json::from_str::<Value>(&r).ok());

    if !status.success() {
        println!("{}", failures_section(&text));
    }
    println!("{}", summary_block(summary.as_ref(), &text));
    println!(
        "schemathesis took {:.0} s (seed {seed}), the whole test {:.0} s",
        took.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    if status.success() {
        std::fs::remove_dir_all(&dir).ok();
    } else {
        println!("full log: {}", log.display());
    }
    assert!(
        status.success(),
        "schemathesis found problems ({status}); by check and route:\n{}\n\
         the failures are detailed above, and the log and reports are in {}; \
         run again with SCHEMATHESIS_SEED={seed} cargo test -p e2e-tests --test schemathesis \
         -- --nocapture",
        grouped_failures(summary.as_ref(), &text),
        dir.display(),
    );
}

/// `var/venv/bin/schemathesis` (made by `scripts/setup.sh --test`), else one on `PATH`.
fn schemathesis_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let venv = root.join("var/venv/bin/schemathesis");
    if venv.is_file() {
        return venv;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("schemathesis"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "schemathesis is not installed (not in {} nor on PATH): run scripts/setup.sh --test",
                venv.display()
            )
        })
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

async fn login(server: &Server, email: &str) -> String {
    let res = reqwest::Client::new()
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let answer: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "login {email}: {answer}");
    answer["access_token"].as_str().unwrap().to_owned()
}

/// The `id` of a JSON answer that must be `expected`.
fn id_of(what: &str, (status, answer): (u16, Value), expected: u16) -> String {
    assert_eq!(status, expected, "{what}: {answer}");
    answer["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no id in {answer}"))
        .to_owned()
}

/// GET as `token`: the JSON answer, which must be a 200.
async fn get(server: &Server, token: &str, path: &str) -> Value {
    let res = reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The ids of a list answer: a plain array, or a page's `items`.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .or_else(|| list["items"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}

async fn seed_data(server: &Server) -> Seeded {
    let mut tokens = BTreeMap::new();
    let mut user_ids = BTreeMap::new();
    for (name, role) in USERS {
        let email = format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple());
        server
            .cli(&[
                "user",
                "add",
                "--email",
                &email,
                "--password",
                PASSWORD,
                "--role",
                role,
            ])
            .await
            .unwrap();
        let token = login(server, &email).await;
        let me = get(server, &token, "/api/me").await;
        user_ids.insert(*name, me["id"].as_str().unwrap().to_owned());

        tokens.insert(*name, token);
    }
    let (alice, bob, host, admin) = (
        &tokens["alice"],
        &tokens["bob"],
        &tokens["host"],
        &tokens["admin"],
    );

    // the host's charger, listed, on the evsim station
    let (charger, port) = listed_station_charger_of(server, STATION, host).await;
    let (status, blackout) = post(
        server,
        host,
        &format!("/api/chargers/{charger}/blackouts"),
        json!({"starts_on": "2031-01-01", "ends_on": "2031-01-02", "reason": "fuzzing"}),
    )
    .await;
    assert_eq!(status, 201, "blackout: {blackout}");

    // alice's money: a wallet top-up, a saved test card, a top-up paid by card
    top_up(server, alice, 20_000).await;
    let card = id_of(
        "card",
        post(
            server,
            alice,
            "/api/payment-methods",
            json!({"card_number": "4242 4242 4242 4242", "exp_month": 12,
                   "exp_year": 2034, "cvc": "123"}),
        )
        .await,
        201,
    );
    let payment = id_of(
        "card payment",
        post(
            server,
            alice,
            "/api/payments",
            json!({"purpose": "topup", "amount_cents": 2500, "currency": "EUR",
                   "method": "card", "payment_method_id": card}),
        )
        .await,
        201,
    );

    // a session charged on evsim, stopped and billed: the bill is invoiced
    let session_path = charging_session(server, alice, &charger, &port, 0.05).await;
    let (status, stopping) = post(server, alice, &format!("{session_path}/stop"), json!({})).await;
    assert_eq!(status, 202, "stop: {stopping}");
    let done = server
        .eventually(alice, &session_path, |s| {
            s["status"] == "completed" && s["cost"]["final"] == true
        })
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    let session = done["id"].as_str().unwrap().to_owned();
    let invoices = server
        .eventually(alice, "/api/invoices?source=session_bill", |p| {
            p["total"].as_i64() >= Some(1)
        })
        .await;
    let invoices = ids(&invoices);
    assert!(!invoices.is_empty(), "the billed session was not invoiced");

    // a confirmed booking tomorrow at noon (UTC), a subscription, vehicles, a badge
    let start = (Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let booking = id_of(
        "booking",
        post(
            server,
            alice,
            "/api/bookings",
            json!({"charger_id": charger, "port_id": port, "start_time": at(start),
                   "end_time": at(start + chrono::Duration::hours(1))}),
        )
        .await,
        201,
    );
    let (status, confirmed) = post(
        server,
        alice,
        &format!("/api/bookings/{booking}/confirm"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "confirm: {confirmed}");
    let subscription = id_of(
        "subscription",
        post(
            server,
            alice,
            "/api/subscriptions",
            json!({"product": "premium", "currency": "EUR"}),
        )
        .await,
        201,
    );
    let vehicle = json!({"make": "Volkswagen", "model": "ID.3", "battery_kwh": 58.0,
                         "connector_types": ["CCS2"]});
    let mut vehicles = vec![];
    for driver in [alice, bob] {
        vehicles.push(id_of(
            "vehicle",
            post(server, driver, "/api/me/vehicles", vehicle.clone()).await,
            201,
        ));
    }
    let badge = id_of(
        "id token",
        post(
            server,
            admin,
            "/api/id-tokens",
            json!({"idToken": "FUZZ-ALICE", "userId": user_ids["alice"]}),
        )
        .await,
        201,
    );

    // what the admin sees: the station's claim, the ledger's accounts
    let claims = ids(&get(server, admin, "/api/stations/claims").await);
    let mut accounts = ids(&get(server, admin, "/api/admin/ledger/accounts?limit=10").await);
    accounts.truncate(5);

    let one = |id: &str| vec![id.to_owned()];
    let dictionaries = BTreeMap::from([
        ("users", user_ids.values().cloned().collect()),
        ("hosts", one(&user_ids["host"])),
        ("stations", one(STATION)),
        ("id_token_values", one("FUZZ-ALICE")),
        ("claims", claims),
        ("id_tokens", one(&badge)),
        ("chargers", one(&charger)),
        ("ports", one(&port)),
        ("blackout_days", one("2031-01-01")),
        ("bookings", one(&booking)),
        ("sessions", one(&session)),
        ("invoices", invoices),
        ("payments", one(&payment)),
        ("payment_methods", one(&card)),
        ("vehicles", vehicles),
        ("subscriptions", one(&subscription)),
        ("ledger_accounts", accounts),
    ]);
    for (name, values) in &dictionaries {
        assert!(!values.is_empty(), "seeding made no {name}");
    }
    Seeded {
        tokens,
        dictionaries,
    }
}

/// The Web Fuzzing Commons identities: each user's access token from the seeding logins, as
/// a fixed bearer header. Tokens live 15 minutes, far longer than the run; logging in during
/// the run would not work anyway, because fuzzing `POST /api/auth/login` trips the per-client
/// failed-login throttle (429) for the test's one address within seconds.
fn login_file(seeded: &Seeded) -> Value {
    json!({
        "schemaVersion": "0.2.0",
        "auth": USERS.iter().map(|(name, _)| json!({
            "name": name,
            "fixedHeaders": [{"name": "Authorization",
                              "value": format!("Bearer {}", seeded.tokens[name])}],
        })).collect::<Vec<_>>(),
    })
}

/// A TOML string (JSON's escapes are TOML's).
fn toml(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn toml_list(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|s| toml(s)).collect();
    format!("[{}]", items.join(", "))
}

fn binding(dictionary: &str) -> String {
    format!(
        "{{ dictionary = {}, probability = {SEEDED_ID_PROBABILITY} }}",
        toml(dictionary)
    )
}

/// `schemathesis.toml` for the run, and the documented path parameters that no dictionary
/// feeds (enums excepted).
fn config_file(document: &Value, seeded: &Seeded, auth: &Path) -> (String, Vec<String>) {
    let mut config = String::new();
    let _ = writeln!(
        config,
        "# Written by tests/tests/schemathesis.rs; seed and time budget are on the command line.\n\
         # One worker: the server, evsim and the fuzzer share the machine with other tests.\n\
         workers = 1\n\
         request-timeout = 20\n\
         # GET /api/sessions/{{id}}/live is a server-sent event stream.\n\
         max-stream-events = 3\n\
         \n\
         # Runs are reproducible from the seed alone: nothing is kept between them.\n\
         [cache]\n\
         enabled = false\n\
         [generation]\n\
         database = \"none\"\n\
         \n\
         [auth.wfc]\n\
         path = {}\n\
         # alice and bob must not see each other's objects (object_level_authorization).\n\
         peers = [\"alice\", \"bob\"]\n\
         \n\
         [checks.positive_data_acceptance]\n\
         expected-statuses = {}\n\
         [checks.negative_data_rejection]\n\
         expected-statuses = {}",
        toml(&auth.display().to_string()),
        toml_list(POSITIVE_STATUSES),
        toml_list(NEGATIVE_STATUSES),
    );

    config.push_str("\n# The seeded objects' ids.\n");
    for (name, values) in &seeded.dictionaries {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let _ = writeln!(
            config,
            "[dictionaries.{name}]\nvalues = {}",
            toml_list(&values)
        );
    }

    let _ = writeln!(
        config,
        "# The users' password.\n[dictionaries.passwords]\nvalues = [{}]",
        toml(PASSWORD)
    );

    config.push_str("\n# Ids in queries and bodies, on every operation.\n[parameters]\n");
    for (field, dictionary) in FIELD_IDS {
        let _ = writeln!(config, "{} = {}", toml(field), binding(dictionary));
    }
    config.push_str(
        "# The fuzzer knows its users' password, as they do: each wrong `current_password`\n\
         # (PUT /api/me, 2FA) counts as a failed login, and ten in 15 minutes lock the account's\n\
         # logins for a while. Schema-invalid ones are still sent.\n\
         \"body.current_password\" = { dictionary = \"passwords\", probability = 1.0 }\n",
    );

    config.push_str("\n# Ids in paths, route by route.\n");
    let mut unbound = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for op in item.as_object().into_iter().flat_map(|ops| ops.values()) {
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["in"] != "path" {
                    continue;
                }
                let name = param["name"].as_str().unwrap_or_default();
                let bound = PATH_IDS
                    .iter()
                    .find(|(prefix, p, _)| path.starts_with(prefix) && *p == name);
                match bound {
                    Some((_, _, dictionary)) => {
                        params.insert(format!("path.{name}"), binding(dictionary));
                    }
                    None if param["schema"]["enum"].is_array() => {}
                    None => unbound.push(format!("{path} {{{name}}}")),
                }
            }
        }
        if params.is_empty() {
            continue;
        }
        let params: Vec<String> = params
            .iter()
            .map(|(key, value)| format!("{} = {value}", toml(key)))
            .collect();
        let _ = writeln!(
            config,
            "[[operations]]\ninclude-path = {}\nparameters = {{ {} }}",
            toml(path),
            params.join(", ")
        );
    }
    unbound.sort();
    unbound.dedup();

    // a wrong code, sign-in token or signature is a documented 400 of its own on these
    // routes: data the schema allows, answered as the document says
    let mut with_400 = POSITIVE_STATUSES.to_vec();
    with_400.push("400");
    for operation in CODE_ROUTES {
        let _ = writeln!(
            config,
            "\n[[operations]]\ninclude-name = {}\n\
             checks = {{ positive_data_acceptance = {{ expected-statuses = {} }} }}",
            toml(operation),
            toml_list(&with_400)
        );
    }
    for (operation, why) in EXCLUDED {
        let _ = writeln!(
            config,
            "\n# Not fuzzed: {why}\n[[operations]]\ninclude-name = {}\nenabled = false",
            toml(operation)
        );
    }
    (config, unbound)
}

/// The log's FAILURES section, each line cut to a readable width and the whole to a screenful
/// or two (the log and the reports keep everything).
fn failures_section(log: &str) -> String {
    const MAX_LINES: usize = 600;
    const MAX_WIDTH: usize = 400;
    let mut lines = log
        .lines()
        .skip_while(|l| !is_heading(l, "FAILURES"))
        .take_while(|l| is_heading(l, "FAILURES") || !is_heading(l, ""));
    let mut out = String::new();
    let mut shown = 0;
    for line in lines.by_ref().take(MAX_LINES) {
        shown += 1;
        match line.char_indices().nth(MAX_WIDTH) {
            Some((cut, _)) => {
                let _ = writeln!(out, "{} [… {} more bytes]", &line[..cut], line.len() - cut);
            }
            None => {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    let rest = lines.count();
    if rest > 0 {
        let _ = writeln!(out, "[… {rest} more lines of failures in the log]");
    }
    if shown == 0 {
        out.push_str(&tail(log, 80));
    }
    out
}

/// A `==== NAME ====` line of schemathesis' output (any name when `name` is empty).
fn is_heading(line: &str, name: &str) -> bool {
    let inner = line.trim_matches('=');
    line.starts_with("====") && line.ends_with("====") && inner.trim().contains(name)
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The failures by check, each with its routes; from the JSON report, or the log's own summary
/// when there is no report (schemathesis stopped before writing it).
fn grouped_failures(report: Option<&Value>, log: &str) -> String {
    let Some(report) = report else {
        return tail(log, 40);
    };
    let mut out = String::new();
    for failure in report["failures"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{} {} ({} found):",
            failure["code"].as_str().unwrap_or("?"),
            failure["title"].as_str().unwrap_or("?"),
            failure["count"]
        );
        for op in failure["operations"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "    {}", op.as_str().unwrap_or_default());
        }
    }
    for error in report["errors"].as_array().into_iter().flatten() {
        let text: String = error.to_string().chars().take(600).collect();
        let _ = writeln!(out, "error: {text}");
    }
    if out.is_empty() {
        out = tail(log, 40);
    }
    out
}

/// What was run and what the fuzzer could not reach, from the JSON report.
fn summary_block(report: Option<&Value>, log: &str) -> String {
    let Some(r) = report else {
        return format!("no JSON report; the log ends with:\n{}", tail(log, 40));
    };
    let mut out = String::new();
    let cases = &r["test_cases"];
    let _ = writeln!(
        out,
        "schemathesis {}: {} operations tested of {}, {} test cases, {} with failures, \
         {} unique failures, {} errors; stopped by {}",
        r["schemathesis_version"].as_str().unwrap_or("?"),
        r["operations"]["tested"],
        r["operations"]["total"],
        cases["generated"],
        cases["with_failures"],
        cases["unique_failures"],
        cases["errored"],
        r["stop_reason"].as_str().unwrap_or("?"),
    );
    for (phase, result) in r["phases"].as_object().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  phase {phase}: {}",
            result["status"].as_str().unwrap_or("?")
        );
    }
    let _ = writeln!(
        out,
        "  logins renewed after a 401: {}{}",
        r["auth"]["reauth_count"],
        if r["auth"]["reauth_broke"] == true {
            " (a renewal FAILED)"
        } else {
            ""
        }
    );
    for (kind, ops) in r["warnings"].as_object().into_iter().flatten() {
        let Some(ops) = ops.as_array().filter(|ops| !ops.is_empty()) else {
            continue;
        };
        let ops: Vec<&str> = ops.iter().filter_map(Value::as_str).collect();
        let _ = writeln!(out, "  warning {kind} ({}): {}", ops.len(), ops.join(", "));
    }
    out
}

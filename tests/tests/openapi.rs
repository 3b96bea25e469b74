//! The OpenAPI document against the real router: every documented (method, path) must be
//! routed, so the document cannot describe routes that do not exist; request bodies built
//! from the document must be accepted, so its field names cannot drift from the handlers';
//! and the offline Swagger UI must be served.

use e2e_tests::{Server, ServerOptions};
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde_json::{json, Value};

/// Fills `{name}` segments: dates where a date is expected, a random UUID elsewhere (a
/// station id may be any string, so a UUID names an unknown station, as wanted).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{starts_on}" => "2031-01-01".to_owned(),
            s if s.starts_with('{') => uuid::Uuid::new_v4().to_string(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn admin_token(server: &Server) -> String {
    server
        .cli(&[
            "user",
            "add",
            "--email",
            "root@example.com",
            "--password",
            "a long password",
            "--role",
            "admin",
        ])
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let tokens: Value = http
        .post(server.url("/api/auth/login"))
        .json(&serde_json::json!({"email": "root@example.com", "password": "a long password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_documented_route_is_routed() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    let answer = http
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let token = admin_token(&server).await;
    let mut missing = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let Ok(m) = Method::from_bytes(method.as_bytes()) else {
                continue;
            };
            let mut req = http
                .request(m.clone(), server.url(&concrete(path)))
                .bearer_auth(&token);
            if m == Method::POST || m == Method::PUT {
                req = req.header(CONTENT_TYPE, "application/json").body("{}");
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let problem = res
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/problem+json"));
            // axum answers an unrouted path with a bare 404 and a wrong method with 405;
            // our handlers' 404s are problem+json.
            let routed = status != 405 && (status != 404 || problem);
            checked += 1;
            if routed {
                assert!(
                    status < 500,
                    "{method} {path} answered {status} to an empty body"
                );
            } else {
                missing.push(format!("{method} {path} -> {status}"));
            }
        }
    }
    assert!(checked >= 58, "only {checked} operations documented");
    assert!(
        missing.is_empty(),
        "documented but not routed: {missing:#?}"
    );
}

/// Representative bodies: the routes whose field names drifted before.
const BODY_ROUTES: &[&str] = &[
    "/api/auth/register",
    "/api/chargers",
    "/api/search/nearby",
    "/api/search/area",
    "/api/me/vehicles",
    "/api/id-tokens",
];

/// Follows a `$ref` into `components.schemas`; other schemas come back as they are.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "dangling reference {r}");
            resolve(doc, target)
        }
        None => schema,
    }
}

/// An example value for a schema: its `example`, else the first enum value, else something
/// of the right type and format within its bounds. With `all`, objects get every documented
/// property, not just the required ones.
fn example(doc: &Value, schema: &Value, all: bool) -> Value {
    let schema = resolve(doc, schema);
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(e) = schema.get("examples").and_then(|e| e.get(0)) {
        return e.clone();
    }
    if let Some(v) = schema.get("enum").and_then(|e| e.get(0)) {
        return v.clone();
    }
    // Option<T> is `oneOf [null, T]` (or a type list with "null"): take the non-null side.
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = schema[key].as_array() {
            let alt = alts
                .iter()
                .find(|a| a["type"] != "null")
                .expect("a non-null alternative");
            return example(doc, alt, all);
        }
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_owned(),
        _ if schema["properties"].is_object() => "object".to_owned(),
        other => panic!("no type in {schema} ({other})"),
    };
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    match kind.as_str() {
        "object" => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut body = serde_json::Map::new();
            for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
                if all || required.contains(&name.as_str()) {
                    body.insert(name.clone(), example(doc, prop, all));
                }
            }
            Value::Object(body)
        }
        "array" => Value::Array(vec![example(doc, &schema["items"], all)]),
        "string" => match schema["format"].as_str() {
            Some("uuid") => json!(uuid::Uuid::new_v4()),
            Some("date") => json!("2031-01-01"),
            Some("date-time") => json!("2031-01-01T08:00:00Z"),
            _ => json!("x".repeat(schema["minLength"].as_u64().unwrap_or(1).max(1) as usize)),
        },
        "integer" => json!(bound("minimum").map_or(1, |m| m as i64)),
        "number" => json!(bound("minimum")
            .or(bound("exclusiveMinimum").map(|m| m + 1.0))
            .unwrap_or(1.0)),
        "boolean" => json!(false),
        other => panic!("no example for type {other}"),
    }
}

/// Bodies built from the document alone must get past the handlers' strict parsing: only
/// the documented required fields (with example values) must not be a 422 at all, and every
/// documented field at once must not be refused as unknown (other rules may still object to
/// that combination). A 401/403/404/409 is fine: the body was understood.
#[tokio::test]
async fn documented_request_bodies_are_accepted() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    let doc: Value = http
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // An admin passes every role check (host, operator, any user).
    let token = admin_token(&server).await;
    for path in BODY_ROUTES {
        let op = &doc["paths"][*path]["post"];
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "POST {path} documents no JSON body");
        for all in [false, true] {
            let body = example(&doc, schema, all);
            let res = http
                .post(server.url(path))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let answer: Value = res.json().await.unwrap_or(Value::Null);
            let what = if all {
                "every documented field"
            } else {
                "the required fields"
            };
            assert!(
                status < 500 && status != 400,
                "POST {path} with {what} {body} answered {status}: {answer}"
            );
            if status != 422 {
                assert!(
                    (200..300).contains(&status) || [401, 403, 404, 409].contains(&status),
                    "POST {path} with {what} {body} answered {status}: {answer}"
                );
                continue;
            }
            assert!(all, "POST {path} with {what} {body} answered 422: {answer}");
            for error in answer["errors"].as_array().into_iter().flatten() {
                let message = error["message"].as_str().unwrap_or_default();
                assert!(
                    message != "is not a known field" && message != "is required",
                    "POST {path}: the document and the handler disagree on `{}` ({message}); \
                     body {body}",
                    error["field"]
                );
            }
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served_offline() {
    let server = Server::start(ServerOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    // `/api/docs` redirects to `/api/docs/`; reqwest follows.
    let page = http.get(server.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let kind = page.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // The UI's own files come from the binary, not a CDN.
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let res = http
            .get(server.url(&format!("/api/docs/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{asset}");
    }
    let init = http
        .get(server.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/openapi.json"), "{init}");
    assert!(
        !html.contains("https://"),
        "the page must not load anything remote"
    );
}

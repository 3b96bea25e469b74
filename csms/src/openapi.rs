//! The OpenAPI 3.1 description of the whole REST API, served at `GET /api/openapi.json`, with
//! Swagger UI at `/api/docs`.
//!
//! Each route documents itself where it is handled (`#[utoipa::path]` on the handler, collected
//! with its route by utoipa-axum's `OpenApiRouter`), on the types it really takes and returns;
//! this file only adds what belongs to the server as a whole: title, security scheme, tags,
//! operation ids. `tests/tests/openapi.rs` calls every documented route against the real
//! server, and `tests/tests/schemathesis.rs` fuzzes the document against it.
//!
//! The UI works offline: `utoipa-swagger-ui`'s `vendored` feature embeds the Swagger UI files
//! that come inside the `utoipa-swagger-ui-vendored` crate; its build script then never
//! downloads (it reads the bytes from that crate when `CARGO_FEATURE_VENDORED` is set).

use axum::Router;
use marketplace::http::doc::{Problem, BEARER};
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, LicenseBuilder, ObjectBuilder, OpenApi,
    OpenApiBuilder, ResponseBuilder, Tag,
};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;

pub const DOC_PATH: &str = "/api/openapi.json";
pub const UI_PATH: &str = "/api/docs";

/// The whole API with its description: the marketplace's routes, each documented where it is
/// handled, and the operator routes of the CSMS.
pub fn api() -> OpenApiRouter<AppState> {
    marketplace::http::router().merge(crate::api::router())
}

/// The document as served: the routes' own paths and schemas, with this server's title,
/// security scheme and tags, and operation ids made from method and path (stable for
/// generated clients whatever the handlers are called).
pub fn document() -> OpenApi {
    let (_, generated) = api().split_for_parts();
    finish(generated)
}

pub fn finish(generated: OpenApi) -> OpenApi {
    let mut paths = generated.paths;
    paths.paths.insert(DOC_PATH.to_owned(), this_document());
    for (path, item) in paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            op.operation_id = Some(operation_id(method, path));
        }
    }
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(ROLES))
                    .build(),
            ),
        )
        .build();
    if let Some(theirs) = generated.components {
        components.schemas.extend(theirs.schemas);
        components.responses.extend(theirs.responses);
    }
    // error answers name `Problem` by reference (the shared groups in marketplace::http::doc)
    let mut problem = Vec::new();
    <Problem as ToSchema>::schemas(&mut problem);
    problem.push((
        Problem::name().into_owned(),
        <Problem as PartialSchema>::schema(),
    ));
    components.schemas.extend(problem);
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("EV charging platform API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(INTRO))
                .license(Some(LicenseBuilder::new().name("Apache-2.0").build())),
        )
        .paths(paths)
        .components(Some(components))
        .tags(Some(TAGS.iter().map(|(name, text)| {
            let mut tag = Tag::new(*name);
            tag.description = Some((*text).to_owned());
            tag
        })))
        .build()
}

/// `GET /api/openapi.json`: served by Swagger UI's router, so described here.
fn this_document() -> PathItem {
    let answer = ResponseBuilder::new()
        .description("This OpenAPI 3.1 document")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().build()))
                .build(),
        );
    PathItem::new(
        HttpMethod::Get,
        OperationBuilder::new()
            .tag("health")
            .summary(Some("This OpenAPI 3.1 document"))
            .response("200", answer),
    )
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
        ("head", item.head.as_mut()),
        ("options", item.options.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// `get_api_bookings_id` for `GET /api/bookings/{id}`.
fn operation_id(method: &str, path: &str) -> String {
    format!(
        "{method}{}",
        path.replace(['/', '-', '{', '}', '|'], "_")
            .replace("__", "_")
            .trim_end_matches('_')
    )
}

/// `/api/openapi.json` and the UI under `/api/docs`.
pub fn router<S: Clone + Send + Sync + 'static>(document: OpenApi) -> Router<S> {
    SwaggerUi::new(UI_PATH).url(DOC_PATH, document).into()
}

const INTRO: &str = "REST API of the OCPP 2.0.1 central system and the charger marketplace. \
Errors are RFC 9457 `application/problem+json` bodies (schema `Problem`) with a stable `code`; \
validation errors (422) list every bad field in `errors`. JSON bodies are parsed strictly: \
unknown fields are a 422. Operator routes use camelCase (as OCPP does), marketplace routes \
snake_case.";

const ROLES: &str = "Access token from `POST /api/auth/login` (or register/refresh/2FA), sent as \
`Authorization: Bearer <token>`. Roles: `driver` books and charges; `host` lists own chargers; \
`operator` runs stations, id tokens and transactions; `admin` may do everything, including \
approving listings. Each operation's description names the roles it accepts.";

const TAGS: &[(&str, &str)] = &[
    (
        "accounts",
        "Registration, login, tokens, 2FA, profile, vehicles",
    ),
    (
        "stations",
        "OCPP stations: provisioning, remote start/stop, raw calls (operators)",
    ),
    (
        "id-tokens",
        "Badges and tokens stations authorize against (operators)",
    ),
    ("transactions", "OCPP transactions (operators)"),
    (
        "listings",
        "Chargers hosts list, and their review by admins",
    ),
    ("search", "Finding listed chargers"),
    (
        "bookings",
        "Holding a port for a time slot: book, confirm, cancel (refunds), reschedule, extend, \
         check in; free slots; hosts' view and booking rules",
    ),
    (
        "pricing",
        "Chargers' tariffs (host settings or OCPI 2.2.1, with history) and itemized estimates",
    ),
    (
        "sessions",
        "Charging: start from a booking or a free port, live figures and cost (also as \
         server-sent events), pause/resume/stop, the itemized bill, history and totals; host \
         analytics",
    ),
    (
        "wallet",
        "A driver's money: balance, holds for bookings, top-ups, history, low-balance \
         setting; the ledger's accounts (admins)",
    ),
    (
        "payments",
        "Saved cards, paying bookings, sessions and top-ups by card or wallet (3-D Secure, \
         manual capture), refunds, the Stripe webhook, hosts' payout accounts (Stripe Connect)",
    ),
    (
        "subscriptions",
        "Drivers' plans (Premium, Pro) and insurance coverage, hosts' products (featured \
         listing, availability API, analytics): paid monthly from the wallet, prorated on \
         change, dunning on failure; the caller's entitlements",
    ),
    (
        "invoices",
        "Invoices and credit notes for what was paid (sessions, kept booking fees, \
         subscriptions): gap-free numbers per issuer, tax lines, JSON and PDF",
    ),
    ("health", "Probes, metrics, this document"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = &part[..part.find('"').unwrap()];
            assert!(schemas.contains_key(name), "dangling reference to {name}");
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = serde_json::to_value(document()).unwrap();
        let mut ids = std::collections::HashSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let id = op["operationId"].as_str().unwrap().to_owned();
                assert!(ids.insert(id.clone()), "duplicate operationId {id}");
            }
        }
    }
}

#[cfg(test)]
mod answers {
    use super::*;

    /// Clients switch on `code`: every error answer must be a `Problem`.
    #[test]
    fn every_error_answer_is_a_problem() {
        let doc = serde_json::to_value(document()).unwrap();
        let mut wrong = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, answer) in op["responses"].as_object().unwrap() {
                    if !status.starts_with('4') && !status.starts_with('5') {
                        continue;
                    }
                    // `/healthz` answers its own JSON when the database is down
                    if path == "/healthz" {
                        continue;
                    }
                    let schema = &answer["content"]["application/problem+json"]["schema"];
                    if schema["$ref"] != "#/components/schemas/Problem" {
                        wrong.push(format!("{method} {path} {status}"));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "not problem+json: {wrong:#?}");
    }
}

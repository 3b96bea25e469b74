//! Invoice routes. A driver reads the invoices made out to them, a host those issued in
//! their name (`?as=issuer`), an admin any (`?user_id=` narrows to one customer). Someone
//! else's invoice is a 404, the same as a missing one.

use axum::extract::{FromRef, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::model::{Invoice, Source};
use super::pdf;
use super::store::{self, Filter, Party};
use crate::accounts::{AuthUser, Role};
use crate::error::{Error, FieldError};
use crate::http::doc::{BadQuery, Problem, SignedIn};
use crate::http::{paging, ApiContext, ApiJson};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

pub fn router<S>() -> OpenApiRouter<S>
where
    ApiContext: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::default()
        .routes(routes!(list))
        .routes(routes!(one))
        .routes(routes!(one_pdf))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoicePage {
    pub items: Vec<Invoice>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// `as` (customer | issuer), `user_id` (admins), `source`, `from`, `to`, `limit`, `offset`.
fn parse(caller: &AuthUser, params: &[(String, String)]) -> Result<(Party, Filter), Error> {
    let mut filter = Filter {
        limit: DEFAULT_LIMIT,
        ..Filter::default()
    };
    let mut party = Party::Customer(caller.id);
    let mut user = None;
    let mut errors = Vec::new();
    for (name, value) in params {
        let result = match name.as_str() {
            "as" => match value.as_str() {
                "customer" => {
                    party = Party::Customer(caller.id);
                    Ok(())
                }
                "issuer" => {
                    party = Party::Issuer(caller.id);
                    Ok(())
                }
                _ => Err("must be customer or issuer".to_owned()),
            },
            "user_id" if caller.role == Role::Admin => value
                .parse::<Uuid>()
                .map(|u| user = Some(u))
                .map_err(|_| "must be a UUID".to_owned()),
            "user_id" => Err("only admins read other users' invoices".to_owned()),
            "source" => value.parse::<Source>().map(|s| filter.source = Some(s)),
            "from" => paging::time(value).map(|t| filter.from = Some(t)),
            "to" => paging::time(value).map(|t| filter.to = Some(t)),
            "limit" => paging::limit(value, MAX_LIMIT).map(|n| filter.limit = n),
            "offset" => paging::offset(value).map(|n| filter.offset = n),
            _ => Err("is not a known parameter".to_owned()),
        };
        if let Err(message) = result {
            errors.push(FieldError::new(name, message));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    if caller.role == Role::Admin {
        party = match (user, params.iter().any(|(n, _)| n == "as")) {
            (Some(u), _) => Party::Customer(u),
            (None, false) => Party::Anyone,
            (None, true) => party,
        };
    }
    Ok((party, filter))
}

/// My invoices
///
/// **Roles:** any signed-in user.
///
/// Invoices made out to the caller, newest first, without their lines. `as=issuer`: those
/// issued in the caller's name (a host's charging and booking fees). Admins see every invoice,
/// or one customer's with `user_id`. Invoices are issued when the money moves: a session's bill
/// when it is posted, a fee a cancelled or no-show booking keeps, a subscription charge.
#[utoipa::path(
    get,
    path = "/api/invoices",
    tag = "invoices",
    security(("bearer" = [])),
    params(
        ("as" = Option<String>, Query, pattern = "^(customer|issuer)$",
            description = "Whose side: `customer` (the default) or `issuer`"),
        ("user_id" = Option<Uuid>, Query, description = "Admins: this customer's"),
        ("source" = Option<Source>, Query, description = "Only this kind of source"),
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query,
            description = "Issued from this instant (inclusive)"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query,
            description = "Issued before this instant"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (20)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip"),
    ),
    responses(
        (status = 200, description = "A page of invoices", body = InvoicePage),
        SignedIn,
        BadQuery,
    )
)]
async fn list(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<ApiJson<InvoicePage>, Error> {
    let (party, filter) = parse(&caller, &params)?;
    let (items, total) = store::page(&ctx.pool, party, &filter).await?;
    Ok(ApiJson(InvoicePage {
        items,
        total,
        limit: filter.limit,
        offset: filter.offset,
    }))
}

/// The invoice when the caller may read it: its customer, its issuing host, an admin.
async fn readable(ctx: &ApiContext, caller: &AuthUser, id: &str) -> Result<Invoice, Error> {
    let missing = Error::NotFound("invoice");
    let id: Uuid = id.parse().map_err(|_| Error::NotFound("invoice"))?;
    let invoice = store::get(&ctx.pool, id).await?.ok_or(missing)?;
    let allowed = caller.role == Role::Admin
        || invoice.customer_id == caller.id
        || invoice.issuer_id == Some(caller.id);
    if allowed {
        Ok(invoice)
    } else {
        Err(Error::NotFound("invoice"))
    }
}

/// An invoice
///
/// **Roles:** any signed-in user. Readable by its customer, the host it is issued for, and
/// admins; anyone else gets the same 404 as for a missing invoice.
#[utoipa::path(
    get,
    path = "/api/invoices/{id}",
    tag = "invoices",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The invoice")),
    responses(
        (status = 200, description = "The invoice with its lines and tax lines", body = Invoice),
        SignedIn,
        (status = 404, description = "No such invoice, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn one(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<ApiJson<Invoice>, Error> {
    Ok(ApiJson(readable(&ctx, &caller, &id).await?))
}

/// An invoice as PDF
///
/// **Roles:** any signed-in user. Readable by its customer, the host it is issued for, and
/// admins; anyone else gets the same 404 as for a missing invoice.
#[utoipa::path(
    get,
    path = "/api/invoices/{id}/pdf",
    tag = "invoices",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The invoice")),
    responses(
        (status = 200, description = "The invoice as an A4 PDF document",
            content_type = "application/pdf", body = Vec<u8>),
        SignedIn,
        (status = 404, description = "No such invoice, or not the caller's (`not_found`)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
async fn one_pdf(
    State(ctx): State<ApiContext>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let invoice = readable(&ctx, &caller, &id).await?;
    let bytes =
        tokio::task::spawn_blocking(move || pdf::render(&invoice).map(|b| (b, invoice.number)))
            .await
            .map_err(|e| Error::Internal(format!("pdf task: {e}")))??;
    let (bytes, number) = bytes;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{number}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

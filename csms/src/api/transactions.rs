use axum::extract::State;
use chrono::{DateTime, Utc};
use marketplace::accounts::RequireOperator;
use marketplace::error::Error;
use marketplace::http::doc::{Problem, RoleOnly};
use marketplace::http::ApiJson;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiQuery, Page};
use crate::app::AppState;
use crate::store::transactions::{self, TransactionFilter, TransactionRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OcppTransactionPage)]
struct TransactionPage {
    items: Vec<TransactionRow>,
    limit: i64,
    offset: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filters {
    station_id: Option<String>,
    id_token: Option<String>,
    active: Option<bool>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn default_limit() -> i64 {
    50
}

/// Search transactions
///
/// **Roles:** operator, admin.
///
/// Newest first. `from`/`to` bound the start time; `to` must be after `from`.
#[utoipa::path(
    get,
    path = "/api/transactions",
    tag = "transactions",
    security(("bearer" = [])),
    params(
        ("stationId" = Option<String>, Query, description = "Only this station"),
        ("idToken" = Option<String>, Query, description = "Only this id token value"),
        ("active" = Option<bool>, Query,
            description = "Only open (true) or ended (false) ones"),
        ("from" = Option<DateTime<Utc>>, Query, description = "Started at or after"),
        ("to" = Option<DateTime<Utc>>, Query, description = "Started before"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "Page size (50)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Rows to skip (0)"),
    ),
    responses(
        (status = 200, description = "A page of transactions", body = TransactionPage),
        RoleOnly,
        (status = 422, description = "`to` is not after `from`, `limit` (1 to 500) or `offset` \
            (0 or more) is out of range, or a parameter has the wrong type or is repeated \
            (`query`); each is named in `errors` (`validation_failed`)", body = Problem,
            content_type = "application/problem+json"),
    )
)]
async fn list(
    _: RequireOperator,
    State(app): State<AppState>,
    ApiQuery(f): ApiQuery<Filters>,
) -> Result<ApiJson<TransactionPage>, Error> {
    let page = Page {
        limit: f.limit,
        offset: f.offset,
    }
    .checked()?;
    if let (Some(from), Some(to)) = (f.from, f.to) {
        if from >= to {
            return Err(Error::invalid("to", "must be after `from`"));
        }
    }
    let filter = TransactionFilter {
        station_id: f.station_id,
        id_token: f.id_token,
        active: f.active,
        from: f.from,
        to: f.to,
        limit: page.limit,
        offset: page.offset,
    };
    let items = transactions::list(&app.api.pool, &filter).await?;
    Ok(ApiJson(TransactionPage {
        items,
        limit: page.limit,
        offset: page.offset,
    }))
}

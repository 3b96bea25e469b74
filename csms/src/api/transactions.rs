use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use marketplace::accounts::RequireOperator;
use marketplace::error::Error;
use marketplace::http::ApiJson;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiQuery, Page};
use crate::app::AppState;
use crate::store::transactions::{self, TransactionFilter};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/transactions", get(list))
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

async fn list(
    _: RequireOperator,
    State(app): State<AppState>,
    ApiQuery(f): ApiQuery<Filters>,
) -> Result<ApiJson<Value>, Error> {
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
    Ok(ApiJson(
        json!({ "items": items, "limit": page.limit, "offset": page.offset }),
    ))
}

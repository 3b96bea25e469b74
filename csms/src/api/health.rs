//! Probes and metrics, outside `/api/`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use marketplace::accounts::RequireOperator;
use marketplace::http::doc::RoleOnly;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::{render_metrics, AppState, Mode};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(operator_metrics))
}

/// Whether the server reaches its database.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum HealthStatus {
    Ok,
    #[serde(rename = "database unavailable")]
    DatabaseUnavailable,
}

/// The server's health and mode.
#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    status: HealthStatus,
    mode: Mode,
}

/// Liveness, database check and mode
///
/// The server runs; `status` says whether it reaches the database, `mode` whether it runs in
/// production or development mode.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses(
        (status = 200, description = "`{\"status\":\"ok\",\"mode\":\"production\"}` (or \
            `development`): the server runs and reaches the database", body = Health),
        (status = 503, description = "`status` says the database is unreachable", body = Health),
    )
)]
async fn healthz(State(app): State<AppState>) -> impl IntoResponse {
    let mode = app.mode();
    match sqlx::query("SELECT 1").execute(&app.api.pool).await {
        Ok(_) => (
            StatusCode::OK,
            axum::Json(Health {
                status: HealthStatus::Ok,
                mode,
            }),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(Health {
                status: HealthStatus::DatabaseUnavailable,
                mode,
            }),
        ),
    }
}

/// Prometheus metrics
///
/// **Roles:** operator, admin.
///
/// On this listener for operators only (the metrics name stations and show traffic);
/// Prometheus scrapes the same metrics without a token from the `--metrics-listen` address
/// (default 127.0.0.1:9464).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition format",
            content_type = "text/plain; version=0.0.4", body = String),
        RoleOnly,
    )
)]
async fn operator_metrics(_: RequireOperator, State(app): State<AppState>) -> impl IntoResponse {
    render_metrics(&app.metrics)
}

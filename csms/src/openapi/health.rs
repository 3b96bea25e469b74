//! Probes and metrics: unauthenticated, plain text, outside `/api/`.

use super::route::Route;

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/healthz", "health", "Liveness and database check")
            .text(
                200,
                "text/plain",
                "`ok`: the server runs and reaches the database",
            )
            .text(503, "text/plain", "The database is unreachable"),
        Route::get("/metrics", "health", "Prometheus metrics").text(
            200,
            "text/plain; version=0.0.4",
            "Prometheus text exposition format",
        ),
        Route::get("/api/openapi.json", "health", "This OpenAPI 3.1 document").text(
            200,
            "application/json",
            "The OpenAPI document",
        ),
    ]
}

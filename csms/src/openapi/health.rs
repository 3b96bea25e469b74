//! Probes and metrics, outside `/api/`.

use super::route::{Route, OPERATOR};

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/healthz", "health", "Liveness, database check and mode")
            .text(
                200,
                "application/json",
                "`{\"status\":\"ok\",\"mode\":\"production\"}` (or `development`): the \
                 server runs and reaches the database",
            )
            .text(
                503,
                "application/json",
                "`status` says the database is unreachable",
            ),
        Route::get("/metrics", "health", "Prometheus metrics")
            .describe(
                "On this listener for operators only; Prometheus scrapes the same metrics \
                 without a token from the `--metrics-listen` address (default 127.0.0.1:9464).",
            )
            .access(OPERATOR)
            .text(
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

//! Static assets, embedded in the binary (no CDN, nothing fetched at run time): the vendored
//! uPlot (assets/vendor/uplot, see its SOURCE.md), the dashboard's script and style sheet.

use crate::error::ApiError;
use crate::extract::Path;
use crate::state::AppState;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(asset))
}

/// (name, content type, bytes).
const ASSETS: [(&str, &str, &[u8]); 6] = [
    (
        "uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/uplot/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/vendor/uplot/uPlot.min.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    ),
    (
        "machine.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/machine.js"),
    ),
    (
        "evidence.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/evidence.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/style.css"),
    ),
];

/// A static asset (scripts, style sheets); no token needed.
#[utoipa::path(get, path = "/assets/{file}", tag = "pages", security(()),
    params(("file" = String, Path, description = "uPlot.iife.min.js, uPlot.min.css, app.js, machine.js, evidence.js or style.css")),
    responses((status = 200, description = "The file"), (status = 404, description = "No such asset")))]
async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, bytes)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *bytes,
        )
            .into_response(),
        None => ApiError::NotFound(format!(
            "no asset '{file}'; assets: {}",
            ASSETS.map(|a| a.0).join(", ")
        ))
        .into_response(),
    }
}

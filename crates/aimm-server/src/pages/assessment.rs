//! The assessment page: the store's evidence judged by the criteria catalog, the verdicts from
//! `/api/assessment`, and aimm-assess's own HTML report (the one `aimm assess --report` writes)
//! served beside it so the page and the file a buyer gets cannot differ.

use super::layout::{page, PageUser};
use crate::state::AppState;
use aimm_model::Permission;
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(assessment))
        .routes(routes!(report))
}

/// The assessment of the store's evidence.
#[utoipa::path(get, path = "/assessment", tag = "pages",
    responses((status = 200, description = "The assessment", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login")))]
async fn assessment(PageUser(user): PageUser) -> Response {
    page(
        "Assessment",
        &user,
        serde_json::json!({ "kind": "assessment" }),
        html! {
            p.note { "The store's ledger judged by aimm's built-in criteria catalog, as "
                code { "aimm assess --db" } " judges it; made again when records are appended." }
            p #assessment-summary { "Judging the evidence…" }
            table #assessment-criteria .data {
                thead { tr { th { "Criterion" } th { "Level" } th { "Loop" } th { "Result" }
                    th { "Measured" } th { "Threshold" } th { "Why" } } }
                tbody {}
            }
            h2 { "Report" }
            p.note { "The report " code { "aimm assess --report" } " writes, "
                a href="/assessment/report" target="_blank" { "on its own page" } "." }
            iframe #assessment-report title="Assessment report" style="width:100%;height:80vh;border:1px solid #d8dde3;background:#fff" {}
        },
    )
}

/// The assessment report as aimm-assess renders it (one self-contained HTML page).
#[utoipa::path(get, path = "/assessment/report", tag = "pages",
    responses((status = 200, description = "The HTML assessment report", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login"),
        (status = 403, description = "The role may not assess")))]
async fn report(
    axum::extract::State(state): axum::extract::State<AppState>,
    PageUser(user): PageUser,
) -> Response {
    if let Err(e) = user.require(Permission::Assess) {
        return e.into_response();
    }
    match crate::api::assessment::judged(&state).await {
        Ok(j) => Html(j.html.clone()).into_response(),
        Err(e) => e.into_response(),
    }
}

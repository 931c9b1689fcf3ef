//! The cell overview (`/`): every machine's state, OEE (ISO 22400) and the loops acting on it.

use super::layout::{page, PageUser};
use crate::state::AppState;
use axum::response::Response;
use maud::html;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(overview))
}

/// The cell overview.
#[utoipa::path(get, path = "/", tag = "pages",
    responses((status = 200, description = "The cell overview", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login")))]
async fn overview(PageUser(user): PageUser) -> Response {
    page(
        "Cell",
        &user,
        serde_json::json!({ "kind": "overview" }),
        html! {
            p.note { "OEE per ISO 22400-2 over each machine's recorded runs: availability = \
                production time ÷ busy time; performance = best demonstrated cycle ÷ actual; \
                quality = parts in tolerance ÷ parts measured." }
            table #machines .data {
                thead { tr {
                    th { "Machine" } th { "State" } th { "Parts" } th { "Availability" }
                    th { "Performance" } th { "Quality" } th { "OEE" } th { "Loops acting" }
                } }
                tbody {}
            }
            div #oee-plot .plot {}
            h2 { "Latest decisions" }
            ul #feed .records {}
        },
    )
}

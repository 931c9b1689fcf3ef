//! A tool (`/machines/{machine}/tools/{tool}`): its wear as the wear loop estimated it (with the
//! interval), the wear measured on parts, the offsets written, the remaining useful life and the
//! planned change, all from `GET /api/machines/{machine}/tools/{tool}/wear`.

use super::layout::{page, PageUser};
use crate::extract::Path;
use crate::state::AppState;
use axum::response::Response;
use maud::html;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tool_page))
}

/// One tool's wear page.
#[utoipa::path(get, path = "/machines/{machine}/tools/{tool}", tag = "pages",
    params(("machine" = String, Path, description = "Machine id, e.g. mill-4"),
        ("tool" = u32, Path, description = "Tool number")),
    responses((status = 200, description = "The tool page", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login")))]
async fn tool_page(
    PageUser(user): PageUser,
    Path((machine, tool)): Path<(String, u32)>,
) -> Response {
    page(
        &format!("{machine} · T{tool}"),
        &user,
        serde_json::json!({ "kind": "tool", "machine": machine, "tool": tool }),
        html! {
            p.note { a href=(format!("/machines/{machine}")) { "← " (machine) } " · "
                span #tool-spec {} }
            div #tool-summary {}
            h2 { "Wear (flank wear VB)" }
            p.note { "The wear loop's estimate after each part with its 90 % interval \
                (control_action records of loop wear), the wear measured on parts (the parts' \
                results), and the wear at which a change is planned." }
            div #wear-plot .plot {}
            h2 { "Radius wear offsets written" }
            div #offset-plot .plot {}
            h2 { "Decisions" }
            table #wear-table .data {
                thead { tr {
                    th { "Record" } th { "After part" } th { "Decision" } th { "VB est. mm" }
                    th { "90 % interval" } th { "Offset mm" } th { "Remaining life s" }
                } }
                tbody {}
            }
        },
    )
}

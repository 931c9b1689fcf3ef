//! The learning loop's proposals (`/proposals`): every NC program version it proposed, with its
//! status; a pending one has Approve and Reject buttons posting to the API (engineers only, so
//! another role sees the API's 403 message).

use super::layout::{page, PageUser};
use crate::state::AppState;
use axum::response::Response;
use maud::html;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(proposals_page))
}

/// The proposals page.
#[utoipa::path(get, path = "/proposals", tag = "pages",
    responses((status = 200, description = "The proposals page", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login")))]
async fn proposals_page(PageUser(user): PageUser) -> Response {
    page(
        "Proposals",
        &user,
        serde_json::json!({ "kind": "proposals" }),
        html! {
            p.note { "NC program versions the learning loop proposed in advise mode. An \
                engineer approves one (it is released to the machine from its next part) or \
                rejects it with a reason; both are ledger records naming them and their role." }
            div #proposal-result {}
            table #proposals .data {
                thead { tr {
                    th { "Record" } th { "Program" } th { "Version" } th { "Proposed" }
                    th { "What changed" } th { "Status" } th { "Decide" }
                } }
                tbody {}
            }
        },
    )
}

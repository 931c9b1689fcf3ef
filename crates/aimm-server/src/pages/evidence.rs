//! The evidence pages: NC program versions and their diffs, the schedule in force as a Gantt
//! with the tariff and the cell's realised power, and the ledger browser with a record's proof
//! and lineage. Each is a shell that assets/evidence.js fills from the JSON API.

use super::layout::{page, PageUser};
use crate::extract::Path;
use crate::state::AppState;
use axum::response::Response;
use maud::html;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(programs))
        .routes(routes!(program))
        .routes(routes!(schedule))
        .routes(routes!(ledger))
        .routes(routes!(record))
}

/// Every NC program with its versions.
#[utoipa::path(get, path = "/programs", tag = "pages",
    responses((status = 200, description = "NC programs and their versions", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login")))]
async fn programs(PageUser(user): PageUser) -> Response {
    page(
        "NC programs",
        &user,
        serde_json::json!({ "kind": "programs" }),
        html! {
            p.note { "Every version is an " code { "nc_program" } " record naming its parent, what \
                changed and why; a release is the " code { "control_action" } " that put it on a machine." }
            div #programs {}
        },
    )
}

/// One program: its versions and a diff between any two.
#[utoipa::path(get, path = "/programs/{name}", tag = "pages",
    params(("name" = String, Path, description = "Program name")),
    responses((status = 200, description = "A program's versions and diff", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login")))]
async fn program(PageUser(user): PageUser, Path(name): Path<String>) -> Response {
    page(
        &format!("NC program {name}"),
        &user,
        serde_json::json!({ "kind": "program", "name": name }),
        html! {
            table #versions .data {
                thead { tr {
                    th { "Version" } th { "Parent" } th { "What changed" } th { "Why" }
                    th { "Status" } th { "Record" }
                } }
                tbody {}
            }
            h2 { "Diff" }
            form #diff-form {
                label { "from " select #diff-from {} }
                " "
                label { "to " select #diff-to {} }
                " " button type="submit" { "Compare" }
            }
            p #diff-summary .note {}
            div #diff .diff {}
        },
    )
}

/// The schedule in force (or an earlier one) as a Gantt, with the cell's power against the cap.
#[utoipa::path(get, path = "/schedule", tag = "pages",
    responses((status = 200, description = "The cell's schedule", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login")))]
async fn schedule(PageUser(user): PageUser) -> Response {
    page(
        "Schedule",
        &user,
        serde_json::json!({ "kind": "schedule" }),
        html! {
            p.note { "Operations of a " code { "schedule" } " record per machine, over the tariff \
                bands of the model it carries (darker: dearer); below, the cell's recorded power \
                (each machine's one-second means, summed) against the plant cap." }
            label { "Schedule " select #schedule-pick {} }
            p #schedule-summary {}
            div #gantt .plot {}
            div #power-plot .plot {}
        },
    )
}

/// The ledger, by type, page by page.
#[utoipa::path(get, path = "/ledger", tag = "pages",
    responses((status = 200, description = "The ledger browser", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login")))]
async fn ledger(PageUser(user): PageUser) -> Response {
    page(
        "Ledger",
        &user,
        serde_json::json!({
            "kind": "ledger",
            "types": aimm_ledger::record::KINDS,
        }),
        html! {
            form #ledger-filter {
                label { "Type " select #ledger-type { option value="" { "all" } } }
                " " label { "Before leaf " input #ledger-before type="number" min="0"; }
                " " button type="submit" { "Show" }
            }
            p #ledger-size .note {}
            table #ledger-records .data {
                thead { tr { th { "Leaf" } th { "Type" } th { "Recorded" } th { "Summary" } th { "Cites" } } }
                tbody {}
            }
            p { button #ledger-newer type="button" { "← Newer" } " " button #ledger-older type="button" { "Older →" } }
        },
    )
}

/// One record: its JSON, leaf hash, inclusion proof, citing records and lineage graph.
#[utoipa::path(get, path = "/ledger/{leaf}", tag = "pages",
    params(("leaf" = u64, Path, description = "Leaf index")),
    responses((status = 200, description = "A ledger record", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login")))]
async fn record(PageUser(user): PageUser, Path(leaf): Path<u64>) -> Response {
    page(
        &format!("Ledger leaf {leaf}"),
        &user,
        serde_json::json!({ "kind": "record", "leaf": leaf }),
        html! {
            p #record-summary {}
            table #record-proof .data { tbody {} }
            h2 { "Lineage" }
            p.note { "What this record rests on: each column one citation further back; an arrow \
                goes from the citing record to the cited one. Click a record to open it." }
            label { "Depth " select #lineage-depth {
                @for d in 1..=8 { option value=(d) selected[d == 3] { (d) } }
            } }
            div #lineage .plot {}
            h2 { "Cited by" }
            ul #cited-by .records {}
            h2 { "Record" }
            pre #record-json .code {}
        },
    )
}

//! A machine (`/machines/{machine}`): spindle load against the feed loop's setpoint with the
//! commanded override over the latest run, then live; the machine-state timeline; the cycle-time
//! history; links to its tools' wear pages.
//!
//! The setpoints are not a signal: they are the feed loop's `control_parameter_change` records
//! (`<machine>/params` holds a fixed or limit setpoint, or `teach-in`; taught setpoints are
//! `setpoint/<program@sha8/material>/T<tool>`), so the page handler reads them from the ledger
//! index and hands them to the script, which steps them with the tool in the spindle.

use super::layout::{page, PageUser};
use crate::extract::Path;
use crate::state::AppState;
use aimm_ledger::record::Evidence;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(machine_page))
}

/// The feed loop's name in the ledger.
const FEED_LOOP: &str = "adaptive_feed";

/// One machine's page.
#[utoipa::path(get, path = "/machines/{machine}", tag = "pages",
    params(("machine" = String, Path, description = "Machine id, e.g. mill-1")),
    responses((status = 200, description = "The machine page", content_type = "text/html"),
        (status = 303, description = "Not logged in: to /login"),
        (status = 404, description = "No such machine")))]
async fn machine_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(machine): Path<String>,
) -> Response {
    let id = machine.clone();
    let found = state
        .with_index(move |index, store| {
            let spec = crate::api::machines::find_machine(store, &id)?;
            let tools: Vec<u32> = store.tools(&spec.id)?.iter().map(|t| t.number).collect();
            // The machine's loop parameters, and every taught setpoint (they are keyed by
            // program and material, not by machine; the script picks those of the run shown).
            let mut fixed = serde_json::Value::Null;
            let mut learned = Vec::new();
            for ((loop_name, parameter), &leaf) in &index.parameters {
                if loop_name != FEED_LOOP {
                    continue;
                }
                let is_params = *parameter == format!("{id}/params");
                if !is_params && !parameter.starts_with("setpoint/") {
                    continue;
                }
                let record = store.ledger_record(leaf)?.record;
                if let Evidence::ControlParameterChange(c) = &record.evidence {
                    if is_params {
                        fixed = serde_json::json!({
                            "leaf": leaf, "setpoint_pct": c.new.get("setpoint_pct"),
                            "alarm_load_pct": c.new.pointer("/params/alarm_load_pct"),
                        });
                    } else if let Some((key, tool)) = parameter
                        .strip_prefix("setpoint/")
                        .and_then(|p| p.rsplit_once("/T"))
                    {
                        learned.push(serde_json::json!({
                            "leaf": leaf, "key": key, "tool": tool.parse::<u32>().ok(),
                            "setpoint_pct": c.new,
                        }));
                    }
                }
            }
            Ok((spec.model.clone(), tools, fixed, learned))
        })
        .await;
    let (model, tools, fixed, learned) = match found {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let tools_html = html! {
        @for t in &tools {
            a.tool href=(format!("/machines/{machine}/tools/{t}")) { "T" (t) } " "
        }
    };
    page(
        &format!("Machine {machine}"),
        &user,
        serde_json::json!({
            "kind": "machine", "machine": machine, "tools": tools,
            "setpoints": { "params": fixed, "learned": learned },
        }),
        html! {
            p.note { (model) ". Tools (wear pages): " (tools_html) }
            h2 { "Spindle load and the feed loop" }
            p.note { "Spindle load (% of rated) against the feed loop's setpoint, with the \
                override the loop commanded (right axis), over the latest run; then live. \
                Setpoints from the loop's control_parameter_change records." }
            form #range {
                label { "From " input #range-from type="datetime-local" step="1"; }
                " " label { "to " input #range-to type="datetime-local" step="1"; }
                " " button type="submit" { "Show" }
                " " button #range-latest type="button" { "Latest run, live" }
                " " span #live-state {}
                " · delay " span #live-delay { "–" }
            }
            div #load-plot .plot {}
            p #setpoint-source .note {}
            h2 { "Machine state" }
            p.note { "From the machine's runs (running while a program runs, idle between) and \
                events (alarms and warnings marked)." }
            div #state-timeline .plot {}
            h2 { "Cycle time per run" }
            div #cycle-plot .plot {}
        },
    )
}

//! A tool's wear history, from the wear loop's ledger records: per part the wear estimate with
//! its interval, the remaining useful life, the offset written or the change planned (each a
//! `control_action` of loop `wear` naming the tool), and the wear measured where the parts'
//! results hold it (the simulator's `tools[].vb_mm`; a real cell's inspection data).

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::state::AppState;
use aimm_ledger::record::Evidence;
use aimm_model::Permission;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tool_wear))
}

/// The loop name the wear loop's records carry.
const WEAR_LOOP: &str = "wear";

/// One decision of the wear loop on the tool, after a part.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct WearDecision {
    /// The `control_action` record.
    pub leaf: u64,
    /// When decided (the end of the part), UTC ns.
    pub t_ns: i64,
    /// The part it was decided after (1 = the tool's first part in the series).
    pub after_part: Option<u64>,
    /// The part it applies to.
    pub before_part: Option<u64>,
    /// `offset` or `tool_change`.
    pub decision: String,
    /// Estimated flank wear VB at the end of the part, mm.
    pub wear_mm: Option<f64>,
    /// Lower end of the estimate's 90 % interval, mm.
    pub lo_mm: Option<f64>,
    /// Upper end of the estimate's 90 % interval, mm.
    pub hi_mm: Option<f64>,
    /// Cutting time of the tool at the estimate, s.
    pub cutting_s: Option<f64>,
    /// Wear at which changes are planned, mm.
    pub plan_at_mm: Option<f64>,
    /// Remaining useful life from the estimate, s of cutting.
    pub remaining_life_s: Option<f64>,
    /// Its short end (from the interval's upper wear bound), s.
    pub remaining_life_lo_s: Option<f64>,
    /// Its long end, s.
    pub remaining_life_hi_s: Option<f64>,
    /// Radius wear offset written into the next part's program, mm (offset decisions).
    pub offset_mm: Option<f64>,
    /// What the estimate asked for before the guard, mm.
    pub requested_mm: Option<f64>,
    /// The wear model version that decided.
    pub model_version: Option<u64>,
}

/// Wear measured on a finished part.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WearMeasured {
    /// The run (part).
    pub run: i64,
    /// When the part ended, UTC ns.
    pub t_ns: i64,
    /// Measured flank wear VB, mm.
    pub vb_mm: f64,
    /// The tool's cutting time in that part, s.
    pub cutting_time_s: Option<f64>,
}

/// A tool's wear history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ToolWear {
    /// Machine.
    pub machine: String,
    /// Tool number.
    pub tool: u32,
    /// The tool as the machine's tool table holds it.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// The wear loop's decisions on it, oldest first.
    pub decisions: Vec<WearDecision>,
    /// Wear measured on parts, oldest first.
    pub measured: Vec<WearMeasured>,
    /// The latest planned change (a `tool_change` decision), if one.
    pub planned_change: Option<WearDecision>,
}

/// A tool's wear: the wear loop's estimates with intervals, offsets, remaining life and planned
/// change, and the wear measured on parts.
#[utoipa::path(get, path = "/api/machines/{machine}/tools/{tool}/wear", tag = "machines",
    params(("machine" = String, Path, description = "Machine id, e.g. mill-4"),
        ("tool" = u32, Path, description = "Tool number, e.g. 1")),
    responses((status = 200, body = ToolWear), (status = 404, body = ErrorBody)))]
async fn tool_wear(
    State(state): State<AppState>,
    principal: Principal,
    Path((machine, tool)): Path<(String, u32)>,
) -> Result<Json<ToolWear>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(move |index, store| {
            let spec = super::machines::find_machine(store, &machine)?;
            let tools = store.tools(&spec.id)?;
            let spec_tool = tools.iter().find(|t| t.number == tool).ok_or_else(|| {
                ApiError::NotFound(format!(
                    "machine '{machine}' has no tool T{tool}; tools: {}",
                    tools
                        .iter()
                        .map(|t| format!("T{}", t.number))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            let mut decisions = Vec::new();
            let key = (WEAR_LOOP.to_string(), machine.clone());
            for &leaf in index.actions.get(&key).map(Vec::as_slice).unwrap_or(&[]) {
                let record = store.ledger_record(leaf)?.record;
                if let Evidence::ControlAction(a) = &record.evidence {
                    if a.command.get("tool").and_then(|v| v.as_u64()) == Some(u64::from(tool)) {
                        decisions.push(decision(leaf, record.t_ns, &a.command, &a.inputs));
                    }
                }
            }
            let measured = store
                .runs(Some(&spec.id))?
                .iter()
                .filter_map(|r| {
                    let t_ns = r.t_end_ns?;
                    let entry = r
                        .result_json
                        .as_ref()?
                        .get("tools")?
                        .as_array()?
                        .iter()
                        .find(|t| {
                            t.get("tool").and_then(|v| v.as_u64()) == Some(u64::from(tool))
                        })?;
                    Some(WearMeasured {
                        run: r.id.0,
                        t_ns,
                        vb_mm: entry.get("vb_mm")?.as_f64()?,
                        cutting_time_s: entry.get("cutting_time_s").and_then(|v| v.as_f64()),
                    })
                })
                .collect();
            let planned_change = decisions
                .iter()
                .rev()
                .find(|d| d.decision == "tool_change")
                .cloned();
            Ok(Json(ToolWear {
                machine: machine.clone(),
                tool,
                spec: serde_json::to_value(spec_tool).expect("a tool serialises"),
                decisions,
                measured,
                planned_change,
            }))
        })
        .await
}

/// Reads a decision out of its record's `command` and `inputs` (as the wear loop writes them;
/// a field it did not write stays empty instead of failing the whole history).
fn decision(
    leaf: u64,
    t_ns: i64,
    command: &serde_json::Value,
    inputs: &serde_json::Value,
) -> WearDecision {
    let f = |v: &serde_json::Value, path: &[&str]| -> Option<f64> {
        path.iter().try_fold(v, |v, k| v.get(k))?.as_f64()
    };
    let u = |v: &serde_json::Value, k: &str| v.get(k).and_then(|v| v.as_u64());
    let p = inputs.get("prediction").cloned().unwrap_or_default();
    WearDecision {
        leaf,
        t_ns,
        after_part: u(inputs, "after_part"),
        before_part: u(command, "before_part"),
        decision: command
            .get("decision")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_string(),
        wear_mm: f(&p, &["estimate", "wear_mm"]),
        lo_mm: f(&p, &["estimate", "lo_mm"]),
        hi_mm: f(&p, &["estimate", "hi_mm"]),
        cutting_s: f(&p, &["estimate", "t_s"]),
        plan_at_mm: f(&p, &["plan_at_mm"]),
        remaining_life_s: f(&p, &["remaining_life", "seconds"]),
        remaining_life_lo_s: f(&p, &["remaining_life", "lo_s"])
            .or_else(|| f(command, &["remaining_life_lo_s"])),
        remaining_life_hi_s: f(&p, &["remaining_life", "hi_s"]),
        offset_mm: f(command, &["offset_mm"]),
        requested_mm: f(command, &["requested_mm"]),
        model_version: u(inputs, "model_version"),
    }
}

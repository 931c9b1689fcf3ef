//! Machines: the cell overview (state, OEE, the loops acting on each), one machine, its runs and
//! its events.

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::ledger_index::LedgerIndex;
use crate::state::AppState;
use aimm_model::{MachineId, Permission};
use aimm_store::{RunRecord, Store};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_machines))
        .routes(routes!(get_machine))
        .routes(routes!(machine_runs))
        .routes(routes!(machine_events))
}

/// Overall equipment effectiveness per ISO 22400-2 over the machine's recorded runs.
///
/// - availability = APT / PBT: actual production time (the runs' durations) over planned busy
///   time (first run start to last run end);
/// - performance = Σ PRI / APT: planned runtime per item over the actual production time. No
///   plan per item is stored, so PRI is the fastest recorded cycle of the same program on the
///   machine (the best demonstrated cycle), and performance ≤ 1 by construction;
/// - quality = GQ / PQ: parts whose reference feature was in tolerance over parts measured
///   (parts without a measured feature are left out of quality, and counted in `unmeasured`).
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Oee {
    /// APT / PBT.
    pub availability: Option<f64>,
    /// Σ PRI / APT.
    pub performance: Option<f64>,
    /// GQ / PQ.
    pub quality: Option<f64>,
    /// availability × performance × quality.
    pub oee: Option<f64>,
    /// Finished parts.
    pub parts: u64,
    /// Parts in tolerance.
    pub good: u64,
    /// Parts without a measured reference feature.
    pub unmeasured: u64,
}

/// One loop acting on a machine, as the ledger shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LoopState {
    /// `feed`, `wear`, `learn`, `schedule`.
    #[serde(rename = "loop")]
    pub loop_name: String,
    /// Commands it sent to the machine (`control_action` records).
    pub actions: u64,
    /// The latest one's leaf.
    pub last_leaf: u64,
    /// When, UTC ns.
    pub last_t_ns: i64,
    /// What it commanded, in words.
    pub last_summary: String,
}

/// A machine in the cell overview.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MachineSummary {
    /// Machine id.
    pub id: String,
    /// Model.
    pub model: String,
    /// Spindle rated power, kW.
    pub spindle_rated_power_kw: f64,
    /// `running` (a run not finished), `idle` (runs, all finished) or `no data`.
    pub state: String,
    /// When the latest run ended (or started, when running), UTC ns.
    pub last_t_ns: Option<i64>,
    /// OEE over the recorded runs.
    pub oee: Oee,
    /// The loops that acted on it.
    pub loops: Vec<LoopState>,
}

/// Cell overview: every machine with its state, OEE and loops.
#[utoipa::path(get, path = "/api/machines", tag = "machines",
    responses((status = 200, body = Vec<MachineSummary>), (status = 401, body = ErrorBody)))]
async fn list_machines(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<MachineSummary>>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(|index, store| {
            let mut out = Vec::new();
            for spec in store.machines()? {
                out.push(summary(index, store, &spec)?);
            }
            Ok(Json(out))
        })
        .await
}

/// One machine: its summary, spec, tools and stored signals.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MachineDetail {
    /// State, OEE and loops.
    #[serde(flatten)]
    pub summary: MachineSummary,
    /// The machine's spec.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    /// Its tools.
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<serde_json::Value>,
    /// Stored signals: segments, samples, time span.
    #[schema(value_type = Vec<Object>)]
    pub signals: Vec<serde_json::Value>,
}

/// One machine.
#[utoipa::path(get, path = "/api/machines/{machine}", tag = "machines",
    params(("machine" = String, Path, description = "Machine id, e.g. mill-1")),
    responses((status = 200, body = MachineDetail), (status = 404, body = ErrorBody)))]
async fn get_machine(
    State(state): State<AppState>,
    principal: Principal,
    Path(machine): Path<String>,
) -> Result<Json<MachineDetail>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_index(move |index, store| {
            let spec = find_machine(store, &machine)?;
            let id = spec.id.clone();
            Ok(Json(MachineDetail {
                summary: summary(index, store, &spec)?,
                spec: to_value(&spec),
                tools: store.tools(&id)?.iter().map(to_value).collect(),
                signals: store.signals(Some(&id))?.iter().map(to_value).collect(),
            }))
        })
        .await
}

/// A recorded run (one part).
#[derive(Serialize, utoipa::ToSchema)]
pub struct RunSummary {
    /// Run id.
    pub id: i64,
    /// Program name, from the part result.
    pub program: Option<String>,
    /// Material.
    pub material: String,
    /// Start, UTC ns.
    pub t_start_ns: i64,
    /// End, UTC ns (absent while running or when it failed).
    pub t_end_ns: Option<i64>,
    /// Cycle time, s.
    pub cycle_time_s: Option<f64>,
    /// Energy, kWh.
    pub energy_kwh: Option<f64>,
    /// Highest spindle load, % of rated.
    pub max_spindle_load_pct: Option<f64>,
    /// Whether the reference feature was in tolerance (absent when not measured).
    pub in_tolerance: Option<bool>,
}

/// A machine's runs, oldest first (the latest `limit`).
#[utoipa::path(get, path = "/api/machines/{machine}/runs", tag = "machines",
    params(("machine" = String, Path, description = "Machine id"), super::Page),
    responses((status = 200, body = Vec<RunSummary>), (status = 404, body = ErrorBody)))]
async fn machine_runs(
    State(state): State<AppState>,
    principal: Principal,
    Path(machine): Path<String>,
    Query(page): Query<super::Page>,
) -> Result<Json<Vec<RunSummary>>, ApiError> {
    principal.require(Permission::Read)?;
    let limit = page.limit()?;
    state
        .with_store(move |store| {
            let spec = find_machine(store, &machine)?;
            let runs = store.runs(Some(&spec.id))?;
            let skip = runs.len().saturating_sub(limit);
            Ok(Json(runs.iter().skip(skip).map(run_summary).collect()))
        })
        .await
}

/// A time range, UTC ns; defaults to the machine's whole recorded span.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct TimeRange {
    /// Start, UTC ns (inclusive).
    pub from_ns: Option<i64>,
    /// End, UTC ns (exclusive).
    pub to_ns: Option<i64>,
}

/// An event on a machine.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventItem {
    /// When, UTC ns.
    pub t_ns: i64,
    /// Kind, e.g. `spindle_overload`, `tool_change_planned`.
    pub kind: String,
    /// What happened.
    pub message: String,
    /// NC program line, if one.
    pub line: Option<u32>,
    /// The run it happened in.
    pub run: Option<i64>,
}

/// A machine's events in a time range (at most 5000, the latest).
#[utoipa::path(get, path = "/api/machines/{machine}/events", tag = "machines",
    params(("machine" = String, Path, description = "Machine id"), TimeRange),
    responses((status = 200, body = Vec<EventItem>), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn machine_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(machine): Path<String>,
    Query(range): Query<TimeRange>,
) -> Result<Json<Vec<EventItem>>, ApiError> {
    principal.require(Permission::Read)?;
    state
        .with_store(move |store| {
            let spec = find_machine(store, &machine)?;
            let (t0, t1) = (range.from_ns.unwrap_or(i64::MIN), range.to_ns.unwrap_or(i64::MAX));
            if t1 <= t0 {
                return Err(ApiError::BadRequest(format!(
                    "to_ns {t1} must be after from_ns {t0}"
                )));
            }
            let events = store.events(&spec.id, t0, t1)?;
            let skip = events.len().saturating_sub(5000);
            Ok(Json(
                events
                    .into_iter()
                    .skip(skip)
                    .map(|e| EventItem {
                        t_ns: e.event.t_ns,
                        kind: e.event.kind.as_str().to_string(),
                        message: e.event.message,
                        line: e.event.line,
                        run: e.run.map(|r| r.0),
                    })
                    .collect(),
            ))
        })
        .await
}

/// The machine `id`, or 404 naming it and the machines there are.
pub fn find_machine(store: &dyn Store, id: &str) -> Result<aimm_model::MachineSpec, ApiError> {
    let machines = store.machines()?;
    let known: Vec<String> = machines.iter().map(|m| m.id.to_string()).collect();
    machines
        .into_iter()
        .find(|m| m.id.as_str() == id)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no machine '{id}'; machines: {}",
                if known.is_empty() { "(none)".into() } else { known.join(", ") }
            ))
        })
}

fn to_value(v: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).expect("stored values serialise")
}

fn run_summary(r: &RunRecord) -> RunSummary {
    let result = r.result_json.as_ref();
    let num = |k: &str| result.and_then(|v| v.get(k)).and_then(|v| v.as_f64());
    RunSummary {
        id: r.id.0,
        program: result
            .and_then(|v| v.get("program"))
            .and_then(|v| v.as_str())
            .map(str::to_string),
        material: r.material.clone(),
        t_start_ns: r.t_start_ns,
        t_end_ns: r.t_end_ns,
        cycle_time_s: num("cycle_time_s"),
        energy_kwh: num("energy_kwh"),
        max_spindle_load_pct: num("max_spindle_load_pct"),
        in_tolerance: result
            .and_then(|v| v.get("reference_feature"))
            .and_then(|f| f.get("in_tolerance"))
            .and_then(|v| v.as_bool()),
    }
}

/// ISO 22400 OEE over `runs` (see [`Oee`]).
pub fn oee(runs: &[RunRecord]) -> Oee {
    let parts: Vec<RunSummary> = runs
        .iter()
        .filter(|r| r.is_finished())
        .map(run_summary)
        .collect();
    let mut out = Oee {
        parts: parts.len() as u64,
        ..Oee::default()
    };
    if parts.is_empty() {
        return out;
    }
    let start = parts.iter().map(|p| p.t_start_ns).min().unwrap_or(0);
    let end = parts.iter().filter_map(|p| p.t_end_ns).max().unwrap_or(start);
    let apt_s: f64 = parts
        .iter()
        .filter_map(|p| p.t_end_ns.map(|e| (e - p.t_start_ns) as f64 / 1e9))
        .sum();
    let pbt_s = (end - start) as f64 / 1e9;
    let mut fastest: BTreeMap<String, f64> = BTreeMap::new();
    for p in &parts {
        if let (Some(name), Some(c)) = (&p.program, p.cycle_time_s) {
            let f = fastest.entry(name.clone()).or_insert(c);
            *f = f.min(c);
        }
    }
    let pri_s: f64 = parts
        .iter()
        .filter_map(|p| p.program.as_ref().and_then(|n| fastest.get(n)))
        .sum();
    out.good = parts.iter().filter(|p| p.in_tolerance == Some(true)).count() as u64;
    out.unmeasured = parts.iter().filter(|p| p.in_tolerance.is_none()).count() as u64;
    let measured = out.parts - out.unmeasured;
    out.availability = (pbt_s > 0.0).then(|| (apt_s / pbt_s).min(1.0));
    out.performance = (apt_s > 0.0).then(|| (pri_s / apt_s).min(1.0));
    out.quality = (measured > 0).then(|| out.good as f64 / measured as f64);
    out.oee = match (out.availability, out.performance, out.quality) {
        (Some(a), Some(p), Some(q)) => Some(a * p * q),
        _ => None,
    };
    out
}

fn summary(
    index: &LedgerIndex,
    store: &dyn Store,
    spec: &aimm_model::MachineSpec,
) -> Result<MachineSummary, ApiError> {
    let runs = store.runs(Some(&spec.id))?;
    let (state, last_t_ns) = match runs.last() {
        None => ("no data", None),
        Some(r) if !r.is_finished() => ("running", Some(r.t_start_ns)),
        Some(r) => ("idle", r.t_end_ns),
    };
    let mut loops = Vec::new();
    for ((loop_name, machine), leaves) in &index.actions {
        if machine != spec.id.as_str() {
            continue;
        }
        let last = *leaves.last().expect("an entry has a leaf");
        let record = store.ledger_record(last)?.record;
        loops.push(LoopState {
            loop_name: loop_name.clone(),
            actions: leaves.len() as u64,
            last_leaf: last,
            last_t_ns: record.t_ns,
            last_summary: record.evidence.summary(),
        });
    }
    Ok(MachineSummary {
        id: spec.id.to_string(),
        model: spec.model.clone(),
        spindle_rated_power_kw: spec.spindle_rated_power_kw,
        state: state.into(),
        last_t_ns,
        oee: oee(&runs),
        loops,
    })
}

/// `MachineId` of a path segment.
pub fn machine_id(id: &str) -> MachineId {
    MachineId(id.to_string())
}

//! The process-parameter learning loop on the simulated mill (issue 16), as `aimm learn` and the
//! demo run it: the hidden truth of the material and tool ([`aimm_sim::process::ProcessTruth`]) is
//! drawn from a seed the learner never sees; the program's operations are surveyed once,
//! unrecorded (their engagement: what the CAM system would report), then part after part the
//! program in force is made and recorded, every milling operation's learner is told what the
//! part measured (the simulator's noise-free per-operation values with the sensors' noise on
//! top) and the loop proposes and, in auto mode, releases the next version.
//!
//! The part is judged by the truth: `violated` names every constraint the noise-free part broke,
//! and `oracle_cost` is found on the mill with the truth, without the learner (see
//! [`LearnOutcome::oracle_cost`]).

use aimm_connect::simulator::part::{record_part, PartSpec};
use aimm_connect::{run_unrecorded, ConnectError};
use aimm_ledger::Citation;
use aimm_loops::learn::evidence::{latest_learners, program_in_force, LearnRecorder};
use aimm_loops::learn::part::{LearnCell, LearnOperation, LearnRunError, PartRun};
use aimm_loops::learn::program::{operations, rewrite, NcOperation};
use aimm_loops::learn::runner::{LearnSeries, PartReport};
use aimm_loops::learn::safe::{LearnMode, LearnProblem, SafeLearner};
use aimm_model::{
    CutParams, MachineSpec, Material, OperationGeometry, ParamBox, ProcessCosts, ProcessLimits,
    SignalKind, ToolKind, ToolSpec,
};
use aimm_sim::gcode::parse;
use aimm_sim::gcode::Program;
use aimm_sim::power::PowerModel;
use aimm_sim::process::{self, ProcessCase, ProcessTruth, TruthRanges};
use aimm_sim::setup::{prepare, tool_table_for};
use aimm_sim::ToolTable;
use aimm_sim::{PartResult, SimConfig, Simulator};
use aimm_store::{next_part_start_ns, Store};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the plant asks of the operations and what it pays.
#[derive(Clone, Debug)]
pub struct PlantSettings {
    /// Largest Ra of a finished wall, µm.
    pub roughness_ra_um: f64,
    /// Largest wall size error of a finished wall, mm.
    pub wall_error_mm: f64,
    /// Parts a tool must make at least.
    pub min_parts_per_tool: f64,
    /// Machine-hour and tool costs.
    pub costs: ProcessCosts,
    /// Feed per tooth range, mm (default: 0.25–5 × the program's, at most 0.5 mm).
    pub fz_range: Option<(f64, f64)>,
    /// Cutting speed range, m/min (default: 0.5 × the program's up to the spindle's top speed).
    pub vc_range: Option<(f64, f64)>,
}

impl Default for PlantSettings {
    fn default() -> Self {
        Self {
            roughness_ra_um: 0.8,
            wall_error_mm: 0.015,
            min_parts_per_tool: 40.0,
            costs: ProcessCosts {
                machine_per_hour: 90.0,
                tool_each: 60.0,
            },
            fz_range: None,
            vc_range: None,
        }
    }
}

/// A learning series to run.
#[derive(Clone, Debug)]
pub struct LearnSpec {
    /// Program name and text (the CAM program; a resumed series continues from the version
    /// the loop last released).
    pub program: (String, String),
    /// Workpiece material.
    pub material: Material,
    /// Parts to make.
    pub parts: u32,
    /// Advise or auto.
    pub mode: LearnMode,
    /// Seeds the hidden truth and the sensors' noise.
    pub seed: u64,
    /// Machine identifier.
    pub machine: String,
    /// Limits and costs.
    pub plant: PlantSettings,
}

/// Why a series could not run.
#[derive(Debug, thiserror::Error)]
pub enum LearnCellError {
    /// The program or the loop refused.
    #[error(transparent)]
    Run(#[from] LearnRunError),
    /// The simulator or the store failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] aimm_store::StoreError),
    /// Something in the set-up is wrong.
    #[error("{0}")]
    Setup(String),
}

/// What a series did.
#[derive(Clone, Debug, Serialize)]
pub struct LearnOutcome {
    /// Program name.
    pub program: String,
    /// Parts whose truth violated a constraint.
    pub violations: usize,
    /// Cost per part of the program the series started from (its first part).
    pub cost_start: f64,
    /// Cost per part of the last part.
    pub cost_final: f64,
    /// The oracle's cost per part: found on the simulated mill with the hidden truth and
    /// without the learner (see [`oracle_on_mill`]). The learner may end below it: the oracle
    /// searches along one line per operation, the learner the whole box.
    pub oracle_cost: f64,
    /// Every part.
    pub parts: Vec<PartReport>,
    /// The version in force at the end.
    pub version_in_force: u32,
    /// The proposal waiting for approval (advise mode): its ledger leaf and version.
    pub pending: Option<(u64, u32)>,
}

/// The hidden truth of `material` cut by a tool of `diameter_mm`, drawn from `seed`.
pub fn hidden_truth(material: Material, diameter_mm: f64, seed: u64) -> ProcessTruth {
    ProcessTruth::draw(&TruthRanges::of(material, diameter_mm), seed)
}

/// Feed per tooth a solid end mill takes, mm: below, the Kienzle model's chip-thickness floor
/// (rubbing, not cutting); above, beyond the heaviest roughing chip loads of tool makers'
/// tables (assumed). A program outside it is refused, not learned on: its S or F word, or its
/// unit, is wrong.
const PLAUSIBLE_FZ_MM: (f64, f64) = (0.002, 0.5);
/// Lowest cutting speed of a carbide end mill the loop starts from, m/min (assumed: below it a
/// placeholder S word, not a cutting speed).
const PLAUSIBLE_MIN_VC_M_PER_MIN: f64 = 5.0;

/// The corner radius a tool's CAM comment gives (`CR=0.5`), mm; 0 without one.
fn corner_radius_mm(tool: &ToolSpec) -> f64 {
    tool.description
        .split_whitespace()
        .find_map(|w| w.strip_prefix("CR="))
        .and_then(|v| v.trim_end_matches('.').parse().ok())
        .unwrap_or(0.0)
}

/// The simulated machine the series runs on.
struct SimCell {
    machine: MachineSpec,
    material: Material,
    seed: u64,
    truth: ProcessTruth,
    mode: LearnMode,
    /// Corner radius of the finishing tool, mm (the simulator takes one for the roughness of
    /// every wall; only finishing judges it).
    corner_radius_mm: f64,
}

impl SimCell {
    /// `(name, text)` parsed, with its tool table and the mill's configuration on the hidden
    /// truth, its noise seeded by `seed`.
    fn setup(
        &self,
        (name, text): (&str, &str),
        seed: u64,
    ) -> Result<(Program, ToolTable, SimConfig), String> {
        let program = parse(name, text).map_err(|e| e.to_string())?;
        let mut config = SimConfig::new(self.machine.clone(), self.material, seed);
        config.process_truth = Some(self.truth);
        config.corner_radius_mm = self.corner_radius_mm;
        let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config)
            .map_err(|e| e.to_string())?;
        Ok((program, tools, config))
    }

    /// `(name, text)` made once, unrecorded (the survey, the oracle's trials).
    fn run_once(&self, program: (&str, &str)) -> Result<PartResult, LearnCellError> {
        let (program, tools, config) = self
            .setup(program, self.seed)
            .map_err(LearnCellError::Setup)?;
        let mut sim = Simulator::new(&program, tools, config)
            .map_err(|e| LearnCellError::Setup(e.to_string()))?;
        run_unrecorded(&mut sim, &mut |_: &Simulator<'_>| {})
            .map_err(|e| LearnCellError::Setup(e.to_string()))
    }
}

impl LearnCell for SimCell {
    fn make_part(
        &mut self,
        store: &mut dyn Store,
        (name, text): (&str, &str),
        part: u32,
    ) -> Result<PartRun, LearnRunError> {
        let cell_error = |message: String| LearnRunError::Cell { part, message };
        let seed = self.seed.wrapping_mul(1000).wrapping_add(u64::from(part));
        let (program, tools, mut config) = self.setup((name, text), seed).map_err(cell_error)?;
        config.start_ns =
            next_part_start_ns(store, &self.machine.id, aimm_model::DEFAULT_CHANGEOVER_S)?;
        let mut sim =
            Simulator::new(&program, tools, config).map_err(|e| cell_error(e.to_string()))?;
        let stored = store.put_program(name, text)?;
        let spec = PartSpec {
            machine: &self.machine,
            program: stored.id,
            material: self.material,
            seed,
            params_json: serde_json::json!({ "part": part, "learn_loop": self.mode }),
        };
        let recorded = record_part(&mut sim, store, &spec, &mut |_: &Simulator<'_>| {})
            .map_err(|e| cell_error(e.to_string()))?;
        let truth: BTreeMap<u32, _> = recorded
            .result
            .operations
            .iter()
            .map(|o| (o.tool, o.measurement()))
            .collect();
        let measured = truth
            .iter()
            .map(|(&tool, m)| {
                (
                    tool,
                    process::measure(m, seed.wrapping_add(u64::from(tool) << 40)),
                )
            })
            .collect();
        let mut segments = Vec::new();
        for s in &recorded.segments {
            if let (true, Some(index)) = (
                matches!(
                    s.signal,
                    SignalKind::SpindleLoadPct | SignalKind::SpindlePowerKw
                ),
                s.ledger_index,
            ) {
                segments.push(Citation {
                    leaf_index: index,
                    leaf_hash: store.ledger_record(index)?.leaf_hash,
                });
            }
        }
        Ok(PartRun {
            measured,
            truth: Some(truth),
            segments,
            t_end_ns: recorded.t_end_ns,
        })
    }
}

/// The milling operations of `text` (end mills only) with their tools.
fn milling_operations(
    name: &str,
    text: &str,
) -> Result<Vec<(NcOperation, ToolSpec)>, LearnCellError> {
    let ops = operations(name, text).map_err(LearnRunError::from)?;
    let program = parse(name, text).map_err(|e| LearnCellError::Setup(e.to_string()))?;
    let tools = tool_table_for(&program, &ToolSpec::default_end_mill(0));
    let milling: Vec<(NcOperation, ToolSpec)> = ops
        .into_iter()
        .filter_map(|o| {
            let tool = tools.tool(o.tool)?.clone();
            (tool.kind == ToolKind::FlatEndMill).then_some((o, tool))
        })
        .collect();
    if milling.is_empty() {
        return Err(LearnCellError::Setup(format!(
            "program {name}: no milling operation (end mill) to learn on"
        )));
    }
    Ok(milling)
}

/// Each operation's cost per part when `(name, text)` is made once, unrecorded, on the hidden
/// truth, or `None` for an operation that breaks a limit (or cut nothing).
fn made_once(
    cell: &SimCell,
    (name, text): (&str, &str),
    ops: &[LearnOperation],
) -> Result<Vec<Option<f64>>, LearnCellError> {
    let result = cell.run_once((name, text))?;
    Ok(ops
        .iter()
        .map(|o| {
            let m = result
                .operations
                .iter()
                .find(|s| s.tool == o.tool)?
                .measurement();
            let p = o.learner.problem();
            m.violated(&p.limits).is_empty().then(|| m.cost(&p.costs))
        })
        .collect())
}

/// Bisection steps of [`oracle_on_mill`] (the last feasible step is within 2⁻⁸ of the way).
const ORACLE_BISECTIONS: u32 = 8;

/// The oracle on the mill itself, found with the hidden truth and without the learner: each
/// operation's steady-state optimum ([`process::oracle`], a dense search over the box) sits on
/// a limit of the steady-state model, which the tick engine's corners and varying engagement
/// may cross; so every operation walks from its program's parameters towards that optimum (in
/// ln f_z, ln v_c) and keeps the furthest point the mill makes within every limit (bisection,
/// [`ORACLE_BISECTIONS`] unrecorded parts). Returns the cost per part there, summed over the
/// operations.
fn oracle_on_mill(
    cell: &SimCell,
    spec: &LearnSpec,
    (name, cam_text): (&str, &str),
    ops: &[LearnOperation],
) -> Result<f64, LearnCellError> {
    let targets: Vec<(CutParams, CutParams)> = ops
        .iter()
        .map(|o| {
            let p = o.learner.problem();
            let case = ProcessCase {
                name: format!("{name} T{}", o.tool),
                material: spec.material,
                geometry: p.geometry.clone(),
                limits: p.limits.clone(),
                costs: p.costs,
                bounds: p.bounds,
                start: p.start,
                ranges: TruthRanges::of(spec.material, o.diameter_mm),
            };
            (p.start, process::oracle(&cell.truth, &case).0)
        })
        .collect();
    let along = |(a, b): (CutParams, CutParams), t: f64| CutParams {
        fz_mm: a.fz_mm * (b.fz_mm / a.fz_mm).powf(t),
        vc_m_per_min: a.vc_m_per_min * (b.vc_m_per_min / a.vc_m_per_min).powf(t),
    };
    let make = |ts: &[f64]| -> Result<Vec<Option<f64>>, LearnCellError> {
        let changes: Vec<_> = ops
            .iter()
            .zip(&targets)
            .zip(ts)
            .map(|((o, &line), &t)| (o.tool, along(line, t), o.diameter_mm, o.teeth))
            .collect();
        let text = rewrite(name, cam_text, &changes).map_err(LearnRunError::from)?;
        made_once(cell, (name, &text), ops)
    };
    // The program's own parameters hold every limit (checked before the series starts).
    let mut lo = vec![0.0; ops.len()];
    let mut best = make(&lo)?;
    let mut hi = vec![1.0; ops.len()];
    let mut try_t = hi.clone();
    for _ in 0..=ORACLE_BISECTIONS {
        for (k, cost) in make(&try_t)?.into_iter().enumerate() {
            match cost {
                Some(c) => {
                    lo[k] = try_t[k];
                    best[k] = Some(c);
                }
                None => hi[k] = try_t[k],
            }
        }
        try_t = lo.iter().zip(&hi).map(|(a, b)| 0.5 * (a + b)).collect();
    }
    Ok(best.into_iter().map(|c| c.unwrap_or(f64::NAN)).sum())
}

/// Refuses a series whose program, as written, already breaks a limit on the survey: the loop
/// only ever starts from parameters that hold every limit, so nothing would be known safe.
fn refuse_unsafe_start(
    name: &str,
    tool: u32,
    survey: &PartResult,
    problem: &LearnProblem,
) -> Result<(), LearnCellError> {
    let Some(summary) = survey.operations.iter().find(|s| s.tool == tool) else {
        return Ok(());
    };
    let m = summary.measurement();
    let broken: Vec<String> = m
        .violated(&problem.limits)
        .into_iter()
        .filter_map(|c| {
            m.against(c, &problem.limits)
                .map(|(v, l)| format!("{} {v:.4} against the limit {l:.4}", c.name()))
        })
        .collect();
    if broken.is_empty() {
        return Ok(());
    }
    Err(LearnCellError::Setup(format!(
        "program {name}: T{tool} as programmed already breaks its limits on the simulated mill \
         ({}); the loop starts only from parameters that hold every limit: fix the program's F and \
         S words or the limit",
        broken.join("; ")
    )))
}

/// The learning problem of one surveyed operation.
fn problem(
    cell: &SimCell,
    op: &NcOperation,
    tool: &ToolSpec,
    survey: &PartResult,
    plant: &PlantSettings,
) -> Result<LearnProblem, LearnCellError> {
    let summary = survey
        .operations
        .iter()
        .find(|s| s.tool == op.tool)
        .ok_or_else(|| {
            LearnCellError::Setup(format!(
                "T{} cut nothing in the survey run: no engagement to learn on",
                op.tool
            ))
        })?;
    let geometry = OperationGeometry {
        role: op.role,
        tool_diameter_mm: tool.diameter_mm,
        teeth: tool.flutes,
        corner_radius_mm: corner_radius_mm(tool),
        ap_mm: summary.mean_ap_mm,
        ae_mm: summary.mean_ae_mm,
        cut_length_mm: summary.cut_length_mm,
        fixed_time_s: (summary.span_s - summary.cutting_time_s).max(0.0),
    };
    let start = op.params(tool.diameter_mm, tool.flutes);
    if !(PLAUSIBLE_FZ_MM.0..=PLAUSIBLE_FZ_MM.1).contains(&start.fz_mm)
        || start.vc_m_per_min < PLAUSIBLE_MIN_VC_M_PER_MIN
    {
        return Err(LearnCellError::Setup(format!(
            "T{} as programmed cuts at f_z {:.4} mm per tooth and v_c {:.1} m/min (S{} rev/min, \
             F{} mm/min, {} edges of {} mm): outside the {}–{} mm per tooth and above {} m/min a \
             solid end mill takes; check the S word, the feed's unit and the tool's edges",
            op.tool,
            start.fz_mm,
            start.vc_m_per_min,
            op.spindle_rpm,
            op.main_feed_mm_per_min,
            tool.flutes,
            tool.diameter_mm,
            PLAUSIBLE_FZ_MM.0,
            PLAUSIBLE_FZ_MM.1,
            PLAUSIBLE_MIN_VC_M_PER_MIN
        )));
    }
    let power = PowerModel::default();
    let max_vc = std::f64::consts::PI * tool.diameter_mm * cell.machine.spindle_max_rpm / 1000.0;
    let bounds = ParamBox {
        fz_mm: plant.fz_range.unwrap_or((
            0.25 * start.fz_mm,
            (5.0 * start.fz_mm).min(PLAUSIBLE_FZ_MM.1),
        )),
        vc_m_per_min: plant.vc_range.unwrap_or((0.5 * start.vc_m_per_min, max_vc)),
    };
    let finishing = op.role == aimm_model::OperationRole::Finishing;
    Ok(LearnProblem {
        geometry,
        limits: ProcessLimits {
            stability_ratio: 1.0,
            spindle_power_kw: cell.machine.spindle_rated_power_kw,
            spindle_torque_nm: process::rated_torque_nm(
                &power,
                cell.machine.spindle_rated_power_kw,
            ),
            roughness_ra_um: finishing.then_some(plant.roughness_ra_um),
            wall_error_mm: finishing.then_some(plant.wall_error_mm),
            min_parts_per_tool: plant.min_parts_per_tool,
        },
        costs: plant.costs,
        bounds,
        start,
        no_load_kw_per_krpm: power.spindle_no_load_kw_per_krpm,
    })
}

/// Runs `spec` recording into `store` (continuing the loop's series of the program if the store
/// holds one); `progress` sees every part.
pub fn learn_series(
    spec: &LearnSpec,
    store: &mut dyn Store,
    progress: impl FnMut(&PartReport),
) -> Result<LearnOutcome, LearnCellError> {
    let (name, cam_text) = (&spec.program.0, &spec.program.1);
    let milling = milling_operations(name, cam_text)?;
    // The truth belongs to the tools' size; the finishing tool's corner shapes the walls.
    let mut cell = SimCell {
        machine: MachineSpec::vmc(&spec.machine),
        material: spec.material,
        seed: spec.seed,
        truth: hidden_truth(spec.material, milling[0].1.diameter_mm, spec.seed),
        mode: spec.mode,
        corner_radius_mm: milling
            .iter()
            .find(|(o, _)| o.role == aimm_model::OperationRole::Finishing)
            .map_or(0.0, |(_, t)| corner_radius_mm(t)),
    };
    // The survey: the program as written, made once unrecorded, gives each operation's
    // engagement (what a CAM system would report).
    let surveyed = cell.run_once((name, cam_text))?;
    let resumed = latest_learners(store, name)?;
    let in_force = program_in_force(store, name)?;
    let mut recorder = LearnRecorder::new(store, cell.machine.clone())?;
    let t0 = next_part_start_ns(
        recorder.store(),
        &cell.machine.id,
        aimm_model::DEFAULT_CHANGEOVER_S,
    )?;
    let (_, first_version) = recorder.record_start(name, cam_text, t0)?;
    let (text, version) = match in_force {
        Some((v, t)) => (t, v),
        None => (cam_text.clone(), first_version),
    };
    let mut ops = Vec::new();
    for (op, tool) in &milling {
        let learner = match resumed.iter().find(|(_, d)| d.tool == op.tool) {
            Some((_, data)) => data
                .learner(spec.mode)
                .map_err(LearnRunError::learner(op.tool))?,
            None => {
                let problem = problem(&cell, op, tool, &surveyed, &spec.plant)?;
                refuse_unsafe_start(name, op.tool, &surveyed, &problem)?;
                SafeLearner::new(problem, spec.mode, Default::default())
                    .map_err(LearnRunError::learner(op.tool))?
            }
        };
        ops.push(LearnOperation {
            tool: op.tool,
            diameter_mm: tool.diameter_mm,
            teeth: tool.flutes,
            learner,
        });
    }
    let oracle_cost = oracle_on_mill(&cell, spec, (name, cam_text), &ops)?;
    let first_part = 1 + ops.first().map_or(0, |o| o.learner.observations() as u32);
    let mut series = LearnSeries {
        name: name.clone(),
        text,
        version,
        operations: ops,
        mode: spec.mode,
        pending: None,
    };
    let parts = series.run(&mut cell, &mut recorder, first_part, spec.parts, progress)?;
    series.record_validation(&mut recorder)?;
    let violations = parts.iter().filter(|p| !p.violated.is_empty()).count();
    Ok(LearnOutcome {
        program: name.clone(),
        violations,
        cost_start: parts.first().map_or(f64::NAN, |p| p.cost),
        cost_final: parts.last().map_or(f64::NAN, |p| p.cost),
        oracle_cost,
        parts,
        version_in_force: series.version,
        pending: series.pending.map(|p| (p.cite.leaf_index, p.version)),
    })
}

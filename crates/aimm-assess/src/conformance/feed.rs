//! The feed loop's conformance run on the simulator: each validation case runs one program at its
//! programmed feed, at the best safe constant override (searched as an operator would, by
//! trying) and with the loop (same seed, so the same noise draws), and the loop's own verdict
//! ([`CaseOutcome::judge`]) is taken on the figures. [`record_loop_run`]
//! makes one part with the loop on as recorded evidence.

use crate::faults::{FaultPlan, Faults};
use aimm_connect::simulator::part::{record_part, register_program, PartSpec, RecordedPart};
use aimm_connect::{run_unrecorded, ConnectError};
use aimm_loops::feed::validation::{
    CaseOutcome, ConstantBaseline, FeedCase, RunFigures, CONSTANT_OVERRIDE_MAX_PCT,
    CONSTANT_OVERRIDE_STEP_PCT,
};
use aimm_loops::feed::{
    FeedLoop, FeedParams, FeedReport, FeedRunOptions, InvalidFeedParam, Setpoint,
};
use aimm_model::{MachineSpec, ToolSpec, DEFAULT_CHANGEOVER_S};
use aimm_sim::gcode::{parse, Program};
use aimm_sim::setup::{prepare, tool_at_start};
use aimm_sim::{PanelScript, PartResult, SimConfig, Simulator};
use aimm_store::{next_part_start_ns, Store, StoreError};

/// Why a case could not run.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The case's program does not parse.
    #[error(transparent)]
    Program(#[from] aimm_sim::gcode::ParseError),
    /// The simulator stopped.
    #[error(transparent)]
    Sim(#[from] aimm_sim::SimError),
    /// The simulator or the loop could not be set up.
    #[error("case {case}: {message}")]
    Setup {
        /// The case's name.
        case: String,
        /// What was wrong.
        message: String,
    },
}

/// The figures of a simulated run.
pub fn figures(r: &PartResult) -> RunFigures {
    RunFigures {
        cycle_time_s: r.cycle_time_s,
        overload_events: r.overload_events,
        max_spindle_load_pct: r.max_spindle_load_pct,
        energy_kwh: r.energy_kwh,
        removed_cm3: r.removed_cm3,
    }
}

/// The simulated machine for `program` with the tools it describes (the default end mill for the
/// others), and their T numbers. A program that cuts before any tool change gets the tool it
/// names or describes, or the default one, loaded at the start, with a warning in the part
/// result naming the line and the tool: never a run that silently cuts nothing.
pub(crate) fn case_machine<'p>(
    program: &'p Program,
    mut config: SimConfig,
) -> Result<(Simulator<'p>, Vec<u32>), MachineSetupError> {
    let default_tool = ToolSpec::default_end_mill(0);
    let mut tools = prepare(program, &default_tool, &mut config)?;
    let start = tool_at_start(program, &mut tools, &config, &default_tool)?;
    let numbers: Vec<u32> = tools.tools().map(|t| t.number).collect();
    let mut sim = Simulator::new(program, tools, config)?;
    if let Some(start) = start {
        sim.load_tool_at_start(start.number, start.line, start.note())?;
    }
    Ok((sim, numbers))
}

/// Why the simulated machine for a case could not be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MachineSetupError {
    #[error(transparent)]
    Setup(#[from] aimm_sim::setup::SetupError),
    #[error(transparent)]
    Sim(#[from] aimm_sim::SimError),
}

/// Runs `sim` at a constant override of `pct` to its end, or until its first spindle overload or
/// broken tool (`None`: not safe). Nothing is recorded.
fn run_constant(
    mut sim: Simulator<'_>,
    pct: f64,
) -> Result<Option<PartResult>, aimm_sim::SimError> {
    sim.set_feed_override(pct);
    let mut ticks = 0u32;
    while sim.step()? {
        if sim.overload_events() > 0 || sim.tool_broken() {
            return Ok(None);
        }
        ticks += 1;
        if ticks.is_multiple_of(500) {
            sim.recording().drain();
        }
    }
    let result = sim.result();
    Ok((result.overload_events == 0 && !sim.tool_broken()).then_some(result))
}

/// The best safe constant override of a part: the highest override, from
/// [`CONSTANT_OVERRIDE_MAX_PCT`] down in [`CONSTANT_OVERRIDE_STEP_PCT`] steps, that makes it with
/// no spindle overload and no broken tool, found as an operator would by trying; `simulator`
/// makes a fresh machine for each try. An error naming the part `name` when not even the
/// smallest step is safe.
pub fn best_safe_constant<'p, E: From<CaseError> + From<aimm_sim::SimError>>(
    name: &str,
    simulator: impl Fn() -> Result<Simulator<'p>, E>,
) -> Result<ConstantBaseline, E> {
    let steps = (CONSTANT_OVERRIDE_MAX_PCT / CONSTANT_OVERRIDE_STEP_PCT).round() as u32;
    for (tried, k) in (1..=steps).rev().enumerate() {
        let pct = f64::from(k) * CONSTANT_OVERRIDE_STEP_PCT;
        if let Some(result) = run_constant(simulator()?, pct)? {
            return Ok(ConstantBaseline {
                override_pct: pct,
                figures: figures(&result),
                tried: tried as u32 + 1,
                recorded_on: None,
            });
        }
    }
    Err(CaseError::Setup {
        case: name.to_string(),
        message: format!(
            "overloads the spindle at every constant override down to {CONSTANT_OVERRIDE_STEP_PCT} %"
        ),
    }
    .into())
}

/// Runs `case` at its programmed feed, at its best safe constant override and with the loop (`params`, commands taking effect
/// `actuation_delay_ms` after they are decided; same seed, so the same noise draws). A teach-in
/// case first makes one part teaching, then the compared part uses what it learned.
pub fn run_case(
    case: &FeedCase,
    params: &FeedParams,
    actuation_delay_ms: f64,
    seed: u64,
) -> Result<CaseOutcome, CaseError> {
    run_case_with_operator(
        case,
        params,
        actuation_delay_ms,
        seed,
        &PanelScript::default(),
    )
}

/// [`run_case`] with the operator working the panel by `operator` in every run of the case
/// (constant feed, teach-in and loop alike, so they stay comparable).
pub fn run_case_with_operator(
    case: &FeedCase,
    params: &FeedParams,
    actuation_delay_ms: f64,
    seed: u64,
    operator: &PanelScript,
) -> Result<CaseOutcome, CaseError> {
    let setup_error = |message: String| CaseError::Setup {
        case: case.name.clone(),
        message,
    };
    let loop_error = |e: InvalidFeedParam| setup_error(e.to_string());
    let options = |setpoint: Setpoint| FeedRunOptions {
        actuation_delay_ms,
        ..FeedRunOptions::new(*params, setpoint)
    };
    let program = parse(&case.program, &case.text)?;
    let simulator = || -> Result<Simulator<'_>, CaseError> {
        let mut config = SimConfig::new(MachineSpec::vmc("validation"), case.material, seed);
        config.hardness = case.hardness.clone();
        let (mut sim, numbers) =
            case_machine(&program, config).map_err(|e| setup_error(e.to_string()))?;
        for n in numbers {
            sim.set_tool_wear_vb_mm(n, case.initial_wear_mm);
        }
        sim.set_panel_script(operator.clone());
        Ok(sim)
    };
    let programmed = run_unrecorded(&mut simulator()?, &mut |_: &Simulator<'_>| {})?;
    let best = best_safe_constant(&case.name, simulator)?;
    let setpoint = match &case.setpoint {
        Setpoint::Teach(known) if known.is_empty() => {
            let mut teach = FeedLoop::new(options(case.setpoint.clone())).map_err(loop_error)?;
            run_unrecorded(&mut simulator()?, &mut teach)?;
            Setpoint::Teach(teach.report_after_teach())
        }
        other => other.clone(),
    };
    let mut feed_loop = FeedLoop::new(options(setpoint)).map_err(loop_error)?;
    let adaptive = run_unrecorded(&mut simulator()?, &mut feed_loop)?;
    let report = feed_loop.report();
    Ok(CaseOutcome::judge(
        case,
        figures(&programmed),
        best,
        figures(&adaptive),
        report,
    ))
}

/// The simulated `machine` (seeded `seed`) set up to make the next part of `case` after what
/// `store` holds of its timeline, its tools worn as the case says: the simulator and when the
/// part starts, ns.
fn next_part_machine<'p>(
    store: &dyn Store,
    program: &'p Program,
    machine: &MachineSpec,
    case: &FeedCase,
    seed: u64,
) -> Result<(Simulator<'p>, i64), RecordLoopError> {
    let mut config = SimConfig::new(machine.clone(), case.material, seed);
    config.hardness = case.hardness.clone();
    let start = next_part_start_ns(store, &machine.id, DEFAULT_CHANGEOVER_S)?;
    config.start_ns = start;
    let (mut sim, numbers) = case_machine(program, config).map_err(|e| CaseError::Setup {
        case: case.name.clone(),
        message: e.to_string(),
    })?;
    // The tools as the case ran them in validation: worn if the case says so.
    for &n in &numbers {
        sim.set_tool_wear_vb_mm(n, case.initial_wear_mm);
    }
    Ok((sim, start))
}

/// Makes one part of `case` on `machine` at the constant override of `outcome`'s best safe
/// constant, as the case ran it (the same tool wear and seed), recorded as evidence, and notes
/// the machine in `outcome`: the baseline the loop's validation report holds it against, there
/// to recompute from the segments. The part continues the machine's timeline.
pub fn record_baseline_run(
    store: &mut dyn Store,
    machine: &MachineSpec,
    case: &FeedCase,
    outcome: &mut CaseOutcome,
    seed: u64,
) -> Result<RecordedPart, RecordLoopError> {
    let program = parse(&case.program, &case.text).map_err(CaseError::from)?;
    let (mut sim, start) = next_part_machine(&*store, &program, machine, case, seed)?;
    let pct = outcome.best_constant.override_pct;
    sim.set_feed_override(pct);
    let text = (case.program.as_str(), case.text.as_str());
    let why = format!("run at the constant override {pct} % (the feed loop's baseline)");
    let (stored, _) = register_program(store, machine, text, &why, start)?;
    let spec = PartSpec {
        machine,
        program: stored.id,
        material: case.material,
        seed,
        params_json: serde_json::json!({ "feed_loop": "off", "feed_override_pct": pct }),
    };
    let part = record_part(&mut sim, store, &spec, &mut |_: &Simulator<'_>| {})?;
    outcome.best_constant.recorded_on = Some(machine.id.to_string());
    Ok(part)
}

/// A loop run recorded as evidence.
#[derive(Clone, Debug)]
pub struct RecordedLoopRun {
    /// The recorded part.
    pub part: RecordedPart,
    /// What the loop did.
    pub report: FeedReport,
}

/// Why a loop run could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordLoopError {
    /// The case could not be set up or run.
    #[error(transparent)]
    Case(#[from] CaseError),
    /// Recording failed.
    #[error(transparent)]
    Record(#[from] ConnectError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes one part of `case` on `machine` with the loop on (`params`, the given actuation delay),
/// recorded with its evidence: the program version, the loop's parameters (and setpoints taught
/// on earlier parts of this program version), the run and its segments, the loop's actions and
/// session. The part continues the machine's timeline; the operator works the panel by
/// `operator` (its pauses of the loop are evidence too), and `faults` go wrong on the way (a
/// conformance stimulus; none in production runs).
pub fn record_loop_run(
    store: &mut dyn Store,
    machine: &MachineSpec,
    case: &FeedCase,
    (params, actuation_delay_ms): (&FeedParams, f64),
    seed: u64,
    (operator, faults): (&PanelScript, FaultPlan),
) -> Result<RecordedLoopRun, RecordLoopError> {
    let setup_error = |message: String| CaseError::Setup {
        case: case.name.clone(),
        message,
    };
    let program = parse(&case.program, &case.text).map_err(CaseError::from)?;
    let (mut sim, start) = next_part_machine(&*store, &program, machine, case, seed)?;
    sim.set_panel_script(operator.clone());
    let text = (case.program.as_str(), case.text.as_str());
    let (stored, program_cite) =
        register_program(store, machine, text, "run with aimm loop feed", start)?;
    let part_key = FeedLoop::part_key(&case.program, &stored.sha256_hex, case.material.name());
    let setpoint = match &case.setpoint {
        Setpoint::Fixed(_) | Setpoint::Limit => case.setpoint.clone(),
        Setpoint::Teach(_) => Setpoint::Teach(FeedLoop::stored_setpoints(&*store, &part_key)?),
    };
    let mut options = FeedRunOptions::new(*params, setpoint);
    options.actuation_delay_ms = actuation_delay_ms;
    let mut feed_loop = FeedLoop::new(options).map_err(|e| setup_error(e.to_string()))?;
    feed_loop.record_parameters(store, start, machine.id.as_str(), &part_key, program_cite)?;
    let spec = PartSpec {
        machine,
        program: stored.id,
        material: case.material,
        seed,
        params_json: serde_json::json!({ "feed_loop": "on" }),
    };
    let mut feed_loop = Faults::new(feed_loop, faults);
    let part = record_part(&mut sim, store, &spec, &mut feed_loop)?;
    let report = feed_loop.inner.finish(store, sim.time_ns())?;
    Ok(RecordedLoopRun { part, report })
}

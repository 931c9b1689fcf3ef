//! A cell of simulated machines making parts with the adaptive feed loop on, and everything
//! recorded as evidence: NC program versions, the loop's parameters and learned setpoints, the
//! sensor segments and commanded override of every run, the loop's actions (citing the segments
//! and parameters they came from) and a signed checkpoint after every run. Each machine's program
//! is also simulated once at constant feed, unrecorded, to show what the loop gains.

use crate::conformance::feed::{best_safe_constant, case_machine, figures};
use aimm_connect::simulator::part::{record_part, register_program, PartSpec};
use aimm_connect::{run_unrecorded, ConnectError};
use aimm_ledger::note::Signer;
use aimm_loops::feed::validation::{ConstantBaseline, RunFigures};
use aimm_loops::feed::{FeedLoop, FeedParams, FeedReport, FeedRunOptions, Setpoint};
use aimm_model::{changeover_ns, MachineSpec, Material, DEFAULT_CHANGEOVER_S, DEFAULT_START_NS};
use aimm_sim::gcode::parse;
use aimm_sim::{PartResult, SimConfig, Simulator};
use aimm_store::evidence::checkpoint_now;
use aimm_store::{next_part_start_ns, RunId, RunObserver, SegmentMeta, Store, StoreError};
use serde::{Deserialize, Serialize};

/// The example programs the built-in cells make (examples/): name and text, so the demo and
/// the live stimuli need no files beside the binary.
pub const EXAMPLE_PROGRAMS: [(&str, &str); 3] = [
    (
        "bracket_c45.nc",
        include_str!("../../../examples/bracket_c45.nc"),
    ),
    (
        "cover_al6061.nc",
        include_str!("../../../examples/cover_al6061.nc"),
    ),
    (
        "steps_c45.nc",
        include_str!("../../../examples/steps_c45.nc"),
    ),
];

/// A cell file (TOML), as written by people.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellFile {
    /// Seeds the sensor noise of every part (part k of machine m uses seed + 1000·m + k).
    pub seed: u64,
    /// Load/unload time between two parts on one machine, s.
    #[serde(default = "default_changeover")]
    pub changeover_s: f64,
    /// Adaptive feed loop settings (defaults when absent).
    #[serde(default)]
    pub feed: FeedParams,
    /// The machines of the cell.
    pub machine: Vec<CellMachine>,
}

fn default_changeover() -> f64 {
    DEFAULT_CHANGEOVER_S
}

/// One machine of a cell file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellMachine {
    /// Machine id.
    pub id: String,
    /// Program file, relative to the cell file.
    pub program: String,
    /// Workpiece material name (see `aimm_model::Material`).
    pub material: String,
    /// Parts to make.
    pub parts: u32,
    /// Spindle-load setpoint of the feed loop, %; absent = the machine's limit
    /// ([`Setpoint::Limit`]).
    #[serde(default)]
    pub setpoint_pct: Option<f64>,
}

/// Why a cell could not run.
#[derive(Debug, thiserror::Error)]
pub enum CellError {
    /// The cell file is wrong (named in the message).
    #[error("cell {cell}: {message}")]
    Plan {
        /// The cell file (or machine) at fault.
        cell: String,
        /// What is wrong.
        message: String,
    },
    /// A program does not parse.
    #[error(transparent)]
    Program(#[from] aimm_sim::gcode::ParseError),
    /// The simulator stopped.
    #[error(transparent)]
    Sim(#[from] aimm_sim::SimError),
    /// Recording a run failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing evidence failed.
    #[error(transparent)]
    Evidence(#[from] aimm_store::evidence::EvidenceError),
    /// The best safe constant override could not be found.
    #[error(transparent)]
    Baseline(#[from] crate::conformance::feed::CaseError),
}

impl CellFile {
    /// Parses a cell file; `name` is used in errors.
    pub fn parse(text: &str, name: &str) -> Result<Self, CellError> {
        let plan_error = |message: String| CellError::Plan {
            cell: name.to_string(),
            message,
        };
        let cell: CellFile = toml::from_str(text).map_err(|e| plan_error(e.to_string()))?;
        if cell.machine.is_empty() {
            return Err(plan_error("no [[machine]]".into()));
        }
        cell.feed
            .validate()
            .map_err(|e| plan_error(format!("[feed]: {e}")))?;
        for m in &cell.machine {
            Material::from_name(&m.material)
                .map_err(|e| plan_error(format!("machine '{}': {e}", m.id)))?;
        }
        Ok(cell)
    }
}

/// One part made.
#[derive(Clone, Debug, Serialize)]
pub struct PartOutcome {
    /// The run it was recorded as.
    pub run: RunId,
    /// The simulator's result.
    pub result: PartResult,
    /// What the feed loop did.
    pub feed_loop: FeedReport,
    /// Segments sealed.
    pub segments: usize,
}

/// One machine's parts.
#[derive(Clone, Debug, Serialize)]
pub struct MachineOutcome {
    /// Machine id.
    pub machine: String,
    /// Program name.
    pub program: String,
    /// Workpiece material.
    pub material: String,
    /// The first part at its programmed feed (simulated, not recorded).
    pub programmed_feed: RunFigures,
    /// The first part at the best safe constant override, the best the machine does without the
    /// loop (simulated, not recorded).
    pub best_constant: ConstantBaseline,
    /// Each part, with the loop on.
    pub parts: Vec<PartOutcome>,
}

/// Where the cell is, for a progress display.
pub struct Progress<'a> {
    /// Machine id.
    pub machine: &'a str,
    /// Part being made, from 1.
    pub part: u32,
    /// Parts the machine makes.
    pub parts: u32,
    /// A part just finished (otherwise: about a simulated second passed).
    pub part_done: bool,
}

/// Runs the cell: `programs` gives each machine's program (name, text) in cell order. A
/// checkpoint signed with `signer` closes every run.
pub fn run_cell(
    cell: &CellFile,
    programs: &[(String, String)],
    store: &mut dyn Store,
    signer: &Signer,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<Vec<MachineOutcome>, CellError> {
    let mut outcomes = Vec::new();
    for (m_index, (m, (name, text))) in cell.machine.iter().zip(programs).enumerate() {
        let material = Material::from_name(&m.material).expect("validated by CellFile::parse");
        let program = parse(name, text)?;
        let spec = MachineSpec::vmc(&m.id);
        let (stored, program_cite) = register_program(
            store,
            &spec,
            (name, text),
            "program of the cell plan",
            DEFAULT_START_NS,
        )?;
        let part_key = FeedLoop::part_key(name, &stored.sha256_hex, material.name());
        // Continue the machine's timeline after whatever it recorded before.
        let mut start_ns = next_part_start_ns(store, &spec.id, cell.changeover_s)?;
        let simulator = |seed: u64, start_ns: i64| -> Result<Simulator<'_>, CellError> {
            let mut config = SimConfig::new(spec.clone(), material, seed);
            config.start_ns = start_ns;
            let (sim, _) = case_machine(&program, config).map_err(|e| CellError::Plan {
                cell: m.id.clone(),
                message: e.to_string(),
            })?;
            Ok(sim)
        };
        let first_seed = cell.seed + 1000 * m_index as u64;
        let baseline = run_unrecorded(
            &mut simulator(first_seed, start_ns)?,
            &mut |_: &Simulator<'_>| {},
        )?;
        let mut wear: Vec<(u32, f64)> = Vec::new();
        let mut outcome = MachineOutcome {
            machine: m.id.clone(),
            program: name.clone(),
            material: material.to_string(),
            programmed_feed: figures(&baseline),
            best_constant: best_safe_constant(&m.id, || simulator(first_seed, start_ns))?,
            parts: Vec::new(),
        };
        for part in 0..m.parts {
            let seed = first_seed + u64::from(part);
            let mut sim = simulator(seed, start_ns)?;
            // The same tools go on cutting: wear carries over from the previous part.
            for &(tool, vb) in &wear {
                sim.set_tool_wear_vb_mm(tool, vb);
            }
            let setpoint = match m.setpoint_pct {
                Some(sp) => Setpoint::Fixed(sp),
                None => Setpoint::Limit,
            };
            let mut feed_loop =
                FeedLoop::new(FeedRunOptions::new(cell.feed, setpoint)).map_err(|e| {
                    CellError::Plan {
                        cell: m.id.clone(),
                        message: e.to_string(),
                    }
                })?;
            feed_loop.record_parameters(store, start_ns, &m.id, &part_key, program_cite.clone())?;
            let part_spec = PartSpec {
                machine: &spec,
                program: stored.id,
                material,
                seed,
                params_json: serde_json::json!({ "part": part + 1, "feed_loop": "on" }),
            };
            let recorded = {
                let mut tick = || {
                    progress(Progress {
                        machine: &m.id,
                        part: part + 1,
                        parts: m.parts,
                        part_done: false,
                    })
                };
                let mut observer = Observed {
                    feed_loop: &mut feed_loop,
                    progress: &mut tick,
                };
                record_part(&mut sim, store, &part_spec, &mut observer)?
            };
            let report = feed_loop.finish(store, sim.time_ns())?;
            checkpoint_now(store, signer)?;
            wear = recorded
                .result
                .tools
                .iter()
                .map(|t| (t.tool, t.vb_mm))
                .collect();
            start_ns = sim.time_ns() + changeover_ns(cell.changeover_s);
            outcome.parts.push(PartOutcome {
                run: recorded.run,
                segments: recorded.segments.len(),
                result: recorded.result,
                feed_loop: report,
            });
            progress(Progress {
                machine: &m.id,
                part: part + 1,
                parts: m.parts,
                part_done: true,
            });
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The feed loop plus a progress display, as one observer of a run.
struct Observed<'a> {
    feed_loop: &'a mut FeedLoop,
    progress: &'a mut dyn FnMut(),
}

impl<'s> RunObserver<Simulator<'s>> for Observed<'_> {
    fn after_step(&mut self, sim: &mut Simulator<'s>) {
        self.feed_loop.after_step(sim);
    }

    fn after_flush(
        &mut self,
        store: &mut dyn Store,
        run: RunId,
        sealed: &[SegmentMeta],
    ) -> Result<(), StoreError> {
        RunObserver::<Simulator<'s>>::after_flush(self.feed_loop, store, run, sealed)
    }

    fn progress(&mut self, _sim: &Simulator<'s>) {
        (self.progress)();
    }
}

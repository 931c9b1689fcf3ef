//! A cell of simulated machines making parts, with the run-to-run feed loop acting between parts
//! and everything recorded as evidence: NC program versions, the loop's parameters, the sensor
//! segments of every run, each decision (citing the segments and parameters it came from) and a
//! signed checkpoint after every run.

use crate::run_to_run::{decide, RunToRunParams};
use aimm_connect::{record_run, ConnectError, RecordOptions};
use aimm_ledger::note::Signer;
use aimm_ledger::record::{ControlAction, ControlParameterChange, Evidence, Record};
use aimm_ledger::Citation;
use aimm_model::{MachineSpec, Material, SignalKind, ToolSpec, NS_PER_S};
use aimm_sim::gcode::parse;
use aimm_sim::setup::prepare;
use aimm_sim::{PartResult, SimConfig, Simulator, DEFAULT_START_NS};
use aimm_store::evidence::{checkpoint_now, latest_record, record_program};
use aimm_store::{NewRun, RunId, SegmentMeta, Store, StoreError};
use serde::{Deserialize, Serialize};

/// Name of the loop in evidence records.
pub const LOOP_NAME: &str = "run_to_run_feed";

/// A cell file (TOML), as written by people.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellFile {
    /// Seeds the sensor noise of every part (part k of machine m uses seed + 1000·m + k).
    pub seed: u64,
    /// Load/unload time between two parts on one machine, s.
    #[serde(default = "default_changeover")]
    pub changeover_s: f64,
    /// Run-to-run feed loop settings (defaults when absent).
    #[serde(default)]
    pub run_to_run: RunToRunParams,
    pub machine: Vec<CellMachine>,
}

fn default_changeover() -> f64 {
    30.0
}

/// One machine of a cell file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellMachine {
    pub id: String,
    /// Program file, relative to the cell file.
    pub program: String,
    pub material: String,
    pub parts: u32,
}

/// Why a cell could not run.
#[derive(Debug, thiserror::Error)]
pub enum CellError {
    #[error("cell {cell}: {message}")]
    Plan { cell: String, message: String },
    #[error(transparent)]
    Program(#[from] aimm_sim::gcode::ParseError),
    #[error(transparent)]
    Sim(#[from] aimm_sim::SimError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Evidence(#[from] aimm_store::evidence::EvidenceError),
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
        cell.run_to_run
            .validate()
            .map_err(|e| plan_error(format!("[run_to_run]: {e}")))?;
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
    pub run: RunId,
    /// Feed override the part was made at, %.
    pub feed_override_pct: f64,
    pub result: PartResult,
    pub segments: usize,
    /// Ledger index of the decision taken after this part.
    pub decision_leaf: u64,
}

/// One machine's parts.
#[derive(Clone, Debug, Serialize)]
pub struct MachineOutcome {
    pub machine: String,
    pub program: String,
    pub material: String,
    pub parts: Vec<PartOutcome>,
}

/// Where the cell is, for a progress display.
pub struct Progress<'a> {
    pub machine: &'a str,
    pub part: u32,
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
        store.put_machine(&spec)?;
        let stored = store.put_program(name, text)?;
        let program_cite = record_program(
            store,
            name,
            text,
            "program of the cell plan",
            DEFAULT_START_NS,
        )?;
        let params_cite = record_parameters(store, &m.id, &cell.run_to_run)?;
        // Continue the machine's timeline after whatever it recorded before.
        let mut start_ns = store
            .runs(Some(&spec.id))?
            .iter()
            .filter_map(|r| r.t_end_ns)
            .max()
            .map_or(DEFAULT_START_NS, |end| end + changeover_ns(cell));
        let mut wear: Vec<(u32, f64)> = Vec::new();
        let mut feed_override = 100.0;
        let mut outcome = MachineOutcome {
            machine: m.id.clone(),
            program: name.clone(),
            material: material.to_string(),
            parts: Vec::new(),
        };
        for part in 0..m.parts {
            let seed = cell.seed + 1000 * m_index as u64 + u64::from(part);
            let mut config = SimConfig::new(spec.clone(), material, seed);
            config.start_ns = start_ns;
            let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).map_err(
                |message| CellError::Plan {
                    cell: m.id.clone(),
                    message,
                },
            )?;
            let mut sim = Simulator::new(&program, tools, config)?;
            // The same tools go on cutting: wear carries over from the previous part.
            for &(tool, vb) in &wear {
                sim.set_tool_wear_vb_mm(tool, vb);
            }
            sim.set_feed_override(feed_override);
            let new_run = NewRun {
                machine: spec.id.clone(),
                program_id: Some(stored.id),
                material: material.to_string(),
                seed,
                t_start_ns: start_ns,
                params_json: serde_json::json!({ "part": part + 1, "feed_override_pct": feed_override }),
            };
            let recorded = record_run(&mut sim, store, &new_run, RecordOptions::default(), |_| {
                progress(Progress {
                    machine: &m.id,
                    part: part + 1,
                    parts: m.parts,
                    part_done: false,
                })
            })?;
            for used in &recorded.result.tools {
                if let Some(tool) = sim.tool_table().tool(used.tool) {
                    store.put_tool(&spec.id, tool)?;
                }
            }
            let (decision_leaf, next_override) = decide_next_part(
                store,
                &m.id,
                &cell.run_to_run,
                feed_override,
                &recorded.segments,
                &[params_cite.clone(), program_cite.clone()],
                sim.time_ns(),
            )?;
            checkpoint_now(store, signer)?;
            wear = recorded
                .result
                .tools
                .iter()
                .map(|t| (t.tool, t.vb_mm))
                .collect();
            start_ns = sim.time_ns() + changeover_ns(cell);
            outcome.parts.push(PartOutcome {
                run: recorded.run,
                feed_override_pct: feed_override,
                segments: recorded.segments.len(),
                result: recorded.result,
                decision_leaf,
            });
            feed_override = next_override;
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

fn changeover_ns(cell: &CellFile) -> i64 {
    (cell.changeover_s * NS_PER_S as f64) as i64
}

/// Records the loop's parameters for `machine` as set by the cell plan: unchanged parameters
/// cite their earlier record, changed ones are recorded as old → new citing it. Returns the
/// citation the loop's decisions use.
fn record_parameters(
    store: &mut dyn Store,
    machine: &str,
    params: &RunToRunParams,
) -> Result<Citation, StoreError> {
    let parameter = format!("{machine}/params");
    let new = serde_json::to_value(params).expect("parameters serialise");
    let previous = latest_record(store, |r| {
        matches!(&r.evidence, Evidence::ControlParameterChange(c)
            if c.loop_name == LOOP_NAME && c.parameter == parameter)
    })?;
    let (old, cites) = match previous {
        Some((cite, record)) => match record.evidence {
            Evidence::ControlParameterChange(c) if c.new == new => return Ok(cite),
            Evidence::ControlParameterChange(c) => (c.new, vec![cite]),
            _ => unreachable!("picked a control_parameter_change record"),
        },
        None => (serde_json::Value::Null, vec![]),
    };
    let record = Record::new(
        now_ns(store)?,
        Evidence::ControlParameterChange(ControlParameterChange {
            loop_name: LOOP_NAME.into(),
            parameter,
            old,
            new,
            bounds: serde_json::json!({
                "load_limit_pct": [0.0, 200.0],
                "override_pct": [1.0, 200.0],
            }),
            actor: "cell plan".into(),
        }),
        cites,
    );
    let appended = store.append_records(std::slice::from_ref(&record))?;
    Ok(Citation {
        leaf_index: appended[0].leaf_index,
        leaf_hash: appended[0].leaf_hash,
    })
}

/// Time stamp for records that are not tied to a machine event: the ledger's last record time.
fn now_ns(store: &dyn Store) -> Result<i64, StoreError> {
    let size = store.ledger_size()?;
    Ok(if size == 0 {
        DEFAULT_START_NS
    } else {
        store.ledger_record(size - 1)?.record.t_ns
    })
}

/// Peak spindle load of the run, as the loop sees it: the highest 0.1 s mean of the stored load
/// samples (robust to single noisy samples).
fn peak_load(
    store: &dyn Store,
    segments: &[SegmentMeta],
) -> Result<(f64, Vec<Citation>), StoreError> {
    const WINDOW: usize = 50;
    let mut peak = f64::NAN;
    let mut cites = Vec::new();
    for s in segments
        .iter()
        .filter(|s| s.signal == SignalKind::SpindleLoadPct)
    {
        let series = store.read_samples(&s.machine, s.signal, s.t_first_ns, s.t_last_ns + 1)?;
        let mut sum: f64 = series.values.iter().take(WINDOW).sum();
        let mut best = if series.values.len() >= WINDOW {
            sum / WINDOW as f64
        } else {
            f64::NAN
        };
        for i in WINDOW..series.values.len() {
            sum += series.values[i] - series.values[i - WINDOW];
            best = best.max(sum / WINDOW as f64);
        }
        peak = if peak.is_nan() { best } else { peak.max(best) };
        if let Some(index) = s.ledger_index {
            let entry = store.ledger_record(index)?;
            cites.push(Citation {
                leaf_index: index,
                leaf_hash: entry.leaf_hash,
            });
        }
    }
    Ok((peak, cites))
}

/// Decides the next part's override from this run's load segments and records the decision as
/// a `control_action` citing them, the parameters and the program. Returns its leaf index and
/// the override it commands.
fn decide_next_part(
    store: &mut dyn Store,
    machine: &str,
    params: &RunToRunParams,
    current_override_pct: f64,
    segments: &[SegmentMeta],
    also_cite: &[Citation],
    t_ns: i64,
) -> Result<(u64, f64), StoreError> {
    let (peak, mut cites) = peak_load(store, segments)?;
    let decision = decide(params, peak, current_override_pct);
    cites.extend_from_slice(also_cite);
    cites.sort_by_key(|c| c.leaf_index);
    let record = Record::new(
        t_ns,
        Evidence::ControlAction(ControlAction {
            loop_name: LOOP_NAME.into(),
            machine: machine.into(),
            command: serde_json::json!({
                "feed_override_pct": decision.override_pct,
                "applies_to": "next part",
            }),
            inputs: serde_json::json!({
                "peak_spindle_load_pct": if peak.is_finite() { serde_json::json!(peak) } else { serde_json::Value::Null },
                "load_limit_pct": params.load_limit_pct,
                "current_override_pct": current_override_pct,
                "wanted_override_pct": decision.wanted_pct,
            }),
        }),
        cites,
    );
    let leaf = store.append_records(std::slice::from_ref(&record))?[0].leaf_index;
    Ok((leaf, decision.override_pct))
}

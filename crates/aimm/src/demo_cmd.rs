//! `aimm demo`: a cell of simulated machines making parts, recorded into the store.

use crate::output::{print_json, table};
use crate::part::{open_store, parse_material};
use aimm_connect::{record_run, RecordOptions};
use aimm_model::{MachineSpec, ToolSpec, NS_PER_S};
use aimm_sim::gcode::parse;
use aimm_sim::setup::prepare;
use aimm_sim::{PartResult, SimConfig, Simulator, DEFAULT_START_NS};
use aimm_store::{NewRun, Store};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The built-in cell and its programs (examples/), so the demo needs no files beside the binary.
const DEFAULT_CELL: &str = include_str!("../../../examples/demo-cell.toml");
const BUILT_IN_PROGRAMS: [(&str, &str); 3] = [
    (
        "bracket_c45.nc",
        include_str!("../../../examples/bracket_c45.nc"),
    ),
    (
        "cover_al6061.nc",
        include_str!("../../../examples/cover_al6061.nc"),
    ),
    ("lug_ti64.nc", include_str!("../../../examples/lug_ti64.nc")),
];

/// The main job: a cell of simulated machines making parts, recorded into ./aimm.db.
///
/// By default three mills make steel, aluminium and titanium parts (examples/demo-cell.toml).
/// Everything is recorded into the store: machines, tools, programs, runs, sensor data as sealed
/// SHA-256-hashed segments, and events. Ends with a summary table per machine.
///
/// Running it again continues the cell's timeline in the same database.
///
/// Examples:
///   aimm demo
///   aimm demo --db /tmp/cell.db --json
///   aimm demo --cell my-cell.toml
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// SQLite database to record into (created if missing).
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    db: PathBuf,
    /// Cell definition (TOML); default: the built-in three-machine cell.
    #[arg(long)]
    cell: Option<PathBuf>,
    /// Override the cell's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the number of parts per machine.
    #[arg(long)]
    parts: Option<u32>,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

/// A cell file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cell {
    seed: u64,
    #[serde(default = "default_changeover")]
    changeover_s: f64,
    machine: Vec<CellMachine>,
}

fn default_changeover() -> f64 {
    30.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CellMachine {
    id: String,
    program: String,
    material: String,
    parts: u32,
}

/// One machine's line of the summary.
#[derive(Serialize)]
struct MachineSummary {
    machine: String,
    program: String,
    material: String,
    parts: Vec<PartResult>,
    runs: Vec<i64>,
    segments: usize,
}

pub fn run(args: DemoArgs) -> Result<()> {
    let (cell, base) = load_cell(args.cell.as_deref())?;
    let seed = args.seed.unwrap_or(cell.seed);
    let mut store = open_store(&args.db)?;
    let total: u64 = cell
        .machine
        .iter()
        .map(|m| u64::from(args.parts.unwrap_or(m.parts)))
        .sum();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} parts  {msg}")
            .expect("valid template"),
    );
    let mut summaries = Vec::new();
    for (m_index, m) in cell.machine.iter().enumerate() {
        let material =
            parse_material(&m.material).with_context(|| format!("cell machine '{}'", m.id))?;
        let (name, text) = program_text(&base, &m.program)?;
        let program = parse(&name, &text)?;
        let spec = MachineSpec::vmc(&m.id);
        store.put_machine(&spec)?;
        let record = store.put_program(&name, &text)?;
        // Continue the machine's timeline after whatever it recorded before.
        let mut start_ns = store
            .runs(Some(&spec.id))?
            .iter()
            .filter_map(|r| r.t_end_ns)
            .max()
            .map_or(DEFAULT_START_NS, |end| {
                end + (cell.changeover_s * NS_PER_S as f64) as i64
            });
        let mut wear = Vec::new();
        let mut summary = MachineSummary {
            machine: m.id.clone(),
            program: name.clone(),
            material: material.to_string(),
            parts: Vec::new(),
            runs: Vec::new(),
            segments: 0,
        };
        for part in 0..args.parts.unwrap_or(m.parts) {
            let part_seed = seed + 1000 * m_index as u64 + u64::from(part);
            let mut config = SimConfig::new(spec.clone(), material, part_seed);
            config.start_ns = start_ns;
            let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config)
                .map_err(anyhow::Error::msg)?;
            let mut sim = Simulator::new(&program, tools, config)?;
            // The same tools go on cutting: wear carries over from the previous part.
            for &(tool, vb) in &wear {
                sim.set_tool_wear_vb_mm(tool, vb);
            }
            bar.set_message(format!("{} part {} ({})", m.id, part + 1, m.program));
            let new_run = NewRun {
                machine: spec.id.clone(),
                program_id: Some(record.id),
                material: material.to_string(),
                seed: part_seed,
                t_start_ns: start_ns,
                params_json: serde_json::json!({ "demo_part": part + 1 }),
            };
            let recorded = record_run(
                &mut sim,
                &mut store,
                &new_run,
                RecordOptions::default(),
                |_| bar.tick(),
            )?;
            for used in &recorded.result.tools {
                if let Some(tool) = sim.tool_table().tool(used.tool) {
                    store.put_tool(&spec.id, tool)?;
                }
            }
            wear = recorded
                .result
                .tools
                .iter()
                .map(|t| (t.tool, t.vb_mm))
                .collect();
            start_ns = sim.time_ns() + (cell.changeover_s * NS_PER_S as f64) as i64;
            summary.runs.push(recorded.run.0);
            summary.segments += recorded.segments.len();
            summary.parts.push(recorded.result);
            bar.inc(1);
        }
        summaries.push(summary);
    }
    bar.finish_and_clear();
    if args.json {
        return print_json(&serde_json::json!({ "db": args.db, "machines": summaries }));
    }
    print_summary(&summaries);
    println!(
        "recorded into {}; see it with `aimm data ls --db {}`",
        args.db.display(),
        args.db.display()
    );
    Ok(())
}

/// Reads the cell file (or the built-in one) and the folder its program paths are relative to.
fn load_cell(path: Option<&Path>) -> Result<(Cell, Option<PathBuf>)> {
    let (text, base, name) = match path {
        Some(p) => (
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read cell {}", p.display()))?,
            Some(p.parent().unwrap_or(Path::new(".")).to_path_buf()),
            p.display().to_string(),
        ),
        None => (
            DEFAULT_CELL.to_string(),
            None,
            "built-in demo cell".to_string(),
        ),
    };
    let cell: Cell = toml::from_str(&text).with_context(|| format!("cell {name}"))?;
    if cell.machine.is_empty() {
        bail!("cell {name}: no [[machine]]");
    }
    Ok((cell, base))
}

/// A cell program's name and text: from the cell's folder, or built in.
fn program_text(base: &Option<PathBuf>, program: &str) -> Result<(String, String)> {
    match base {
        Some(dir) => {
            let path = dir.join(program);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read program {}", path.display()))?;
            Ok((path.display().to_string(), text))
        }
        None => BUILT_IN_PROGRAMS
            .iter()
            .find(|(name, _)| *name == program)
            .map(|(name, text)| (format!("examples/{name}"), text.to_string()))
            .with_context(|| format!("built-in cell names unknown program {program}")),
    }
}

fn print_summary(summaries: &[MachineSummary]) {
    let mut t = table(&[
        "machine",
        "material",
        "parts",
        "cycle s/part",
        "energy kWh",
        "max load %",
        "overloads",
        "ref. feature error mm (last part)",
        "tool VB mm",
        "segments",
    ]);
    for s in summaries {
        let n = s.parts.len().max(1) as f64;
        let last = s.parts.last();
        t.add_row(vec![
            s.machine.clone(),
            s.material.clone(),
            s.parts.len().to_string(),
            format!(
                "{:.1}",
                s.parts.iter().map(|p| p.cycle_time_s).sum::<f64>() / n
            ),
            format!("{:.3}", s.parts.iter().map(|p| p.energy_kwh).sum::<f64>()),
            format!(
                "{:.1}",
                s.parts
                    .iter()
                    .map(|p| p.max_spindle_load_pct)
                    .fold(0.0, f64::max)
            ),
            s.parts
                .iter()
                .map(|p| p.overload_events)
                .sum::<u32>()
                .to_string(),
            last.and_then(|p| p.reference_feature.as_ref())
                .map_or("-".into(), |f| format!("{:+.4}", f.mean_error_mm)),
            last.map_or("-".into(), |p| {
                p.tools
                    .iter()
                    .map(|t| format!("T{} {:.3}", t.tool, t.vb_mm))
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
            s.segments.to_string(),
        ]);
    }
    println!("{t}");
}

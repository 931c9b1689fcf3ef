//! `aimm bench`: figures next to their baselines, measured in the same run.

use crate::output::{print_json, table};
use aimm_model::{MachineSpec, Material, SignalSeries, ToolSpec};
use aimm_sim::gcode::{parse, Interpreter};
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, Simulator};
use aimm_store::{RowPerSampleBaseline, SqliteStore, Store};
use anyhow::Result;
use serde::Serialize;
use std::time::Instant;

/// The realistic program the simulator benchmark runs: roughing, finishing under cutter
/// compensation, a stepped pocket and a drilling cycle in steel.
const BENCH_PROGRAM: &str = include_str!("../../../examples/bracket_c45.nc");

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Simulator speed (simulated s per wall s at 500 Hz, one core) and store write throughput
    /// (sealed, compressed, hashed segments vs plain row-per-sample SQLite inserts).
    Sim(BenchSimArgs),
}

#[derive(clap::Args)]
pub struct BenchSimArgs {
    /// Parts simulated for the speed figure (more = steadier).
    #[arg(long, default_value_t = 5)]
    parts: u32,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// One line of a benchmark table.
#[derive(Serialize)]
struct Figure {
    what: String,
    value: f64,
    unit: &'static str,
    baseline: String,
    baseline_value: f64,
    target: String,
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Sim(args) => bench_sim(args),
    }
}

fn bench_sim(args: BenchSimArgs) -> Result<()> {
    let program = parse("examples/bracket_c45.nc", BENCH_PROGRAM)?;
    let mut config = SimConfig::new(MachineSpec::vmc("bench"), Material::SteelC45, 1);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config)
        .map_err(anyhow::Error::msg)?;

    // Interpreter alone: the ceiling the physics adds to.
    let started = Instant::now();
    let mut ops = 0u64;
    for _ in 0..args.parts {
        for op in Interpreter::new(&program, tools.clone(), config.interp.clone()) {
            op?;
            ops += 1;
        }
    }
    let interp_ops_per_s = ops as f64 / started.elapsed().as_secs_f64();

    // Full simulation at 500 Hz, keeping every sample for the store figures.
    let mut series: Vec<SignalSeries> = Vec::new();
    let mut simulated_s = 0.0;
    let mut samples = 0u64;
    let started = Instant::now();
    for part in 0..args.parts {
        let mut c = config.clone();
        c.seed = u64::from(part);
        let mut sim = Simulator::new(&program, tools.clone(), c)?;
        let mut steps = 0u64;
        while sim.step()? {
            steps += 1;
            // Seal-sized windows: 10 s at 500 Hz.
            if steps.is_multiple_of(5000) {
                series.extend(sim.recording().drain().0);
            }
        }
        series.extend(sim.recording().drain().0);
        simulated_s += sim.elapsed_s();
        samples += sim.result().samples;
    }
    let wall_s = started.elapsed().as_secs_f64();
    let speed = simulated_s / wall_s;

    // Store writes: the same samples sealed vs row-per-sample, each into a fresh file.
    let dir = tempfile::tempdir()?;
    let mut store = SqliteStore::open(dir.path().join("sealed.db"))?;
    let started = Instant::now();
    let mut stored_bytes = 0u64;
    for batch in series.chunks(16) {
        stored_bytes += store
            .append_segments(None, batch)?
            .iter()
            .map(|m| m.bytes)
            .sum::<u64>();
    }
    let sealed_per_s = samples as f64 / started.elapsed().as_secs_f64();
    let mut baseline = RowPerSampleBaseline::open(dir.path().join("rows.db"))?;
    let started = Instant::now();
    for batch in series.chunks(16) {
        baseline.append(batch)?;
    }
    let rows_per_s = samples as f64 / started.elapsed().as_secs_f64();

    let figures = vec![
        Figure {
            what: "simulator, 500 Hz, one core".into(),
            value: speed,
            unit: "× real time",
            baseline: "real time".into(),
            baseline_value: 1.0,
            target: "≥ 1000×".into(),
        },
        Figure {
            what: "G-code interpreter alone".into(),
            value: interp_ops_per_s,
            unit: "ops/s",
            baseline: "-".into(),
            baseline_value: f64::NAN,
            target: "-".into(),
        },
        Figure {
            what: "store: sealed, compressed, hashed segments".into(),
            value: sealed_per_s,
            unit: "samples/s",
            baseline: "row-per-sample SQLite inserts".into(),
            baseline_value: rows_per_s,
            target: "≥ 2 M samples/s".into(),
        },
        Figure {
            what: "store: bytes per sample, sealed".into(),
            value: stored_bytes as f64 / samples as f64,
            unit: "B/sample",
            baseline: "raw (i64 time + f64 value)".into(),
            baseline_value: 16.0,
            target: "-".into(),
        },
    ];
    if args.json {
        return print_json(&serde_json::json!({
            "program": "examples/bracket_c45.nc",
            "parts": args.parts,
            "simulated_s": simulated_s,
            "samples": samples,
            "figures": figures,
        }));
    }
    let mut t = table(&["figure", "value", "unit", "baseline (same run)", "target"]);
    for f in &figures {
        let base = if f.baseline_value.is_nan() {
            f.baseline.clone()
        } else {
            format!("{}: {}", f.baseline, human(f.baseline_value))
        };
        t.add_row(vec![
            f.what.clone(),
            human(f.value),
            f.unit.into(),
            base,
            f.target.clone(),
        ]);
    }
    println!("{t}");
    println!(
        "{} parts of examples/bracket_c45.nc: {simulated_s:.0} simulated s, {samples} samples",
        args.parts
    );
    Ok(())
}

/// A number with a k/M suffix for big values.
fn human(v: f64) -> String {
    match v.abs() {
        x if x >= 1e6 => format!("{:.2} M", v / 1e6),
        x if x >= 1e4 => format!("{:.1} k", v / 1e3),
        x if x >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.2}"),
    }
}

//! `aimm bench feed`: the adaptive feed loop. Decision latency per spindle-load sample (p50/p99)
//! on the load stream of a real part, against the fixed-gain PI of
//! [`baseline_pi`](crate::baseline_pi) on the same samples; and, per validation part and
//! material, cycle time and overload events at the programmed feed, at the best safe constant
//! override and with the loop.

use crate::baseline_pi::FixedGainPi;
use crate::{render_table, BenchError, Figure, Report};
use aimm_assess::conformance::feed::run_case;
use aimm_loops::feed::validation::{
    builtin_cases, heldout_cases, CaseOutcome, FeedCase, CONSTANT_OVERRIDE_STEP_PCT,
};
use aimm_loops::feed::Setpoint;
use aimm_loops::feed::{
    FeedController, FeedMode, FeedParams, LoadSample, DEFAULT_ACTUATION_DELAY_MS,
};
use aimm_model::{MachineSpec, Material, SignalKind, StockHardness, ToolSpec};
use aimm_sim::gcode::parse;
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, Simulator};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use indicatif::ProgressBar;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `aimm bench feed` measured.
pub struct FeedReport {
    /// Load samples the latency figures are over.
    pub samples: usize,
    /// The latency figures, each next to its baseline.
    pub figures: Vec<Figure>,
    /// The parts, each with its baselines.
    pub cases: Vec<BenchCase>,
}

/// The load stream of a real part (the stepped block at constant feed): what the loop sees.
fn recorded_load_stream() -> Result<Vec<(i64, f64)>, BenchError> {
    let program = parse(
        "examples/steps_c45.nc",
        include_str!("../../../examples/steps_c45.nc"),
    )?;
    let mut config = SimConfig::new(MachineSpec::vmc("bench"), Material::SteelC45, 1);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config)
        .map_err(BenchError::Setup)?;
    let mut sim = Simulator::new(&program, tools, config)?;
    let mut stream = Vec::new();
    while sim.step()? {
        stream.push((sim.time_ns(), sim.latest(SignalKind::SpindleLoadPct)));
        if stream.len() % 5000 == 0 {
            sim.recording().drain();
        }
    }
    Ok(stream)
}

/// p50 and p99 of per-call times of `step` over `stream`, ns.
fn latency(stream: &[(i64, f64)], mut step: impl FnMut(i64, f64) -> f64) -> (f64, f64) {
    let mut times: Vec<u64> = Vec::with_capacity(stream.len());
    let mut sink = 0.0;
    for &(t, load) in stream {
        let started = Instant::now();
        sink += step(t, load);
        times.push(started.elapsed().as_nanos() as u64);
    }
    std::hint::black_box(sink);
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize] as f64;
    (at(0.5), at(0.99))
}

/// Which cases a row of the table comes from.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSet {
    /// The built-in validation cases: the settings were chosen on them.
    Tuned,
    /// Parts never tuned on ([`heldout_cases`]).
    HeldOut,
    /// The real CAM programs of `testdata/gcode`, in the material `materials.csv` gives each.
    RealProgram,
}

/// One part of the table: its outcome, or why it could not run.
#[derive(Debug, Serialize)]
pub struct BenchCase {
    /// Where the case comes from.
    pub set: CaseSet,
    /// The case's name.
    pub name: String,
    /// Workpiece material.
    pub material: String,
    /// The outcome (`null` when it could not run).
    pub outcome: Option<CaseOutcome>,
    /// Why it could not run.
    pub error: Option<String>,
}

/// A row of `materials.csv`: the program, the material its speeds and feeds fit, and why.
#[derive(serde::Deserialize)]
struct ProgramMaterial {
    program: String,
    material: String,
}

/// The real programs listed in `dir/materials.csv` (program,material,reason) as cases in the
/// machine-limit mode.
fn real_programs(dir: &Path) -> Result<Vec<FeedCase>, BenchError> {
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).map_err(|source| BenchError::Read { path, source })
    };
    let list_path = dir.join("materials.csv");
    let mut list = csv::Reader::from_path(&list_path).map_err(|e| BenchError::BadInput {
        what: list_path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut cases = Vec::new();
    for row in list.deserialize::<ProgramMaterial>() {
        let bad = |message: String| BenchError::BadInput {
            what: list_path.display().to_string(),
            message,
        };
        let row = row.map_err(|e| bad(e.to_string()))?;
        let material =
            Material::from_name(&row.material).map_err(|e| bad(format!("{}: {e}", row.program)))?;
        cases.push(FeedCase {
            name: row.program.clone(),
            program: format!("testdata/gcode/{}", row.program),
            text: read(dir.join(&row.program))?,
            material,
            initial_wear_mm: 0.0,
            setpoint: Setpoint::Limit,
            varying_engagement: false,
            hardness: StockHardness::default(),
        });
    }
    Ok(cases)
}

/// Times both controllers over examples/steps_c45.nc's load stream, then runs every built-in
/// feed validation case, the held-out parts and (with `real_programs_dir`) the real programs
/// listed in its `materials.csv`, each at its programmed feed, at its best safe constant override
/// and with the loop; progress on stderr. A case that cannot run is a row with its error.
pub fn run(real_programs_dir: Option<&Path>) -> Result<FeedReport, BenchError> {
    let stream = recorded_load_stream()?;
    let params = FeedParams::default();
    let mut controller = FeedController::new(params, FeedMode::Control { setpoint_pct: 90.0 })
        .map_err(BenchError::FeedParams)?;
    let (p50, p99) = latency(&stream, |t, load| {
        controller
            .step(
                t,
                Some(LoadSample {
                    t_ns: t,
                    load_pct: load,
                }),
            )
            .override_pct
    });
    // Baseline: the textbook fixed-gain PI with clamping, no estimation or protection.
    let mut baseline = FixedGainPi::new();
    let (base_p50, base_p99) = latency(&stream, |_, load| baseline.step(load));
    let figures = vec![
        Figure {
            what: "decision latency per sample, p50".into(),
            value: p50 / 1000.0,
            unit: "µs",
            baseline: "fixed-gain PI, same samples".into(),
            baseline_value: base_p50 / 1000.0,
            target: "-".into(),
        },
        Figure {
            what: "decision latency per sample, p99".into(),
            value: p99 / 1000.0,
            unit: "µs",
            baseline: "fixed-gain PI, same samples".into(),
            baseline_value: base_p99 / 1000.0,
            target: "< 10 µs".into(),
        },
    ];
    let mut cases: Vec<(CaseSet, FeedCase)> = builtin_cases()
        .into_iter()
        .map(|c| (CaseSet::Tuned, c))
        .chain(heldout_cases().into_iter().map(|c| (CaseSet::HeldOut, c)))
        .collect();
    if let Some(dir) = real_programs_dir {
        cases.extend(
            real_programs(dir)?
                .into_iter()
                .map(|c| (CaseSet::RealProgram, c)),
        );
    }
    let bar = ProgressBar::new(cases.len() as u64);
    let mut rows = Vec::new();
    for (set, case) in &cases {
        bar.set_message(case.name.clone());
        let outcome = run_case(case, &params, DEFAULT_ACTUATION_DELAY_MS, 1);
        rows.push(BenchCase {
            set: *set,
            name: case.name.clone(),
            material: case.material.to_string(),
            error: outcome.as_ref().err().map(ToString::to_string),
            outcome: outcome.ok(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(FeedReport {
        samples: stream.len(),
        figures,
        cases: rows,
    })
}

/// Per part and material: cycle time and overloads at the programmed feed, at the best safe
/// constant override and with the loop.
fn case_table(rows: &[BenchCase]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "set",
        "part",
        "material",
        "programmed s (overloads)",
        "best constant % → s (overloads)",
        "loop s (overloads)",
        "loop vs best %",
        "verdict",
    ]);
    for r in rows {
        let set = format!("{:?}", r.set);
        let Some(o) = &r.outcome else {
            let error = r.error.clone().unwrap_or_default();
            t.add_row(vec![
                set,
                r.name.clone(),
                r.material.clone(),
                format!("error: {error}"),
            ]);
            continue;
        };
        let (p, b, a) = (&o.programmed_feed, &o.best_constant.figures, &o.adaptive);
        t.add_row(vec![
            set,
            r.name.clone(),
            r.material.clone(),
            format!("{:.2} ({})", p.cycle_time_s, p.overload_events),
            format!(
                "{:.0} → {:.2} ({})",
                o.best_constant.override_pct, b.cycle_time_s, b.overload_events
            ),
            format!("{:.2} ({})", a.cycle_time_s, a.overload_events),
            format!("{:+.1}", -o.cycle_time_reduction_pct),
            o.verdict(),
        ]);
    }
    t.to_string()
}

impl Report for FeedReport {
    fn text(&self) -> String {
        format!(
            "{}\nlatency over {} load samples of examples/steps_c45.nc (one core, release build)\n{}\nbest constant = the highest override in {CONSTANT_OVERRIDE_STEP_PCT} % steps with no overload and no broken tool on that part; loop vs best: negative is faster",
            render_table(&self.figures),
            self.samples,
            case_table(&self.cases)
        )
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "samples": self.samples,
            "figures": self.figures,
            "cases": self.cases,
        })
    }
}

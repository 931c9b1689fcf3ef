//! `aimm bench feed`: the adaptive feed loop. Decision latency per spindle-load sample (p50/p99)
//! on the load stream of a real part, against the fixed-gain PI of
//! [`baseline_pi`](crate::baseline_pi) on the same samples; and, per validation part, cycle time
//! and overload events against the same part at constant feed.

use crate::baseline_pi::FixedGainPi;
use crate::{render_table, BenchError, Figure, Report};
use aimm_assess::conformance::feed::run_case;
use aimm_loops::feed::validation::builtin_cases;
use aimm_loops::feed::{
    FeedController, FeedMode, FeedParams, LoadSample, DEFAULT_ACTUATION_DELAY_MS,
};
use aimm_model::{MachineSpec, Material, SignalKind, ToolSpec};
use aimm_sim::gcode::parse;
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, Simulator};
use indicatif::ProgressBar;
use std::time::Instant;

/// What `aimm bench feed` measured.
pub struct FeedReport {
    /// Load samples the latency figures are over.
    pub samples: usize,
    /// The figures, each next to its baseline.
    pub figures: Vec<Figure>,
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

/// Times both controllers over examples/steps_c45.nc's load stream, then runs every built-in
/// feed validation case adaptive and at constant feed; progress on stderr.
pub fn run() -> Result<FeedReport, BenchError> {
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
    let mut figures = vec![
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
    let bar = ProgressBar::new(builtin_cases().len() as u64);
    for case in builtin_cases() {
        bar.set_message(case.name.clone());
        let o = run_case(&case, &params, DEFAULT_ACTUATION_DELAY_MS, 1)?;
        figures.push(Figure {
            what: format!(
                "{} ({}): cycle time, {:+.1} %",
                o.name, o.material, -o.cycle_time_reduction_pct
            ),
            value: o.adaptive.cycle_time_s,
            unit: "s",
            baseline: "constant feed".into(),
            baseline_value: o.constant_feed.cycle_time_s,
            target: "< constant feed".into(),
        });
        figures.push(Figure {
            what: format!("{} ({}): overload events", o.name, o.material),
            value: f64::from(o.adaptive.overload_events),
            unit: "",
            baseline: "constant feed".into(),
            baseline_value: f64::from(o.constant_feed.overload_events),
            target: "0".into(),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(FeedReport {
        samples: stream.len(),
        figures,
    })
}

impl Report for FeedReport {
    fn text(&self) -> String {
        format!(
            "{}\nlatency over {} load samples of examples/steps_c45.nc (one core, release build)",
            render_table(&self.figures),
            self.samples
        )
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "samples": self.samples, "figures": self.figures })
    }
}

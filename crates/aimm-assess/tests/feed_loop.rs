//! The adaptive feed loop closed on the simulator: the validation cases, the response to a real
//! depth step, the fall-back when the load signal is lost, teach-in against a hand-tuned
//! setpoint, a broken tool, and the evidence a recorded run leaves (in SQLite and in PostgreSQL).

#[path = "../../aimm-store/tests/support/mod.rs"]
mod support;

use aimm_assess::conformance::feed::run_case;
use aimm_assess::faults::{FaultPlan, Faults};
use aimm_connect::{record_run, run_unrecorded, RecordOptions};
use aimm_ledger::record::Evidence;
use aimm_loops::feed::validation::builtin_cases;
use aimm_loops::feed::{
    FeedEventKind, FeedLoop, FeedParams, FeedReport, FeedRunOptions, Setpoint,
    DEFAULT_ACTUATION_DELAY_MS,
};
use aimm_model::{MachineSpec, Material, SignalKind, ToolSpec};
use aimm_sim::gcode::{parse, Program};
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, Simulator};
use aimm_store::{NewRun, RunObserver};
use std::sync::OnceLock;
use support::{Backend, TestDb};

/// One tick as the test sees it.
#[derive(Clone, Copy, Debug)]
struct Tick {
    t_s: f64,
    x: f64,
    y: f64,
    z: f64,
    load: f64,
    commanded: f64,
    tool: f64,
}

/// The loop plus a recorder of what happened each tick.
struct Traced<'a> {
    feed_loop: &'a mut Faults<FeedLoop>,
    ticks: Vec<Tick>,
}

impl<'s> RunObserver<Simulator<'s>> for Traced<'_> {
    fn after_step(&mut self, sim: &mut Simulator<'s>) {
        self.feed_loop.after_step(sim);
        let commanded = sim
            .recording()
            .series(SignalKind::FeedOverrideCommandedPct)
            .values
            .last()
            .copied()
            .unwrap_or(f64::NAN);
        self.ticks.push(Tick {
            t_s: sim.elapsed_s(),
            x: sim.latest(SignalKind::PositionXMm),
            y: sim.latest(SignalKind::PositionYMm),
            z: sim.latest(SignalKind::PositionZMm),
            load: sim.latest(SignalKind::SpindleLoadPct),
            commanded,
            tool: sim.latest(SignalKind::ToolNumber),
        });
    }
}

fn program(file: &str) -> &'static Program {
    static STEPS: OnceLock<Program> = OnceLock::new();
    static BRACKET: OnceLock<Program> = OnceLock::new();
    let (cell, text) = match file {
        "steps_c45.nc" => (&STEPS, include_str!("../../../examples/steps_c45.nc")),
        _ => (&BRACKET, include_str!("../../../examples/bracket_c45.nc")),
    };
    cell.get_or_init(|| parse(file, text).unwrap())
}

fn simulator(file: &str) -> Simulator<'static> {
    let p = program(file);
    let mut config = SimConfig::new(MachineSpec::vmc("test"), Material::SteelC45, 3);
    let tools = prepare(p, &ToolSpec::default_end_mill(0), &mut config).unwrap();
    Simulator::new(p, tools, config).unwrap()
}

/// Runs `file` with the loop set by `options`; returns the ticks and the loop's report.
fn traced(file: &str, options: FeedRunOptions) -> (Vec<Tick>, FeedReport) {
    traced_with(file, options, FaultPlan::default())
}

/// [`traced`] with `faults` injected.
fn traced_with(file: &str, options: FeedRunOptions, faults: FaultPlan) -> (Vec<Tick>, FeedReport) {
    let mut sim = simulator(file);
    let mut feed_loop = Faults::new(FeedLoop::new(options).unwrap(), faults);
    let mut observer = Traced {
        feed_loop: &mut feed_loop,
        ticks: Vec::new(),
    };
    run_unrecorded(&mut sim, &mut observer).unwrap();
    let ticks = observer.ticks;
    feed_loop.inner.report_after_teach();
    (ticks, feed_loop.inner.report())
}

fn fixed(sp: f64) -> FeedRunOptions {
    FeedRunOptions::new(FeedParams::default(), Setpoint::Fixed(sp))
}

#[test]
fn every_validation_case_passes_and_raises_no_false_alarm() {
    for case in builtin_cases() {
        let o = run_case(&case, &FeedParams::default(), DEFAULT_ACTUATION_DELAY_MS, 1).unwrap();
        assert!(o.passed, "{}: {:?}", o.name, o.failures);
        assert!(
            o.adaptive.cycle_time_s < o.constant_feed.cycle_time_s,
            "{}",
            o.name
        );
        assert_eq!(o.adaptive.overload_events, 0, "{}", o.name);
        assert!(
            !o.loop_report
                .events
                .iter()
                .any(|e| e.kind == FeedEventKind::BreakageSuspected),
            "{}: {:?}",
            o.name,
            o.loop_report.events
        );
        if case.program.ends_with("steps_c45.nc") {
            assert!(
                o.constant_feed.overload_events > 0,
                "the stepped part overloads at constant feed"
            );
        }
    }
}

/// The slot of the stepped part: 6 mm deep up to X85, 12 mm beyond. The deep wall meets the
/// tool's leading edge when its centre reaches X80; engagement then grows like √travel.
fn slot(ticks: &[Tick]) -> impl Iterator<Item = &Tick> {
    ticks
        .iter()
        .filter(|t| (t.y - 20.0).abs() < 0.01 && (t.z + 12.0).abs() < 0.01)
}

/// Depth-step bound: from the leading edge meeting the deep wall to the 20 ms mean load staying
/// within 10 % of the setpoint for 50 ms, s.
const STEP_SETTLE_BOUND_S: f64 = 0.25;

#[test]
fn a_depth_step_is_corrected_within_the_bound_without_overload() {
    let sp = 80.0;
    let (ticks, _) = traced("steps_c45.nc", fixed(sp));
    let slot: Vec<Tick> = slot(&ticks).copied().collect();
    let step = slot
        .iter()
        .position(|t| t.x >= 80.0)
        .expect("the slot crosses the step");
    let t0 = slot[step].t_s;
    let mean = |i: usize| {
        slot[i.saturating_sub(9)..=i]
            .iter()
            .map(|t| t.load)
            .sum::<f64>()
            / 10.0
    };
    let within = |i: usize| (mean(i) - sp).abs() <= 0.1 * sp;
    let settled = (step..slot.len() - 25)
        .find(|&i| (i..i + 25).all(within))
        .expect("the load settles after the step");
    let took = slot[settled].t_s - t0;
    assert!(
        took <= STEP_SETTLE_BOUND_S,
        "settled {took:.3} s after the step"
    );
    let peak = slot[step..].iter().map(|t| t.load).fold(0.0, f64::max);
    assert!(peak < 120.0, "peak {peak:.1} % at the step");
    // And it stays in the band over the deep part of the slot.
    let deep: Vec<f64> = (settled..slot.len())
        .filter(|&i| slot[i].x < 150.0)
        .map(mean)
        .collect();
    let rms = (deep.iter().map(|l| (l - sp).powi(2)).sum::<f64>() / deep.len() as f64).sqrt();
    assert!(rms < 0.05 * sp, "deep-slot RMS {rms:.2} % load");
    eprintln!("depth step: settled in {took:.3} s, peak {peak:.1} %, deep RMS {rms:.2}");
}

#[test]
fn losing_the_load_signal_falls_back_within_the_timeout() {
    let options = fixed(80.0);
    let faults = FaultPlan {
        load_dropout_s: Some((27.0, 28.0)),
        ..FaultPlan::default()
    };
    let params = options.params;
    let (ticks, report) = traced_with("steps_c45.nc", options, faults);
    let stale: Vec<_> = report
        .events
        .iter()
        .filter(|e| e.kind == FeedEventKind::StaleFallback)
        .collect();
    assert_eq!(stale.len(), 1, "{:?}", report.events);
    let before = ticks.iter().rev().find(|t| t.t_s < 27.0).unwrap().commanded;
    let deadline = 27.0
        + params.stale_timeout_ms / 1000.0
        + (before - params.fallback_override_pct).abs() / params.rate_limit_pct_per_s
        + 0.004;
    let fallen = ticks
        .iter()
        .filter(|t| t.t_s >= deadline && t.t_s < 28.0)
        .all(|t| t.commanded == params.fallback_override_pct);
    assert!(
        fallen,
        "at 100 % by {deadline:.3} s (was {before:.1} % before the loss)"
    );
    assert!(report
        .events
        .iter()
        .any(|e| e.kind == FeedEventKind::DataRestored));
}

/// The setpoint a machinist would type in: the highest spindle load of the tool's work at
/// programmed feed, read off a damped load meter (0.5 s mean) during a steady cut.
fn hand_tuned(ticks: &[Tick], tool: f64) -> f64 {
    let loads: Vec<f64> = ticks
        .iter()
        .filter(|t| t.tool == tool)
        .map(|t| t.load)
        .collect();
    loads
        .windows(250)
        .map(|w| w.iter().sum::<f64>() / 250.0)
        .fold(0.0, f64::max)
}

#[test]
fn teach_in_learns_what_a_hand_tuned_run_uses() {
    let teach = FeedRunOptions::new(FeedParams::default(), Setpoint::Teach(Default::default()));
    let (ticks, report) = traced("bracket_c45.nc", teach);
    assert!(
        ticks
            .iter()
            .all(|t| t.commanded == 100.0 || t.commanded.is_nan()),
        "teach-in runs at the programmed feed"
    );
    for tool in [1u32, 2] {
        let learned = report.learned[&tool];
        let hand = hand_tuned(&ticks, f64::from(tool));
        eprintln!("T{tool}: taught {learned:.2} %, hand-tuned {hand:.2} %");
        assert!(
            (learned - hand).abs() <= 0.05 * hand,
            "T{tool}: taught {learned:.1} % vs hand-tuned {hand:.1} %"
        );
    }
}

#[test]
fn a_broken_tool_raises_a_breakage_suspicion() {
    // Break it in the middle of the slot's deep section.
    let (ticks, _) = traced("steps_c45.nc", fixed(80.0));
    let at = slot(&ticks).find(|t| t.x >= 110.0).unwrap().t_s;
    let faults = FaultPlan {
        break_tool_at_s: Some(at),
        ..FaultPlan::default()
    };
    let (_, report) = traced_with("steps_c45.nc", fixed(80.0), faults);
    let breaks: Vec<_> = report
        .events
        .iter()
        .filter(|e| e.kind == FeedEventKind::BreakageSuspected)
        .collect();
    assert_eq!(breaks.len(), 1, "{:?}", report.events);
}

on_both_backends!(a_recorded_run_leaves_its_evidence_chain);

fn a_recorded_run_leaves_its_evidence_chain(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let mut sim = simulator("steps_c45.nc");
    let program_cite = aimm_store::evidence::record_program(
        &mut *store,
        "steps_c45.nc",
        include_str!("../../../examples/steps_c45.nc"),
        "test",
        sim.time_ns(),
    )
    .unwrap();
    let options = FeedRunOptions::new(FeedParams::default(), Setpoint::Teach(Default::default()));
    let faults = FaultPlan {
        load_dropout_s: Some((27.0, 28.0)),
        ..FaultPlan::default()
    };
    let mut feed_loop = Faults::new(FeedLoop::new(options).unwrap(), faults);
    let params = feed_loop
        .inner
        .record_parameters(
            &mut *store,
            sim.time_ns(),
            "test",
            "steps@test/steel-c45",
            program_cite,
        )
        .unwrap();
    let new_run = NewRun {
        machine: "test".into(),
        program_id: None,
        material: "steel-c45".into(),
        seed: 3,
        t_start_ns: sim.time_ns(),
        params_json: serde_json::json!({}),
    };
    let recorded = record_run(
        &mut sim,
        &mut *store,
        &new_run,
        RecordOptions::default(),
        &mut feed_loop,
    )
    .unwrap();
    feed_loop.inner.finish(&mut *store, sim.time_ns()).unwrap();

    // The commanded override is stored like any sensor, window for window with the load.
    let count = |signal| {
        recorded
            .segments
            .iter()
            .filter(|s| s.signal == signal)
            .count()
    };
    assert_eq!(
        count(SignalKind::FeedOverrideCommandedPct),
        count(SignalKind::SpindleLoadPct)
    );
    let entries = store
        .ledger_entries(0, store.ledger_size().unwrap())
        .unwrap();
    let cited_kinds = |index: u64| -> Vec<String> {
        entries[index as usize]
            .record
            .cites
            .iter()
            .map(|c| match &entries[c.leaf_index as usize].record.evidence {
                Evidence::SensorSegment(s) => s.signal.clone(),
                other => other.kind().to_string(),
            })
            .collect()
    };
    // The setpoint taught in cites the load segments it was learned from.
    let learned = entries
        .iter()
        .find(|e| matches!(&e.record.evidence, Evidence::ControlParameterChange(c) if c.parameter.starts_with("setpoint/")))
        .expect("a learned setpoint record");
    let kinds = cited_kinds(learned.leaf_index);
    assert!(
        !kinds.is_empty() && kinds.iter().all(|k| k == "spindle_load_pct"),
        "{kinds:?}"
    );
    // The fall-back is an action citing the load segment covering it and the parameters.
    let fallback = entries
        .iter()
        .find(|e| matches!(&e.record.evidence, Evidence::ControlAction(a) if a.inputs["event"] == "StaleFallback"))
        .expect("a fall-back action");
    let cites = &fallback.record.cites;
    assert!(cites.iter().any(|c| c.leaf_index == params.leaf_index));
    let covering = cites
        .iter()
        .any(|c| match &entries[c.leaf_index as usize].record.evidence {
            Evidence::SensorSegment(s) => {
                s.signal == "spindle_load_pct"
                    && s.t_first_ns <= fallback.record.t_ns
                    && fallback.record.t_ns <= s.t_last_ns
            }
            _ => false,
        });
    assert!(covering, "cites the segment it was decided from");
    // The session record cites the override stream, the load, the parameters and the program.
    let session = entries.last().unwrap();
    let kinds = cited_kinds(session.leaf_index);
    for k in [
        "feed_override_commanded_pct",
        "spindle_load_pct",
        "control_parameter_change",
        "nc_program",
    ] {
        assert!(kinds.iter().any(|x| x == k), "session cites {k}: {kinds:?}");
    }
}

#[test]
fn an_overload_holds_the_machine_feed_and_resumes_slower() {
    // An alarm level below what the step reaches: the loop must hold the feed on the machine.
    let params = FeedParams {
        alarm_load_pct: 95.0,
        hold_release_s: 0.5,
        ..FeedParams::default()
    };
    let (ticks, report) = traced(
        "steps_c45.nc",
        FeedRunOptions::new(params, Setpoint::Fixed(85.0)),
    );
    let hold = report
        .events
        .iter()
        .find(|e| e.kind == FeedEventKind::OverloadHold)
        .expect("an overload hold");
    let released = report
        .events
        .iter()
        .find(|e| e.kind == FeedEventKind::HoldReleased && e.t_ns > hold.t_ns)
        .expect("released after hold_release_s");
    let held_s = (released.t_ns - hold.t_ns) as f64 * 1e-9;
    assert!((0.5..0.52).contains(&held_s), "held {held_s} s");
    // From the actuation delay, the machine's braking time and one 20 ms position sample after
    // the hold until its release, the machine stood still. The machine brakes with its
    // acceleration and jerk: from its maximum feed (10 m/min = 167 mm/s on the default VMC,
    // jerk 50 m/s³) in 2·√(Δv/j) = 0.12 s.
    let at = |t_ns: i64| (t_ns - aimm_sim::DEFAULT_START_NS) as f64 * 1e-9;
    let (from, to) = (at(hold.t_ns) + 0.03 + 0.12, at(released.t_ns));
    let during: Vec<&Tick> = ticks
        .iter()
        .filter(|t| t.t_s >= from && t.t_s < to)
        .collect();
    assert!(during.len() > 150);
    let moved = during
        .iter()
        .map(|t| (t.x - during[0].x).abs())
        .fold(0.0, f64::max);
    assert!(moved < 0.01, "moved {moved} mm while held");
}

/// The stepped-depth case (fixed setpoint, so no teach-in run) with commands taking effect
/// `delay_ms` after they are decided.
fn steps_with_delay(delay_ms: f64) -> aimm_loops::feed::validation::CaseOutcome {
    let case = builtin_cases()
        .into_iter()
        .find(|c| c.program.ends_with("steps_c45.nc"))
        .expect("the stepped-depth case");
    run_case(&case, &FeedParams::default(), delay_ms, 1).unwrap()
}

#[test]
fn the_actuation_delay_is_part_of_the_comparison() {
    let fast = steps_with_delay(DEFAULT_ACTUATION_DELAY_MS);
    let slow = steps_with_delay(400.0);
    eprintln!(
        "4 ms: {:.2} s, peak {:.1} %, {} overloads; 400 ms: {:.2} s, peak {:.1} %, {} overloads",
        fast.adaptive.cycle_time_s,
        fast.adaptive.max_spindle_load_pct,
        fast.adaptive.overload_events,
        slow.adaptive.cycle_time_s,
        slow.adaptive.max_spindle_load_pct,
        slow.adaptive.overload_events
    );
    assert_ne!(
        (
            fast.adaptive.cycle_time_s,
            fast.adaptive.max_spindle_load_pct
        ),
        (
            slow.adaptive.cycle_time_s,
            slow.adaptive.max_spindle_load_pct
        ),
        "a 400 ms delay must change what the loop does"
    );
    // The comparison at constant feed has no loop, so no delay: it must not move.
    assert_eq!(
        fast.constant_feed.cycle_time_s,
        slow.constant_feed.cycle_time_s
    );
}

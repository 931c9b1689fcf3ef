//! The operator's panel on a running simulator: the knob sets the override in force, feed hold
//! and MDI stop the program until released, single block stops at each block end until cycle
//! start, a script plays the same actions deterministically, and while the operator has
//! precedence the simulator refuses a loop's override, naming the control.

use aimm_model::{
    Actuator, EventKind, MachineSpec, Material, OperatorAction, SignalKind, ToolSpec,
};
use aimm_sim::gcode::{parse, Program};
use aimm_sim::setup::prepare;
use aimm_sim::{PanelAction, PanelScript, SimConfig, Simulator};

/// A slot cut in three blocks (lines 7, 8, 9: to X30, X50, X70) at 600 mm/min.
const SLOT: &str = "(STOCK X0 Y0 X100 Y40 Z0)\nG21 G90 G17\nT1 M6\nS5000 M3\nG0 X10 Y20 Z5\n\
                    G1 Z-2 F100\nG1 X30 F600\nG1 X50\nG1 X70\nG0 Z5\nM30\n";

fn program() -> Program {
    parse("slot.nc", SLOT).unwrap()
}

fn simulator(program: &Program) -> Simulator<'_> {
    let mut c = SimConfig::new(MachineSpec::vmc("test"), Material::SteelC45, 5);
    let tools = prepare(program, &ToolSpec::default_end_mill(0), &mut c).unwrap();
    Simulator::new(program, tools, c).unwrap()
}

/// Steps until the tool's X reaches `x` in the slot.
fn run_to_x(sim: &mut Simulator<'_>, x: f64) {
    while sim.latest(SignalKind::PositionXMm).is_nan()
        || sim.latest(SignalKind::PositionXMm) < x
        || sim.latest(SignalKind::PositionZMm) > -1.0
    {
        assert!(sim.step().unwrap(), "the program ended before X{x}");
    }
}

/// Steps `ticks` ticks; returns the X travel over them, mm.
fn travel(sim: &mut Simulator<'_>, ticks: u32) -> f64 {
    let x0 = sim.latest(SignalKind::PositionXMm);
    for _ in 0..ticks {
        sim.step().unwrap();
    }
    sim.latest(SignalKind::PositionXMm) - x0
}

#[test]
fn the_knob_sets_the_override_in_force_and_comes_back_to_100() {
    let p = program();
    let mut sim = simulator(&p);
    run_to_x(&mut sim, 15.0);
    sim.operate(PanelAction::OverrideKnob(50)).unwrap();
    assert_eq!(sim.feed_override_pct(), 50.0);
    assert_eq!(
        sim.panel().operator(),
        Some(OperatorAction::OverrideKnob(50))
    );
    // 0.5 s at 50 % of 600 mm/min is 2.5 mm, plus ~0.05 mm while the axis brakes from 600 to
    // 300 mm/min at its acceleration and jerk.
    let moved = travel(&mut sim, 250);
    assert!((moved - 2.55).abs() < 0.05, "moved {moved} mm at 50 %");
    sim.operate(PanelAction::OverrideKnob(100)).unwrap();
    assert_eq!(sim.feed_override_pct(), 100.0);
    assert_eq!(sim.panel().operator(), None);
    let err = sim.operate(PanelAction::OverrideKnob(55)).unwrap_err();
    assert!(err.to_string().contains("55 %"), "{err}");
}

#[test]
fn feed_hold_and_mdi_stop_the_program_until_released() {
    for (stop, release, action) in [
        (
            PanelAction::FeedHold,
            PanelAction::CycleStart,
            OperatorAction::FeedHold,
        ),
        (PanelAction::Mdi, PanelAction::Auto, OperatorAction::Mdi),
    ] {
        let p = program();
        let mut sim = simulator(&p);
        run_to_x(&mut sim, 15.0);
        sim.operate(stop).unwrap();
        assert_eq!(sim.panel().operator(), Some(action));
        let (line, t0) = (sim.line(), sim.elapsed_s());
        let moved = travel(&mut sim, 500);
        assert!(moved.abs() < 0.01, "{stop}: moved {moved} mm");
        assert_eq!(sim.line(), line);
        assert!(sim.elapsed_s() > t0 + 0.99, "time goes on");
        assert!(sim.latest(SignalKind::FeedActualMmPerMin) < 1.0);
        sim.operate(release).unwrap();
        assert_eq!(sim.panel().operator(), None);
        let moved = travel(&mut sim, 100);
        assert!((moved - 2.0).abs() < 0.05, "{release}: moved {moved} mm");
    }
}

#[test]
fn single_block_stops_at_each_block_end_until_cycle_start() {
    let p = program();
    let mut sim = simulator(&p);
    run_to_x(&mut sim, 15.0);
    assert_eq!(sim.line(), 7);
    sim.operate(PanelAction::SingleBlock(true)).unwrap();
    assert_eq!(sim.panel().operator(), Some(OperatorAction::SingleBlock));
    // The block in progress runs to its end (X30), then the machine stands.
    travel(&mut sim, 2000);
    let x = sim.latest(SignalKind::PositionXMm);
    assert!((x - 30.0).abs() < 0.01, "stopped at X{x}");
    assert_eq!(sim.line(), 7);
    sim.operate(PanelAction::CycleStart).unwrap();
    travel(&mut sim, 3000);
    let x = sim.latest(SignalKind::PositionXMm);
    assert!((x - 50.0).abs() < 0.01, "one block per cycle start: X{x}");
    assert_eq!(sim.line(), 8);
    sim.operate(PanelAction::SingleBlock(false)).unwrap();
    assert_eq!(sim.panel().operator(), None);
    assert!(sim.run().is_ok());
    assert!(sim.is_finished());
}

#[test]
fn the_simulator_refuses_a_loop_override_while_the_operator_has_precedence() {
    for (take, release, named) in [
        (
            PanelAction::OverrideKnob(60),
            PanelAction::OverrideKnob(100),
            "feed-override knob at 60 %",
        ),
        (
            PanelAction::FeedHold,
            PanelAction::CycleStart,
            "operator feed hold",
        ),
        (
            PanelAction::SingleBlock(true),
            PanelAction::SingleBlock(false),
            "single block",
        ),
        (PanelAction::Mdi, PanelAction::Auto, "MDI mode"),
    ] {
        let p = program();
        let mut sim = simulator(&p);
        run_to_x(&mut sim, 15.0);
        let before = sim.feed_override_pct();
        sim.operate(take).unwrap();
        let err = Actuator::set_feed_override(&mut sim, 80.0).unwrap_err();
        assert!(err.reason.contains(named), "{take}: {err}");
        assert!(err.command.contains("80.0 %"), "{err}");
        assert_ne!(sim.feed_override_pct(), 80.0, "{take}: not applied");
        if take == PanelAction::FeedHold {
            assert_eq!(sim.feed_override_pct(), before);
        }
        sim.operate(release).unwrap();
        Actuator::set_feed_override(&mut sim, 80.0).unwrap();
        assert_eq!(sim.feed_override_pct(), 80.0, "{release}: the loop is back");
    }
}

#[test]
fn a_script_plays_the_panel_deterministically_and_is_recorded() {
    let script: PanelScript = "10s:hold,11s:cycle-start,12s:override=50,13s:override=100"
        .parse()
        .unwrap();
    let run = || {
        let p = program();
        let mut sim = simulator(&p);
        sim.set_panel_script(script.clone());
        let result = sim.run().unwrap();
        let events: Vec<(f64, String)> = sim
            .recording()
            .events()
            .iter()
            .filter(|e| e.kind == EventKind::OperatorPanel)
            .map(|e| {
                let at = (e.t_ns - aimm_sim::DEFAULT_START_NS) as f64 * 1e-9;
                (at, e.message.clone())
            })
            .collect();
        (result.cycle_time_s, events)
    };
    let (cycle_s, events) = run();
    let names: Vec<&str> = events.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(
        names,
        [
            "feed hold",
            "cycle start",
            "feed-override knob to 50 %",
            "feed-override knob to 100 %"
        ]
    );
    for ((at, _), due) in events.iter().zip([10.0, 11.0, 12.0, 13.0]) {
        assert!((at - due).abs() < 0.0021, "{at} s for {due} s");
    }
    assert_eq!(run(), (cycle_s, events.clone()), "same script, same run");
    let p = program();
    let unscripted = simulator(&p).run().unwrap().cycle_time_s;
    // 1 s held, 1 s at half feed: 1.5 s longer.
    assert!(
        (cycle_s - unscripted - 1.5).abs() < 0.01,
        "{cycle_s} vs {unscripted}"
    );
}

//! The wear loop over tools of scattered life on the simulator, against plant practice on the
//! same tools: no part out of tolerance, ≥ 15 % more parts per tool than a fixed count chosen so
//! that no part goes out, and better than the same loop on cutting time alone. Few tools keep it
//! fast; `aimm bench wear-loop` runs the full set.

use aimm_assess::conformance::wear_fleet::{run_fleet, FleetSpec};
use aimm_loops::wear::WearLoopParams;
use aimm_model::Material;

#[test]
fn the_loop_beats_fixed_counts_and_cutting_time_on_scattered_tools() {
    let spec = FleetSpec {
        program: (
            "examples/ring_c45.nc".into(),
            include_str!("../../../examples/ring_c45.nc").into(),
        ),
        material: Material::SteelC45,
        train_seeds: (1..=4).collect(),
        calibration_seeds: (101..=103).collect(),
        test_seeds: (201..=204).collect(),
        params: WearLoopParams::default(),
    };
    let started = std::time::Instant::now();
    let trial = run_fleet(&spec, |s| eprintln!("{:?} {s}", started.elapsed())).unwrap();
    let v = &trial.validation;
    for p in v.practices() {
        eprintln!(
            "{}: {} out of tolerance, {:.1} parts/tool, {:.1} % life used, {} past criterion; {:?}",
            p.practice,
            p.out_of_tolerance,
            p.parts_per_tool,
            100.0 * p.life_used,
            p.tools_past_criterion,
            p.tools.iter().map(|t| (t.parts, t.out_of_tolerance, t.life_s.map(|l| l.round()))).collect::<Vec<_>>()
        );
    }
    eprintln!("margins {} {}", v.loop_plan_margin, v.time_only_plan_margin);
    assert!(v.passed, "{}", v.summary());
}

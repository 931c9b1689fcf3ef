//! The wear loop over tools of scattered life on the simulator. Each tool's life is a seeded draw
//! (the same seed, the same life) that the spindle load follows; and against plant practice on
//! the same tools the loop must make no part out of tolerance, ≥ 15 % more parts per tool than a
//! fixed count chosen so that no part goes out, and do better than the same loop on cutting time
//! alone. Few tools keep it short; `aimm bench wear-loop` runs the full set.

use aimm_assess::conformance::wear::{run_tool, Practice};
use aimm_assess::conformance::wear_fleet::{run_fleet, FleetSpec};
use aimm_loops::wear::WearLoopParams;
use aimm_model::Material;

const RING: (&str, &str) = (
    "examples/ring_c45.nc",
    include_str!("../../../examples/ring_c45.nc"),
);

#[test]
fn tool_lives_scatter_by_seed_repeat_and_show_in_the_spindle_load() {
    let params = WearLoopParams::default();
    let life = |seed| {
        run_tool(
            RING,
            Material::SteelC45,
            seed,
            Practice::Uncompensated,
            &params,
            params.criterion_mm,
            |_| false,
        )
        .unwrap()
    };
    let (short, long) = (life(203), life(201));
    let (a, b) = (short.life_s(0.3).unwrap(), long.life_s(0.3).unwrap());
    assert!(b > 1.3 * a, "lives {a} s and {b} s");
    assert_eq!(life(203).life_s(0.3), Some(a), "same seed, same life");
    // The worn tool loads the spindle more: the last part's mean load (one row a part) against
    // the first's.
    let log = short.last_log.as_ref().unwrap();
    let load = &log.signals[0];
    assert_eq!(load.len(), short.parts.len(), "one row a part");
    let (first, last) = (load[0], load[load.len() - 1]);
    assert!(last > 1.1 * first, "load {first} % new, {last} % worn");
}

#[test]
fn the_loop_beats_fixed_counts_and_cutting_time_on_scattered_tools() {
    let spec = FleetSpec {
        program: (RING.0.into(), RING.1.into()),
        material: Material::SteelC45,
        train_seeds: (1..=4).collect(),
        calibration_seeds: (101..=103).collect(),
        test_seeds: (201..=204).collect(),
        params: WearLoopParams::default(),
    };
    let v = run_fleet(&spec, |_| {}).unwrap().validation;
    for p in v.practices() {
        eprintln!(
            "{}: {} out of tolerance, {:.1} parts per tool, {:.1} % of life used",
            p.practice,
            p.out_of_tolerance,
            p.parts_per_tool,
            100.0 * p.life_used
        );
    }
    assert!(v.passed, "{}", v.summary());
}

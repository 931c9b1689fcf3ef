//! The tool-wear loop on the simulator: a model trained on simulated tool lives (through the
//! same pipeline as real data) keeps every part of a long series in tolerance where the
//! uncompensated series drifts out, and changes the tool before the wear criterion after using
//! most of its life.

use aimm_loops::wear::{WearModel, WearTrainConfig};
use aimm_loops::wear_loop::{run_series, tool_life_log, WearLoopParams, WEAR_SIGNALS};
use aimm_model::Material;

const RING: (&str, &str) = (
    "examples/ring_c45.nc",
    include_str!("../../../examples/ring_c45.nc"),
);

#[test]
fn compensation_keeps_parts_in_tolerance_and_the_tool_is_changed_in_time() {
    let params = WearLoopParams::default();
    let signals: Vec<String> = WEAR_SIGNALS.iter().map(|s| s.to_string()).collect();
    let training: Vec<_> = [11u64, 12]
        .iter()
        .map(|&seed| tool_life_log(RING, Material::SteelC45, seed, 0.33, 200, &params).unwrap())
        .collect();
    let refs: Vec<_> = training.iter().collect();
    let model = WearModel::train(&refs, &signals, &WearTrainConfig::default()).unwrap();

    let parts = 70;
    let plain = run_series(RING, Material::SteelC45, 13, parts, None, &params).unwrap();
    let looped = run_series(RING, Material::SteelC45, 13, parts, Some(&model), &params).unwrap();
    eprintln!("retired {:?}", looped.retired);
    let out_plain = plain
        .parts
        .iter()
        .filter(|p| !p.feature.as_ref().unwrap().in_tolerance)
        .count();
    eprintln!(
        "uncompensated out of tolerance: {out_plain}, last vb {}",
        plain.parts.last().unwrap().true_vb_mm
    );

    // Without the loop the walls drift out of tolerance as the tool wears.
    assert!(out_plain > 0, "the uncompensated series must drift out");
    // With it, every part is in tolerance.
    for p in &looped.parts {
        let f = p.feature.as_ref().unwrap();
        assert!(f.in_tolerance, "part {}: {f:?}", p.part);
    }
    // The tool was changed before the criterion, after most of its life: its cutting time at
    // the change against the cutting time at which the uncompensated tool reached VB 0.3.
    assert_eq!(looped.retired.len(), 1, "{:?}", looped.retired);
    let retired = &looped.retired[0];
    assert!(retired.true_vb_mm < params.criterion_mm, "{retired:?}");
    let part_s = retired.cutting_s / looped.parts.iter().position(|p| p.new_tool).unwrap() as f64;
    let life_parts = plain
        .parts
        .iter()
        .position(|p| p.true_vb_mm >= params.criterion_mm)
        .unwrap();
    let used = retired.cutting_s / (part_s * life_parts as f64);
    eprintln!(
        "life used {:.1} % (VB {:.3} mm at the change)",
        100.0 * used,
        retired.true_vb_mm
    );
    assert!(used >= 0.85, "used {used}");
}

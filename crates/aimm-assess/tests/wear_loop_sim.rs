//! The tool-wear loop on the simulator: a model trained on simulated tool lives (through the
//! same pipeline as real data) keeps every part of a long series in tolerance where the
//! uncompensated series drifts out, and changes the tool before the wear criterion after using
//! most of its life.

use aimm_assess::conformance::wear::{run_series, train_on_simulated_lives, Practice};
use aimm_loops::wear::WearLoopParams;
use aimm_model::Material;

const RING: (&str, &str) = (
    "examples/ring_c45.nc",
    include_str!("../../../examples/ring_c45.nc"),
);

#[test]
fn compensation_keeps_parts_in_tolerance_and_the_tool_is_changed_in_time() {
    let params = WearLoopParams::default();
    let model = train_on_simulated_lives(RING, Material::SteelC45, &[11, 12], false, &params, None)
        .unwrap()
        .model;

    let parts = 70;
    let plain = run_series(
        RING,
        Material::SteelC45,
        13,
        parts,
        Practice::Uncompensated,
        &params,
        None,
    )
    .unwrap();
    let looped = run_series(
        RING,
        Material::SteelC45,
        13,
        parts,
        Practice::Loop(&model),
        &params,
        None,
    )
    .unwrap();
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
    assert_eq!(looped.out_of_tolerance(), 0, "{:?}", looped.parts);
    // The tool was changed before the criterion, after most of its life: its cutting time at
    // the change against the cutting time at which the uncompensated tool reached VB 0.3.
    assert_eq!(looped.retired.len(), 1, "{:?}", looped.retired);
    let retired = &looped.retired[0];
    assert!(retired.true_vb_mm < params.criterion_mm, "{retired:?}");
    let used = retired.cutting_s / plain.life_s(params.criterion_mm).unwrap();
    eprintln!(
        "life used {:.1} % (VB {:.3} mm at the change)",
        100.0 * used,
        retired.true_vb_mm
    );
    assert!(used >= 0.85, "used {used}");
}

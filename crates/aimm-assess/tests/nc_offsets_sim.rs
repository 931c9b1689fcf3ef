//! A wear offset written into the NC program acts on the simulated machine: the worn tool's part
//! is off-size from the original program and back in tolerance from the edited one.

use aimm_loops::nc_offsets::{with_radius_wear_offsets, OffsetDialect};
use aimm_model::{MachineSpec, Material, ToolSpec};
use aimm_sim::gcode::parse;
use aimm_sim::setup::prepare;
use aimm_sim::{FeatureResult, SimConfig, Simulator};

const BRACKET: &str = include_str!("../../../examples/bracket_c45.nc");

/// The reference feature of `text` made with a tool worn to `vb_mm`.
fn run(text: &str, vb_mm: f64) -> FeatureResult {
    let program = parse("bracket.nc", text).unwrap();
    let mut config = SimConfig::new(MachineSpec::vmc("m"), Material::SteelC45, 5);
    let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config).unwrap();
    let mut sim = Simulator::new(&program, tools, config).unwrap();
    sim.set_tool_wear_vb_mm(1, vb_mm);
    sim.run().unwrap().reference_feature.unwrap()
}

#[test]
fn the_offset_block_brings_a_worn_tools_part_back_into_tolerance() {
    let worn = run(BRACKET, 0.25);
    assert!(!worn.in_tolerance, "{worn:?}");
    // Radial wear of the flank, VB · tan(10° clearance), a little more by the finishing pass.
    let offset = -0.25 * 10f64.to_radians().tan() - 0.001;
    let offsets = [(1, offset)].into_iter().collect();
    let edited = with_radius_wear_offsets(BRACKET, &offsets, &OffsetDialect::FanucL13).unwrap();
    let compensated = run(&edited, 0.25);
    assert!(compensated.in_tolerance, "{compensated:?}");
    assert!(compensated.mean_error_mm.abs() < worn.mean_error_mm.abs() / 4.0);
}
